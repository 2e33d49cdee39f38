/**
 * Seeded fault injection for one direction of a link (DESIGN.md §7).
 *
 * `FaultLink.send(frame, length, now)` decides, for one frame entering the link at `now`, whether it
 * is dropped (and why) or which copies arrive and when. It keeps no clock of its own and schedules
 * nothing: the caller delivers each copy at its `atMs`. SimNetwork drives it with virtual time; a TAP
 * bridge can drive it with wall-clock milliseconds.
 *
 * Order of decisions for each frame (each random draw only happens when its probability is > 0):
 *   1. mtu:    length - 14 > mtu                           -> dropped, counted in mtuDrops
 *   2. queue:  frames still waiting for serialisation >= queueLimit -> dropped (drop-tail), queueDrops
 *   3. serialisation: the frame leaves the sender at max(now, link busy) + length / bandwidth
 *   4. loss:   lost on the wire (it did use the link time)  -> dropped, counted in lost
 *   5. duplicate: one extra copy
 *   6. per copy: arrival = departure + delayMs + jitter (uniform in [0, jitterMs]), never before the
 *      previous in-order arrival (jitter alone does not reorder: a FIFO link);
 *      reorder: held back by an extra reorderDelayMs, outside the FIFO rule, so later frames pass it;
 *      corrupt: one random bit of this copy flipped.
 */
import type { Rng } from "./rng.js";

export interface Faults {
  /** Probability in [0, 1] that a frame is lost. */
  loss?: number;
  /** Probability in [0, 1] that a frame is delivered twice. */
  duplicate?: number;
  /** Probability in [0, 1] that a copy is held back by reorderDelayMs, so frames sent after it pass it. */
  reorder?: number;
  /** How long a reordered copy is held back, ms. Default 10. */
  reorderDelayMs?: number;
  /** Probability in [0, 1] that one random bit of a copy is flipped. */
  corrupt?: number;
  /** Fixed one-way propagation delay, ms. Default 0. */
  delayMs?: number;
  /** Extra delay uniform in [0, jitterMs] per copy, ms. Default 0. */
  jitterMs?: number;
  /** Link rate in bytes per second; each frame takes length / bandwidth s to send. 0 or absent = unlimited. */
  bandwidth?: number;
  /** Frames that may wait for serialisation (including the one being sent); more are dropped. Absent = unlimited. */
  queueLimit?: number;
  /** Max IP payload in bytes: frames with length - 14 > mtu are dropped. Absent = unlimited. */
  mtu?: number;
}

export const DEFAULT_REORDER_DELAY_MS = 10;
const ETHERNET_HEADER = 14;

/** Counters of one link direction. `delivered` counts copies handed back for delivery. */
export interface LinkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  queueDrops: number;
  mtuDrops: number;
}

export function emptyLinkStats(): LinkStats {
  return { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, queueDrops: 0, mtuDrops: 0 };
}

export type DropReason = "loss" | "queue" | "mtu";

/** One copy of a frame to deliver: its own bytes (never the sender's buffer) and when it arrives. */
export interface Delivery {
  readonly frame: Uint8Array;
  readonly atMs: number;
  readonly corrupted: boolean;
  readonly reordered: boolean;
}

export interface FaultDecision {
  /** null when at least one copy is delivered. */
  readonly dropped: DropReason | null;
  /** Copies to deliver, in the order they were decided (not sorted by time). */
  readonly deliveries: Delivery[];
}

/** Throws RangeError on out-of-range values; returns a frozen copy. */
export function checkFaults(f: Faults): Readonly<Faults> {
  const prob = (name: keyof Faults): void => {
    const p = f[name];
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new RangeError(`faults.${name} must be in [0, 1], got ${p}`);
  };
  const nonNeg = (name: keyof Faults): void => {
    const x = f[name];
    if (x !== undefined && !(x >= 0 && x < Infinity)) throw new RangeError(`faults.${name} must be >= 0, got ${x}`);
  };
  const count = (name: keyof Faults): void => {
    const x = f[name];
    if (x !== undefined && !(Number.isInteger(x) && x >= 0)) {
      throw new RangeError(`faults.${name} must be an integer >= 0, got ${x}`);
    }
  };
  prob("loss");
  prob("duplicate");
  prob("reorder");
  prob("corrupt");
  nonNeg("reorderDelayMs");
  nonNeg("delayMs");
  nonNeg("jitterMs");
  nonNeg("bandwidth");
  count("queueLimit");
  count("mtu");
  return Object.freeze({ ...f });
}

export class FaultLink {
  readonly stats: LinkStats = emptyLinkStats();
  #faults: Readonly<Faults>;
  readonly #rng: Rng;
  /** When the transmitter finishes the last accepted frame (bandwidth model). */
  #busyUntil = -Infinity;
  /** Departure times of accepted frames, ascending; those <= now have left the queue. */
  #departures: number[] = [];
  /** Latest arrival of an in-order copy: later in-order copies never arrive before it. */
  #lastInOrderAt = -Infinity;

  constructor(rng: Rng, faults: Faults = {}) {
    this.#rng = rng;
    this.#faults = checkFaults(faults);
  }

  get faults(): Readonly<Faults> {
    return this.#faults;
  }

  /** Change the faults; queue state and counters are kept. */
  setFaults(faults: Faults): void {
    this.#faults = checkFaults(faults);
  }

  /** Frames accepted but not yet fully serialised at `now`. */
  queued(now: number): number {
    const d = this.#departures;
    let gone = 0;
    while (gone < d.length && d[gone] <= now) gone++;
    if (gone > 0) d.splice(0, gone);
    return d.length;
  }

  /** Decide the fate of `frame[0 .. length)` entering the link at `now` (ms). Never modifies `frame`. */
  send(frame: Uint8Array, length: number, now: number): FaultDecision {
    const f = this.#faults;
    const rng = this.#rng;
    const s = this.stats;
    s.sent++;
    if (f.mtu !== undefined && length - ETHERNET_HEADER > f.mtu) {
      s.mtuDrops++;
      return { dropped: "mtu", deliveries: [] };
    }
    if (f.queueLimit !== undefined && this.queued(now) >= f.queueLimit) {
      s.queueDrops++;
      return { dropped: "queue", deliveries: [] };
    }
    let departure = now;
    if (f.bandwidth !== undefined && f.bandwidth > 0) {
      departure = Math.max(now, this.#busyUntil) + (length * 1000) / f.bandwidth;
      this.#busyUntil = departure;
      this.#departures.push(departure);
    }
    if (rng.chance(f.loss ?? 0)) {
      s.lost++;
      return { dropped: "loss", deliveries: [] };
    }
    let copies = 1;
    if (rng.chance(f.duplicate ?? 0)) {
      copies = 2;
      s.duplicated++;
    }
    const deliveries: Delivery[] = [];
    for (let i = 0; i < copies; i++) deliveries.push(this.#copy(frame, length, departure));
    s.delivered += copies;
    return { dropped: null, deliveries };
  }

  #copy(frame: Uint8Array, length: number, departure: number): Delivery {
    const f = this.#faults;
    const rng = this.#rng;
    let atMs = departure + (f.delayMs ?? 0);
    const jitter = f.jitterMs ?? 0;
    if (jitter > 0) atMs += rng.next() * jitter;
    const reordered = rng.chance(f.reorder ?? 0);
    if (reordered) {
      atMs += f.reorderDelayMs ?? DEFAULT_REORDER_DELAY_MS;
      this.stats.reordered++;
    } else {
      atMs = Math.max(atMs, this.#lastInOrderAt);
      this.#lastInOrderAt = atMs;
    }
    const copy = frame.slice(0, length);
    const corrupted = length > 0 && rng.chance(f.corrupt ?? 0);
    if (corrupted) {
      const bit = rng.int(length * 8);
      copy[bit >>> 3] ^= 1 << (bit & 7);
      this.stats.corrupted++;
    }
    return { frame: copy, atMs, corrupted, reordered };
  }
}
