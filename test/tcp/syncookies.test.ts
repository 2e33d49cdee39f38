/**
 * SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, SYNs are answered statelessly;
 * a correct final ACK makes the connection, a forged or stale one does not.
 */
import assert from "node:assert/strict";
import { ACK, add, listening, PEER_IP, PEER_ISS, RST, SERVER_PORT, SYN } from "../helpers/peer.js";

describe("SYN cookies (RFC 4987 §3.6)", () => {
  it("SYN queue full -> SYN-ACK with a cookie and only the MSS option; no state kept", () => {
    const p = listening({ config: { synQueue: 1 } });
    p.peerSends({ flags: SYN, seq: PEER_ISS, srcPort: 41000, mss: 1460 });
    const first = p.next();
    assert.ok(first !== null && first.flags === (SYN | ACK));
    p.peerSends({ flags: SYN, seq: PEER_ISS, srcPort: 41001, mss: 1460, sackOk: true, ts: [1, 0] });
    const s = p.next();
    assert.ok(s !== null);
    assert.equal(s.flags, SYN | ACK);
    assert.equal(s.ack, add(PEER_ISS, 1));
    assert.equal(s.mss, 1460);
    assert.equal(s.sackOk, false, "a cookie cannot carry SACK-permitted");
    assert.equal(s.ts, null, "nor timestamps");
    assert.equal(p.counters.tcpSynCookiesSent, 1);
    assert.equal(p.stack.tcp.find(SERVER_PORT, PEER_IP, 41001), null, "no block for the cookie");
    assert.equal(p.stack.tcp.inUse().connections, 1);
  });

  it("the ACK of a valid cookie creates an ESTABLISHED connection the listener can accept; its data is taken", () => {
    const p = listening({ config: { synQueue: 1 } });
    p.peerSends({ flags: SYN, seq: PEER_ISS, srcPort: 41000, mss: 1460 });
    p.next();
    p.peerSends({ flags: SYN, seq: 1000, srcPort: 41001, mss: 1200 });
    const s = p.next();
    assert.ok(s !== null);
    p.advance(10);
    p.peerSends({ flags: ACK, seq: 1001, ack: add(s.seq, 1), srcPort: 41001, data: new TextEncoder().encode("hi") });
    const t = p.stack.tcp.find(SERVER_PORT, PEER_IP, 41001);
    assert.ok(t !== null, "connection made from the cookie");
    assert.equal(t.state, 4 /* ESTABLISHED */);
    assert.equal(t.mss, 1200, "MSS from the cookie");
    assert.equal(t.rcvNxt, 1003, "the data in the ACK was taken");
    assert.equal(t.rcvLen, 2);
    assert.equal(p.counters.tcpSynCookiesOk, 1);
    assert.equal(p.stack.tcp.acceptable(p.listener), 1);
  });

  it("a forged cookie (wrong ACK number) is refused with a RST and counted", () => {
    const p = listening({ config: { synQueue: 1 } });
    p.peerSends({ flags: SYN, seq: PEER_ISS, srcPort: 41000, mss: 1460 });
    p.next();
    p.peerSends({ flags: ACK, seq: 5001, ack: 0x12345678, srcPort: 41002 });
    const r = p.next();
    assert.ok(r !== null && r.flags === RST && r.seq === 0x12345678);
    assert.equal(p.counters.tcpSynCookiesFailed, 1);
    assert.equal(p.stack.tcp.find(SERVER_PORT, PEER_IP, 41002), null);
  });

  it("a cookie older than two 64 s periods is refused", () => {
    const p = listening({ config: { synQueue: 1 } });
    p.peerSends({ flags: SYN, seq: PEER_ISS, srcPort: 41000, mss: 1460 });
    p.next();
    p.peerSends({ flags: SYN, seq: 1000, srcPort: 41001, mss: 1460 });
    const s = p.next();
    assert.ok(s !== null);
    p.now += 200_000;
    p.peerSends({ flags: ACK, seq: 1001, ack: add(s.seq, 1), srcPort: 41001 });
    assert.equal(p.counters.tcpSynCookiesFailed, 1);
    assert.equal(p.stack.tcp.find(SERVER_PORT, PEER_IP, 41001), null);
  });

  it("with synCookies: false a full SYN queue drops the SYN", () => {
    const p = listening({ config: { synQueue: 1, synCookies: false } });
    p.peerSends({ flags: SYN, seq: PEER_ISS, srcPort: 41000, mss: 1460 });
    p.next();
    p.peerSends({ flags: SYN, seq: PEER_ISS, srcPort: 41001, mss: 1460 });
    p.expectNothing();
    assert.equal(p.counters.tcpListenDrops, 1);
  });
});
