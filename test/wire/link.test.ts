import assert from "node:assert/strict";
import fc from "fast-check";
import { ArpView, ARP_LEN, ARP_REPLY, ARP_REQUEST, emitArp } from "../../src/wire/arp.js";
import { emitEth, EthView, ETHERTYPE_ARP, ETH_HLEN } from "../../src/wire/ethernet.js";
import { check, SEED } from "./util.js";

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const BCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

describe(`wire/ethernet + arp (SEED=${SEED})`, () => {
  it("emitEth round-trips through EthView", () => {
    check(fc.property(mac, mac, fc.integer({ min: 0, max: 0xffff }), fc.nat(16), fc.nat(64), (dst, src, type, at, plen) => {
      const b = new Uint8Array(at + ETH_HLEN + plen + 4);
      assert.equal(emitEth(b, at, dst, 0, src, 0, type), ETH_HLEN);
      const v = new EthView();
      assert.ok(v.aim(b, at, ETH_HLEN + plen));
      assert.equal(v.type(), type);
      assert.deepEqual(b.subarray(v.dstAt(), v.dstAt() + 6), dst);
      assert.deepEqual(b.subarray(v.srcAt(), v.srcAt() + 6), src);
      assert.equal(v.dstAt(), at);
      assert.equal(v.srcAt(), at + 6);
      assert.equal(v.payloadAt(), at + 14);
      assert.equal(v.payloadLen(), plen);
      assert.ok(v.dstIs(dst, 0));
      assert.equal(v.isMulticast(), (dst[0] & 1) === 1);
      assert.equal(v.isBroadcast(), dst.every((x) => x === 0xff));
      const other = Uint8Array.from(dst);
      other[5] ^= 1;
      assert.ok(!v.dstIs(other, 0));
    }));
  });
  it("broadcast is multicast; short frames are refused", () => {
    const b = new Uint8Array(60);
    emitEth(b, 0, BCAST, 0, Uint8Array.of(2, 0, 0, 0, 0, 1), 0, ETHERTYPE_ARP);
    const v = new EthView();
    assert.ok(v.aim(b, 0, 60));
    assert.ok(v.isBroadcast() && v.isMulticast());
    assert.ok(!v.aim(b, 0, 13));
  });
  it("emitArp round-trips through ArpView", () => {
    check(fc.property(fc.constantFrom(ARP_REQUEST, ARP_REPLY), mac, u32, mac, u32, fc.nat(8), (op, sha, spa, tha, tpa, at) => {
      const b = new Uint8Array(at + ARP_LEN + 18);
      assert.equal(emitArp(b, at, op, sha, 0, spa, tha, 0, tpa), ARP_LEN);
      const v = new ArpView();
      assert.ok(v.aim(b, at, ARP_LEN + 18)); // Ethernet padding after the packet is fine
      assert.equal(v.op(), op);
      assert.equal(v.spa(), spa);
      assert.equal(v.tpa(), tpa);
      assert.deepEqual(b.subarray(v.shaAt(), v.shaAt() + 6), sha);
      assert.deepEqual(b.subarray(v.thaAt(), v.thaAt() + 6), tha);
      assert.ok(!v.aim(b, at, ARP_LEN - 1));
    }));
  });
  it("ArpView refuses other hardware/protocol types and sizes", () => {
    const b = new Uint8Array(ARP_LEN);
    emitArp(b, 0, ARP_REQUEST, BCAST, 0, 1, BCAST, 0, 2);
    const v = new ArpView();
    assert.ok(v.aim(b, 0, ARP_LEN));
    for (const [i, x] of [[1, 6], [2, 0x86], [4, 8], [5, 16]] as const) {
      const c = Uint8Array.from(b);
      c[i] = x;
      assert.ok(!v.aim(c, 0, ARP_LEN), `byte ${i}`);
    }
  });
});
