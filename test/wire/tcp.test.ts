import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ACK, CWR, ECE, emitTcp, emitTcpOptions, FIN, fillTcpChecksum, PSH, RST, SYN, TcpOptions, tcpOptionsLen, TcpView, TCP_HLEN, URG,
} from "../../src/wire/tcp.js";
import { check, SEED } from "./util.js";

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

interface Opts { mss: number; wscale: number; sackOk: boolean; hasTs: boolean; tsVal: number; tsEcr: number; sack: number[]; }
const optsArb: fc.Arbitrary<Opts> = fc.record({
  mss: fc.oneof(fc.constant(-1), u16),
  wscale: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 14 })),
  sackOk: fc.boolean(),
  hasTs: fc.boolean(),
  tsVal: u32,
  tsEcr: u32,
  sack: fc.array(u32, { maxLength: 8 }).map((a) => a.slice(0, a.length & ~1)),
});
function toOptions(r: Opts): TcpOptions {
  const o = new TcpOptions();
  o.mss = r.mss; o.wscale = r.wscale; o.sackOk = r.sackOk; o.hasTs = r.hasTs; o.tsVal = r.tsVal; o.tsEcr = r.tsEcr;
  o.sackCount = r.sack.length / 2;
  o.sack.set(r.sack);
  return o;
}

/** A segment: 20-byte header + raw option bytes (padded with EOL to 4) + optional data offset override. */
function segment(opts: number[], dataOffset?: number): Uint8Array {
  const olen = (opts.length + 3) & ~3;
  const b = new Uint8Array(TCP_HLEN + olen);
  emitTcp(b, 0, 1, 2, 3, 4, ACK, 5, olen);
  b.set(opts, TCP_HLEN);
  if (dataOffset !== undefined) b[12] = dataOffset << 4;
  return b;
}
function parse(b: Uint8Array, o = new TcpOptions()): [boolean, TcpOptions] {
  const v = new TcpView();
  assert.ok(v.aim(b, 0, b.length));
  return [v.options(o), o];
}

describe(`wire/tcp (SEED=${SEED})`, () => {
  it("emitTcp + emitTcpOptions + fillTcpChecksum round-trip through TcpView", () => {
    check(fc.property(
      fc.record({ sp: u16, dp: u16, seq: u32, ack: u32, flags: fc.integer({ min: 0, max: 255 }), wnd: u16, src: u32, dst: u32, syn: fc.boolean(), at: fc.nat(8) }),
      optsArb, fc.uint8Array({ maxLength: 64 }),
      (h, r, data) => {
        const o = toOptions(r);
        const olen = tcpOptionsLen(o, h.syn);
        assert.ok(olen % 4 === 0 && olen <= 40);
        const b = new Uint8Array(h.at + TCP_HLEN + olen + data.length + 5).fill(0xee);
        assert.equal(emitTcpOptions(b, h.at + TCP_HLEN, o, h.syn), olen);
        assert.equal(emitTcp(b, h.at, h.sp, h.dp, h.seq, h.ack, h.flags, h.wnd, olen), TCP_HLEN);
        b.set(data, h.at + TCP_HLEN + olen);
        const len = TCP_HLEN + olen + data.length;
        fillTcpChecksum(b, h.at, len, h.src, h.dst);

        const v = new TcpView();
        assert.ok(v.aim(b, h.at, len));
        assert.deepEqual(
          [v.srcPort(), v.dstPort(), v.seq(), v.ack(), v.headerLen(), v.flags(), v.window(), v.urgent(), v.dataAt(), v.dataLen()],
          [h.sp, h.dp, h.seq, h.ack, 20 + olen, h.flags, h.wnd, 0, h.at + 20 + olen, data.length],
        );
        for (const f of [FIN, SYN, RST, PSH, ACK, URG, ECE, CWR]) assert.equal(v.has(f), (h.flags & f) !== 0);
        assert.ok(v.checksumOk(h.src, h.dst));
        assert.ok(!v.checksumOk(h.src, (h.dst ^ 1) >>> 0));

        const p = new TcpOptions();
        p.mss = 99; p.sackCount = 3; // stale values must be cleared
        assert.ok(v.options(p));
        if (h.syn) {
          assert.deepEqual([p.mss, p.wscale, p.sackOk, p.hasTs, p.sackCount], [r.mss, r.wscale, r.sackOk, r.hasTs, 0]);
        } else {
          const n = Math.min(r.sack.length / 2, r.hasTs ? 3 : 4);
          assert.deepEqual([p.mss, p.wscale, p.sackOk, p.hasTs, p.sackCount], [-1, -1, false, r.hasTs, n]);
          assert.deepEqual(Array.from(p.sack.subarray(0, 2 * n)), r.sack.slice(0, 2 * n));
        }
        if (r.hasTs) assert.deepEqual([p.tsVal, p.tsEcr], [r.tsVal, r.tsEcr]);
      },
    ));
  });

  it("SYN with everything uses the Linux layout in 20 bytes", () => {
    const o = new TcpOptions();
    o.mss = 1460; o.sackOk = true; o.hasTs = true; o.tsVal = 0x592b2997; o.tsEcr = 0; o.wscale = 7;
    const b = new Uint8Array(40);
    assert.equal(emitTcpOptions(b, 0, o, true), 20);
    assert.deepEqual(Array.from(b.subarray(0, 20)), [2, 4, 5, 0xb4, 4, 2, 8, 10, 0x59, 0x2b, 0x29, 0x97, 0, 0, 0, 0, 1, 3, 3, 7]);
    o.clear();
    assert.deepEqual([o.mss, o.wscale, o.sackOk, o.hasTs, o.sackCount], [-1, -1, false, false, 0]);
    assert.equal(tcpOptionsLen(o, true), 0);
    assert.equal(tcpOptionsLen(o, false), 0);
  });

  it("malformed options: length 0 or 1, running off the header, kind with no length byte", () => {
    assert.equal(parse(segment([2, 0, 0, 0]))[0], false);
    assert.equal(parse(segment([1, 1, 99, 1]))[0], false);
    assert.equal(parse(segment([1, 1, 8, 10]))[0], false); // TS would run 8 bytes past the end
    assert.equal(parse(segment([1, 1, 1, 3]))[0], false); // WS kind in the last byte, no length
    assert.equal(parse(segment([99, 5, 0, 0]))[0], false);
  });

  it("well-formed oddities: unknown kinds skipped, wrong-length known kinds ignored, EOL stops, wscale clamped", () => {
    let [ok, o] = parse(segment([99, 4, 0xff, 0xff, 2, 4, 0x05, 0xb4]));
    assert.ok(ok); assert.equal(o.mss, 1460);
    [ok, o] = parse(segment([2, 3, 5, 1, 2, 4, 0x02, 0x18]));
    assert.ok(ok); assert.equal(o.mss, 536); // MSS with length 3 skipped by its length, not applied
    [ok, o] = parse(segment([0, 2, 0, 0])); // EOL: what follows is not parsed
    assert.ok(ok); assert.equal(o.mss, -1);
    [ok, o] = parse(segment([1, 3, 3, 15]));
    assert.ok(ok); assert.equal(o.wscale, 14); // RFC 7323 §2.3
    [ok, o] = parse(segment([4, 3, 0, 1]));
    assert.ok(ok); assert.equal(o.sackOk, false);
    [ok, o] = parse(segment([5, 9, 0, 0, 0, 1, 0, 0, 0]));
    assert.ok(ok); assert.equal(o.sackCount, 0); // SACK length not 2+8n
    const two = [1, 1, 5, 18, ...Array(16).fill(1), 1, 1, 5, 18, ...Array(16).fill(2)];
    [ok, o] = parse(segment(two));
    assert.ok(ok); assert.equal(o.sackCount, 4);
    assert.equal(o.sack[7], 0x02020202);
  });

  it("aim refuses data offset < 5 or past the end, and short frames", () => {
    const v = new TcpView();
    assert.ok(!v.aim(segment([], 4), 0, 20));
    assert.ok(!v.aim(segment([1, 1, 1, 1], 6), 0, 23));
    assert.ok(!v.aim(segment([], 15), 0, 20));
    assert.ok(!v.aim(segment([]), 0, 19));
    assert.ok(v.aim(segment([1, 1, 1, 1], 6), 0, 24));
  });

  it("non-SYN SACK blocks are capped to fit in 40 bytes", () => {
    const o = new TcpOptions();
    o.sackCount = 4; o.sack.set([1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(tcpOptionsLen(o, false), 36);
    o.hasTs = true;
    assert.equal(tcpOptionsLen(o, false), 40);
    const b = new Uint8Array(60);
    const n = emitTcpOptions(b, 20, o, false);
    assert.equal(n, 40);
    emitTcp(b, 0, 1, 2, 0, 0, ACK, 0, n);
    const [ok, p] = parse(b);
    assert.ok(ok); assert.equal(p.sackCount, 3); assert.ok(p.hasTs);
  });
});
