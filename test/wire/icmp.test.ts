import assert from "node:assert/strict";
import fc from "fast-check";
import { emitIcmpEcho, emitIcmpError, IcmpView, ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HLEN } from "../../src/wire/icmp.js";
import { get32 } from "../../src/wire/bytes.js";
import { check, SEED } from "./util.js";

const u16 = fc.integer({ min: 0, max: 0xffff });

describe(`wire/icmp (SEED=${SEED})`, () => {
  it("emitIcmpEcho round-trips (data already in place, odd lengths too)", () => {
    check(fc.property(fc.constantFrom(ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY), u16, u16, fc.uint8Array({ maxLength: 100 }), fc.nat(8), (type, id, seq, data, at) => {
      const b = new Uint8Array(at + ICMP_HLEN + data.length + 3).fill(0x5a);
      b.set(data, at + ICMP_HLEN);
      const n = emitIcmpEcho(b, at, type, id, seq, data.length);
      assert.equal(n, ICMP_HLEN + data.length);
      const v = new IcmpView();
      assert.ok(v.aim(b, at, n));
      assert.deepEqual([v.type(), v.code(), v.id(), v.seq(), v.checksumOk(), v.dataAt(), v.dataLen()], [type, 0, id, seq, true, at + 8, data.length]);
      assert.deepEqual(b.subarray(v.dataAt(), v.dataAt() + v.dataLen()), data);
      if (data.length > 0) {
        b[at + 8] ^= 0x10;
        assert.ok(!v.checksumOk());
      }
    }));
  });
  it("echo request turned into a reply in place", () => {
    const b = new Uint8Array(8 + 56);
    for (let i = 0; i < 56; i++) b[8 + i] = i;
    emitIcmpEcho(b, 0, ICMP_ECHO_REQUEST, 0x1234, 1, 56);
    const v = new IcmpView();
    assert.ok(v.aim(b, 0, 64) && v.checksumOk() && v.type() === ICMP_ECHO_REQUEST);
    emitIcmpEcho(b, 0, ICMP_ECHO_REPLY, v.id(), v.seq(), v.dataLen());
    assert.ok(v.aim(b, 0, 64) && v.checksumOk() && v.type() === ICMP_ECHO_REPLY && v.id() === 0x1234);
    assert.ok(!v.aim(b, 0, 7));
  });
  it("emitIcmpError round-trips", () => {
    check(fc.property(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ minLength: 28, maxLength: 68 }), (code, rest, orig) => {
      const b = new Uint8Array(8 + orig.length);
      b.set(orig, 8);
      assert.equal(emitIcmpError(b, 0, ICMP_DEST_UNREACH, code, rest, orig.length), 8 + orig.length);
      const v = new IcmpView();
      assert.ok(v.aim(b, 0, b.length));
      assert.deepEqual([v.type(), v.code(), get32(b, 4), v.checksumOk(), v.dataLen()], [ICMP_DEST_UNREACH, code, rest, true, orig.length]);
      assert.deepEqual(b.subarray(8), orig);
    }));
  });
});
