import assert from "node:assert/strict";
import fc from "fast-check";
import { get16, get32, ipToString, macToString, parseIp, put16, put32 } from "../../src/wire/bytes.js";
import { check, SEED } from "./util.js";

describe(`wire/bytes (SEED=${SEED})`, () => {
  it("put16/get16 and put32/get32 round-trip, never negative", () => {
    check(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.nat(8), (v16, v32, at) => {
      const b = new Uint8Array(16);
      put16(b, at, v16);
      assert.equal(get16(b, at), v16);
      put32(b, at, v32);
      assert.equal(get32(b, at), v32);
      assert.ok(get32(b, at) >= 0);
    }));
  });
  it("is big-endian", () => {
    const b = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
    assert.equal(get16(b, 0), 0xdead);
    assert.equal(get32(b, 0), 0xdeadbeef);
    put32(b, 0, -1);
    assert.equal(get32(b, 0), 0xffffffff);
  });
  it("ipToString/parseIp round-trip", () => {
    check(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (ip) => {
      assert.equal(parseIp(ipToString(ip)), ip);
    }));
    assert.equal(ipToString(0xc0a80001), "192.168.0.1");
    assert.equal(parseIp("255.255.255.255"), 0xffffffff);
    assert.equal(parseIp("10.0.0.1"), 0x0a000001);
  });
  it("parseIp rejects what is not a dotted quad", () => {
    for (const s of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.", ".1.2.3", "1.2.3.0004", "-1.2.3.4"]) {
      assert.equal(parseIp(s), -1, s);
    }
  });
  it("macToString", () => {
    assert.equal(macToString(Uint8Array.of(9, 2, 0, 0, 0, 0, 0xab, 1), 2), "00:00:00:00:ab:01");
    assert.equal(macToString(Uint8Array.of(2, 0, 0, 0, 0, 1), 0), "02:00:00:00:00:01");
  });
});
