import assert from "node:assert/strict";
import { FaultLink, type Delivery } from "../../host-sim/faults.js";
import { Rng } from "../../host-sim/rng.js";
import { bitDistance, testFrame, withSeed } from "./helpers.js";

const A = new Uint8Array([2, 0, 0, 0, 0, 1]);
const B = new Uint8Array([2, 0, 0, 0, 0, 2]);

/** Send `n` frames of `len` bytes, `gapMs` apart; returns every copy delivered. */
function pump(link: FaultLink, n: number, len = 100, gapMs = 1): Delivery[] {
  const out: Delivery[] = [];
  for (let i = 0; i < n; i++) out.push(...link.send(testFrame(B, A, i, len), len, i * gapMs).deliveries);
  return out;
}

describe("host-sim FaultLink", () => {
  it("without faults delivers one identical copy at once, in its own buffer", () => {
    const link = new FaultLink(new Rng(1));
    const f = testFrame(B, A, 7, 80);
    const d = link.send(f, 60, 5);
    assert.equal(d.dropped, null);
    assert.equal(d.deliveries.length, 1);
    assert.equal(d.deliveries[0].atMs, 5);
    assert.deepEqual(d.deliveries[0].frame, f.subarray(0, 60));
    assert.notEqual(d.deliveries[0].frame.buffer, f.buffer);
    assert.deepEqual(link.stats, { sent: 1, delivered: 1, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, queueDrops: 0, mtuDrops: 0 });
  });

  it("loses about `loss` of the frames and counts them", () => {
    withSeed((seed) => {
      const link = new FaultLink(new Rng(seed), { loss: 0.1 });
      const N = 10000;
      const got = pump(link, N).length;
      const rate = link.stats.lost / N;
      assert.ok(rate > 0.08 && rate < 0.12, `loss rate ${rate}`);
      assert.equal(got + link.stats.lost, N);
      assert.equal(link.stats.delivered, got);
    });
  });

  it("duplicates about `duplicate` of the frames and counts them", () => {
    withSeed((seed) => {
      const link = new FaultLink(new Rng(seed), { duplicate: 0.2 });
      const N = 5000;
      const got = pump(link, N);
      assert.equal(got.length, N + link.stats.duplicated);
      const rate = link.stats.duplicated / N;
      assert.ok(rate > 0.17 && rate < 0.23, `duplicate rate ${rate}`);
      assert.equal(link.stats.delivered, got.length);
    });
  });

  it("corrupts exactly one bit of a copy, never the sender's buffer", () => {
    withSeed((seed) => {
      const link = new FaultLink(new Rng(seed), { corrupt: 0.3, duplicate: 0.3 });
      let flipped = 0;
      for (let i = 0; i < 2000; i++) {
        const f = testFrame(B, A, i, 64, i & 0xff);
        const keep = f.slice();
        for (const d of link.send(f, 64, i).deliveries) {
          const dist = bitDistance(d.frame, keep);
          assert.equal(dist, d.corrupted ? 1 : 0);
          if (d.corrupted) flipped++;
        }
        assert.deepEqual(f, keep, "sender's buffer unchanged");
      }
      assert.ok(flipped > 0);
      assert.equal(link.stats.corrupted, flipped);
    });
  });

  it("reorder holds copies back by reorderDelayMs so later frames pass them", () => {
    withSeed((seed) => {
      const link = new FaultLink(new Rng(seed), { reorder: 0.1, reorderDelayMs: 5 });
      const got = pump(link, 1000);
      assert.ok(link.stats.reordered > 0);
      const held = got.filter((d) => d.reordered);
      assert.equal(held.length, link.stats.reordered);
      for (const d of held) assert.equal(d.atMs, seqOfDelivery(d) + 5);
      const order = [...got].sort((x, y) => x.atMs - y.atMs).map(seqOfDelivery);
      assert.notDeepEqual(order, [...order].sort((x, y) => x - y), "arrival order differs from send order");
    });
  });

  it("delay + jitter: every arrival within [sent + delay, sent + delay + jitter], FIFO without reorder", () => {
    withSeed((seed) => {
      const link = new FaultLink(new Rng(seed), { delayMs: 20, jitterMs: 10 });
      const got = pump(link, 2000, 100, 1);
      let last = -Infinity;
      let spread = 0;
      for (const d of got) {
        const sent = seqOfDelivery(d);
        assert.ok(d.atMs >= sent + 20 && d.atMs <= sent + 30, `seq ${sent} at ${d.atMs}`);
        assert.ok(d.atMs >= last, "jitter alone does not reorder");
        last = d.atMs;
        spread = Math.max(spread, d.atMs - sent - 20);
      }
      assert.ok(spread > 5, "jitter is applied");
    });
  });

  it("bandwidth: each frame takes length / bandwidth to serialise, back to back", () => {
    const link = new FaultLink(new Rng(3), { bandwidth: 1000, delayMs: 7 }); // 1000 B/s: 1 ms per byte
    const a = link.send(testFrame(B, A, 0, 100), 100, 0).deliveries[0];
    const b = link.send(testFrame(B, A, 1, 50), 50, 0).deliveries[0];
    const c = link.send(testFrame(B, A, 2, 100), 100, 1000).deliveries[0];
    assert.equal(a.atMs, 100 + 7);
    assert.equal(b.atMs, 150 + 7);
    assert.equal(c.atMs, 1100 + 7, "an idle link starts at once");
  });

  it("queueLimit drops the tail while frames wait for serialisation", () => {
    const link = new FaultLink(new Rng(4), { bandwidth: 1000, queueLimit: 3 });
    const fates = Array.from({ length: 10 }, (_, i) => link.send(testFrame(B, A, i, 100), 100, 0).dropped);
    assert.deepEqual(fates, [null, null, null, "queue", "queue", "queue", "queue", "queue", "queue", "queue"]);
    assert.equal(link.stats.queueDrops, 7);
    assert.equal(link.queued(150), 2);
    assert.equal(link.send(testFrame(B, A, 10, 100), 100, 150).dropped, null, "room again after one left");
    assert.equal(link.queued(10_000), 0);
  });

  it("mtu drops frames whose IP payload (length - 14) exceeds it", () => {
    const link = new FaultLink(new Rng(5), { mtu: 500 });
    assert.equal(link.send(testFrame(B, A, 0, 514), 514, 0).dropped, null);
    assert.equal(link.send(testFrame(B, A, 1, 515), 515, 0).dropped, "mtu");
    assert.equal(link.stats.mtuDrops, 1);
    assert.equal(link.stats.delivered, 1);
  });

  it("rejects out-of-range faults", () => {
    assert.throws(() => new FaultLink(new Rng(1), { loss: 1.5 }), RangeError);
    assert.throws(() => new FaultLink(new Rng(1), { delayMs: -1 }), RangeError);
    assert.throws(() => new FaultLink(new Rng(1), { queueLimit: 2.5 }), RangeError);
    assert.throws(() => new FaultLink(new Rng(1)).setFaults({ corrupt: NaN }), RangeError);
  });
});

function seqOfDelivery(d: Delivery): number {
  return new DataView(d.frame.buffer, d.frame.byteOffset).getUint32(14);
}
