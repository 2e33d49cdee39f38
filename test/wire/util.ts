/** Shared helpers for the wire tests: a replayable seed and a bounds-checking byte array. */
import assert from "node:assert/strict";
import fc from "fast-check";

/** SEED=<n> replays a run; otherwise a fresh seed from the clock. */
export const SEED: number = process.env.SEED !== undefined && process.env.SEED !== ""
  ? Number(process.env.SEED)
  : Date.now() % 0x7fffffff;

/** fc.assert parameters: the seed, 200 runs, and the seed printed on failure. */
export function params<T>(): fc.Parameters<T> {
  return { seed: SEED, numRuns: 200 };
}

/** fc.assert with our parameters; on failure logs "SEED=<n>" so the run can be replayed. */
export function check<Ts>(prop: fc.IProperty<Ts>): void {
  try {
    fc.assert(prop, params<Ts>());
  } catch (e) {
    console.log(`wire test failed: replay with SEED=${SEED}`);
    throw e;
  }
}

/**
 * A proxy over b that throws on any indexed read outside [lo, hi): lets a test
 * prove a view stays inside its frame.
 */
export function fenced(b: Uint8Array, lo: number, hi: number): Uint8Array {
  return new Proxy(b, {
    get(t, k): unknown {
      if (typeof k === "string" && /^-?\d+$/.test(k)) {
        const n = Number(k);
        if (n < lo || n >= hi) throw new RangeError(`read b[${n}] outside [${lo}, ${hi})`);
        return t[n];
      }
      const v: unknown = Reflect.get(t, k, t);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** A frame (bytes) placed at a random offset inside a larger array, plus the (at, len) that selects it. */
export interface Placed { big: Uint8Array; at: number; len: number; }

/** Arbitrary: random bytes of length <= maxLen, and an (at, len) window inside them. */
export function placedBytes(maxLen: number): fc.Arbitrary<Placed> {
  return fc.tuple(fc.uint8Array({ minLength: 0, maxLength: maxLen }), fc.nat(), fc.nat()).map(([big, x, y]) => {
    const at = big.length === 0 ? 0 : x % (big.length + 1);
    const len = y % (big.length - at + 1);
    return { big, at, len };
  });
}

/**
 * Runs probe over the frame three ways: fenced inside a larger array padded with
 * 0x00, inside one padded with 0xff, and copied into an exact-size array. It must
 * never throw, never read outside the frame, and give the same results each way.
 */
export function confined(frame: Uint8Array, probe: (b: Uint8Array, at: number, len: number) => unknown): unknown {
  const PAD = 64;
  const len = frame.length;
  const lo = new Uint8Array(PAD + len + PAD);
  lo.set(frame, PAD);
  const hi = new Uint8Array(PAD + len + PAD).fill(0xff);
  hi.set(frame, PAD);
  const exact = Uint8Array.from(frame);
  const r1 = probe(fenced(lo, PAD, PAD + len), PAD, len);
  const r2 = probe(hi, PAD, len);
  const r3 = probe(exact, 0, len);
  assert.deepEqual(r1, r2);
  assert.deepEqual(r1, r3);
  return r1;
}
