/**
 * Lying lengths and random bytes: aim/check never throw, and once they return OK
 * every getter (options() and checksumOk() included) reads only inside [at, at+len).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { put16 } from "../../src/wire/bytes.js";
import { finish, sum } from "../../src/wire/checksum.js";
import { ArpView } from "../../src/wire/arp.js";
import { EthView } from "../../src/wire/ethernet.js";
import { IcmpView } from "../../src/wire/icmp.js";
import { Ipv4View, IP_OK } from "../../src/wire/ipv4.js";
import { TcpOptions, TcpView } from "../../src/wire/tcp.js";
import { UdpView } from "../../src/wire/udp.js";
import { check, confined, placedBytes, SEED } from "./util.js";

const eth = new EthView(), arp = new ArpView(), ip = new Ipv4View(), icmp = new IcmpView();
const tcp = new TcpView(), udp = new UdpView(), opts = new TcpOptions();
const SRC = 0xc0a80001, DST = 0xc0a80002;

type Probe = (b: Uint8Array, at: number, len: number) => unknown;
// Positions are reported relative to at, so the three placements compare equal.
const probes: Record<string, Probe> = {
  eth: (b, at, len) => eth.aim(b, at, len) &&
    [eth.type(), eth.isBroadcast(), eth.isMulticast(), eth.dstIs(b, at), eth.dstAt() - at, eth.srcAt() - at, eth.payloadAt() - at, eth.payloadLen()],
  arp: (b, at, len) => arp.aim(b, at, len) && [arp.op(), arp.shaAt() - at, arp.spa(), arp.thaAt() - at, arp.tpa()],
  ipv4: (b, at, len) => {
    const r = ip.check(b, at, len);
    return r !== IP_OK ? r : [ip.headerLen(), ip.totalLen(), ip.id(), ip.ttl(), ip.proto(), ip.src(), ip.dst(),
      ip.isFragment(), ip.dontFragment(), ip.payloadAt() - at, ip.payloadLen()];
  },
  icmp: (b, at, len) => icmp.aim(b, at, len) &&
    [icmp.type(), icmp.code(), icmp.id(), icmp.seq(), icmp.checksumOk(), icmp.dataAt() - at, icmp.dataLen()],
  tcp: (b, at, len) => {
    if (!tcp.aim(b, at, len)) return false;
    const ok = tcp.options(opts);
    return [tcp.srcPort(), tcp.dstPort(), tcp.seq(), tcp.ack(), tcp.headerLen(), tcp.flags(), tcp.has(0x12), tcp.window(),
      tcp.checksum(), tcp.urgent(), tcp.dataAt() - at, tcp.dataLen(), tcp.checksumOk(SRC, DST), ok,
      opts.mss, opts.wscale, opts.sackOk, opts.hasTs, opts.tsVal, opts.tsEcr, opts.sackCount, Array.from(opts.sack.subarray(0, 2 * opts.sackCount))];
  },
  udp: (b, at, len) => udp.aim(b, at, len) &&
    [udp.srcPort(), udp.dstPort(), udp.length(), udp.checksum(), udp.checksumOk(SRC, DST), udp.dataAt() - at, udp.dataLen()],
};

/** Option-shaped byte runs, many of them lying. */
const optionBytes: fc.Arbitrary<number[]> = fc.array(fc.oneof(
  fc.constant([0]), fc.constant([1]),
  fc.tuple(fc.constantFrom(2, 3, 4, 5, 8, 30, 254), fc.integer({ min: 0, max: 12 }), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 10 }))
    .map(([k, l, rest]) => [k, l, ...rest]),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 2, maxLength: 10 }))
    .map(([pre, blocks]) => [...Array(pre).fill(1), 5, 2 + 4 * blocks.length, ...blocks.flatMap((x) => [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255])]),
), { maxLength: 8 }).map((a) => a.flat().slice(0, 40));

describe(`wire robustness: random bytes and lying lengths (SEED=${SEED})`, () => {
  for (const [name, probe] of Object.entries(probes)) {
    it(`${name}: any bytes, any (at, len): no throw, reads stay inside`, () => {
      check(fc.property(placedBytes(90), ({ big, at, len }) => {
        confined(big.subarray(at, at + len), probe);
      }));
    });
  }

  it("ipv4 with a valid version and header checksum but lying IHL / total length", () => {
    check(fc.property(fc.uint8Array({ minLength: 20, maxLength: 80 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 200 }), fc.nat(80),
      (b, ihl, tot, cut) => {
        b[0] = 0x40 | ihl;
        put16(b, 2, tot);
        const h = ihl * 4;
        if (h >= 20 && h <= b.length) { put16(b, 10, 0); put16(b, 10, finish(sum(b, 0, h, 0))); }
        const frame = b.subarray(0, Math.max(0, b.length - (cut % 30)));
        const r = confined(frame, probes.ipv4);
        const ok = h >= 20 && h <= frame.length && tot >= h && tot <= frame.length;
        assert.equal(Array.isArray(r), ok);
      }));
  });

  it("tcp with random option runs and lying data offsets", () => {
    check(fc.property(optionBytes, fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 20 }), fc.boolean(), (o, off, data, honest) => {
      const olen = (o.length + 3) & ~3;
      const b = new Uint8Array(20 + olen + data.length);
      b.set(o, 20);
      b.set(data, 20 + olen);
      b[12] = (honest ? (20 + olen) >> 2 : off) << 4;
      const r = confined(b, probes.tcp);
      const h = (b[12] >> 4) * 4;
      assert.equal(Array.isArray(r), h >= 20 && h <= b.length);
    }));
  });

  it("udp with lying length fields", () => {
    check(fc.property(fc.uint8Array({ minLength: 8, maxLength: 40 }), fc.integer({ min: 0, max: 60 }), (b, l) => {
      put16(b, 4, l);
      const r = confined(b, probes.udp);
      assert.equal(Array.isArray(r), l >= 8 && l <= b.length);
    }));
  });
});
