import assert from "node:assert/strict";
import fc from "fast-check";
import { put16 } from "../../src/wire/bytes.js";
import { emitUdp, fillUdpChecksum, UdpView, UDP_HLEN } from "../../src/wire/udp.js";
import { check, SEED } from "./util.js";

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe(`wire/udp (SEED=${SEED})`, () => {
  it("emitUdp + fillUdpChecksum round-trip through UdpView", () => {
    check(fc.property(u16, u16, u32, u32, fc.uint8Array({ maxLength: 100 }), fc.nat(8), fc.nat(10), (sp, dp, src, dst, data, at, pad) => {
      const b = new Uint8Array(at + UDP_HLEN + data.length + pad);
      b.set(data, at + UDP_HLEN);
      assert.equal(emitUdp(b, at, sp, dp, data.length), UDP_HLEN);
      const v = new UdpView();
      assert.ok(v.aim(b, at, UDP_HLEN + data.length + pad));
      assert.equal(v.checksum(), 0);
      assert.ok(v.checksumOk(src, dst), "0 = not computed");
      fillUdpChecksum(b, at, UDP_HLEN + data.length, src, dst);
      assert.ok(v.aim(b, at, UDP_HLEN + data.length + pad));
      assert.notEqual(v.checksum(), 0);
      assert.deepEqual(
        [v.srcPort(), v.dstPort(), v.length(), v.checksumOk(src, dst), v.checksumOk((src ^ 1) >>> 0, dst), v.dataAt(), v.dataLen()],
        [sp, dp, 8 + data.length, true, false, at + 8, data.length],
      );
    }));
  });
  it("refuses short frames and lying lengths", () => {
    const b = new Uint8Array(20);
    emitUdp(b, 0, 1, 2, 12);
    const v = new UdpView();
    assert.ok(v.aim(b, 0, 20));
    assert.ok(!v.aim(b, 0, 19), "length > frame");
    assert.ok(!v.aim(b, 0, 7));
    put16(b, 4, 7);
    assert.ok(!v.aim(b, 0, 20), "length < 8");
  });
});
