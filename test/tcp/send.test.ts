/**
 * Scripted-peer tests: sending data. Segmentation by the effective MSS (RFC 9293 §3.7.1, RFC 7323
 * §3.2), Nagle (RFC 896, RFC 1122 §4.2.3.4), the peer's window and sender SWS avoidance (RFC 9293
 * §3.8.6.2.1), persist / zero-window probes (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17), retransmission
 * timeout with backoff and abort (RFC 6298 §5, RFC 1122 §4.2.3.5), Karn (RFC 6298 §3), fast
 * retransmit + limited transmit (RFC 5681 §3.2, RFC 3042), sequence wrap (RFC 9293 §3.4).
 */
import assert from "node:assert/strict";
import { ERR_TIMEOUT, EV_ERROR } from "../../src/tcp/tcb.js";
import {
  ACK, add, appBytes, established, OUR_ISS, PEER_ISS, PLAIN, PSH, RST, teardownAll,
} from "../helpers/peer.js";

const L = add(OUR_ISS, 1);
const P = add(PEER_ISS, 1);

describe("tcp send path (scripted peer)", () => {
  afterEach(function () { teardownAll(this.currentTest?.state === "passed"); });

  it("segments are effective-MSS sized: MSS - 12 with timestamps; the tail waits for Nagle (RFC 9293 §3.7.1, RFC 7323 §3.2)", () => {
    const p = established();
    assert.equal(p.write(4000), 4000);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1448, data: appBytes(0, 1448) });
    p.expectSent({ flags: ACK, seq: add(L, 1448), ack: P, len: 1448, data: appBytes(1448, 1448) });
    p.expectNothing(); // cwnd 4380 leaves 1484: a 1104-byte tail while data is unacknowledged
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 2896) });
    p.expectSent({ flags: ACK | PSH, seq: add(L, 2896), ack: P, len: 1104, data: appBytes(2896, 1104) });
    p.expectNothing();
  });

  it("Nagle: a small segment waits while data is unacknowledged; noDelay sends it (RFC 1122 §4.2.3.4, RFC 896)", () => {
    const p = established();
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: L, ack: P, len: 10 });
    p.write(10);
    p.expectNothing();
    p.advance(5);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 10) });
    p.expectSent({ flags: ACK | PSH, seq: add(L, 10), ack: P, len: 10 });
    p.expectNothing();
    p.t.noDelay = true;
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: add(L, 20), ack: P, len: 10 });
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: add(L, 30), ack: P, len: 10 });
    p.expectNothing();
  });

  it("the sender never exceeds the peer's window (RFC 9293 §3.8.6.2.1)", () => {
    const p = established({ peerWin: 1000 });
    p.write(3000);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1000 });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 1000) });
    p.expectSent({ flags: ACK, seq: add(L, 1000), ack: P, len: 1000 });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 1500) }); // half acked: 500 usable
    p.expectSent({ flags: ACK, seq: add(L, 2000), ack: P, len: 500 });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 2500) });
    p.expectSent({ flags: ACK | PSH, seq: add(L, 2500), ack: P, len: 500 });
    p.expectNothing();
  });

  it("sender SWS avoidance: a small usable window is used only after the override timeout (RFC 9293 §3.8.6.2.1)", () => {
    const p = established(); // the peer offered 65535
    p.peerSends({ flags: ACK, seq: P, ack: L, win: 300 });
    p.write(1000);
    p.expectNothing();
    const t0 = p.now;
    const wait = Math.max(p.t.rto, 200); // the persist timer doubles as the override timer
    p.advance(wait - 1);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 300, at: t0 + wait });
    p.expectNothing();
  });

  it("zero window -> persist timer -> one-byte probes with exponential backoff; resumes when the window opens (RFC 9293 §3.8.6.1)", () => {
    const p = established();
    p.peerSends({ flags: ACK, seq: P, ack: L, win: 0 });
    const t0 = p.now;
    p.write(100);
    p.expectNothing();
    const b = Math.max(p.t.rto, 200); // base interval; doubles after each probe
    p.advance(b);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1, data: appBytes(0, 1), at: t0 + b });
    p.expectNothing();
    p.advance(2 * b);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1, at: t0 + 3 * b });
    p.advance(4 * b);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1, at: t0 + 7 * b });
    p.advance(8 * b - 1);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1, at: t0 + 15 * b });
    assert.equal(p.counters.tcpPersistProbes, 4);
    assert.equal(p.state(), "ESTABLISHED", "probes are not retransmissions: no abort");
    // The window opens and the probe byte is taken: the rest goes at once.
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 1), win: 5000 });
    p.expectSent({ flags: ACK | PSH, seq: add(L, 1), ack: P, len: 99, data: appBytes(1, 99) });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 100), win: 5000 });
    p.advance(10000);
    p.expectNothing();
  });

  it("persist probes continue past maxRetries: a zero window never aborts (RFC 1122 §4.2.2.17)", () => {
    const p = established({ config: { maxRetries: 2, persistMaxMs: 1000 } });
    p.peerSends({ flags: ACK, seq: P, ack: L, win: 0 });
    p.write(10);
    p.advance(20000);
    const probes = p.drain();
    assert.ok(probes.length >= 10, `${probes.length} probes`);
    for (const s of probes) assert.ok(s.seq === L && s.len === 1 && s.flags === ACK);
    assert.equal(p.state(), "ESTABLISHED");
  });

  it("RTO: retransmission after rto, exponential backoff, abort with RST and ERR_TIMEOUT after maxRetries (RFC 6298 §5, RFC 1122 §4.2.3.5)", () => {
    const p = established({ ...PLAIN, config: { maxRetries: 3 } });
    const t0 = p.now;
    assert.equal(p.t.rto, 1000, "no RTT sample yet: rtoInitialMs");
    p.write(100);
    const seg = { flags: ACK | PSH, seq: L, ack: P, len: 100, data: appBytes(0, 100) };
    p.expectSent({ ...seg, at: t0 });
    p.advance(999);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ ...seg, at: t0 + 1000 });
    p.advance(2000);
    p.expectSent({ ...seg, at: t0 + 3000 });
    p.advance(4000);
    p.expectSent({ ...seg, at: t0 + 7000 });
    p.advance(7999);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: RST, seq: add(L, 100), at: t0 + 15000 });
    p.expectNothing();
    assert.equal(p.state(), "CLOSED");
    assert.equal(p.t.error, ERR_TIMEOUT);
    assert.ok((p.owner.all() & EV_ERROR) !== 0);
    assert.equal(p.counters.tcpRetransSegs, 3);
    p.release();
    assert.equal(p.stack.tcp.inUse().connections, 0);
  });

  it("RTO: the retransmission timer restarts on an ACK of new data (RFC 6298 §5.3)", () => {
    const p = established();
    p.t.noDelay = true;
    const t0 = p.now;
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: L, ack: P, len: 10, at: t0 });
    p.advance(100);
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: add(L, 10), ack: P, len: 10, at: t0 + 100 });
    p.advance(50);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 10) }); // t0 + 150: timer restarted for the rest
    const rto = p.t.rto;
    p.advance(rto - 1);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: ACK | PSH, seq: add(L, 10), ack: P, len: 10, at: t0 + 150 + rto });
  });

  it("RTT: a sample from a timed segment sets SRTT, RTTVAR and RTO (RFC 6298 §2.2, §2.4)", () => {
    const p = established(PLAIN);
    assert.equal(p.t.rto, 1000, "no sample yet: the initial RTO");
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: L, ack: P, len: 10, win: 5840 });
    p.advance(50);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 10) });
    assert.equal(p.t.srtt, 50);
    assert.equal(p.t.rttvar, 25);
    assert.equal(p.t.rto, 200, "50 + 4 * 25 = 150, raised to rtoMinMs");
  });

  it("Karn: no RTT sample from a retransmitted segment; the backed-off RTO is kept (RFC 6298 §3, §5.7)", () => {
    const p = established(PLAIN);
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: L, ack: P, len: 10 });
    p.advance(50);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 10) });
    assert.equal(p.t.srtt, 50);
    p.write(10);
    const t1 = p.now;
    p.expectSent({ flags: ACK | PSH, seq: add(L, 10), ack: P, len: 10, at: t1 });
    p.advance(200);
    p.expectSent({ flags: ACK | PSH, seq: add(L, 10), ack: P, len: 10, at: t1 + 200 });
    assert.equal(p.t.rto, 400);
    p.advance(40);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 20) }); // ambiguous: the original or the retransmission?
    assert.equal(p.t.srtt, 50, "SRTT unchanged");
    assert.equal(p.t.rttvar, 25, "RTTVAR unchanged");
    assert.equal(p.t.rto, 400, "RTO stays backed off until a valid sample");
    // The next new segment is timed again.
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: add(L, 20), ack: P, len: 10 });
    p.advance(30);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 30) });
    assert.equal(p.t.srtt, 0.875 * 50 + 0.125 * 30);
  });

  it("three duplicate ACKs -> fast retransmit of the first unacknowledged segment; limited transmit before (RFC 5681 §3.2, RFC 3042)", () => {
    const p = established();
    assert.equal(p.write(6000), 5840, "the send buffer takes 5840");
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1448 });
    p.expectSent({ flags: ACK, seq: add(L, 1448), ack: P, len: 1448 });
    p.expectSent({ flags: ACK, seq: add(L, 2896), ack: P, len: 1448 });
    p.expectNothing();
    p.advance(5);
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, 1448), add(L, 2896)]] });
    p.expectSent({ flags: ACK, seq: add(L, 4344), ack: P, len: 1448 }); // RFC 3042: one new segment
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, 1448), add(L, 4344)]] });
    p.expectNothing(); // a 48-byte tail: Nagle
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, 1448), add(L, 5792)]] });
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1448, data: appBytes(0, 1448) });
    p.expectNothing();
    assert.equal(p.counters.tcpFastRetrans, 1);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 5792) });
    p.expectSent({ flags: ACK | PSH, seq: add(L, 5792), ack: P, len: 48 });
    p.expectNothing();
  });

  it("sequence numbers wrap past 2^32 on send and in ACKs (RFC 9293 §3.4)", () => {
    const p = established(); // L = 2^32 - 255
    p.write(300);
    p.expectSent({ flags: ACK | PSH, seq: L, ack: P, len: 300, data: appBytes(0, 300) });
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 300) });
    assert.equal(p.t.sndUna, 45);
    assert.equal(p.t.sndLen, 0, "the send ring is empty again");
    p.write(10);
    p.expectSent({ flags: ACK | PSH, seq: 45, ack: P, len: 10, data: appBytes(300, 10) });
    // An old ACK from before the wrap is a duplicate, not "ahead".
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 100) });
    p.expectNothing();
    assert.equal(p.t.sndUna, 45);
    p.peerSends({ flags: ACK, seq: P, ack: 55 });
    assert.equal(p.t.sndUna, 55);
    p.expectNothing();
  });
});
