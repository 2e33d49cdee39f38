/**
 * SimNetwork: stations on one simulated Ethernet segment, a virtual clock and seeded faults
 * (DESIGN.md §7). Deterministic: one seed drives every random choice, so the same seed and the same
 * endpoints give the same pcap bytes.
 *
 * The segment is a learning switch: a frame goes to the station whose MAC was learned from an earlier
 * frame's source, broadcast/multicast and unknown unicast go to every other station. Each ordered pair
 * of stations has its own FaultLink (faults, queue, counters) for that direction.
 *
 * Time: an event queue holds frame arrivals and scheduled actions. Each step moves the clock to the
 * earliest of (next event, earliest poll deadline) — never backwards — delivers the frames and runs the
 * actions due then, and polls every node that received something or whose deadline has come.
 */
import { EventQueue } from "./heap.js";
import { FaultLink, checkFaults, emptyLinkStats, type Faults, type LinkStats } from "./faults.js";
import type { PcapWriter } from "./pcap.js";
import { Rng } from "./rng.js";
import { DEFAULT_NODE_MTU, DEFAULT_TX_QUEUE, SimNode, type NodeHost, type SimNodeOptions } from "./simnode.js";

export type { Endpoint } from "./endpoint.js";
export { SimNode, formatMac, type NodeStats, type SimNodeOptions } from "./simnode.js";

export interface SimNetworkOptions {
  /** Drives every random choice (faults, each node's random()). */
  seed: number;
  /** Every frame a node transmits is recorded here, stamped with the virtual time it entered the link. */
  pcap?: PcapWriter;
  /** Virtual time at creation, ms. Default 0. */
  startMs?: number;
}

export interface RunOptions {
  /** Checked before every step; true stops the run with reason "until". */
  until?: () => boolean;
  /** Virtual ms this run may cover. Default 3_600_000. */
  maxMs?: number;
  /** Steps (clock advances) this run may take. Default 10_000_000. */
  maxSteps?: number;
}

export type StopReason = "until" | "idle" | "maxMs" | "maxSteps";

export interface RunResult {
  readonly steps: number;
  /** The virtual clock when the run stopped. */
  readonly timeMs: number;
  readonly reason: StopReason;
}

export interface SwitchStats {
  /** Frames taken from the nodes onto the segment. */
  frames: number;
  /** Unicast frames sent to every other port because the destination was not learned yet. */
  floods: number;
  /** Frames addressed to the sender's own MAC, dropped by the switch. */
  selfDrops: number;
}

export type NodeRef = SimNode | "*";

export const DEFAULT_MAX_STEPS = 10_000_000;
export const DEFAULT_MAX_MS = 3_600_000;

/** Fork labels: separate random domains, so adding a node never shifts another stream. */
const DOMAIN_NODE = 1;
const DOMAIN_LINK = 2;

type SimEvent =
  | { readonly kind: "frame"; readonly to: SimNode; readonly frame: Uint8Array }
  | { readonly kind: "action"; readonly fn: () => void };

function macKey(b: Uint8Array, at: number): number {
  return (b[at] * 2 ** 40) + (b[at + 1] * 2 ** 32) + (((b[at + 2] << 24) | (b[at + 3] << 16) | (b[at + 4] << 8) | b[at + 5]) >>> 0);
}

function ruleKey(from: NodeRef, to: NodeRef): string {
  return `${from === "*" ? "*" : from.index}>${to === "*" ? "*" : to.index}`;
}

export class SimNetwork {
  readonly stats: SwitchStats = { frames: 0, floods: 0, selfDrops: 0 };
  #now: number;
  readonly #rng: Rng;
  readonly #pcap: PcapWriter | undefined;
  readonly #nodes: SimNode[] = [];
  readonly #names = new Map<string, SimNode>();
  /** Learning table: MAC (48-bit number) -> the node it was last seen from. */
  readonly #learned = new Map<number, SimNode>();
  readonly #rules = new Map<string, Readonly<Faults>>();
  /** FaultLink per ordered pair, key from.index * 2^20 + to.index. */
  readonly #links = new Map<number, FaultLink>();
  readonly #events = new EventQueue<SimEvent>();
  readonly #host: NodeHost;

  constructor(opts: SimNetworkOptions) {
    if (!Number.isInteger(opts.seed)) throw new RangeError(`seed must be an integer, got ${opts.seed}`);
    this.#rng = new Rng(opts.seed);
    this.#pcap = opts.pcap;
    this.#now = opts.startMs ?? 0;
    if (!Number.isFinite(this.#now)) throw new RangeError("startMs must be finite");
    const net = this;
    this.#host = {
      get now(): number {
        return net.#now;
      },
      recordTransmit(frame: Uint8Array, length: number, now: number): void {
        net.#pcap?.record(frame, length, now);
      },
    };
  }

  /** The virtual clock, ms. */
  get now(): number {
    return this.#now;
  }

  get seed(): number {
    return this.#rng.seed;
  }

  get nodes(): readonly SimNode[] {
    return this.#nodes;
  }

  /** Frame arrivals and actions not yet run. */
  get pendingEvents(): number {
    return this.#events.size;
  }

  addNode(name: string, opts: SimNodeOptions = {}): SimNode {
    if (this.#names.has(name)) throw new RangeError(`node "${name}" already exists`);
    const index = this.#nodes.length;
    const n = index + 1;
    const mac = opts.mac ?? new Uint8Array([0x02, 0, 0, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
    const node = new SimNode(this.#host, name, index, this.#rng.fork(DOMAIN_NODE).fork(index), {
      mac,
      mtu: opts.mtu ?? DEFAULT_NODE_MTU,
      txQueue: opts.txQueue ?? DEFAULT_TX_QUEUE,
    });
    this.#nodes.push(node);
    this.#names.set(name, node);
    return node;
  }

  node(name: string): SimNode {
    const n = this.#names.get(name);
    if (n === undefined) throw new RangeError(`no node "${name}"`);
    return n;
  }

  /**
   * Faults for frames from `from` to `to` ("*" = any node, including ones added later). The most
   * specific rule wins: exact pair, then from→*, then *→to, then *→*. Applies from now on;
   * queue state and counters of existing links are kept.
   */
  setFaults(from: NodeRef, to: NodeRef, faults: Faults): void {
    this.#rules.set(ruleKey(from, to), checkFaults(faults));
    for (const [key, link] of this.#links) {
      const f = this.#nodes[Math.floor(key / 2 ** 20)];
      const t = this.#nodes[key % 2 ** 20];
      link.setFaults(this.#faultsFor(f, t));
    }
  }

  /** The FaultLink carrying frames from `from` to `to` (made on first use). */
  link(from: SimNode, to: SimNode): FaultLink {
    const key = from.index * 2 ** 20 + to.index;
    let l = this.#links.get(key);
    if (l === undefined) {
      l = new FaultLink(this.#rng.fork(DOMAIN_LINK).fork(from.index).fork(to.index), this.#faultsFor(from, to));
      this.#links.set(key, l);
    }
    return l;
  }

  /** Counters summed over every link matching from → to ("*" = any). */
  linkStats(from: NodeRef = "*", to: NodeRef = "*"): LinkStats {
    const sum = emptyLinkStats();
    for (const [key, link] of this.#links) {
      const f = Math.floor(key / 2 ** 20);
      const t = key % 2 ** 20;
      if ((from !== "*" && from.index !== f) || (to !== "*" && to.index !== t)) continue;
      for (const k of Object.keys(sum) as (keyof LinkStats)[]) sum[k] += link.stats[k];
    }
    return sum;
  }

  /** Run `fn` at virtual time `atMs` (now, if in the past); every node is polled right after it. */
  schedule(atMs: number, fn: () => void): void {
    if (Number.isNaN(atMs)) throw new RangeError("schedule: atMs is NaN");
    this.#events.push(Math.max(atMs, this.#now), { kind: "action", fn });
  }

  /** Advance virtual time until a bound is hit or nothing is left to do. Polls every node first. */
  run(opts: RunOptions = {}): RunResult {
    const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
    const maxMs = opts.maxMs ?? DEFAULT_MAX_MS;
    if (!(maxSteps >= 0)) throw new RangeError(`maxSteps must be >= 0, got ${maxSteps}`);
    if (!(maxMs >= 0)) throw new RangeError(`maxMs must be >= 0, got ${maxMs}`);
    const limit = this.#now + maxMs;
    for (const node of this.#nodes) this.#pollNode(node);
    let steps = 0;
    const done = (reason: StopReason): RunResult => ({ steps, timeMs: this.#now, reason });
    for (;;) {
      if (opts.until !== undefined && opts.until()) return done("until");
      if (steps >= maxSteps) return done("maxSteps");
      const next = this.#nextTime();
      if (next === Infinity) return done("idle");
      if (next > limit) {
        this.#now = Math.max(this.#now, limit);
        return done("maxMs");
      }
      this.#now = Math.max(this.#now, next);
      steps++;
      this.#step();
    }
  }

  /** Run for `ms` virtual ms; the clock ends at now + ms even if the network goes idle sooner. */
  runFor(ms: number, opts: Omit<RunOptions, "maxMs"> = {}): RunResult {
    const end = this.#now + ms;
    const r = this.run({ ...opts, maxMs: ms });
    if (r.reason !== "idle") return r;
    this.#now = Math.max(this.#now, end);
    return { steps: r.steps, timeMs: this.#now, reason: r.reason };
  }

  #faultsFor(from: SimNode, to: SimNode): Readonly<Faults> {
    return this.#rules.get(ruleKey(from, to)) ?? this.#rules.get(ruleKey(from, "*")) ??
      this.#rules.get(ruleKey("*", to)) ?? this.#rules.get(ruleKey("*", "*")) ?? {};
  }

  #nextTime(): number {
    let t = this.#events.peekTime();
    for (const node of this.#nodes) if (node.deadline < t) t = node.deadline;
    return t;
  }

  /** One instant: due arrivals and actions in order, then the polls they (or deadlines) call for. */
  #step(): void {
    const now = this.#now;
    const touched = new Set<SimNode>();
    let pollAll = false;
    while (this.#events.peekTime() <= now) {
      const ev = (this.#events.pop() as { item: SimEvent }).item;
      if (ev.kind === "frame") {
        if (ev.to.deliver(ev.frame, now)) touched.add(ev.to);
        this.#forward(ev.to);
      } else {
        ev.fn();
        pollAll = true;
        for (const node of this.#nodes) this.#forward(node);
      }
    }
    for (const node of this.#nodes) {
      if (pollAll || touched.has(node) || node.deadline <= now) this.#pollNode(node);
    }
  }

  #pollNode(node: SimNode): void {
    node.poll(this.#now);
    this.#forward(node);
  }

  /** Move `src`'s transmitted frames through the switch onto the links. */
  #forward(src: SimNode): void {
    src.drain((frame, length) => {
      this.stats.frames++;
      if ((frame[6] & 1) === 0) this.#learned.set(macKey(frame, 6), src);
      if ((frame[0] & 1) !== 0) {
        for (const node of this.#nodes) if (node !== src) this.#send(src, node, frame, length);
        return;
      }
      const dst = this.#learned.get(macKey(frame, 0));
      if (dst === src) {
        this.stats.selfDrops++;
      } else if (dst !== undefined) {
        this.#send(src, dst, frame, length);
      } else {
        this.stats.floods++;
        for (const node of this.#nodes) if (node !== src) this.#send(src, node, frame, length);
      }
    });
  }

  #send(from: SimNode, to: SimNode, frame: Uint8Array, length: number): void {
    const d = this.link(from, to).send(frame, length, this.#now);
    for (const copy of d.deliveries) this.#events.push(copy.atMs, { kind: "frame", to, frame: copy.frame });
  }
}
