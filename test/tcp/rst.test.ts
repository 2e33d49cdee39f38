/**
 * Scripted-peer tests: RST processing in every state (RFC 9293 §3.10.7, RFC 5961 §3), SYN and ACK
 * checks against blind attacks (RFC 5961 §4, §5), the challenge-ACK rate limit (RFC 5961 §7), the
 * acceptability test (RFC 9293 §3.10.7.4 "first") and PAWS (RFC 7323 §5).
 */
import assert from "node:assert/strict";
import { ERR_REFUSED, ERR_RESET, EV_ERROR } from "../../src/tcp/tcb.js";
import {
  ACK, add, closeWait, closing, established, FIN, finWait1, finWait2, lastAck, OUR_ISS, PEER_ISS, PSH,
  type Peer, PLAIN, RST, SYN, synReceived, synSent, teardownAll, timeWait,
} from "../helpers/peer.js";

const L = add(OUR_ISS, 1);
const P = add(PEER_ISS, 1);

/** The connection was reset: CLOSED, error reported to the owner, block freed once released. */
function assertReset(p: Peer, err: number): void {
  assert.equal(p.state(), "CLOSED");
  assert.equal(p.t.error, err);
  p.advance(0);
  assert.ok((p.owner.all() & EV_ERROR) !== 0, "owner told EV_ERROR");
  p.release();
  assert.equal(p.stack.tcp.inUse().connections, 0);
}

describe("tcp RST and blind-attack checks (scripted peer)", () => {
  afterEach(function () { teardownAll(this.currentTest?.state === "passed"); });

  it("SYN-SENT + RST,ACK acknowledging our SYN -> CLOSED, connection refused (RFC 9293 §3.10.7.3)", () => {
    const p = synSent();
    p.peerSends({ flags: RST | ACK, seq: 0, ack: L });
    p.expectNothing();
    assertReset(p, ERR_REFUSED);
    assert.equal(p.counters.tcpAttemptFails, 1);
  });

  it("SYN-SENT + RST without ACK, or with an unacceptable ACK -> ignored (RFC 9293 §3.10.7.3, RFC 5961 §3.2)", () => {
    const p = synSent();
    p.peerSends({ flags: RST, seq: PEER_ISS });
    p.peerSends({ flags: RST | ACK, seq: PEER_ISS, ack: OUR_ISS });
    p.peerSends({ flags: RST | ACK, seq: PEER_ISS, ack: add(L, 1) });
    p.expectNothing();
    assert.equal(p.state(), "SYN-SENT");
  });

  it("SYN-RECEIVED (passive) + RST <SEQ=RCV.NXT> -> back to LISTEN, no reply (RFC 9293 §3.10.7.4)", () => {
    const p = synReceived();
    p.peerSends({ flags: RST, seq: P });
    p.expectNothing();
    assert.equal(p.stack.tcp.inUse().connections, 0);
    assert.equal(p.stack.tcp.inUse().listeners, 1);
    // The listener still answers.
    p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460 });
    const s = p.next();
    assert.ok(s !== null && s.flags === (SYN | ACK));
    p.peerSends({ flags: RST, seq: P });
  });

  it("SYN-RECEIVED (simultaneous open) + RST <SEQ=RCV.NXT> -> CLOSED, refused (RFC 9293 §3.10.7.4)", () => {
    const p = synSent();
    p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460 });
    p.expectSent({ flags: SYN | ACK, seq: OUR_ISS, ack: P, mss: 1460, win: 5840 });
    p.peerSends({ flags: RST, seq: P });
    p.expectNothing();
    assertReset(p, ERR_REFUSED);
  });

  for (const [name, fixture, rcvNxt] of [
    ["ESTABLISHED", established, P],
    ["FIN-WAIT-1", finWait1, P],
    ["FIN-WAIT-2", finWait2, P],
    // CLOSE-WAIT: see test/tcp/pending-bugs.test.ts (the error reported is ERR_CLOSED, not reset).
  ] as const) {
    it(`${name} + RST <SEQ=RCV.NXT> -> CLOSED, "connection reset" reported (RFC 9293 §3.10.7.4, RFC 5961 §3.2)`, () => {
      const p = fixture();
      assert.equal(p.state(), name);
      p.peerSends({ flags: RST, seq: rcvNxt });
      p.expectNothing();
      assertReset(p, ERR_RESET);
      assert.equal(p.counters.tcpInRsts, 1);
    });
  }

  for (const [name, fixture] of [["CLOSING", closing], ["LAST-ACK", lastAck]] as const) {
    it(`${name} + RST <SEQ=RCV.NXT> -> CLOSED (RFC 9293 §3.10.7.4)`, () => {
      const p = fixture();
      p.peerSends({ flags: RST, seq: add(P, 1) });
      p.expectNothing();
      assert.equal(p.state(), "CLOSED");
      p.release();
      assert.deepEqual(p.stack.tcp.inUse(), { connections: 0, timeWait: 0, listeners: 1 });
    });
  }

  it("CLOSE-WAIT + RST <SEQ=RCV.NXT> -> CLOSED, EV_ERROR delivered (RFC 9293 §3.10.7.4)", () => {
    const p = closeWait();
    p.peerSends({ flags: RST, seq: add(P, 1) });
    p.expectNothing();
    assert.equal(p.state(), "CLOSED");
    p.advance(0);
    assert.ok((p.owner.all() & EV_ERROR) !== 0);
    p.release();
    assert.equal(p.stack.tcp.inUse().connections, 0);
  });

  it("TIME-WAIT + RST <SEQ=RCV.NXT> -> record deleted; other RSTs ignored (RFC 9293 §3.10.7.4)", () => {
    const p = timeWait();
    p.peerSends({ flags: RST, seq: add(P, 5) });
    p.expectNothing();
    assert.equal(p.stack.tcp.inUse().timeWait, 1);
    p.peerSends({ flags: RST, seq: add(P, 1) });
    p.expectNothing();
    assert.equal(p.stack.tcp.inUse().timeWait, 0);
    assert.equal(p.counters.tcpTimeWaitRsts, 1);
  });

  for (const [name, fixture, rcvNxt, sndNxt] of [
    ["SYN-RECEIVED", synReceived, P, L],
    ["ESTABLISHED", established, P, L],
    ["FIN-WAIT-1", finWait1, P, add(L, 1)],
    ["FIN-WAIT-2", finWait2, P, add(L, 1)],
    ["CLOSE-WAIT", closeWait, add(P, 1), L],
    ["CLOSING", closing, add(P, 1), add(L, 1)],
    ["LAST-ACK", lastAck, add(P, 1), add(L, 1)],
  ] as const) {
    it(`${name} + RST in window but not RCV.NXT -> challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> (RFC 5961 §3.2)`, () => {
      const p = fixture();
      p.peerSends({ flags: RST, seq: add(rcvNxt, 100) });
      p.expectSent({ flags: ACK, seq: sndNxt, ack: rcvNxt });
      p.expectNothing();
      assert.equal(p.state(), name);
      assert.equal(p.counters.tcpChallengeAcks, 1);
    });
  }

  it("ESTABLISHED + RST outside the window -> dropped silently (RFC 5961 §3.2, RFC 9293 §3.10.7.4)", () => {
    const p = established();
    p.peerSends({ flags: RST, seq: add(P, 5840) }); // RCV.NXT + RCV.WND: just outside
    p.peerSends({ flags: RST, seq: add(P, -1) });
    p.peerSends({ flags: RST | ACK, seq: add(P, 100000), ack: L });
    p.expectNothing();
    assert.equal(p.state(), "ESTABLISHED");
    assert.equal(p.counters.tcpInRstOutOfWindow, 3);
  });

  it("challenge ACKs are limited to challengeAckPerSec, the rest counted (RFC 5961 §7)", () => {
    const p = established({ config: { challengeAckPerSec: 2 } });
    for (let k = 1; k <= 3; k++) p.peerSends({ flags: RST, seq: add(P, k) });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.expectNothing();
    assert.equal(p.counters.tcpChallengeAcks, 2);
    assert.equal(p.counters.tcpChallengeAcksSuppressed, 1);
    p.advance(1000);
    p.peerSends({ flags: RST, seq: add(P, 4) });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.expectNothing();
    assert.equal(p.state(), "ESTABLISHED");
  });

  it("ESTABLISHED + SYN in window -> challenge ACK, connection kept (RFC 5961 §4.2)", () => {
    const p = established();
    p.peerSends({ flags: SYN, seq: add(P, 10), mss: 1460 });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.expectNothing();
    assert.equal(p.state(), "ESTABLISHED");
    assert.equal(p.counters.tcpChallengeAcks, 1);
  });

  it("ESTABLISHED + SYN at RCV.NXT, or outside the window -> ACK, connection kept (RFC 5961 §4.2)", () => {
    const p = established();
    p.peerSends({ flags: SYN, seq: P, mss: 1460 });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460 }); // the old SYN again
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.peerSends({ flags: SYN | ACK, seq: add(P, 50000), ack: L });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.expectNothing();
    assert.equal(p.state(), "ESTABLISHED");
  });

  it("ESTABLISHED + ACK for data not yet sent -> ACK, segment dropped (RFC 5961 §5.2, RFC 9293 §3.10.7.4)", () => {
    const p = established();
    p.peerSends({ flags: ACK | PSH, seq: P, ack: add(L, 100), data: 50 });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.expectNothing();
    assert.equal(p.t.rcvNxt, P, "the data of the dropped segment was not taken");
    assert.equal(p.t.sndUna, L);
    assert.equal(p.counters.tcpInAckTooNew, 1);
  });

  it("ESTABLISHED + ACK below SND.UNA - MAX.SND.WND -> ACK, segment dropped (RFC 5961 §5.2)", () => {
    const plain = { ...PLAIN, mss: 1460, peerWin: 2000 };
    const p = established(plain);
    p.write(3000);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 1460, ts: null });
    p.expectNothing(); // 540 usable bytes: sender SWS avoidance waits
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 1460) });
    p.expectSent({ flags: ACK, seq: add(L, 1460), ack: P, len: 1460, ts: null });
    p.expectNothing(); // Nagle holds the 80-byte tail
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 2920) });
    p.expectSent({ flags: ACK | PSH, seq: add(L, 2920), ack: P, len: 80, ts: null });
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 3000) });
    p.expectNothing();
    p.peerSends({ flags: ACK | PSH, seq: P, ack: L, data: 10 }); // 3000 below SND.UNA, MAX.SND.WND 2000
    p.expectSent({ flags: ACK, seq: add(L, 3000), ack: P, ts: null });
    p.expectNothing();
    assert.equal(p.t.rcvNxt, P);
    assert.equal(p.counters.tcpInAckTooOld, 1);
  });

  it("ESTABLISHED + segment beyond the window -> ACK <SEQ=SND.NXT><ACK=RCV.NXT>, dropped (RFC 9293 §3.10.7.4)", () => {
    const p = established();
    p.peerSends({ flags: ACK | PSH, seq: add(P, 5840), ack: L, data: 10 });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.peerSends({ flags: ACK | PSH, seq: add(P, -100), ack: L, data: 50 }); // entirely old
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.peerSends({ flags: FIN | ACK, seq: add(P, 6000), ack: L });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.expectNothing();
    assert.equal(p.state(), "ESTABLISHED");
    assert.equal(p.t.rcvNxt, P);
    assert.equal(p.counters.tcpInUnacceptable, 3);
  });

  it("ESTABLISHED + segment with an old timestamp -> ACK, dropped (RFC 7323 §5.3 PAWS)", () => {
    const p = established();
    p.advance(100);
    p.peerSends({ flags: ACK | PSH, seq: P, ack: L, data: 10, ts: [p.peerTs() - 1000, p.lastOurTs] });
    p.expectSent({ flags: ACK, seq: L, ack: P, ts: [p.ourTs(), p.peerTs(0) + 10] });
    p.expectNothing();
    assert.equal(p.t.rcvNxt, P);
    assert.equal(p.counters.tcpPawsDrops, 1);
  });
});
