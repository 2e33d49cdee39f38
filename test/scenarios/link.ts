/**
 * A pure-ECMAScript in-memory link between two stacks, shared by the V8 tests and the XS bundle
 * (no Node imports, nothing allocated per frame once built).
 *
 * - `Xorshift32`: the seeded PRNG (Marsaglia 2003, 13/17/5) for drops and `driver.random`.
 * - `Lane`: one direction. transmit() copies the frame into a fixed ring of frame slots, stamps its
 *   arrival time (serialization at `bitsPerMs` behind the previous frame, plus `delayMs`), or drops it
 *   (seeded dropper) or refuses it (ring full: the stack counts linkTxRefused and TCP retries).
 *   Every transmitted frame is folded into an FNV-1a digest of the wire, so two engines can be
 *   compared frame for frame.
 * - `Pair`: stacks A and B on the two ends, a virtual clock that jumps to the earliest of (next frame
 *   arrival, either stack's poll deadline, the one app timer), input then poll, deterministic order.
 */
import type { Driver } from "../../src/driver.js";
import type { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";

/** xorshift32: a 32-bit state, never 0. */
export class Xorshift32 {
  s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) === 0 ? 0x9e3779b9 : seed >>> 0;
  }
  /** Next uint32. */
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
}

/** FNV-1a 32-bit, incremental. */
export function fnv1a(h: number, b: Uint8Array, at: number, len: number): number {
  for (let i = 0; i < len; i++) h = Math.imul(h ^ b[at + i], 0x01000193) >>> 0;
  return h;
}
export const FNV_INIT = 0x811c9dc5;

export interface LaneOptions {
  /** One-way propagation delay, ms (> 0). */
  delayMs: number;
  /** Link rate in bits per ms (10_000 = 10 Mbit/s). */
  bitsPerMs: number;
  /** Frames the ring holds (queued + in flight). */
  slots: number;
  /** Drop probability per frame, 0..1 (0: the dropper draws nothing). */
  loss: number;
  /** Seed of the dropper. */
  seed: number;
  /** Largest frame, bytes. */
  frameBytes: number;
}

export class Lane {
  readonly slot: Uint8Array[] = [];
  readonly len: Int32Array;
  readonly at: Float64Array;
  head = 0;
  count = 0;
  busyUntil = 0;
  readonly delayMs: number;
  readonly bitsPerMs: number;
  /** Drop when drop.next() < threshold. */
  threshold: number;
  readonly drop: Xorshift32;
  // Counters
  sent = 0;
  dropped = 0;
  refused = 0;
  delivered = 0;
  bytes = 0;
  /** FNV-1a over every frame handed to transmit() (dropped ones too), in order. */
  digest = FNV_INIT;
  /** Keep `digest` (costs compute per byte; off for throughput measurements). */
  digestOn = true;
  /** The link's clock (set by Pair before every input/poll). */
  now = 0;

  constructor(o: LaneOptions) {
    for (let i = 0; i < o.slots; i++) this.slot.push(new Uint8Array(o.frameBytes));
    this.len = new Int32Array(o.slots);
    this.at = new Float64Array(o.slots);
    this.delayMs = o.delayMs;
    this.bitsPerMs = o.bitsPerMs;
    this.threshold = Math.floor(o.loss * 4294967296);
    this.drop = new Xorshift32(o.seed);
  }

  /** Change the drop probability (0 = no draws). */
  setLoss(p: number): void { this.threshold = Math.floor(p * 4294967296); }

  transmit(frame: Uint8Array, length: number): boolean {
    const n = this.slot.length;
    if (this.count === n) { this.refused++; return false; }
    this.sent++;
    if (this.digestOn) this.digest = fnv1a(this.digest, frame, 0, length);
    if (this.threshold > 0 && this.drop.next() < this.threshold) { this.dropped++; return true; }
    let i = this.head + this.count;
    if (i >= n) i -= n;
    const s = this.slot[i];
    // A frame as long as the slot (the stack's tx scratch always is) is copied natively; set() with a
    // whole typed array allocates nothing.
    if (frame.length === s.length) s.set(frame);
    else for (let k = 0; k < length; k++) s[k] = frame[k];
    this.len[i] = length;
    const start = this.busyUntil > this.now ? this.busyUntil : this.now;
    this.busyUntil = start + (length * 8) / this.bitsPerMs;
    this.at[i] = this.busyUntil + this.delayMs;
    this.count++;
    this.bytes += length;
    return true;
  }

  /** Arrival time of the oldest frame, or Infinity. */
  nextAt(): number { return this.count > 0 ? this.at[this.head] : Infinity; }

  pop(): void {
    this.head++;
    if (this.head === this.slot.length) this.head = 0;
    this.count--;
    this.delivered++;
  }
}

/** The Driver of one end: transmit into its outgoing lane, random from a seeded PRNG. */
export class LinkDriver implements Driver {
  readonly mac: Uint8Array;
  readonly mtu = 1500;
  readonly out: Lane;
  readonly rng: Xorshift32;
  constructor(mac: Uint8Array, out: Lane, seed: number) {
    this.mac = mac;
    this.out = out;
    this.rng = new Xorshift32(seed);
  }
  transmit(frame: Uint8Array, length: number): boolean { return this.out.transmit(frame, length); }
  random(into: Uint8Array): void {
    for (let i = 0; i < into.length; i++) into[i] = this.rng.next() & 0xff;
  }
}

export interface PairOptions {
  seed: number;
  stack?: StackOptions;
  delayMs?: number;
  bitsPerMs?: number;
  slots?: number;
  /** Loss A→B and B→A. */
  lossAB?: number;
  lossBA?: number;
  /** Keep the wire digests (default true). */
  digest?: boolean;
}

export const ADDR_A = "192.0.2.1";
export const ADDR_B = "192.0.2.2";
export const IP_A = 0xc0000201;
export const IP_B = 0xc0000202;

export class Pair {
  now = 0;
  A: Stack;
  B: Stack;
  readonly ab: Lane;
  readonly ba: Lane;
  readonly dA: LinkDriver;
  readonly dB: LinkDriver;
  deadlineA = 0;
  deadlineB = 0;
  /** One app timer: fn runs at appAt (then both stacks are polled). */
  appAt = Infinity;
  appFn: (() => void) | null = null;
  steps = 0;
  /** The sockets' clock option (made once). */
  readonly clock: () => number;
  readonly stackOptions: StackOptions;

  constructor(o: PairOptions) {
    const seed = o.seed >>> 0;
    const lane = (loss: number, k: number): Lane => new Lane({
      delayMs: o.delayMs ?? 1, bitsPerMs: o.bitsPerMs ?? 10_000, slots: o.slots ?? 64, loss,
      seed: (seed * 0x9e3779b1 + k) >>> 0, frameBytes: 1514,
    });
    this.ab = lane(o.lossAB ?? 0, 1);
    this.ba = lane(o.lossBA ?? 0, 2);
    if (o.digest === false) { this.ab.digestOn = false; this.ba.digestOn = false; }
    this.dA = new LinkDriver(new Uint8Array([2, 0, 0, 0, 0, 1]), this.ab, (seed ^ 0x5a5a5a5a) + 3);
    this.dB = new LinkDriver(new Uint8Array([2, 0, 0, 0, 0, 2]), this.ba, (seed ^ 0xa5a5a5a5) + 4);
    this.stackOptions = o.stack ?? {};
    this.A = new Stack({ ...this.stackOptions, address: ADDR_A }, this.dA);
    this.B = new Stack({ ...this.stackOptions, address: ADDR_B }, this.dB);
    const self = this;
    this.clock = function clock(): number { return self.now; };
  }

  /** Replace B by a fresh stack (same MAC and address): a peer that rebooted. */
  rebootB(): void {
    this.B = new Stack({ ...this.stackOptions, address: ADDR_B }, this.dB);
    this.deadlineB = this.now;
  }

  /** Run `fn` at virtual time `at` (one timer; a later call replaces it). */
  at(at: number, fn: () => void): void { this.appAt = at; this.appFn = fn; }

  /** One instant: frames due, then the app timer, then the polls. false when nothing is left to do. */
  step(): boolean {
    const ab = this.ab, ba = this.ba;
    let next = this.deadlineA;
    if (this.deadlineB < next) next = this.deadlineB;
    const a1 = ab.nextAt(), a2 = ba.nextAt();
    if (a1 < next) next = a1;
    if (a2 < next) next = a2;
    if (this.appAt < next) next = this.appAt;
    if (next === Infinity) return false;
    if (next > this.now) this.now = next;
    const now = this.now;
    ab.now = now; ba.now = now;
    this.steps++;
    let rxA = false, rxB = false;
    while (ab.count > 0 && ab.at[ab.head] <= now) {
      this.B.input(ab.slot[ab.head], ab.len[ab.head], now);
      ab.pop();
      rxB = true;
    }
    while (ba.count > 0 && ba.at[ba.head] <= now) {
      this.A.input(ba.slot[ba.head], ba.len[ba.head], now);
      ba.pop();
      rxA = true;
    }
    if (this.appAt <= now) {
      const f = this.appFn;
      this.appAt = Infinity;
      this.appFn = null;
      if (f !== null) f();
      rxA = true; rxB = true;
    }
    if (rxA || this.deadlineA <= now) this.deadlineA = this.A.poll(now);
    if (rxB || this.deadlineB <= now) this.deadlineB = this.B.poll(now);
    return true;
  }

  /** Step until cond() (checked before each step) or idle or maxSteps. Returns why it stopped. */
  runUntil(cond: (() => boolean) | null, maxSteps: number): "until" | "idle" | "maxSteps" {
    for (let i = 0; i < maxSteps; i++) {
      if (cond !== null && cond()) return "until";
      if (!this.step()) return "idle";
    }
    return cond !== null && cond() ? "until" : "maxSteps";
  }

  /** Frames delivered in both directions. */
  delivered(): number { return this.ab.delivered + this.ba.delivered; }

  /** Link summary for results. */
  linkReport(): Record<string, number> {
    const ab = this.ab, ba = this.ba;
    return {
      abSent: ab.sent, abDropped: ab.dropped, abRefused: ab.refused, abDelivered: ab.delivered, abDigest: ab.digest,
      baSent: ba.sent, baDropped: ba.dropped, baRefused: ba.refused, baDelivered: ba.delivered, baDigest: ba.digest,
    };
  }
}
