import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter } from "../../host-sim/pcap.js";
import { Rng, seedFromEnv } from "../../host-sim/rng.js";
import { SimNetwork, type SimNode } from "../../host-sim/simnet.js";
import { makeConfig, presets } from "../../src/config.js";
import type { Driver } from "../../src/driver.js";
import { Stack } from "../../src/stack.js";
import { ARP_REPLY, ARP_REQUEST, emitArp } from "../../src/wire/arp.js";
import { parseIp } from "../../src/wire/bytes.js";
import { emitEth, ETHERTYPE_ARP } from "../../src/wire/ethernet.js";

const A_IP = parseIp("192.0.2.1");
const B_IP = parseIp("192.0.2.2");

function pair(seed: number, pcap?: PcapWriter): { net: SimNetwork; A: Stack; B: Stack; na: SimNode; nb: SimNode } {
  const net = new SimNetwork(pcap ? { seed, pcap } : { seed });
  const na = net.addNode("a"), nb = net.addNode("b");
  const A = new Stack({ address: A_IP }, na), B = new Stack({ address: B_IP }, nb);
  na.attach(A); nb.attach(B);
  return { net, A, B, na, nb };
}

/** Ping `count` times from A to B, one per 100 ms; returns the replies seen. */
function pingRun(seed: number, count: number, faults: { loss?: number; duplicate?: number } = {}, pcap?: PcapWriter): { replies: Set<number>; A: Stack; B: Stack } {
  const { net, A, B } = pair(seed, pcap);
  net.setFaults("*", "*", { delayMs: 2, ...faults });
  const replies = new Set<number>();
  A.onEchoReply = (src, id, seq) => { if (src === B_IP && id === 7) replies.add(seq); };
  for (let i = 0; i < count; i++) net.schedule(10 + i * 100, () => { A.ping(B_IP, 7, i, 56, net.now); });
  net.run({ maxMs: count * 100 + 10000 });
  return { replies, A, B };
}

function withSeed(name: string, fn: (seed: number) => void): void {
  const seed = seedFromEnv();
  try { fn(seed); } catch (e) {
    if (e instanceof Error) e.message += `\n    [${name}: replay with SEED=${seed}]`;
    throw e;
  }
}

describe("config", () => {
  it("defaults come from the 'default' preset and addresses parse", () => {
    const c = makeConfig({ address: "192.0.2.9" });
    assert.equal(c.preset, "default");
    assert.equal(c.address, parseIp("192.0.2.9"));
    assert.equal(c.netmask, parseIp("255.255.255.0"));
    assert.equal(c.maxConnections, presets.default.maxConnections);
    assert.equal(c.windowScale, false);
    assert.equal(makeConfig({ preset: "throughput" }).windowScale, true);
  });
  it("rejects bad values with TypeError / RangeError and a clear message", () => {
    assert.throws(() => makeConfig({ address: "300.1.1.1" }), /RangeError|not an IPv4/);
    assert.throws(() => makeConfig({ address: {} as unknown as string }), TypeError);
    assert.throws(() => makeConfig({ maxConnections: 0 }), /config\.maxConnections: 0 is outside/);
    assert.throws(() => makeConfig({ maxConnections: "8" as unknown as number }), TypeError);
    assert.throws(() => makeConfig({ recvBufBytes: 1000 }), /recvBufBytes: 1000 < 2 \* mss/);
    assert.throws(() => makeConfig({ netmask: "255.0.255.0" }), /contiguous/);
    assert.throws(() => makeConfig({ preset: "huge" as "default" }), RangeError);
    assert.throws(() => makeConfig({ recvBufBytes: 100000, windowScale: false }), /needs windowScale/);
    assert.throws(() => makeConfig({ delayedAckMs: 500 }), RangeError);
  });
  it("Stack.footprint grows with connections and buffers", () => {
    const small = Stack.footprint({ preset: "minimal" });
    const def = Stack.footprint({ preset: "default" });
    const big = Stack.footprint({ preset: "throughput" });
    assert.ok(small.arenaBytes < def.arenaBytes && def.arenaBytes < big.arenaBytes);
    assert.equal(def.perConnectionBytes, 2 * 5840);
  });
  it("rejects a driver without a 6-byte MAC or with a silly MTU", () => {
    const d: Driver = { mac: new Uint8Array(5), mtu: 1500, transmit: () => true, random: () => undefined };
    assert.throws(() => new Stack({}, d), TypeError);
    assert.throws(() => new Stack({}, { ...d, mac: new Uint8Array(6), mtu: 100 }), RangeError);
  });
});

describe("ARP and ICMP echo over the simulator", () => {
  it("two stacks resolve each other by ARP and answer ICMP echo", () => {
    const { replies, A, B } = pingRun(1, 5);
    assert.equal(replies.size, 5);
    assert.equal(A.counters.arpOutRequests, 1, "one ARP request, then the cache answers");
    assert.equal(B.counters.arpOutReplies, 1);
    assert.equal(B.counters.icmpOutEchoReps, 5);
    assert.equal(A.internalErrors + B.internalErrors, 0);
  });

  it("pings still get through under 20% loss and 20% duplication (ARP retried)", () => {
    withSeed("ping-loss", (seed) => {
      const { replies, A, B } = pingRun(seed, 40, { loss: 0.2, duplicate: 0.2 });
      // Each ping needs 2 frames to survive: expect ~64% of 40; allow wide bounds, never zero.
      assert.ok(replies.size >= 10, `only ${replies.size} replies`);
      assert.ok(B.counters.icmpInEchos >= replies.size);
      assert.equal(A.internalErrors + B.internalErrors, 0);
    });
  });

  it("the same seed produces the same pcap bytes; another seed differs", () => {
    const p1 = new PcapWriter(), p2 = new PcapWriter(), p3 = new PcapWriter();
    pingRun(42, 10, { loss: 0.1, duplicate: 0.1 }, p1);
    pingRun(42, 10, { loss: 0.1, duplicate: 0.1 }, p2);
    pingRun(43, 10, { loss: 0.1, duplicate: 0.1 }, p3);
    assert.deepEqual(p1.bytes(), p2.bytes());
    assert.notDeepEqual(p1.bytes(), p3.bytes());
  });

  it("tshark reads the pcap with no malformed packets and no bad checksums", () => {
    const pcap = new PcapWriter();
    pingRun(5, 10, {}, pcap);
    const dir = mkdtempSync(join(tmpdir(), "xstcp-"));
    const file = join(dir, "ping.pcap");
    writeFileSync(file, pcap.bytes());
    const out = execFileSync("tshark", ["-r", file, "-o", "ip.check_checksum:TRUE", 
      "-T", "fields", "-e", "frame.number", "-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "ip.checksum.status", "-e", "icmp.checksum.status"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const lines = out.trim().split("\n");
    assert.equal(lines.length, pcap.count, "tshark saw every frame");
    for (const l of lines) {
      const [, malformed, , ipck, icmpck] = l.split("\t");
      assert.equal(malformed, "", `malformed: ${l}`);
      if (ipck !== "") assert.equal(ipck, "1", `bad IP checksum: ${l}`);
      if (icmpck !== undefined && icmpck !== "") assert.equal(icmpck, "1", `bad ICMP checksum: ${l}`);
    }
    const summary = execFileSync("tshark", ["-r", file, "-Y", "icmp.type == 0"], { encoding: "utf8" });
    assert.equal(summary.trim().split("\n").length, 10, "10 echo replies");
  });
});

/** A driver that records what the stack sends. */
function recorder(): Driver & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  return {
    mac: new Uint8Array([2, 0, 0, 0, 0, 2]), mtu: 1500, sent,
    transmit(f: Uint8Array, n: number): boolean { sent.push(f.slice(0, n)); return true; },
    random(into: Uint8Array): void { into.fill(7); },
  };
}

function arpFrame(op: number, senderMac: number[], spa: number, tpa: number, dstMac = [255, 255, 255, 255, 255, 255]): Uint8Array {
  const f = new Uint8Array(60);
  emitEth(f, 0, new Uint8Array(dstMac), 0, new Uint8Array(senderMac), 0, ETHERTYPE_ARP);
  emitArp(f, 14, op, new Uint8Array(senderMac), 0, spa, new Uint8Array(6), 0, tpa);
  return f;
}

describe("ARP cache rules", () => {
  const peerMac = [2, 0, 0, 0, 0, 9];
  const P_IP = parseIp("192.0.2.9");

  it("answers a request for our address and learns the sender (RFC 826)", () => {
    const d = recorder();
    const s = new Stack({ address: B_IP }, d);
    s.input(arpFrame(ARP_REQUEST, peerMac, P_IP, B_IP), 60, 0);
    assert.equal(d.sent.length, 1);
    assert.equal(d.sent[0][21], ARP_REPLY);
    assert.ok(s.arp.lookup(P_IP, 1) >= 0);
  });

  it("ignores a gratuitous ARP for an address it does not cache, and counts it", () => {
    const d = recorder();
    const s = new Stack({ address: B_IP }, d);
    s.input(arpFrame(ARP_REQUEST, peerMac, P_IP, P_IP), 60, 0);
    assert.equal(d.sent.length, 0);
    assert.equal(s.arp.lookup(P_IP, 1), -1);
    assert.equal(s.counters.arpGratuitousIgnored, 1);
  });

  it("a gratuitous ARP refreshes an existing entry (merge rule)", () => {
    const d = recorder();
    const s = new Stack({ address: B_IP }, d);
    s.input(arpFrame(ARP_REQUEST, peerMac, P_IP, B_IP), 60, 0);
    s.input(arpFrame(ARP_REQUEST, [2, 0, 0, 0, 0, 0x10], P_IP, P_IP), 60, 10);
    const e = s.arp.lookup(P_IP, 20);
    assert.equal(s.arp.macs[e * 6 + 5], 0x10);
  });

  it("counts a conflict when another host claims our address, and does not learn it", () => {
    const d = recorder();
    const s = new Stack({ address: B_IP }, d);
    s.input(arpFrame(ARP_REPLY, peerMac, B_IP, B_IP), 60, 0);
    assert.equal(s.counters.arpConflict, 1);
    assert.equal(s.arp.lookup(B_IP, 1), -1);
  });

  it("rate-limits requests, retries arpMaxTries times, then drops the waiting frames", () => {
    const d = recorder();
    const s = new Stack({ address: B_IP, arpRetryMs: 1000, arpMaxTries: 3 }, d);
    assert.ok(s.ping(P_IP, 1, 1, 8, 0));
    assert.ok(s.ping(P_IP, 1, 2, 8, 10)); // second frame waits too, no new request
    assert.equal(d.sent.length, 1, "one request");
    let now = 0;
    for (let i = 0; i < 10; i++) { now += 500; s.poll(now); }
    assert.equal(s.counters.arpOutRequests, 3);
    assert.equal(s.counters.arpPendingDropped, 2);
    assert.equal(s.arp.pendingInUse(), 0);
  });

  it("bounds the pending queue and counts what does not fit", () => {
    const d = recorder();
    const s = new Stack({ address: B_IP, arpPendingFrames: 2 }, d);
    for (let i = 0; i < 5; i++) s.ping(P_IP, 1, i, 8, 0);
    assert.equal(s.counters.arpPendingFull, 3);
    // The reply releases the two waiting frames, addressed to the learned MAC.
    s.input(arpFrame(ARP_REPLY, peerMac, P_IP, B_IP, [2, 0, 0, 0, 0, 2]), 60, 5);
    const echoes = d.sent.filter((f) => f[12] === 8 && f[13] === 0);
    assert.equal(echoes.length, 2);
    for (const f of echoes) assert.deepEqual(Array.from(f.subarray(0, 6)), peerMac);
  });

  it("entries expire after arpLifetimeMs", () => {
    const d = recorder();
    const s = new Stack({ address: B_IP, arpLifetimeMs: 5000 }, d);
    s.input(arpFrame(ARP_REQUEST, peerMac, P_IP, B_IP), 60, 0);
    assert.ok(s.arp.lookup(P_IP, 4999) >= 0);
    assert.equal(s.arp.lookup(P_IP, 5000), -1);
  });
});

describe("hostile frames are counted, never thrown", () => {
  it("random and truncated frames never escape input() or poll()", () => {
    withSeed("random-frames", (seed) => {
      const rng = new Rng(seed);
      const d = recorder();
      const s = new Stack({ address: B_IP }, d);
      const buf = new Uint8Array(1600);
      for (let i = 0; i < 20000; i++) {
        const len = rng.int(1600);
        rng.fill(buf);
        // Aim some at us: our MAC, IPv4 / ARP ethertype, our address.
        if (rng.chance(0.7)) { buf.set([2, 0, 0, 0, 0, 2], 0); buf[12] = 8; buf[13] = rng.chance(0.8) ? 0 : 6; }
        if (rng.chance(0.5)) { buf[14] = 0x45; buf.set([192, 0, 2, 2], 30); }
        s.input(buf, len, i);
        s.poll(i);
      }
      assert.equal(s.internalErrors, 0, String(s.lastInternalError));
      const c = s.counters;
      assert.equal(c.linkInFrames, 20000);
      assert.ok(c.ipInHdrErrors + c.ethTooShort + c.ethNotForUs + c.arpBad > 0);
    });
  });

  it("a length larger than the buffer, NaN or a non-Uint8Array does not throw", () => {
    const s = new Stack({ address: B_IP }, recorder());
    s.input(new Uint8Array(10), 100, 0);
    s.input(new Uint8Array(60), Number.NaN, 0);
    s.input(null as unknown as Uint8Array, 60, 0);
    assert.equal(s.internalErrors, 0);
  });
});
