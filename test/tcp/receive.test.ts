/**
 * Scripted-peer tests: receiving data. RFC 9293 §3.10.7.4 (seventh: segment text; trimming to the
 * window), §3.8.6.3 and RFC 5681 §4.2 (delayed ACK, every second full-sized segment, immediate ACK
 * for out-of-order data and for a filled hole), RFC 2018 §4 (SACK blocks, most recent first),
 * §3.8.6.2.2 (receiver SWS avoidance), §3.4 (sequence numbers mod 2^32).
 */
import assert from "node:assert/strict";
import {
  ACK, add, established, establishedActive, OUR_ISS, PEER_ISS, peerData, PLAIN, PSH, teardownAll,
} from "../helpers/peer.js";

const L = add(OUR_ISS, 1);
const P = add(PEER_ISS, 1);
/** The peer options of a plain connection with a 1460-byte MSS and no timestamps/SACK. */
const MSS_ONLY = { ...PLAIN, mss: 1460 };

describe("tcp receive path (scripted peer)", () => {
  afterEach(function () { teardownAll(this.currentTest?.state === "passed"); });

  it("in-order data -> delayed ACK within delayedAckMs, window reduced by the unread bytes (RFC 9293 §3.8.6.3)", () => {
    const p = established();
    const t0 = p.now;
    p.peerSends({ flags: ACK | PSH, seq: P, ack: L, data: 100 }); // crosses 2^32: P = 2^32 - 15
    p.expectNothing();
    p.advance(39);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 100), win: 5740, at: t0 + 40 });
    p.expectNothing();
    assert.deepEqual(p.read(200), peerData(P, 100));
    assert.equal(p.counters.tcpDelayedAcks, 1);
  });

  it("delayedAckMs is the configured value (RFC 9293 §3.8.6.3: < 0.5 s)", () => {
    const p = established({ config: { delayedAckMs: 200 } });
    const t0 = p.now;
    p.peerSends({ flags: ACK | PSH, seq: P, ack: L, data: 10 });
    p.advance(199);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 10), win: 5830, at: t0 + 200 });
  });

  it("every second full-sized segment is ACKed at once (RFC 5681 §4.2, RFC 9293 §3.8.6.3)", () => {
    const p = established(); // timestamps: full-sized = 1460 - 12
    p.peerSends({ flags: ACK, seq: P, ack: L, data: 1448 });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: add(P, 1448), ack: L, data: 1448 });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 2896), win: 5840 - 2896, at: p.now });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: add(P, 2896), ack: L, data: 1448 });
    p.expectNothing();
    p.advance(40);
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 4344), win: 5840 - 4344 });
  });

  it("out-of-order data -> immediate duplicate ACK with SACK blocks, most recent first (RFC 2018 §4, RFC 5681 §4.2)", () => {
    const p = established();
    p.peerSends({ flags: ACK, seq: add(P, 100), ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: P, sack: [[add(P, 100), add(P, 200)]] });
    p.peerSends({ flags: ACK, seq: add(P, 300), ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: P, sack: [[add(P, 300), add(P, 400)], [add(P, 100), add(P, 200)]] });
    p.peerSends({ flags: ACK, seq: add(P, 500), ack: L, data: 100 });
    p.expectSent({
      flags: ACK, seq: L, ack: P,
      sack: [[add(P, 500), add(P, 600)], [add(P, 300), add(P, 400)], [add(P, 100), add(P, 200)]],
    });
    // A segment adjacent to an old block: the merged block goes first (it holds the newest data).
    p.peerSends({ flags: ACK, seq: add(P, 200), ack: L, data: 50 });
    p.expectSent({
      flags: ACK, seq: L, ack: P,
      sack: [[add(P, 100), add(P, 250)], [add(P, 500), add(P, 600)], [add(P, 300), add(P, 400)]],
    });
    p.expectNothing();
    assert.equal(p.counters.tcpInOutOfOrder, 4);
  });

  it("filling the hole -> immediate ACK covering everything received (RFC 5681 §4.2, RFC 9293 §3.10.7.4)", () => {
    const p = established();
    p.peerSends({ flags: ACK, seq: add(P, 100), ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: P, sack: [[add(P, 100), add(P, 200)]] });
    p.peerSends({ flags: ACK, seq: add(P, 300), ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: P, sack: [[add(P, 300), add(P, 400)], [add(P, 100), add(P, 200)]] });
    p.peerSends({ flags: ACK, seq: P, ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 200), win: 5640, sack: [[add(P, 300), add(P, 400)]] });
    p.peerSends({ flags: ACK, seq: add(P, 200), ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 400), win: 5440 });
    p.expectNothing();
    assert.deepEqual(p.read(1000), peerData(P, 400));
  });

  it("out-of-order data without SACK -> immediate duplicate ACK, no SACK option (RFC 5681 §4.2, RFC 2018 §2)", () => {
    const p = established({ sackOk: false });
    p.peerSends({ flags: ACK, seq: add(P, 100), ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: P });
    p.peerSends({ flags: ACK, seq: P, ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 200), win: 5640 });
    p.expectNothing();
  });

  it("without timestamps, 4 SACK blocks fit; a 5th range farther out is not kept (RFC 2018 §3, §8)", () => {
    const p = established({ ts: false });
    const blocks: [number, number][] = [];
    for (let k = 1; k <= 4; k++) {
      p.peerSends({ flags: ACK, seq: add(P, 200 * k), ack: L, data: 100 });
      blocks.unshift([add(P, 200 * k), add(P, 200 * k + 100)]);
      p.expectSent({ flags: ACK, seq: L, ack: P, sack: blocks.slice() });
    }
    // The range table is full and this range is the farthest from RCV.NXT: dropped (never SACKed,
    // so the peer resends it: no reneging).
    p.peerSends({ flags: ACK, seq: add(P, 1100), ack: L, data: 10 });
    p.expectSent({ flags: ACK, seq: L, ack: P, sack: blocks.slice() });
    p.expectNothing();
    assert.equal(p.counters.tcpInOutOfOrderDropped, 1);
  });

  it("data beyond the window is trimmed to the window (RFC 9293 §3.10.7.4, §3.9.1)", () => {
    const p = established(MSS_ONLY);
    p.peerSends({ flags: ACK, seq: P, ack: L, data: 1460 });
    p.peerSends({ flags: ACK, seq: add(P, 1460), ack: L, data: 1460 });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 2920), win: 2920, ts: null });
    p.peerSends({ flags: ACK, seq: add(P, 2920), ack: L, data: 1460 });
    p.expectNothing();
    p.peerSends({ flags: ACK | PSH, seq: add(P, 4380), ack: L, data: 1500 }); // 40 bytes past the window
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 5840), win: 0, ts: null });
    p.expectNothing();
    assert.equal(p.counters.tcpInDataTrimmed, 1);
    assert.deepEqual(p.read(6000), peerData(P, 5840));
  });

  it("zero window: a probe beyond it is not taken and gets an ACK with window 0 (RFC 9293 §3.8.6.1, §3.10.7.4)", () => {
    const p = established(MSS_ONLY);
    for (let k = 0; k < 4; k++) p.peerSends({ flags: ACK, seq: add(P, 1460 * k), ack: L, data: 1460 });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 2920), win: 2920, ts: null });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 5840), win: 0, ts: null });
    p.peerSends({ flags: ACK, seq: add(P, 5840), ack: L, data: 1 });
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 5840), win: 0, ts: null });
    p.expectNothing();
    assert.equal(p.t.rcvNxt, add(P, 5840));
  });

  it("receiver SWS avoidance: window update only once it opens by min(buffer/2, MSS) (RFC 9293 §3.8.6.2.2)", () => {
    const p = established(MSS_ONLY);
    for (let k = 0; k < 4; k++) p.peerSends({ flags: ACK, seq: add(P, 1460 * k), ack: L, data: 1460 });
    p.drain(); // two ACKs, the last with window 0
    assert.equal(p.read(1000).length, 1000);
    p.expectNothing();
    assert.equal(p.read(459).length, 459);
    p.expectNothing(); // 1459 free: less than min(5840 / 2, 1460)
    assert.equal(p.read(1).length, 1);
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 5840), win: 1460, ts: null });
    p.expectNothing();
    assert.equal(p.read(100).length, 100);
    p.expectNothing();
  });

  it("sequence numbers wrap past 2^32 on receive, in order and out of order (RFC 9293 §3.4)", () => {
    const p = established({ peerIss: 0xffffffd0 });
    const p1 = 0xffffffd1;
    // A hole of 60 bytes just below 2^32, the out-of-order block straddling 0.
    p.peerSends({ flags: ACK, seq: add(p1, 20), ack: L, data: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: p1, sack: [[add(p1, 20), add(p1, 120)]] });
    assert.equal(add(p1, 120) < p1, true, "the block ends after the wrap");
    p.peerSends({ flags: ACK, seq: p1, ack: L, data: 20 });
    p.expectSent({ flags: ACK, seq: L, ack: add(p1, 120), win: 5720 });
    p.expectNothing();
    assert.deepEqual(p.read(200), peerData(p1, 120));
  });

  it("active open: data after the handshake is received the same way (RFC 9293 §3.10.7.4)", () => {
    const p = establishedActive();
    const t0 = p.now;
    p.peerSends({ flags: ACK | PSH, seq: P, ack: L, data: 30 });
    p.advance(40);
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 30), win: 5810, at: t0 + 40 });
    assert.deepEqual(p.read(100), peerData(P, 30));
  });
});
