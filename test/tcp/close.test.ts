/**
 * Scripted-peer tests: closing. RFC 9293 §3.6 (active, passive, simultaneous close, half-close),
 * §3.10.4 (CLOSE call), §3.10.7.4 (FIN processing, TIME-WAIT), RFC 6298 §5 (FIN retransmission),
 * RFC 1122 §4.2.3.6 (keepalive).
 */
import assert from "node:assert/strict";
import { ERR_TIMEOUT, EV_ERROR } from "../../src/tcp/tcb.js";
import {
  ACK, add, appBytes, closeWait, closing, established, FIN, finWait1, finWait2, lastAck, OUR_ISS, PEER_ISS,
  peerData, PLAIN, PSH, RST, SYN, teardownAll, timeWait,
} from "../helpers/peer.js";

const L = add(OUR_ISS, 1);
const P = add(PEER_ISS, 1);

describe("tcp close (scripted peer)", () => {
  afterEach(function () { teardownAll(this.currentTest?.state === "passed"); });

  it("active close: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT; Tcb freed at once, record after timeWaitMs (RFC 9293 §3.6)", () => {
    const p = established({ config: { timeWaitMs: 30000 } });
    p.close(true); // the socket is released too
    p.expectSent({ flags: FIN | ACK, seq: L, ack: P });
    assert.equal(p.state(), "FIN-WAIT-1");
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 1) });
    p.expectNothing();
    assert.equal(p.state(), "FIN-WAIT-2");
    p.peerSends({ flags: FIN | ACK, seq: P, ack: add(L, 1) });
    p.expectSent({ flags: ACK, seq: add(L, 1), ack: add(P, 1), win: 5839 });
    p.expectNothing();
    assert.deepEqual(p.stack.tcp.inUse(), { connections: 0, timeWait: 1, listeners: 1 });
    p.advance(29999);
    assert.equal(p.stack.tcp.inUse().timeWait, 1);
    p.advance(1);
    assert.equal(p.stack.tcp.inUse().timeWait, 0);
    p.expectNothing();
  });

  it("active close with data queued: FIN follows the data, on the last segment (RFC 9293 §3.10.4)", () => {
    const p = established();
    p.write(100, false);
    p.close();
    p.expectSent({ flags: FIN | ACK | PSH, seq: L, ack: P, len: 100, data: appBytes(0, 100) });
    p.expectNothing();
    assert.equal(p.state(), "FIN-WAIT-1");
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 101) });
    assert.equal(p.state(), "FIN-WAIT-2");
  });

  it("FIN-WAIT-2: the peer's data is still received and ACKed (RFC 9293 §3.10.7.4 seventh, half-close)", () => {
    const p = finWait2();
    p.peerSends({ flags: ACK | PSH, seq: P, ack: add(L, 1), data: 50 });
    p.advance(40);
    p.expectSent({ flags: ACK, seq: add(L, 1), ack: add(P, 50), win: 5790 });
    assert.deepEqual(p.read(100), peerData(P, 50));
    p.peerSends({ flags: FIN | ACK, seq: add(P, 50), ack: add(L, 1) });
    p.expectSent({ flags: ACK, seq: add(L, 1), ack: add(P, 51), win: 5789 });
    assert.equal(p.stack.tcp.inUse().timeWait, 1);
  });

  it("passive close: CLOSE-WAIT -> LAST-ACK -> CLOSED, no TIME-WAIT (RFC 9293 §3.6)", () => {
    const p = lastAck();
    p.peerSends({ flags: ACK, seq: add(P, 1), ack: add(L, 1) });
    p.expectNothing();
    assert.equal(p.state(), "CLOSED");
    p.release();
    assert.deepEqual(p.stack.tcp.inUse(), { connections: 0, timeWait: 0, listeners: 1 });
  });

  it("simultaneous close: FIN-WAIT-1 + FIN -> CLOSING; + ACK of our FIN -> TIME-WAIT (RFC 9293 §3.6 figure 13)", () => {
    const p = closing();
    p.peerSends({ flags: ACK, seq: add(P, 1), ack: add(L, 1) });
    p.expectNothing();
    assert.equal(p.state(), "CLOSED");
    p.release();
    assert.deepEqual(p.stack.tcp.inUse(), { connections: 0, timeWait: 1, listeners: 1 });
  });

  it("FIN-WAIT-1 + FIN,ACK acknowledging our FIN -> TIME-WAIT directly (RFC 9293 §3.10.7.4 eighth)", () => {
    const p = finWait1();
    p.peerSends({ flags: FIN | ACK, seq: P, ack: add(L, 1) });
    p.expectSent({ flags: ACK, seq: add(L, 1), ack: add(P, 1), win: 5839 });
    p.expectNothing();
    assert.equal(p.state(), "CLOSED");
    assert.equal(p.stack.tcp.inUse().timeWait, 1);
  });

  it("half-close: after the peer's FIN we keep sending in CLOSE-WAIT, it is ACKed, then our FIN (RFC 9293 §3.6)", () => {
    const p = closeWait();
    assert.equal(p.write(100), 100);
    p.expectSent({ flags: ACK | PSH, seq: L, ack: add(P, 1), len: 100, data: appBytes(0, 100) });
    p.peerSends({ flags: ACK, seq: add(P, 1), ack: add(L, 100) });
    p.expectNothing();
    assert.equal(p.t.sndUna, add(L, 100));
    assert.equal(p.state(), "CLOSE-WAIT");
    p.close();
    p.expectSent({ flags: FIN | ACK, seq: add(L, 100), ack: add(P, 1) });
    assert.equal(p.state(), "LAST-ACK");
    p.peerSends({ flags: ACK, seq: add(P, 1), ack: add(L, 101) });
    assert.equal(p.state(), "CLOSED");
    p.expectNothing();
  });

  it("CLOSE-WAIT: data after the FIN is not taken, but ACKed (RFC 9293 §3.10.7.4 seventh)", () => {
    const p = closeWait();
    p.peerSends({ flags: ACK | PSH, seq: add(P, 1), ack: L, data: 10 });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 1) });
    p.expectNothing();
    assert.equal(p.t.rcvLen, 0);
  });

  it("FIN retransmitted after rto with backoff until ACKed (RFC 9293 §3.10.4, RFC 6298 §5)", () => {
    const p = finWait1(PLAIN);
    const t0 = p.now;
    const rto = p.t.rto;
    p.advance(rto - 1);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: FIN | ACK, seq: L, ack: P, at: t0 + rto });
    p.advance(2 * rto);
    p.expectSent({ flags: FIN | ACK, seq: L, ack: P, at: t0 + 3 * rto });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 1) });
    assert.equal(p.state(), "FIN-WAIT-2");
    p.advance(10 * rto);
    p.expectNothing();
  });

  it("LAST-ACK: FIN retransmitted until ACKed (RFC 9293 §3.10.7.4, RFC 6298 §5)", () => {
    const p = lastAck(PLAIN);
    const t0 = p.now;
    p.advance(p.t.rto);
    p.expectSent({ flags: FIN | ACK, seq: L, ack: add(P, 1), at: t0 + 1000 });
    p.peerSends({ flags: ACK, seq: add(P, 1), ack: add(L, 1) });
    assert.equal(p.state(), "CLOSED");
  });

  it("TIME-WAIT re-ACKs a retransmitted FIN and restarts the 2MSL timer (RFC 9293 §3.10.7.4)", () => {
    const p = timeWait({ ...PLAIN, config: { timeWaitMs: 60000 } });
    p.advance(30000);
    p.peerSends({ flags: FIN | ACK, seq: P, ack: add(L, 1) });
    // The record keeps the free buffer space (5840), not the last right edge (5839): harmless after a FIN.
    p.expectSent({ flags: ACK, seq: add(L, 1), ack: add(P, 1), win: 5840 });
    p.expectNothing();
    p.advance(59999);
    assert.equal(p.stack.tcp.inUse().timeWait, 1, "the timer restarted at the retransmitted FIN");
    p.advance(1);
    assert.equal(p.stack.tcp.inUse().timeWait, 0);
    // The record is gone: the same FIN now meets a closed port.
    p.peerSends({ flags: FIN | ACK, seq: P, ack: add(L, 1) });
    p.expectSent({ flags: RST, seq: add(L, 1) });
  });

  it("TIME-WAIT + new SYN above RCV.NXT -> record dropped, the listener answers (RFC 9293 §3.10.7.4, RFC 1122 §4.2.2.13)", () => {
    const p = timeWait(PLAIN);
    p.peerSends({ flags: SYN, seq: add(P, 100000), mss: 1460, ts: null });
    const s = p.next();
    assert.ok(s !== null);
    assert.equal(s.flags, SYN | ACK);
    assert.equal(s.ack, add(P, 100001));
    assert.equal(p.stack.tcp.inUse().timeWait, 0);
    p.peerSends({ flags: RST, seq: add(P, 100001) });
  });

  it("keepalive: probe <SEQ=SND.UNA-1> after keepAliveMs idle; an answer resets it (RFC 1122 §4.2.3.6)", () => {
    const p = established({ config: { keepAliveIntervalMs: 1000, keepAliveProbes: 3 } });
    const t0 = p.now; // the last segment received
    p.t.keepAliveMs = 10000;
    p.stack.tcp.armKeepAlive(p.t);
    p.advance(9999);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: ACK, seq: OUR_ISS, ack: P, at: t0 + 10000 });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: P, ack: L });
    p.expectNothing();
    p.advance(9999);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: ACK, seq: OUR_ISS, ack: P, at: t0 + 20000 });
    assert.equal(p.state(), "ESTABLISHED");
  });

  it("keepalive: abort with RST and ERR_TIMEOUT after keepAliveProbes unanswered probes (RFC 1122 §4.2.3.6)", () => {
    const p = established({ config: { keepAliveIntervalMs: 1000, keepAliveProbes: 3 } });
    const t0 = p.now;
    p.t.keepAliveMs = 10000;
    p.stack.tcp.armKeepAlive(p.t);
    p.advance(12000);
    p.expectSent({ flags: ACK, seq: OUR_ISS, ack: P, at: t0 + 10000 });
    p.expectSent({ flags: ACK, seq: OUR_ISS, ack: P, at: t0 + 11000 });
    p.expectSent({ flags: ACK, seq: OUR_ISS, ack: P, at: t0 + 12000 });
    p.expectNothing();
    p.advance(1000);
    p.expectSent({ flags: RST, seq: L, at: t0 + 13000 });
    p.expectNothing();
    assert.equal(p.state(), "CLOSED");
    assert.equal(p.t.error, ERR_TIMEOUT);
    assert.ok((p.owner.all() & EV_ERROR) !== 0);
    assert.equal(p.counters.tcpKeepAliveProbes, 3);
    assert.equal(p.counters.tcpKeepAliveDrops, 1);
    p.release();
    assert.equal(p.stack.tcp.inUse().connections, 0);
  });

  it("keepalive is not sent while data flows: any received segment restarts the idle time (RFC 1122 §4.2.3.6)", () => {
    const p = established();
    const t0 = p.now;
    p.t.keepAliveMs = 10000;
    p.stack.tcp.armKeepAlive(p.t);
    p.advance(5000);
    p.peerSends({ flags: ACK | PSH, seq: P, ack: L, data: 10 });
    p.advance(40);
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 10), win: 5830 });
    p.advance(9959);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: ACK, seq: OUR_ISS, ack: add(P, 10), win: 5830, at: t0 + 15000 });
  });
});
