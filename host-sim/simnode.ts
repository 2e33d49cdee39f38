/**
 * One station on a SimNetwork: the Driver a stack is given, and the socket the network drives its
 * Endpoint through. Frames a node transmits wait in a fixed pool of slots until the network moves them
 * onto the links (right after the input/poll/action that produced them, at the same virtual time).
 */
import type { Driver } from "../src/driver.js";
import type { Endpoint } from "./endpoint.js";
import type { Rng } from "./rng.js";

export interface SimNodeOptions {
  /** 6-byte Ethernet address. Default 02:00:00:00:00:<n>, n counting nodes from 1. */
  mac?: Uint8Array;
  /** IP MTU reported to the stack, bytes. Default 1500. */
  mtu?: number;
  /** Transmit slots: frames accepted per input/poll before transmit() returns false. Default 64. */
  txQueue?: number;
}

export interface NodeStats {
  txFrames: number;
  txBytes: number;
  /** transmit() refused: every tx slot was in use. */
  txQueueFull: number;
  /** transmit() refused: link down, or a length outside 14 .. mtu + 18. */
  txRejected: number;
  rxFrames: number;
  rxBytes: number;
  /** Frames that reached this node while no endpoint was attached or its link was down. */
  rxDropped: number;
  polls: number;
}

/** What a node needs from its network. */
export interface NodeHost {
  readonly now: number;
  recordTransmit(frame: Uint8Array, length: number, now: number): void;
}

export const DEFAULT_NODE_MTU = 1500;
export const DEFAULT_TX_QUEUE = 64;
const ETHERNET_HEADER = 14;
/** Room for the Ethernet header and an 802.1Q tag on top of the IP MTU. */
const SLOT_OVERHEAD = ETHERNET_HEADER + 4;

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

export class SimNode implements Driver {
  readonly name: string;
  /** Position in the network, from 0; also the label of its random stream. */
  readonly index: number;
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** Set false to unplug: transmit() refuses and arriving frames are dropped. */
  linkUp = true;
  readonly stats: NodeStats = {
    txFrames: 0, txBytes: 0, txQueueFull: 0, txRejected: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0, polls: 0,
  };
  readonly #host: NodeHost;
  readonly #rng: Rng;
  #endpoint: Endpoint | null = null;
  #deadline = Infinity;
  readonly #slots: Uint8Array[];
  readonly #lengths: Int32Array;
  #head = 0;
  #count = 0;

  constructor(host: NodeHost, name: string, index: number, rng: Rng, opts: Required<SimNodeOptions>) {
    if (opts.mac.length !== 6) throw new RangeError(`${name}: mac must be 6 bytes`);
    if (!Number.isInteger(opts.mtu) || opts.mtu < 68) throw new RangeError(`${name}: mtu must be an integer >= 68`);
    if (!Number.isInteger(opts.txQueue) || opts.txQueue < 1) throw new RangeError(`${name}: txQueue must be >= 1`);
    this.#host = host;
    this.name = name;
    this.index = index;
    this.#rng = rng;
    this.mac = opts.mac.slice();
    this.mtu = opts.mtu;
    this.#slots = [];
    for (let i = 0; i < opts.txQueue; i++) this.#slots.push(new Uint8Array(opts.mtu + SLOT_OVERHEAD));
    this.#lengths = new Int32Array(opts.txQueue);
  }

  get endpoint(): Endpoint | null {
    return this.#endpoint;
  }

  /** The deadline the endpoint last returned from poll (Infinity when none or unattached). */
  get deadline(): number {
    return this.#deadline;
  }

  /** Frames transmitted and not yet moved onto the links. */
  get txPending(): number {
    return this.#count;
  }

  /** Drive `endpoint` from now on; it is polled at the next step. */
  attach(endpoint: Endpoint): void {
    this.#endpoint = endpoint;
    this.#deadline = this.#host.now;
  }

  // Driver

  transmit(frame: Uint8Array, length: number): boolean {
    const slots = this.#slots;
    if (!this.linkUp || !Number.isInteger(length) || length < ETHERNET_HEADER || length > frame.length ||
        length > slots[0].length) {
      this.stats.txRejected++;
      return false;
    }
    if (this.#count === slots.length) {
      this.stats.txQueueFull++;
      return false;
    }
    const i = (this.#head + this.#count) % slots.length;
    slots[i].set(frame.subarray(0, length));
    this.#lengths[i] = length;
    this.#count++;
    this.stats.txFrames++;
    this.stats.txBytes += length;
    this.#host.recordTransmit(frame, length, this.#host.now);
    return true;
  }

  random(into: Uint8Array): void {
    this.#rng.fill(into);
  }

  // Driven by SimNetwork

  /** Hand one arriving frame to the endpoint. Returns false when it was dropped here. */
  deliver(frame: Uint8Array, now: number): boolean {
    if (this.#endpoint === null || !this.linkUp) {
      this.stats.rxDropped++;
      return false;
    }
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    this.#endpoint.input(frame, frame.length, now);
    return true;
  }

  /** Poll the endpoint and remember its deadline. */
  poll(now: number): void {
    if (this.#endpoint === null) {
      this.#deadline = Infinity;
      return;
    }
    this.stats.polls++;
    const d = this.#endpoint.poll(now);
    if (typeof d !== "number" || Number.isNaN(d)) {
      throw new RangeError(`${this.name}: poll() returned ${String(d)}, expected a deadline in ms`);
    }
    this.#deadline = d;
  }

  /** Move every pending transmitted frame to `send`, oldest first, freeing the slots. */
  drain(send: (frame: Uint8Array, length: number) => void): void {
    while (this.#count > 0) {
      const i = this.#head;
      this.#head = (i + 1) % this.#slots.length;
      this.#count--;
      send(this.#slots[i], this.#lengths[i]);
    }
  }
}
