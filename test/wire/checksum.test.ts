import assert from "node:assert/strict";
import fc from "fast-check";
import { get16, put16 } from "../../src/wire/bytes.js";
import { finish, pseudo, sum } from "../../src/wire/checksum.js";
import { Ipv4View, IP_OK } from "../../src/wire/ipv4.js";
import { TcpOptions, TcpView } from "../../src/wire/tcp.js";
import { fillUdpChecksum, UdpView } from "../../src/wire/udp.js";
import { check, SEED } from "./util.js";

/** Naive RFC 1071 reference: 32-bit sum of words then fold. */
function reference(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) + (i + 1 < b.length ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((x) => parseInt(x, 16)));

describe(`wire/checksum (SEED=${SEED})`, () => {
  it("RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2", () => {
    const b = hex("0001 f203 f4f5 f6f7");
    assert.equal(finish(sum(b, 0, 8, 0)), ~0xddf2 & 0xffff);
    // Byte-order independence (RFC 1071 §2(B)) is not needed; an odd length pads with zero:
    assert.equal(finish(sum(hex("0001 f203 f4f5 f6"), 0, 7, 0)), ~(0xddf2 - 0xf7) & 0xffff);
  });

  it("IPv4 header example (checksum b861) verifies and recomputes", () => {
    const b = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
    assert.equal(finish(sum(b, 0, 20, 0)), 0);
    put16(b, 10, 0);
    assert.equal(finish(sum(b, 0, 20, 0)), 0xb861);
  });

  it("a real Linux SYN (192.168.1.137 -> 8.8.8.8:80): IP 9fd5, TCP 3f5f", () => {
    // IPv4: DF, TTL 64, id c8a5; TCP: MSS 1460, SACK-perm, TS, NOP, WS 7; window 29200.
    const b = hex(
      "4500 003c c8a5 4000 4006 9fd5 c0a8 0189 0808 0808" +
      "9b8a 0050 de67 c74a 0000 0000 a002 7210 3f5f 0000" +
      "0204 05b4 0402 080a 592b 2997 0000 0000 0103 0307",
    );
    const ip = new Ipv4View();
    assert.equal(ip.check(b, 0, b.length), IP_OK);
    const tcp = new TcpView();
    assert.ok(tcp.aim(b, ip.payloadAt(), ip.payloadLen()));
    assert.ok(tcp.checksumOk(ip.src(), ip.dst()));
    assert.equal(tcp.checksum(), 0x3f5f);
    const o = new TcpOptions();
    assert.ok(tcp.options(o));
    assert.deepEqual([o.mss, o.sackOk, o.hasTs, o.tsVal, o.tsEcr, o.wscale], [1460, true, true, 0x592b2997, 0, 7]);
    // Recompute both checksums from scratch.
    put16(b, 10, 0);
    assert.equal(finish(sum(b, 0, 20, 0)), 0x9fd5);
    put16(b, 36, 0);
    assert.equal(finish(sum(b, 20, 40, pseudo(0xc0a80189, 0x08080808, 6, 40))), 0x3f5f);
  });

  it("matches a naive reference, and chunked sums at even splits equal one sum", () => {
    check(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.integer({ min: 0, max: 0x7fffffff }), (b, k, acc) => {
      assert.equal(finish(sum(b, 0, b.length, 0)), reference(b));
      const split = (k % (b.length + 1)) & ~1;
      assert.equal(finish(sum(b, split, b.length - split, sum(b, 0, split, 0))), reference(b));
      const s = sum(b, 0, b.length, acc);
      assert.ok(Number.isInteger(s) && s >= 0 && s <= 0x1ffff);
    }));
  });

  it("pseudo-header equals summing its 12 bytes", () => {
    check(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), (src, dst, proto, len) => {
      const p = new Uint8Array(12);
      new DataView(p.buffer).setUint32(0, src);
      new DataView(p.buffer).setUint32(4, dst);
      p[9] = proto;
      put16(p, 10, len);
      assert.equal(finish(pseudo(src, dst, proto, len)), reference(p));
    }));
  });

  it("0xffff and 0x0000 are both zero: a segment whose checksum computes to 0 verifies either way", () => {
    const src = 0x0a000001, dst = 0x0a000002;
    // A 24-byte TCP segment (data offset 5) with 4 data bytes; make its computed checksum 0.
    const b = new Uint8Array(24);
    b.set([0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x10, 0x00]);
    const c = finish(sum(b, 0, 24, pseudo(src, dst, 6, 24)));
    put16(b, 20, c); // adding c to the sum makes it 0xffff, so the checksum to send is 0
    assert.equal(finish(sum(b, 0, 24, pseudo(src, dst, 6, 24))), 0);
    const v = new TcpView();
    assert.ok(v.aim(b, 0, 24));
    put16(b, 16, 0x0000);
    assert.ok(v.checksumOk(src, dst), "stored 0x0000");
    put16(b, 16, 0xffff);
    assert.ok(v.checksumOk(src, dst), "stored 0xffff");
    put16(b, 16, 0x0001);
    assert.ok(!v.checksumOk(src, dst));

    // UDP: a computed 0 is sent as 0xffff (RFC 768) and verifies.
    const u = new Uint8Array(12);
    u.set([0x04, 0xd2, 0x00, 0x35, 0x00, 0x0c, 0, 0]);
    const cu = finish(sum(u, 0, 12, pseudo(src, dst, 17, 12)));
    put16(u, 8, cu);
    fillUdpChecksum(u, 0, 12, src, dst);
    assert.equal(get16(u, 6), 0xffff);
    const uv = new UdpView();
    assert.ok(uv.aim(u, 0, 12));
    assert.ok(uv.checksumOk(src, dst));
  });
});
