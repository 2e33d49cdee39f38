/**
 * Scripted-peer tests: opening a connection. RFC 9293 §3.5 (three-way handshake, simultaneous open),
 * §3.7.1 (MSS), §3.10.7.1-3 (CLOSED, LISTEN, SYN-SENT), RFC 7323 (window scale, timestamps), RFC 2018
 * (SACK-permitted), RFC 6298 §5 (SYN retransmission), RFC 6528 (ISN).
 */
import assert from "node:assert/strict";
import { ERR_TIMEOUT, EV_ACCEPT, EV_CONNECTED, EV_ERROR, EV_WRITABLE } from "../../src/tcp/tcb.js";
import {
  ACK, add, established, establishedActive, FIN, FIXTURE_RTT, PSH, listening, OUR_ISS, Peer, PEER_IP, PEER_ISS,
  PEER_PORT, PEER_TS0, PLAIN, RST, SERVER_PORT, SYN, synReceived, synSent, teardownAll,
} from "../helpers/peer.js";

const L = add(OUR_ISS, 1);
const P = add(PEER_ISS, 1);

describe("tcp handshake (scripted peer)", () => {
  afterEach(function () { teardownAll(this.currentTest?.state === "passed"); });

  it("LISTEN + SYN -> one SYN-ACK with our options (RFC 9293 §3.10.7.2)", () => {
    const p = listening();
    p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460, sackOk: true, ts: [PEER_TS0, 0] });
    const t = p.stack.tcp.find(SERVER_PORT, PEER_IP, PEER_PORT);
    assert.ok(t !== null);
    p.adopt(t);
    assert.equal(p.state(), "SYN-RECEIVED");
    p.expectSent({ flags: SYN | ACK, seq: t.iss, ack: P, win: 5840, mss: 1460, sackOk: true, ts: [p.ourTs(), PEER_TS0] });
    p.expectNothing();
    assert.equal(p.counters.tcpPassiveOpens, 1);
  });

  it("SYN-RECEIVED + ACK of our SYN -> ESTABLISHED, offered to the listener (RFC 9293 §3.10.7.4)", () => {
    const p = synReceived();
    p.advance(FIXTURE_RTT);
    p.peerSends({ flags: ACK, seq: P, ack: L });
    p.expectNothing();
    assert.equal(p.state(), "ESTABLISHED");
    assert.equal(p.stack.tcp.acceptable(p.listener), 1);
    assert.ok((p.listenerOwner.all() & EV_ACCEPT) !== 0, "listener told EV_ACCEPT");
  });

  it("SYN-RECEIVED + ACK carrying data -> ESTABLISHED and the data is taken (RFC 9293 §3.10.7.4)", () => {
    const p = synReceived();
    p.peerSends({ flags: ACK | PSH, seq: P, ack: L, data: 20 });
    p.expectNothing(); // delayed ACK
    assert.equal(p.state(), "ESTABLISHED");
    p.advance(40);
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 20), win: 5820, at: 40 });
  });

  it("SYN-RECEIVED + ACK acknowledging nothing we sent -> RST <SEQ=SEG.ACK> (RFC 9293 §3.10.7.4)", () => {
    const p = synReceived();
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 1000) });
    p.expectSent({ flags: RST, seq: add(L, 1000) });
    p.expectNothing();
    assert.equal(p.state(), "SYN-RECEIVED");
  });

  it("connect -> SYN with MSS, SACK-permitted, timestamps; SYN-ACK -> ACK, ESTABLISHED (RFC 9293 §3.10.7.3)", () => {
    const p = establishedActive();
    p.advance(0);
    assert.equal(p.owner.all() & (EV_CONNECTED | EV_WRITABLE), EV_CONNECTED | EV_WRITABLE);
    assert.equal(p.t.sackOk && p.t.tsOk, true);
    assert.equal(p.counters.tcpActiveOpens, 1);
  });

  it("SYN-SENT + ACK without SYN, acceptable -> ignored; unacceptable ACK -> RST <SEQ=SEG.ACK> (RFC 9293 §3.10.7.3)", () => {
    const p = synSent();
    p.peerSends({ flags: ACK, seq: PEER_ISS, ack: L });
    p.expectNothing();
    assert.equal(p.state(), "SYN-SENT");
    p.peerSends({ flags: ACK, seq: PEER_ISS, ack: OUR_ISS }); // SEG.ACK =< ISS
    p.expectSent({ flags: RST, seq: OUR_ISS });
    p.peerSends({ flags: SYN | ACK, seq: PEER_ISS, ack: add(L, 5) }); // SEG.ACK > SND.NXT
    p.expectSent({ flags: RST, seq: add(L, 5) });
    p.expectNothing();
    assert.equal(p.state(), "SYN-SENT");
  });

  it("MSS option: ours is clamped to MTU - 40; the peer's bounds our segments (RFC 9293 §3.7.1)", () => {
    const p = listening({ mtu: 1000 });
    p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460 });
    const t = p.stack.tcp.find(SERVER_PORT, PEER_IP, PEER_PORT);
    assert.ok(t !== null);
    p.adopt(t);
    p.expectSent({ flags: SYN | ACK, seq: t.iss, ack: P, win: 5840, mss: 960 });
    p.peerSends({ flags: ACK, seq: P, ack: add(t.iss, 1) });
    assert.equal(p.state(), "ESTABLISHED");
    t.owner = p.owner;
    p.stack.tcp.accept(p.listener);
    p.write(1000);
    p.expectSent({ flags: ACK, seq: add(t.iss, 1), ack: P, len: 960 }); // min(peer 1460, MTU 1000 - 40)
    p.expectNothing(); // Nagle: the 40-byte tail waits for the ACK
  });

  it("no MSS option from the peer -> 536-byte segments (RFC 9293 §3.7.1, RFC 1122 §4.2.2.6)", () => {
    const p = established(PLAIN);
    p.write(1000);
    p.expectSent({ flags: ACK, seq: L, ack: P, len: 536 });
    p.expectNothing();
    p.peerSends({ flags: ACK, seq: P, ack: add(L, 536) });
    p.expectSent({ flags: ACK | PSH, seq: add(L, 536), ack: P, len: 464 });
    p.expectNothing();
  });

  it("window scale: both offer -> on, SYN windows unscaled, later windows scaled (RFC 7323 §2.2, §2.3)", () => {
    // 64 KiB receive buffer: our shift is 1.
    const p = synReceived({ config: { preset: "throughput" }, wscale: 7, peerWin: 1000 });
    const t = p.t;
    assert.equal(t.wsOk, true);
    assert.equal(t.sndWnd, 1000, "the window in the SYN is not scaled");
    p.peerSends({ flags: ACK, seq: P, ack: L, win: 100 });
    assert.equal(p.state(), "ESTABLISHED");
    assert.equal(t.sndWnd, 100 << 7, "windows after the SYN are scaled by the peer's shift");
    // Our segments carry our window >> 1: the SYN-ACK offered 65535, the right edge stays (65534 >> 1).
    p.peerSends({ flags: ACK | PSH, seq: P, ack: L, win: 100, data: 10 });
    p.advance(40);
    p.expectSent({ flags: ACK, seq: L, ack: add(P, 10), win: (65535 - 10) >>> 1 });
  });

  it("window scale: peer offers, we do not -> off both ways (RFC 7323 §1.3)", () => {
    const p = synReceived({ wscale: 7 }); // default preset: 5840-byte buffer, no window scaling offered
    assert.equal(p.t.wsOk, false);
    p.peerSends({ flags: ACK, seq: P, ack: L, win: 100 });
    assert.equal(p.t.sndWnd, 100);
  });

  it("window scale: we offer, peer does not -> off, our windows unscaled (RFC 7323 §1.3)", () => {
    const p = synSent({ config: { preset: "throughput" } }); // checks wscale=1 in our SYN
    p.peerSends({ flags: SYN | ACK, seq: PEER_ISS, ack: L, mss: 1460, win: 100 });
    p.expectSent({ flags: ACK, seq: L, ack: P, win: 65535 });
    p.expectNothing();
    assert.equal(p.t.wsOk, false);
    assert.equal(p.t.sndWnd, 100);
    p.peerSends({ flags: ACK, seq: P, ack: L, win: 200 });
    assert.equal(p.t.sndWnd, 200);
  });

  it("SYN-SENT: the window of the SYN-ACK is not scaled (RFC 7323 §2.2)", () => {
    const p = synSent({ config: { preset: "throughput" } });
    p.peerSends({ flags: SYN | ACK, seq: PEER_ISS, ack: L, mss: 1460, wscale: 3, win: 1000 });
    p.expectSent({ flags: ACK, seq: L, ack: P, win: 65536 >>> 1 });
    assert.equal(p.t.sndWnd, 1000);
    p.peerSends({ flags: ACK, seq: P, ack: L, win: 1000 });
    assert.equal(p.t.sndWnd, 8000);
  });

  it("SACK-permitted: echoed only when both allow it (RFC 2018 §2)", () => {
    const on = synReceived({ sackOk: true, ts: false }); // the fixture checks sackOk in the SYN-ACK
    assert.equal(on.t.sackOk, true);
    const off = synReceived({ sackOk: false, ts: false });
    assert.equal(off.t.sackOk, false);
    const cfgOff = synReceived({ config: { sack: false }, sackOk: true, ts: false });
    assert.equal(cfgOff.t.sackOk, false);
  });

  it("timestamps: on only when both offer; then on every segment, effective MSS = MSS - 12 (RFC 7323 §3.2)", () => {
    const on = established({ ts: true, sackOk: false });
    assert.equal(on.t.tsOk, true);
    on.write(3000);
    on.expectSent({ flags: ACK, seq: L, ack: P, len: 1448 });
    on.expectSent({ flags: ACK, seq: add(L, 1448), ack: P, len: 1448 });
    on.expectNothing();

    const off = established({ ts: false, sackOk: false });
    assert.equal(off.t.tsOk, false);
    off.write(3000);
    off.expectSent({ flags: ACK, seq: L, ack: P, len: 1460, ts: null });
    off.expectSent({ flags: ACK, seq: add(L, 1460), ack: P, len: 1460, ts: null });
    off.expectNothing();

    const cfgOff = synReceived({ config: { timestamps: false }, ts: true });
    assert.equal(cfgOff.t.tsOk, false);
  });

  it("SYN-SENT + SYN -> SYN-RECEIVED, SYN,ACK with our ISS; + ACK -> ESTABLISHED (RFC 9293 §3.5 figure 8)", () => {
    const p = synSent();
    p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460, sackOk: true, ts: [PEER_TS0, 0] });
    assert.equal(p.state(), "SYN-RECEIVED");
    // Passive-style options: only what the peer offered is echoed.
    p.expectSent({ flags: SYN | ACK, seq: OUR_ISS, ack: P, win: 5840, mss: 1460, sackOk: true, ts: [p.ourTs(), PEER_TS0] });
    p.expectNothing();
    p.tsOn = true;
    p.peerSends({ flags: ACK, seq: P, ack: L });
    p.expectNothing();
    assert.equal(p.state(), "ESTABLISHED");
    p.advance(0);
    assert.ok((p.owner.all() & EV_CONNECTED) !== 0);
  });

  it("SYN-SENT: SYN retransmitted with exponential backoff, abort after synRetries (RFC 6298 §5.5, RFC 1122 §4.2.3.5)", () => {
    const p = synSent({ config: { synRetries: 2 } });
    const syn = { flags: SYN, seq: OUR_ISS, win: 5840, mss: 1460, sackOk: true };
    p.advance(999);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ ...syn, ts: [p.ourTs(1000), 0], at: 1000 });
    p.advance(1999);
    p.expectNothing();
    p.advance(1);
    p.expectSent({ ...syn, ts: [p.ourTs(3000), 0], at: 3000 });
    p.advance(4000); // the third timeout: give up, no RST in SYN-SENT
    p.expectNothing();
    assert.equal(p.state(), "CLOSED");
    assert.equal(p.t.error, ERR_TIMEOUT);
    assert.ok((p.owner.all() & EV_ERROR) !== 0);
    assert.equal(p.counters.tcpSynRetrans, 2);
    p.release();
    assert.equal(p.stack.tcp.inUse().connections, 0);
  });

  it("SYN-RECEIVED: SYN-ACK retransmitted with backoff, half-open connection dropped after synRetries (RFC 6298 §5.5)", () => {
    const p = synReceived({ config: { synRetries: 2 } });
    const synAck = { flags: SYN | ACK, seq: OUR_ISS, ack: P, win: 5840, mss: 1460, sackOk: true };
    p.advance(1000);
    p.expectSent({ ...synAck, ts: [p.ourTs(1000), PEER_TS0], at: 1000 });
    p.advance(2000);
    p.expectSent({ ...synAck, ts: [p.ourTs(3000), PEER_TS0], at: 3000 });
    p.advance(4000);
    p.expectNothing();
    assert.equal(p.stack.tcp.inUse().connections, 0);
    assert.equal(p.stack.tcp.acceptable(p.listener), 0);
  });

  it("SYN-RECEIVED + duplicate SYN -> the SYN-ACK again (RFC 9293 §3.10.7.4, RFC 793 §3.4)", () => {
    const p = synReceived();
    p.advance(100);
    p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460, sackOk: true, ts: [p.peerTs(), 0] });
    // TS.Recent is not updated by an unacceptable segment: the echo is still the first SYN's TSval.
    p.expectSent({ flags: SYN | ACK, seq: OUR_ISS, ack: P, win: 5840, mss: 1460, sackOk: true, ts: [p.ourTs(), PEER_TS0] });
    p.expectNothing();
    assert.equal(p.state(), "SYN-RECEIVED");
  });

  it("SYN-RECEIVED (passive) + SYN with a new sequence number in window -> back to LISTEN, no reply (RFC 9293 §3.10.7.4)", () => {
    const p = synReceived();
    p.peerSends({ flags: SYN, seq: add(P, 100), mss: 1460, ts: [p.peerTs(), 0] });
    p.expectNothing();
    assert.equal(p.stack.tcp.inUse().connections, 0);
    assert.equal(p.stack.tcp.inUse().listeners, 1);
  });

  it("ISN: different 4-tuples get unrelated ISNs; the same tuple later gets ISN + 250 per ms (RFC 6528 §3)", () => {
    const p = listening();
    const isnOf = (port: number): number => {
      p.peerSends({ flags: SYN, seq: PEER_ISS, srcPort: port, mss: 1460 });
      const s = p.next();
      assert.ok(s !== null && s.flags === (SYN | ACK) && s.dstPort === port);
      p.peerSends({ flags: RST, seq: P, srcPort: port }); // back to LISTEN
      assert.equal(p.stack.tcp.inUse().connections, 0);
      return s.seq;
    };
    const a0 = isnOf(PEER_PORT);
    const b0 = isnOf(PEER_PORT + 1);
    p.advance(1000);
    const a1 = isnOf(PEER_PORT);
    const b1 = isnOf(PEER_PORT + 1);
    assert.equal((a1 - a0) >>> 0, 250000, "same tuple: the 4 µs clock moved 1000 ms");
    assert.equal((b1 - b0) >>> 0, 250000);
    const d = Math.abs((b0 - a0) | 0);
    assert.ok(d > 1 << 20, `ISNs of different tuples ${a0} ${b0} are close (F is a keyed hash)`);
    // A stack with another secret picks other ISNs for the same tuple at the same time.
    const q = new Peer({ seed: 99 });
    q.stack.tcp.listen(q.listenerOwner, SERVER_PORT, 4);
    q.advance(1000);
    q.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460 });
    const s = q.next();
    assert.ok(s !== null && s.seq !== a1);
    q.peerSends({ flags: RST, seq: P });
  });

  it("CLOSED port: SYN -> RST,ACK <SEQ=0><ACK=SEG.SEQ+SEG.LEN> (RFC 9293 §3.10.7.1)", () => {
    const p = new Peer();
    p.localPort = 81;
    p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 1460 });
    p.expectSent({ flags: RST | ACK, seq: 0, ack: P });
    p.peerSends({ flags: SYN, seq: PEER_ISS, data: 10 });
    p.expectSent({ flags: RST | ACK, seq: 0, ack: add(P, 10) });
    p.peerSends({ flags: FIN, seq: 1234, data: 5 });
    p.expectSent({ flags: RST | ACK, seq: 0, ack: 1240 });
    p.expectNothing();
    assert.equal(p.counters.tcpNoPort, 3);
    assert.equal(p.counters.tcpOutRsts, 3);
  });

  it("CLOSED port: ACK -> RST <SEQ=SEG.ACK>; RST -> nothing (RFC 9293 §3.10.7.1)", () => {
    const p = new Peer();
    p.localPort = 81;
    p.peerSends({ flags: ACK, seq: 5, ack: 0xfffffffe });
    p.expectSent({ flags: RST, seq: 0xfffffffe });
    p.peerSends({ flags: FIN | ACK, seq: 5, ack: 77, data: 3 });
    p.expectSent({ flags: RST, seq: 77 });
    p.peerSends({ flags: RST, seq: 5 });
    p.peerSends({ flags: RST | ACK, seq: 5, ack: 9 });
    p.expectNothing();
  });

  it("LISTEN: ACK -> RST <SEQ=SEG.ACK>; RST -> nothing; FIN alone -> nothing (RFC 9293 §3.10.7.2)", () => {
    const p = listening();
    p.peerSends({ flags: ACK, seq: 5, ack: 1000 });
    p.expectSent({ flags: RST, seq: 1000 });
    p.peerSends({ flags: RST, seq: 5 });
    p.peerSends({ flags: FIN, seq: 5 });
    p.expectNothing();
    assert.equal(p.stack.tcp.inUse().connections, 0);
  });

  it("segment with a bad checksum is dropped and counted (RFC 9293 §3.1)", () => {
    const p = listening();
    p.peerSends({ flags: SYN, seq: PEER_ISS, badChecksum: true });
    p.expectNothing();
    assert.equal(p.counters.tcpInBadChecksum, 1);
    assert.equal(p.stack.tcp.inUse().connections, 0);
  });
});



