/**
 * Seeded pseudo-random numbers for the simulator (DESIGN.md §7, §10).
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state), seeded from one uint32
 * through splitmix32. Not for cryptography: the simulator only needs speed and exact replay.
 */

/** One step of splitmix32: returns the next state and the output of a murmur3-style finaliser. */
function splitmix32(state: number): { state: number; out: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return { state: next, out: (z ^ (z >>> 16)) >>> 0 };
}

/** murmur3 fmix32: a bijective uint32 hash, used to derive forked seeds. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const TWO_POW_32 = 2 ** 32;

export class Rng {
  /** The uint32 this generator was made from; `new Rng(seed)` replays the same stream. */
  readonly seed: number;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.seed = seed >>> 0;
    let s = splitmix32(this.seed);
    this.#a = s.out | 0;
    s = splitmix32(s.state);
    this.#b = s.out | 0;
    s = splitmix32(s.state);
    this.#c = s.out | 0;
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.nextU32(); // stir the state before first use
  }

  /** Next uniformly distributed uint32. */
  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1), 32 bits of precision. */
  next(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n); n is an integer in 1 .. 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`int(n): bad n ${n}`);
    return Math.floor(this.next() * n);
  }

  /** true with probability p (p <= 0 never draws, so a disabled fault consumes no randomness). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    return this.next() < p;
  }

  /** Fill `into` with random bytes. */
  fill(into: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= into.length; i += 4) {
      const v = this.nextU32();
      into[i] = v & 0xff;
      into[i + 1] = (v >>> 8) & 0xff;
      into[i + 2] = (v >>> 16) & 0xff;
      into[i + 3] = v >>> 24;
    }
    if (i < into.length) {
      let v = this.nextU32();
      for (; i < into.length; i++, v >>>= 8) into[i] = v & 0xff;
    }
  }

  /**
   * An independent stream derived from this generator's seed and `label` (a uint32).
   * Does not advance this generator, so forks do not depend on the order they are made in.
   */
  fork(label: number): Rng {
    return new Rng(fmix32((fmix32(this.seed ^ 0x5bd1e995) + (label >>> 0)) | 0));
  }
}

/**
 * The seed for a randomized run: `process.env.SEED` (decimal uint32) when set, else `fallback` when
 * given, else a fresh seed from the wall clock. Print it on failure; `SEED=<n>` replays the run.
 */
export function seedFromEnv(fallback?: number): number {
  const text = process.env.SEED;
  if (text !== undefined && text.trim() !== "") {
    const t = text.trim();
    if (!/^\d+$/.test(t) || Number(t) > 0xffffffff) {
      throw new RangeError(`SEED must be a decimal uint32, got "${text}"`);
    }
    return Number(t);
  }
  if (fallback !== undefined) return fallback >>> 0;
  return (Date.now() ^ Math.floor(Math.random() * TWO_POW_32)) >>> 0;
}
