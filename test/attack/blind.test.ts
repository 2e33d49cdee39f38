/**
 * Blind (off-path) attacks, RFC 5961, against an ESTABLISHED connection (scripted peer): campaigns of
 * forged RSTs, SYNs and data segments with guessed sequence/acknowledgment numbers, in and out of
 * the window. The connection must survive every attempt that does not hit RCV.NXT exactly, challenge
 * ACKs must be rate-limited (RFC 5961 §7), and the counters must account for every attempt.
 * SEED=n changes the guesses.
 */
import assert from "node:assert/strict";
import { Rng } from "../../host-sim/rng.js";
import { ACK, add, established, OUR_ISS, PEER_ISS, peerData, PSH, RST, SYN, teardownAll, type Peer } from "../helpers/peer.js";

const L = add(OUR_ISS, 1);
const P = add(PEER_ISS, 1);
const seed = process.env.SEED !== undefined ? Number(process.env.SEED) : 5961;

/** Snapshot of the counters an attack moves. */
function snap(p: Peer): Record<string, number> {
  const c = p.counters;
  return {
    rstOow: c.tcpInRstOutOfWindow, rsts: c.tcpInRsts, ch: c.tcpChallengeAcks, chSup: c.tcpChallengeAcksSuppressed,
    unacc: c.tcpInUnacceptable, tooNew: c.tcpInAckTooNew, tooOld: c.tcpInAckTooOld, inSegs: c.tcpInSegs, paws: c.tcpPawsDrops,
  };
}
function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const k of Object.keys(a)) d[k] = b[k] - a[k];
  return d;
}

/** Every frame the stack sent since the last drain is a pure ACK <SEQ=SND.NXT><ACK=RCV.NXT>. */
function pureAcks(p: Peer): number {
  const segs = p.drain();
  for (const s of segs) {
    assert.equal(s.flags, ACK, "only ACKs are sent in answer to an attack");
    assert.equal(s.seq, p.t.sndNxt >>> 0);
    assert.equal(s.ack, p.t.rcvNxt >>> 0);
    assert.equal(s.len, 0);
  }
  return segs.length;
}

/** After the attack the connection still carries data both ways, byte-exact. */
function stillWorks(p: Peer): void {
  assert.equal(p.state(), "ESTABLISHED");
  const seq = p.t.rcvNxt;
  p.peerSends({ flags: ACK | PSH, seq, ack: p.t.sndNxt, data: 300 });
  const got = p.read(1000);
  assert.deepEqual(Array.from(got), Array.from(peerData(seq, 300)), "data after the attack arrives intact");
  p.advance(200);
  p.drain();
}

export const figures: Record<string, number> = {};

describe("attack: blind RST, SYN and data injection (RFC 5961)", () => {
  afterEach(function () { teardownAll(this.currentTest?.state === "passed"); });

  it("RST campaign: 2000 guesses in and out of the window over 20 s -> connection kept, challenge ACKs ≤ 10/s, every attempt counted", () => {
    const rng = new Rng(seed);
    const p = established();
    p.drain();
    const wnd = p.t.rcvSpace();
    const before = snap(p);
    let inWin = 0, outWin = 0, acks = 0, maxPerSecond = 0;
    for (let sec = 0; sec < 20; sec++) {
      let thisSecond = 0;
      for (let k = 0; k < 100; k++) {
        let seq: number;
        if (rng.chance(0.5)) { seq = add(P, 1 + rng.int(wnd - 1)); inWin++; } // in window, never RCV.NXT itself
        else { seq = add(P, wnd + rng.int(0x7fffffff)); outWin++; if (rng.chance(0.5)) seq = add(P, -1 - rng.int(0x7fffffff)); }
        p.peerSends({ flags: rng.chance(0.5) ? RST : RST | ACK, seq, ack: rng.nextU32() });
        thisSecond += pureAcks(p);
        p.advance(10);
      }
      acks += thisSecond;
      maxPerSecond = Math.max(maxPerSecond, thisSecond);
    }
    const d = delta(before, snap(p));
    assert.equal(p.state(), "ESTABLISHED");
    assert.equal(d.rsts, 0, "no RST accepted");
    assert.equal(d.rstOow, outWin, "every out-of-window RST counted");
    assert.equal(d.ch + d.chSup, inWin, "every in-window RST counted as a challenge ACK sent or suppressed");
    assert.equal(d.ch, acks, "every challenge ACK counted was sent");
    assert.ok(maxPerSecond <= p.stack.config.challengeAckPerSec, `${maxPerSecond} challenge ACKs in one second`);
    assert.ok(d.chSup > 0);
    figures.rstAttempts = inWin + outWin; figures.rstChallengeSent = d.ch; figures.rstChallengeSuppressed = d.chSup;
    stillWorks(p);
  });

  it("an RST at exactly RCV.NXT resets (the one guess in 2^32 that wins, RFC 5961 §3.2)", () => {
    const p = established();
    p.peerSends({ flags: RST, seq: P });
    assert.equal(p.state(), "CLOSED");
    assert.equal(p.counters.tcpInRsts, 1);
    p.release();
  });

  it("challenge ACK budget: 1000 in-window RSTs in one second -> exactly challengeAckPerSec ACKs, the rest suppressed; refilled the next second", () => {
    const p = established();
    p.drain();
    const lim = p.stack.config.challengeAckPerSec;
    for (let k = 0; k < 1000; k++) p.peerSends({ flags: RST, seq: add(P, 1 + (k % 1000)) });
    assert.equal(pureAcks(p), lim);
    assert.equal(p.counters.tcpChallengeAcks, lim);
    assert.equal(p.counters.tcpChallengeAcksSuppressed, 1000 - lim);
    p.advance(1000);
    for (let k = 0; k < 50; k++) p.peerSends({ flags: RST, seq: add(P, 5) });
    assert.equal(pureAcks(p), lim);
    assert.equal(p.state(), "ESTABLISHED");
  });

  it("SYN campaign: 1000 forged SYNs (in and out of the window) -> connection kept, every one a rate-limited challenge-ACK case (RFC 5961 §4.2), every attempt counted", () => {
    const rng = new Rng(seed + 1);
    const p = established();
    p.drain();
    const wnd = p.t.rcvSpace();
    const before = snap(p);
    let inWin = 0, outWin = 0, sent = 0;
    for (let k = 0; k < 1000; k++) {
      const inside = rng.chance(0.5);
      const seq = inside ? add(P, rng.int(wnd)) : add(P, wnd + rng.int(0x7fffffff));
      if (inside) inWin++; else outWin++;
      p.peerSends({ flags: rng.chance(0.5) ? SYN : SYN | ACK, seq, ack: rng.nextU32(), mss: 1460 });
      sent += pureAcks(p);
      if (k % 50 === 49) p.advance(500);
    }
    const d = delta(before, snap(p));
    assert.equal(p.state(), "ESTABLISHED");
    assert.equal(d.ch + d.chSup, inWin + outWin, "every SYN, in or out of the window: challenge ACK sent or suppressed");
    assert.equal(d.unacc, 0, "no SYN is answered as a plain unacceptable segment");
    assert.equal(sent, d.ch, "the only answers are the challenge ACKs within the rate limit");
    figures.synAttempts = inWin + outWin; figures.synChallengeSent = d.ch; figures.synChallengeSuppressed = d.chSup; figures.synOowAcks = 0;
    stillWorks(p);
  });

  it("data injection campaign: 1000 forged data segments (seq in/out of window, ACK outside [SND.UNA-MAX.SND.WND, SND.NXT]) -> nothing delivered, every attempt counted", () => {
    const rng = new Rng(seed + 2);
    const p = established();
    p.write(1000); // something in flight: SND.UNA < SND.NXT
    p.drain();
    const t = p.t;
    const wnd = t.rcvSpace();
    const before = snap(p);
    let oowSeq = 0, tooNew = 0, tooOld = 0, sent = 0;
    for (let k = 0; k < 1000; k++) {
      const r = rng.int(3);
      let seq = add(P, rng.int(wnd - 100)), ack: number;
      if (r === 0) { seq = add(P, wnd + rng.int(0x7fffffff)); ack = rng.nextU32(); oowSeq++; }
      else if (r === 1) { ack = add(t.sndNxt, 1 + rng.int(0x7fff0000)); tooNew++; }
      else { ack = add(t.sndUna, -Math.max(t.maxSndWnd, 1) - 1 - rng.int(0x7fff0000)); tooOld++; }
      p.peerSends({ flags: ACK | PSH, seq, ack, data: 1 + rng.int(100) });
      sent += pureAcks(p);
    }
    const d = delta(before, snap(p));
    assert.equal(t.rcvNxt >>> 0, P, "no byte accepted");
    assert.equal(t.rcvLen, 0);
    assert.equal(d.unacc, oowSeq, "out-of-window: unacceptable");
    assert.equal(d.tooNew, tooNew, "ACK beyond SND.NXT: counted");
    assert.equal(d.tooOld, tooOld, "ACK below SND.UNA - MAX.SND.WND: counted");
    assert.equal(sent, 1000, "each answered by one ACK (RFC 5961 §5.2, RFC 9293)");
    figures.dataAttempts = 1000;
    // The real peer acknowledges our data: the connection is intact.
    p.peerSends({ flags: ACK, seq: P, ack: t.sndNxt });
    assert.equal(t.sndUna >>> 0, t.sndNxt >>> 0);
    p.drain();
    stillWorks(p);
  });

  after(() => { if (Object.keys(figures).length > 0) console.log(`      blind-attack figures ${JSON.stringify(figures)}`); });
});

export { L };
