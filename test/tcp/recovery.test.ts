/**
 * Scripted-peer tests: loss recovery. RFC 5681 §3.2 + RFC 6582 NewReno (without SACK): three
 * duplicate ACKs -> one retransmission, ssthresh and cwnd per the RFC; a partial ACK retransmits the
 * next hole; a full ACK ends recovery. RFC 6675 (with SACK): only the holes are resent. RFC 7323 §5
 * PAWS drops an old duplicate.
 */
import assert from "node:assert/strict";
import {
  ACK, add, appBytes, established, OUR_ISS, PEER_ISS, PEER_TS0, PLAIN, PSH, teardownAll,
} from "../helpers/peer.js";

const L = add(OUR_ISS, 1);
const P = add(PEER_ISS, 1);
const SEG = 1460;

describe("tcp loss recovery (scripted peer)", () => {
  afterEach(function () { teardownAll(this.currentTest?.state === "passed"); });

  /** 8 full segments in flight, no SACK, no timestamps. */
  function eightInFlight(sack: boolean): ReturnType<typeof established> {
    const p = established({ ...PLAIN, mss: SEG, sackOk: sack, config: { sendBufBytes: 8 * SEG, sack } });
    p.t.cwnd = 8 * SEG; // past slow start (fixture, lwIP tcp_set_state style)
    assert.equal(p.write(8 * SEG), 8 * SEG);
    for (let i = 0; i < 8; i++) p.expectSent({ flags: i === 7 ? ACK | PSH : ACK, seq: add(L, i * SEG), ack: P, len: SEG });
    p.expectNothing();
    p.advance(5);
    return p;
  }

  it("three duplicate ACKs -> one retransmission; ssthresh = FlightSize/2, cwnd = ssthresh + 3 SMSS (RFC 5681 §3.2, RFC 6582 §3.2)", () => {
    const p = eightInFlight(false);
    p.peerSends({ flags: ACK, seq: P, ack: L });
    p.peerSends({ flags: ACK, seq: P, ack: L });
    p.expectNothing(); // limited transmit has no new data to send
    p.peerSends({ flags: ACK, seq: P, ack: L });
    p.expectSent({ flags: ACK, seq: L, ack: P, len: SEG, data: appBytes(0, SEG) });
    p.expectNothing();
    assert.equal(p.t.ssthresh, 4 * SEG);
    assert.equal(p.t.cwnd, 4 * SEG + 3 * SEG);
    assert.equal(p.t.recover, add(L, 8 * SEG));
    assert.equal(p.counters.tcpFastRetrans, 1);
    // More duplicates inflate the window (RFC 6582 §3.2 step 4) but retransmit nothing more.
    p.peerSends({ flags: ACK, seq: P, ack: L });
    assert.equal(p.t.cwnd, 8 * SEG);
    p.expectNothing();
  });

  it("NewReno: a partial ACK retransmits the next hole at once; a full ACK ends recovery with cwnd = min(ssthresh, FlightSize + SMSS) (RFC 6582 §3.2)", () => {
    const p = eightInFlight(false);
    for (let i = 0; i < 3; i++) p.peerSends({ flags: ACK, seq: P, ack: L });
    p.expectSent({ flags: ACK, seq: L, ack: P, len: SEG });
    // Segments 1 and 4 were lost: the retransmission fills 1, the ACK stops at 4 (partial).
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 3 * SEG) });
    p.expectSent({ flags: ACK, seq: add(L, 3 * SEG), ack: P, len: SEG, data: appBytes(3 * SEG, SEG) });
    p.expectNothing();
    assert.equal(p.t.inRecovery, true);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 8 * SEG) });
    assert.equal(p.t.inRecovery, false);
    assert.equal(p.t.cwnd, Math.min(p.t.ssthresh, 0 + SEG));
    p.expectNothing();
  });

  it("SACK: only the holes are resent, never a SACKed segment (RFC 6675 §5, NextSeg rule 1)", () => {
    const p = eightInFlight(true);
    // Segments 0 and 4 lost; the peer SACKs 1-3 then 5-7 as they arrive.
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, SEG), add(L, 2 * SEG)]] });
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, SEG), add(L, 3 * SEG)]] });
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, SEG), add(L, 4 * SEG)]] });
    // Three SACKed segments above the first byte: IsLost(SND.UNA) -> recovery, resend segment 0.
    p.expectSent({ flags: ACK, seq: L, ack: P, len: SEG, data: appBytes(0, SEG) });
    p.expectNothing();
    assert.equal(p.t.inRecovery, true);
    assert.equal(p.t.cwnd, 4 * SEG, "cwnd = ssthresh in SACK recovery (RFC 6675 §5 step 4.2)");
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, 5 * SEG), add(L, 6 * SEG)], [add(L, SEG), add(L, 4 * SEG)]] });
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, 5 * SEG), add(L, 7 * SEG)], [add(L, SEG), add(L, 4 * SEG)]] });
    p.expectNothing(); // segment 4 is not lost yet: only 2 segments SACKed above it
    p.peerSends({ flags: ACK, seq: P, ack: L, sack: [[add(L, 5 * SEG), add(L, 8 * SEG)], [add(L, SEG), add(L, 4 * SEG)]] });
    p.expectSent({ flags: ACK, seq: add(L, 4 * SEG), ack: P, len: SEG, data: appBytes(4 * SEG, SEG) });
    p.expectNothing();
    assert.equal(p.counters.tcpRetransSegs, 2, "two holes, two retransmissions");
    // The retransmission of 0 arrives: cumulative ACK up to the second hole (a partial ACK).
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 4 * SEG), sack: [[add(L, 5 * SEG), add(L, 8 * SEG)]] });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 8 * SEG) });
    assert.equal(p.t.inRecovery, false);
    assert.equal(p.t.sbCount, 0, "scoreboard empty once everything is acknowledged");
    p.expectNothing();
  });

  it("a D-SACK (RFC 2883) is recognised and not counted as new information", () => {
    const p = eightInFlight(true);
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 2 * SEG), sack: [[add(L, SEG), add(L, 2 * SEG)]] });
    assert.equal(p.t.dsacks, 1);
    assert.equal(p.t.sackedBytes, 0);
    assert.equal(p.t.dupAcks, 0);
  });

  it("PAWS: a segment with an older timestamp is an old duplicate: dropped, answered with an ACK (RFC 7323 §5.3)", () => {
    const p = established();
    p.drain();
    const before = p.t.rcvNxt;
    p.peerSends({ flags: ACK, seq: P, ack: L, data: 100, ts: [add(PEER_TS0, -1000), p.ourTs()] });
    const s = p.next();
    assert.ok(s !== null && s.flags === ACK && s.ack === before, "an ACK for what we have");
    assert.equal(p.t.rcvNxt, before, "no byte of the old duplicate taken");
    assert.equal(p.counters.tcpPawsDrops, 1);
  });
});
