/**
 * EspDriver: the stack's Driver (src/driver.ts) on an ESP32 interface, over its native half
 * (hw/esp32/xstcp_xs.c via native.ts on the board; a fake in test/hw/glue.test.ts).
 *
 * - transmit(): the native call copies the frame into the EMAC DMA descriptors / a Wi-Fi TX buffer
 *   before it returns. "No room now" (ESP_ERR_NO_MEM), link down and errors all return false (the
 *   stack counts it; TCP retransmits); they are counted separately here.
 * - Receive: drain() copies each frame waiting in the native ring into one buffer made at construction
 *   and hands it to `input(frame, length, now)`. Nothing is allocated per frame.
 * - mac: read once from the native side (eFuse). random(): esp_fill_random.
 */
import type { Driver } from "../../src/driver.js";

/** transmit() results of the native half (xstcp_if.h XSTCP_TX_*). */
export const TX_OK = 0;
export const TX_NO_ROOM = 1;
export const TX_DOWN = 2;
export const TX_ERROR = 3;

/** Indexes into NativeInterface.stats() (xstcp_if.h XSTCP_STAT_*). */
export const STAT_RX_ACCEPTED = 0;
export const STAT_RX_DROP_FULL = 1;
export const STAT_RX_DROP_SIZE = 2;
export const STAT_RX_DROP_BUSY = 3;
export const STAT_RX_DROP_CLOSED = 4;
export const STAT_RX_DROP_TOO_SMALL = 5;
export const STAT_WAKES = 6;
export const STAT_WAKE_FAILURES = 7;
export const STAT_RX_PENDING = 8;
export const STAT_TX_FRAMES = 9;
export const STAT_TX_NO_ROOM = 10;
export const STAT_TX_DOWN = 11;
export const STAT_TX_ERRORS = 12;
export const STAT_LINK_CHANGES = 13;
export const STAT_LAST_REASON = 14;
export const STAT_COUNT = 15;
export const STAT_NAMES: readonly string[] = Object.freeze([
  "rxAccepted", "rxDropFull", "rxDropSize", "rxDropBusy", "rxDropClosed", "rxDropTooSmall", "wakes",
  "wakeFailures", "rxPending", "txFrames", "txNoRoom", "txDown", "txErrors", "linkChanges", "lastReason",
]);

/** Largest frame in the ring: Ethernet II header + 1500 bytes, no FCS. */
export const FRAME_MAX = 1514;

/** The native half of one interface: what EthernetNative / WiFiNative (native.ts) offer. */
export interface NativeInterface {
  /** Copy the oldest received frame into `into`; its length, 0 when none, -1 when `into` is too small (dropped). */
  receive(into: Uint8Array): number;
  /** Send frame[0 .. length); TX_OK, TX_NO_ROOM, TX_DOWN or TX_ERROR. The bytes are copied before return. */
  transmit(frame: Uint8Array, length: number): number;
  /** The interface's MAC address (eFuse) into into[0..6). */
  readMac(into: Uint8Array): void;
  /** Link up (Ethernet: PHY link; Wi-Fi: associated). */
  linkUp(): boolean;
  /** STAT_COUNT counters into `into`. */
  stats(into: Uint32Array): void;
  /** Stop the interface and free the ring (the ESP-IDF callbacks are unregistered). Idempotent. */
  close(): void;
}

/** Where drained frames go: a Stack (input never throws). */
export interface FrameSink {
  input(frame: Uint8Array, length: number, now: number): void;
}

export class EspDriver implements Driver {
  readonly mac = new Uint8Array(6);
  readonly mtu = 1500;
  /** transmit() refusals, by reason. */
  txNoRoom = 0;
  txDown = 0;
  txErrors = 0;
  /** Frames handed to the sink. */
  rxFrames = 0;
  readonly #native: NativeInterface;
  readonly #random: (into: Uint8Array) => void;
  readonly #rx = new Uint8Array(FRAME_MAX);
  readonly #stats = new Uint32Array(STAT_COUNT);
  #closed = false;

  /** `random` fills its argument with entropy (fillRandom from native.ts on the board). */
  constructor(native: NativeInterface, random: (into: Uint8Array) => void) {
    if (native === null || typeof native !== "object") throw new TypeError("EspDriver: native interface required");
    if (typeof random !== "function") throw new TypeError("EspDriver: random must be a function");
    this.#native = native;
    this.#random = random;
    native.readMac(this.mac);
  }

  get linkUp(): boolean {
    return !this.#closed && this.#native.linkUp();
  }

  get closed(): boolean {
    return this.#closed;
  }

  transmit(frame: Uint8Array, length: number): boolean {
    if (this.#closed) {
      this.txDown++;
      return false;
    }
    const r = this.#native.transmit(frame, length);
    if (r === TX_OK) return true;
    if (r === TX_NO_ROOM) this.txNoRoom++;
    else if (r === TX_DOWN) this.txDown++;
    else this.txErrors++;
    return false;
  }

  random(into: Uint8Array): void {
    this.#random(into);
  }

  /**
   * Hand up to `max` waiting frames to `sink`, oldest first. Returns how many; when it returns `max`,
   * more may be waiting (call again soon).
   */
  drain(sink: FrameSink, now: number, max: number): number {
    if (this.#closed) return 0;
    const rx = this.#rx;
    let n = 0;
    while (n < max) {
      const len = this.#native.receive(rx);
      if (len === 0) break;
      if (len < 0) continue; // cannot happen with a FRAME_MAX buffer; counted natively
      n++;
      this.rxFrames++;
      sink.input(rx, len, now);
    }
    return n;
  }

  /** The native counters (STAT_*), copied into `into` (a new array when absent). */
  stats(into: Uint32Array = new Uint32Array(STAT_COUNT)): Uint32Array {
    if (!this.#closed) {
      this.#native.stats(this.#stats);
    }
    into.set(this.#stats.subarray(0, Math.min(into.length, STAT_COUNT)));
    return into;
  }

  close(): void {
    if (this.#closed) return;
    this.#native.stats(this.#stats); // keep the last counters
    this.#closed = true;
    this.#native.close();
  }
}
