import assert from "node:assert/strict";
import { PcapWriter, readPcap } from "../../host-sim/pcap.js";
import { SimNetwork, type Endpoint } from "../../host-sim/simnet.js";
import { BROADCAST, Echo, Pinger, Recorder, bitDistance, seqOf, testFrame, withSeed } from "./helpers.js";

/** Polled at fixed steps: returns now + stepMs every time, and records when it was polled. */
class Ticker implements Endpoint {
  readonly polls: number[] = [];
  constructor(private readonly stepMs: number) {}
  input(): void {}
  poll(now: number): number {
    this.polls.push(now);
    return now + this.stepMs;
  }
}

/** A pinger on node "a" and an echo on node "b"; returns everything. */
function pingPong(seed: number, count: number, intervalMs: number, length = 100, pcap?: PcapWriter) {
  const net = new SimNetwork({ seed, pcap });
  const a = net.addNode("a");
  const b = net.addNode("b");
  const pinger = new Pinger(a, b.mac, count, intervalMs, length);
  const echo = new Echo(b);
  a.attach(pinger);
  b.attach(echo);
  return { net, a, b, pinger, echo };
}

describe("host-sim SimNetwork", () => {
  it("gives nodes 02:00:00:00:00:01, :02 ... and rejects duplicate names", () => {
    const net = new SimNetwork({ seed: 1 });
    const a = net.addNode("a");
    const b = net.addNode("b", { mtu: 9000 });
    assert.deepEqual(Array.from(a.mac), [2, 0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(b.mac), [2, 0, 0, 0, 0, 2]);
    assert.equal(a.mtu, 1500);
    assert.equal(b.mtu, 9000);
    assert.equal(net.node("b"), b);
    assert.throws(() => net.addNode("a"), RangeError);
    const c = net.addNode("c", { mac: new Uint8Array([0x0a, 1, 2, 3, 4, 5]) });
    assert.deepEqual(Array.from(c.mac), [0x0a, 1, 2, 3, 4, 5]);
  });

  it("delivers ping and echo over a clean link, in order, at the sending instant", () => {
    withSeed((seed) => {
      const { net, pinger, echo, a, b } = pingPong(seed, 20, 10);
      const r = net.run();
      assert.equal(r.reason, "idle");
      assert.equal(r.timeMs, 190);
      assert.equal(echo.received.length, 20);
      assert.deepEqual(pinger.received.map((x) => seqOf(x.frame)), Array.from({ length: 20 }, (_, i) => i));
      pinger.received.forEach((x, i) => {
        assert.equal(x.timeMs, i * 10);
        assert.deepEqual(x.frame.subarray(14), pinger.sent[i].subarray(14));
      });
      assert.equal(a.stats.txFrames, 20);
      assert.equal(b.stats.rxFrames, 20);
      assert.equal(net.linkStats(a, b).delivered, 20);
      assert.equal(net.linkStats().delivered, 40);
    });
  });

  it("switch: broadcast to all others, learned unicast to one, unknown unicast flooded, own MAC dropped", () => {
    const net = new SimNetwork({ seed: 2 });
    const [a, b, c] = ["a", "b", "c"].map((n) => net.addNode(n));
    const [ra, rb, rc] = [new Recorder(), new Recorder(), new Recorder()];
    a.attach(ra);
    b.attach(rb);
    c.attach(rc);
    const counts = (): number[] => [ra, rb, rc].map((r) => r.received.length);

    a.transmit(testFrame(BROADCAST, a.mac, 1, 60), 60);
    net.run();
    assert.deepEqual(counts(), [0, 1, 1], "broadcast reaches every other node");

    b.transmit(testFrame(a.mac, b.mac, 2, 60), 60);
    net.run();
    assert.deepEqual(counts(), [1, 1, 1], "a was learned: unicast only to a");

    a.transmit(testFrame(c.mac, a.mac, 3, 60), 60);
    net.run();
    assert.deepEqual(counts(), [1, 2, 2], "c not learned yet: flooded to b and c");
    assert.equal(net.stats.floods, 1);

    c.transmit(testFrame(BROADCAST, c.mac, 4, 60), 60);
    net.run();
    assert.deepEqual(counts(), [2, 3, 2], "c's broadcast");
    a.transmit(testFrame(c.mac, a.mac, 5, 60), 60);
    net.run();
    assert.deepEqual(counts(), [2, 3, 3], "c learned: unicast only to c");

    const multicast = new Uint8Array([0x01, 0x00, 0x5e, 0, 0, 1]);
    b.transmit(testFrame(multicast, b.mac, 6, 60), 60);
    a.transmit(testFrame(a.mac, a.mac, 7, 60), 60);
    net.run();
    assert.deepEqual(counts(), [3, 3, 4], "multicast to the others; frame to own MAC dropped");
    assert.equal(net.stats.selfDrops, 1);
  });

  it("jumps the clock to poll deadlines: a node returning now + 1000 is polled at exactly 1000, 2000, ...", () => {
    const net = new SimNetwork({ seed: 3, startMs: 50 });
    const t = new Ticker(1000);
    net.addNode("t").attach(t);
    const r = net.run({ maxMs: 3500 });
    assert.deepEqual(t.polls, [50, 1050, 2050, 3050]);
    assert.deepEqual(r, { steps: 3, timeMs: 3550, reason: "maxMs" });
  });

  it("a deadline in the past means now; time never moves backwards", () => {
    const net = new SimNetwork({ seed: 4, startMs: 100 });
    const polls: number[] = [];
    let n = 0;
    net.addNode("p").attach({ input(): void {}, poll(now: number): number { polls.push(now); return n++ < 3 ? 0 : Infinity; } });
    const r = net.run();
    assert.deepEqual(polls, [100, 100, 100, 100]);
    assert.equal(r.reason, "idle");
    assert.equal(net.now, 100);
  });

  it("run() stops on until, maxSteps, maxMs and idle", () => {
    const net = new SimNetwork({ seed: 5 });
    const t = new Ticker(10);
    net.addNode("t").attach(t);
    assert.deepEqual(net.run({ maxSteps: 5 }), { steps: 5, timeMs: 50, reason: "maxSteps" });
    assert.deepEqual(net.run({ until: () => net.now >= 100 }), { steps: 5, timeMs: 100, reason: "until" });
    assert.deepEqual(net.run({ maxMs: 25 }), { steps: 2, timeMs: 125, reason: "maxMs" });
    const spin = new SimNetwork({ seed: 5 });
    spin.addNode("s").attach({ input(): void {}, poll(now: number): number { return now; } });
    assert.deepEqual(spin.run({ maxSteps: 1000 }), { steps: 1000, timeMs: 0, reason: "maxSteps" });
    const idle = new SimNetwork({ seed: 5 });
    idle.addNode("r").attach(new Recorder());
    assert.deepEqual(idle.run(), { steps: 0, timeMs: 0, reason: "idle" });
    assert.deepEqual(idle.runFor(250), { steps: 0, timeMs: 250, reason: "idle" });
    assert.equal(idle.now, 250);
  });

  it("schedule() runs actions at their virtual time and polls every node after them", () => {
    const net = new SimNetwork({ seed: 6 });
    const a = net.addNode("a");
    const b = net.addNode("b");
    const ra = new Recorder();
    const rb = new Recorder();
    a.attach(ra);
    b.attach(rb);
    const seen: number[] = [];
    net.schedule(500, () => {
      seen.push(net.now);
      a.transmit(testFrame(b.mac, a.mac, 1, 60), 60);
    });
    net.schedule(500, () => seen.push(-net.now)); // same time: runs second
    net.schedule(250, () => seen.push(net.now));
    const r = net.run();
    assert.deepEqual(seen, [250, 500, -500]);
    assert.equal(r.timeMs, 500);
    assert.deepEqual(rb.received.map((x) => x.timeMs), [500]);
    assert.ok(ra.polls.includes(250) && rb.polls.includes(500));
  });

  it("transmit() returns false and counts when the node's tx queue is full", () => {
    const net = new SimNetwork({ seed: 7 });
    const a = net.addNode("a", { txQueue: 4 });
    const b = net.addNode("b");
    b.attach(new Recorder());
    const results: boolean[] = [];
    a.attach({
      input(): void {},
      poll(): number {
        for (let i = 0; i < 6; i++) results.push(a.transmit(testFrame(b.mac, a.mac, i, 60), 60));
        return Infinity;
      },
    });
    net.run({ maxSteps: 1 });
    assert.deepEqual(results, [true, true, true, true, false, false]);
    assert.equal(a.stats.txQueueFull, 2);
    assert.equal(a.stats.txFrames, 4);
    assert.equal(a.transmit(new Uint8Array(10), 10), false, "shorter than an Ethernet header");
    assert.equal(a.stats.txRejected, 1);
  });

  it("random() is a deterministic per-node stream", () => {
    const draw = (seed: number, name: string): number[] => {
      const net = new SimNetwork({ seed });
      net.addNode("a");
      const n = net.addNode("b");
      const out = new Uint8Array(8);
      n.random(out);
      return name === "b" ? Array.from(out) : [];
    };
    assert.deepEqual(draw(9, "b"), draw(9, "b"));
    assert.notDeepEqual(draw(9, "b"), draw(10, "b"));
    const net = new SimNetwork({ seed: 9 });
    const x = new Uint8Array(8);
    const y = new Uint8Array(8);
    net.addNode("a").random(x);
    net.addNode("b").random(y);
    assert.notDeepEqual(x, y);
  });

  it("applies per-direction faults: loss a->b only, counted on that direction", () => {
    withSeed((seed) => {
      const { net, a, b, echo, pinger } = pingPong(seed, 2000, 1);
      net.setFaults(a, b, { loss: 0.25 });
      net.run();
      const ab = net.linkStats(a, b);
      const ba = net.linkStats(b, a);
      assert.ok(ab.lost / 2000 > 0.2 && ab.lost / 2000 < 0.3, `loss ${ab.lost / 2000}`);
      assert.equal(echo.received.length, 2000 - ab.lost);
      assert.equal(ba.lost, 0);
      assert.equal(pinger.received.length, echo.received.length);
    });
  });

  it("wildcard faults: duplication, reordering and corruption happen end to end and are counted", () => {
    withSeed((seed) => {
      const { net, echo, pinger } = pingPong(seed, 1000, 1);
      net.setFaults("*", "*", { duplicate: 0.05, reorder: 0.05, reorderDelayMs: 3, corrupt: 0.05 });
      net.run();
      const s = net.linkStats();
      assert.ok(s.duplicated > 0 && s.reordered > 0 && s.corrupted > 0, JSON.stringify(s));
      assert.equal(echo.received.length + pinger.received.length, s.delivered);
      const seqs = echo.received.map((x) => seqOf(x.frame));
      assert.notDeepEqual(seqs, [...seqs].sort((x, y) => x - y), "arrival order differs");
      let oneBit = 0;
      for (const x of echo.received) {
        const seq = seqOf(x.frame);
        const guess = seq < pinger.sentCopies.length ? bitDistance(x.frame, pinger.sentCopies[seq]) : Infinity;
        // a flipped bit may hit the seq field itself: then search every sent frame
        const d = guess <= 1 ? guess : Math.min(...pinger.sentCopies.map((f) => bitDistance(x.frame, f)));
        assert.ok(d <= 1, `a frame differs by ${d} bits`);
        oneBit += d;
      }
      assert.ok(oneBit > 0);
      pinger.sent.forEach((f, i) => assert.deepEqual(f, pinger.sentCopies[i], "sender buffers untouched"));
    });
  });

  it("bandwidth, delay and jitter shape arrival times; mtu and queue limits drop", () => {
    withSeed((seed) => {
      const net = new SimNetwork({ seed });
      const a = net.addNode("a");
      const b = net.addNode("b");
      const c = net.addNode("c");
      const rb = new Recorder();
      const rc = new Recorder();
      b.attach(rb);
      c.attach(rc);
      net.setFaults(a, b, { bandwidth: 10_000, delayMs: 5 }); // 10 kB/s: 0.1 ms per byte
      net.setFaults(a, c, { delayMs: 20, jitterMs: 10, mtu: 1000 });
      b.transmit(testFrame(BROADCAST, b.mac, 0, 60), 60); // teach the switch b and c
      c.transmit(testFrame(BROADCAST, c.mac, 0, 60), 60);
      net.run();
      rb.received.length = 0;
      rc.received.length = 0;
      for (let i = 0; i < 3; i++) a.transmit(testFrame(b.mac, a.mac, i, 1000), 1000);
      a.transmit(testFrame(c.mac, a.mac, 10, 1014), 1014);
      a.transmit(testFrame(c.mac, a.mac, 11, 1015), 1015);
      net.run();
      assert.deepEqual(rb.received.map((x) => x.timeMs), [105, 205, 305]);
      assert.equal(rc.received.length, 1);
      assert.ok(rc.received[0].timeMs >= 20 && rc.received[0].timeMs <= 30);
      assert.equal(net.linkStats(a, c).mtuDrops, 1);

      net.setFaults(a, b, { bandwidth: 10_000, queueLimit: 2 });
      const start = net.now;
      for (let i = 0; i < 5; i++) a.transmit(testFrame(b.mac, a.mac, i, 1000), 1000);
      net.run();
      assert.equal(net.linkStats(a, b).queueDrops, 3);
      assert.deepEqual(rb.received.slice(3).map((x) => x.timeMs - start), [100, 200]);
    });
  });

  it("records every transmitted frame in the pcap at transmit time, before faults", () => {
    withSeed((seed) => {
      const pcap = new PcapWriter();
      const { net, a, b } = pingPong(seed, 50, 2, 100, pcap);
      net.setFaults(a, b, { loss: 0.5, delayMs: 7 });
      net.run();
      const recs = readPcap(pcap.bytes());
      const fromA = recs.filter((r) => r.frame[11] === 1);
      const fromB = recs.filter((r) => r.frame[11] === 2);
      assert.equal(fromA.length, 50, "lost frames were still sent");
      fromA.forEach((r, i) => assert.equal(r.timeMs, i * 2));
      assert.equal(fromB.length, 50 - net.linkStats(a, b).lost);
      for (const r of fromB) assert.equal(r.timeMs, seqOf(r.frame) * 2 + 7, "echo sent on arrival");
    });
  });

  it("is deterministic: the same seed gives identical pcap bytes, another seed differs", () => {
    withSeed((seed) => {
      const capture = (s: number): Uint8Array => {
        const pcap = new PcapWriter();
        const { net } = pingPong(s, 300, 1, 120, pcap);
        net.setFaults("*", "*", { loss: 0.1, duplicate: 0.05, reorder: 0.05, corrupt: 0.05, delayMs: 3, jitterMs: 4, bandwidth: 200_000, queueLimit: 8 });
        net.run();
        return pcap.bytes();
      };
      const one = capture(seed);
      assert.deepEqual(capture(seed), one);
      assert.notDeepEqual(capture((seed + 1) >>> 0), one);
    });
  });
});
