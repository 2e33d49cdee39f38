import assert from "node:assert/strict";
import { Rng, seedFromEnv } from "../../host-sim/rng.js";
import { withSeed } from "./helpers.js";

describe("host-sim Rng", () => {
  it("replays the same stream from the same seed, another from another seed", () => {
    withSeed((seed) => {
      const a = new Rng(seed);
      const b = new Rng(seed);
      const c = new Rng((seed + 1) >>> 0);
      const xa = Array.from({ length: 100 }, () => a.nextU32());
      const xb = Array.from({ length: 100 }, () => b.nextU32());
      const xc = Array.from({ length: 100 }, () => c.nextU32());
      assert.deepEqual(xa, xb);
      assert.notDeepEqual(xa, xc);
      for (const x of xa) assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
    });
  });

  it("next() is in [0, 1) with mean near 1/2; int(n) in [0, n) hitting every value", () => {
    withSeed((seed) => {
      const r = new Rng(seed);
      let sum = 0;
      const N = 20000;
      for (let i = 0; i < N; i++) {
        const x = r.next();
        assert.ok(x >= 0 && x < 1);
        sum += x;
      }
      assert.ok(Math.abs(sum / N - 0.5) < 0.02, `mean ${sum / N}`);
      const hits = new Array<number>(7).fill(0);
      for (let i = 0; i < 7000; i++) hits[r.int(7)]++;
      for (const h of hits) assert.ok(h > 700 && h < 1300, `int(7) histogram ${hits.join(",")}`);
      assert.throws(() => r.int(0), RangeError);
      assert.throws(() => r.int(1.5), RangeError);
    });
  });

  it("fill() covers odd lengths deterministically", () => {
    withSeed((seed) => {
      const a = new Uint8Array(13);
      const b = new Uint8Array(13);
      new Rng(seed).fill(a);
      new Rng(seed).fill(b);
      assert.deepEqual(a, b);
      const big = new Uint8Array(4096);
      new Rng(seed).fill(big);
      assert.ok(new Set(big).size > 200, "bytes look random");
    });
  });

  it("fork(label) is deterministic, independent of the parent's position and of other labels", () => {
    withSeed((seed) => {
      const p = new Rng(seed);
      const f1 = p.fork(1).nextU32();
      p.nextU32();
      p.nextU32();
      assert.equal(p.fork(1).nextU32(), f1, "forking does not depend on the parent's position");
      assert.notEqual(p.fork(2).nextU32(), f1);
      assert.notEqual(p.fork(1).seed, p.seed);
    });
  });

  it("seedFromEnv reads SEED, else the fallback, else a fresh uint32", () => {
    const saved = process.env.SEED;
    try {
      process.env.SEED = "12345";
      assert.equal(seedFromEnv(), 12345);
      assert.equal(seedFromEnv(7), 12345);
      process.env.SEED = "nope";
      assert.throws(() => seedFromEnv(), RangeError);
      delete process.env.SEED;
      assert.equal(seedFromEnv(7), 7);
      const s = seedFromEnv();
      assert.ok(Number.isInteger(s) && s >= 0 && s <= 0xffffffff);
    } finally {
      if (saved === undefined) delete process.env.SEED;
      else process.env.SEED = saved;
    }
  });
});
