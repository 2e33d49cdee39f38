/** Fake endpoints and seed handling for the host-sim tests. */
import type { Driver } from "../../src/driver.js";
import type { Endpoint } from "../../host-sim/endpoint.js";
import { seedFromEnv } from "../../host-sim/rng.js";

/** Local experimental EtherType (IEEE 802 OUI-less test frames). */
export const ETHERTYPE_TEST = 0x88b5;
export const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/**
 * Run `fn` with a seed from SEED (or a fresh one); a failure's message gets "[SEED=n]" so the run can be
 * replayed with `SEED=n npx mocha ...`.
 */
export function withSeed(fn: (seed: number) => void): void {
  const seed = seedFromEnv();
  try {
    fn(seed);
  } catch (e) {
    if (e instanceof Error) {
      e.message = `${e.message} [SEED=${seed}]`;
      throw e;
    }
    throw new Error(`${String(e)} [SEED=${seed}]`);
  }
}

/** An Ethernet frame of `length` bytes: dst, src, EtherType 0x88b5, seq (u32 BE, when length >= 18), then `fill`. */
export function testFrame(dst: Uint8Array, src: Uint8Array, seq: number, length: number, fill = 0): Uint8Array {
  const f = new Uint8Array(length).fill(fill);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = ETHERTYPE_TEST >> 8;
  f[13] = ETHERTYPE_TEST & 0xff;
  if (length >= 18) new DataView(f.buffer).setUint32(14, seq >>> 0);
  return f;
}

export function seqOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(14);
}

export interface Received {
  readonly timeMs: number;
  readonly frame: Uint8Array;
}

/** Records every frame it receives; never sends; deadline Infinity. */
export class Recorder implements Endpoint {
  readonly received: Received[] = [];
  readonly polls: number[] = [];
  input(frame: Uint8Array, length: number, now: number): void {
    this.received.push({ timeMs: now, frame: frame.slice(0, length) });
  }
  poll(now: number): number {
    this.polls.push(now);
    return Infinity;
  }
}

/** Answers every frame, from poll() as a stack would: same bytes, MACs swapped. */
export class Echo extends Recorder {
  #pending: Uint8Array[] = [];
  constructor(private readonly driver: Driver) {
    super();
  }
  override input(frame: Uint8Array, length: number, now: number): void {
    super.input(frame, length, now);
    this.#pending.push(frame.slice(0, length));
  }
  override poll(now: number): number {
    super.poll(now);
    for (const f of this.#pending) {
      const dst = f.slice(6, 12);
      f.set(dst, 0);
      f.set(this.driver.mac, 6);
      this.driver.transmit(f, f.length);
    }
    this.#pending = [];
    return Infinity;
  }
}

/**
 * Sends `count` frames to `dst`, one every `intervalMs` starting at `startMs`, driven by poll deadlines.
 * Payload after the seq is random (driver.random), so captures depend on the seed. Keeps every frame it
 * sent (its own buffers, to check nobody changed them) and every frame it received.
 */
export class Pinger extends Recorder {
  readonly sent: Uint8Array[] = [];
  readonly sentCopies: Uint8Array[] = [];
  #next: number;
  constructor(
    private readonly driver: Driver,
    private readonly dst: Uint8Array,
    private readonly count: number,
    private readonly intervalMs: number,
    private readonly length = 100,
    startMs = 0,
  ) {
    super();
    this.#next = startMs;
  }
  override poll(now: number): number {
    super.poll(now);
    while (this.sent.length < this.count && now >= this.#next) {
      const f = testFrame(this.dst, this.driver.mac, this.sent.length, this.length);
      const rnd = new Uint8Array(this.length - 18);
      this.driver.random(rnd);
      f.set(rnd, 18);
      this.driver.transmit(f, f.length);
      this.sent.push(f);
      this.sentCopies.push(f.slice());
      this.#next += this.intervalMs;
    }
    return this.sent.length < this.count ? this.#next : Infinity;
  }
}

/** Number of bits that differ between two equal-length buffers (Infinity when lengths differ). */
export function bitDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i] ^ b[i];
    while (x !== 0) {
      d += x & 1;
      x >>>= 1;
    }
  }
  return d;
}
