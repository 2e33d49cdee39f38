import assert from "node:assert/strict";
import fc from "fast-check";
import { put16 } from "../../src/wire/bytes.js";
import { finish, sum } from "../../src/wire/checksum.js";
import {
  emitIpv4, Ipv4View, IPV4_HLEN, IP_BAD_CHECKSUM, IP_BAD_HLEN, IP_BAD_TOTLEN, IP_BAD_VERSION, IP_OK, IP_TOO_SHORT, PROTO_TCP,
} from "../../src/wire/ipv4.js";
import { check, SEED } from "./util.js";

const u32 = fc.integer({ min: 0, max: 0xffffffff });

function header(): Uint8Array {
  const b = new Uint8Array(40);
  emitIpv4(b, 0, 0x0a000001, 0x0a000002, PROTO_TCP, 20, 7, 64);
  return b;
}
function refill(b: Uint8Array, hlen: number): void {
  put16(b, 10, 0);
  put16(b, 10, finish(sum(b, 0, hlen, 0)));
}

describe(`wire/ipv4 (SEED=${SEED})`, () => {
  it("emitIpv4 round-trips through Ipv4View, ignoring trailing padding", () => {
    check(fc.property(u32, u32, fc.integer({ min: 0, max: 255 }), fc.nat(200), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.nat(8), fc.nat(30), (src, dst, proto, plen, id, ttl, at, pad) => {
      const b = new Uint8Array(at + IPV4_HLEN + plen + pad);
      assert.equal(emitIpv4(b, at, src, dst, proto, plen, id, ttl), IPV4_HLEN);
      const v = new Ipv4View();
      assert.equal(v.check(b, at, IPV4_HLEN + plen + pad), IP_OK);
      assert.deepEqual(
        [v.headerLen(), v.totalLen(), v.id(), v.ttl(), v.proto(), v.src(), v.dst(), v.isFragment(), v.dontFragment(), v.payloadAt(), v.payloadLen()],
        [20, 20 + plen, id, ttl, proto, src, dst, false, true, at + 20, plen],
      );
    }));
  });
  it("every error code", () => {
    const v = new Ipv4View();
    assert.equal(v.check(header(), 0, 40), IP_OK);
    assert.equal(v.check(header(), 0, 19), IP_TOO_SHORT);
    let b = header(); b[0] = 0x65; assert.equal(v.check(b, 0, 40), IP_BAD_VERSION);
    b = header(); b[0] = 0x44; refill(b, 16); assert.equal(v.check(b, 0, 40), IP_BAD_HLEN);
    b = header(); b[0] = 0x4f; assert.equal(v.check(b, 0, 40), IP_BAD_HLEN); // 60 > 40
    b = header(); put16(b, 2, 41); refill(b, 20); assert.equal(v.check(b, 0, 40), IP_BAD_TOTLEN);
    b = header(); put16(b, 2, 19); refill(b, 20); assert.equal(v.check(b, 0, 40), IP_BAD_TOTLEN);
    b = header(); b[0] = 0x46; refill(b, 24); put16(b, 2, 22); refill(b, 24); assert.equal(v.check(b, 0, 40), IP_BAD_TOTLEN);
    b = header(); assert.equal(v.check(b, 0, 39), IP_BAD_TOTLEN); // truncated frame
  });
  it("any single-bit flip in the addresses fails the checksum", () => {
    check(fc.property(fc.integer({ min: 12 * 8, max: 20 * 8 - 1 }), (bit) => {
      const b = header();
      b[bit >> 3] ^= 1 << (bit & 7);
      assert.equal(new Ipv4View().check(b, 0, 40), IP_BAD_CHECKSUM);
    }));
  });
  it("options are skipped; fragments are seen", () => {
    const b = new Uint8Array(48);
    b[0] = 0x46; put16(b, 2, 48); put16(b, 6, 0x2000 | 3); b[8] = 9; b[9] = 17;
    b[20] = 1; b[21] = 1; b[22] = 1; b[23] = 0; // NOP NOP NOP EOL
    refill(b, 24);
    const v = new Ipv4View();
    assert.equal(v.check(b, 0, 48), IP_OK);
    assert.deepEqual([v.headerLen(), v.payloadAt(), v.payloadLen(), v.isFragment(), v.dontFragment()], [24, 24, 24, true, false]);
    put16(b, 6, 0x0001); refill(b, 24);
    assert.equal(v.check(b, 0, 48), IP_OK);
    assert.ok(v.isFragment());
    put16(b, 6, 0x4000); refill(b, 24);
    assert.equal(v.check(b, 0, 48), IP_OK);
    assert.ok(!v.isFragment() && v.dontFragment());
  });
});
