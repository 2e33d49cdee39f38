/** DHCP message parsing and emitting (RFC 2131 §2, RFC 2132): exact bytes, overload, hostile input. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  COOKIE, DHCP_BAD_OPTION, DHCP_FIXED_LEN, DHCP_MALFORMED, DHCP_OK, DhcpOptions, emitDhcpHeader, FILE, MAGIC_COOKIE,
  OPT_DNS, OPT_END, OPT_LEASE_TIME, OPT_MSG_TYPE, OPT_OVERLOAD, OPT_PAD, OPT_ROUTER, OPT_SERVER_ID, OPT_SUBNET_MASK,
  OPT_T1, parseDhcp, putOption32, putOption8, SNAME,
} from "../../src/dhcp/wire.js";
import { get32 } from "../../src/wire/bytes.js";
import { check, confined } from "../wire/util.js";

function message(opts: number[], extra: (m: Uint8Array) => void = () => {}): Uint8Array {
  const m = new Uint8Array(DHCP_FIXED_LEN + opts.length);
  emitDhcpHeader(m, 0, 0x11223344, 0, 0, new Uint8Array([2, 0, 0, 0, 0, 1]));
  m[0] = 2;
  m.set(opts, DHCP_FIXED_LEN);
  extra(m);
  return m;
}

function parsed(m: Uint8Array): [number, DhcpOptions] {
  const o = new DhcpOptions();
  return [parseDhcp(m, 0, m.length, o), o];
}

describe("dhcp wire", () => {
  it("emitDhcpHeader writes the BOOTP fixed part and the magic cookie; option writers", () => {
    const b = new Uint8Array(300).fill(0xee);
    const p = emitDhcpHeader(b, 10, 0xdeadbeef, 7, 0xc0000202, new Uint8Array([1, 2, 3, 4, 5, 6]));
    assert.equal(p, 10 + 240);
    assert.deepEqual([...b.subarray(10, 14)], [1, 1, 6, 0]);
    assert.equal(get32(b, 14), 0xdeadbeef);
    assert.deepEqual([...b.subarray(18, 22)], [0, 7, 0, 0]);
    assert.equal(get32(b, 22), 0xc0000202);
    assert.deepEqual([...b.subarray(38, 44)], [1, 2, 3, 4, 5, 6]);
    assert.ok(b.subarray(44, 10 + 236).every((x) => x === 0), "rest of chaddr, sname, file zero");
    assert.equal(get32(b, 10 + COOKIE), MAGIC_COOKIE);
    assert.equal(b[9], 0xee, "nothing before at");
    const q = putOption32(b, putOption8(b, p, OPT_MSG_TYPE, 1), OPT_SERVER_ID, 0x01020304);
    assert.deepEqual([...b.subarray(p, q)], [53, 1, 1, 54, 4, 1, 2, 3, 4]);
  });

  it("parses the options we use, skips others and pads, stops at End", () => {
    const [r, o] = parsed(message([
      OPT_PAD, OPT_MSG_TYPE, 1, 5, 99, 3, 1, 2, 3, OPT_SERVER_ID, 4, 192, 0, 2, 1, OPT_SUBNET_MASK, 4, 255, 255, 255, 0,
      OPT_ROUTER, 8, 192, 0, 2, 254, 192, 0, 2, 253, OPT_DNS, 4, 8, 8, 8, 8, OPT_DNS, 8, 1, 1, 1, 1, 9, 9, 9, 9,
      OPT_LEASE_TIME, 4, 0, 0, 0x0e, 0x10, OPT_T1, 4, 0, 0, 7, 8, OPT_END, OPT_MSG_TYPE, 1, 2,
    ]));
    assert.equal(r, DHCP_OK);
    assert.deepEqual([o.msgType, o.serverId, o.subnetMask, o.router, o.leaseTime, o.t1, o.t2],
      [5, 0xc0000201, 0xffffff00, 0xc00002fe, 3600, 0x0708, -1]);
    assert.deepEqual([...o.dns.subarray(0, o.dnsCount)], [0x08080808, 0x01010101, 0x09090909], "repeated option 6 concatenates (RFC 3396)");
  });

  it("option overload: options continue in file, then sname (RFC 2131 §4.1, RFC 2132 §9.3)", () => {
    const m = message([OPT_OVERLOAD, 1, 3, OPT_MSG_TYPE, 1, 2, OPT_END], (x) => {
      x.set([OPT_SERVER_ID, 4, 10, 0, 0, 1, OPT_END], FILE);
      x.set([OPT_LEASE_TIME, 4, 0, 0, 0, 60, OPT_OVERLOAD, 1, 1], SNAME);
    });
    const [r, o] = parsed(m);
    assert.equal(r, DHCP_OK);
    assert.deepEqual([o.msgType, o.serverId, o.leaseTime, o.overload], [2, 0x0a000001, 60, 3], "overload inside sname ignored");
  });

  it("refuses: short, bad cookie, an option past the end (main, file or sname), wrong lengths", () => {
    assert.equal(parsed(message([OPT_MSG_TYPE, 1, 1]).slice(0, 239))[0], DHCP_MALFORMED);
    assert.equal(parsed(message([OPT_MSG_TYPE, 1, 1], (m) => { m[COOKIE + 3] ^= 1; }))[0], DHCP_MALFORMED);
    assert.equal(parsed(message([OPT_MSG_TYPE, 1, 1, OPT_DNS, 8, 1, 2, 3, 4]))[0], DHCP_MALFORMED);
    assert.equal(parsed(message([OPT_MSG_TYPE]))[0], DHCP_MALFORMED, "code with no length byte");
    assert.equal(parsed(message([OPT_OVERLOAD, 1, 1], (m) => { m[FILE + 126] = 60; m[FILE + 127] = 5; }))[0], DHCP_MALFORMED);
    assert.equal(parsed(message([OPT_OVERLOAD, 1, 2], (m) => { m.fill(OPT_PAD, SNAME, SNAME + 63); m[SNAME + 63] = 3; }))[0], DHCP_MALFORMED);
    for (const bad of [[OPT_MSG_TYPE, 2, 1, 1], [OPT_SERVER_ID, 3, 1, 2, 3], [OPT_SUBNET_MASK, 5, 1, 2, 3, 4, 5],
      [OPT_ROUTER, 6, 1, 2, 3, 4, 5, 6], [OPT_ROUTER, 0], [OPT_DNS, 2, 1, 2], [OPT_LEASE_TIME, 2, 0, 1], [OPT_OVERLOAD, 1, 4]]) {
      assert.equal(parsed(message(bad))[0], DHCP_BAD_OPTION, `${bad}`);
    }
    // No End: accepted (the field just runs out).
    assert.equal(parsed(message([OPT_MSG_TYPE, 1, 1]))[0], DHCP_OK);
  });

  it("random bytes after the cookie: never throws, reads stay inside the message", () => {
    check(fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (tail, overload) => {
      const m = message(overload ? [OPT_OVERLOAD, 1, 3, ...tail] : [...tail], (x) => {
        for (let i = 0; i < tail.length && i < 192; i++) x[SNAME + i] = tail[i];
      });
      confined(m, (b, at, len) => {
        const o = new DhcpOptions();
        const r = parseDhcp(b, at, len, o);
        return [r, o.msgType, o.serverId, o.leaseTime, o.dnsCount];
      });
    }));
  });
});
