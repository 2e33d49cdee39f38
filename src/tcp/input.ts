/**
 * Segment arrival for an existing connection: RFC 9293 §3.10.7.3 (SYN-SENT) and §3.10.7.4 (the other
 * states), with RFC 5961 (exact-RST rule, challenge ACKs, ACK range check), RFC 7323 (PAWS, RTTM,
 * window scale), RFC 6298 (RTT samples, Karn), RFC 5681 + RFC 6582 (congestion control, NewReno).
 * The segment is in tcp.seg / tcp.opts. Nothing is allocated.
 */
import { ACK, FIN, RST, SYN } from "../wire/tcp.js";
import { armRtx, output, sendAck, sendSegment } from "./output.js";
import { isLost, sackAdvance, sackUpdate } from "./sack.js";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "./seq.js";
import {
  CLOSE_WAIT, CLOSED, CLOSING, ERR_CLOSED, ERR_NONE, ERR_REFUSED, ERR_RESET, ESTABLISHED, EV_CONNECTED, EV_ERROR,
  EV_READABLE, EV_WRITABLE, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, OOO_MAX, SYN_RECEIVED, SYN_SENT, T_DELACK,
  T_RTX, TIME_WAIT, type Tcb,
} from "./tcb.js";
import type { Tcp } from "./tcp.js";

export function segmentArrives(tcp: Tcp, t: Tcb, now: number): void {
  if (t.state === SYN_SENT) { synSent(tcp, t, now); return; }
  const s = tcp.seg, o = tcp.opts, c = tcp.c;
  const flags = s.flags();
  let seq = s.seq();
  let dataAt = s.dataAt();
  let dataLen = s.dataLen();
  const ack = s.ack();

  // RFC 7323 §5.3 PAWS: an old timestamp means an old duplicate (not for RSTs).
  if (t.tsOk && o.hasTs && (flags & RST) === 0 && seqLt(o.tsVal, t.tsRecent)) {
    c.tcpPawsDrops++;
    sendAck(tcp, t, now);
    return;
  }

  // First: the sequence number (acceptability test, RFC 9293 §3.10.7.4 table).
  let segLen = dataLen;
  if ((flags & SYN) !== 0) segLen++;
  if ((flags & FIN) !== 0) segLen++;
  const wnd = t.rcvSpace();
  const rcvNxt = t.rcvNxt;
  let ok: boolean;
  // A bare ACK whose sequence number is exactly the right edge is accepted (as Linux does): a peer
  // that filled our window sends its ACKs with SEQ = RCV.NXT + RCV.WND, and ignoring their ACK
  // field stalls the connection while our data waits for acknowledgment.
  // (Not for RSTs: RFC 5961 keeps their window strict.)
  if (segLen === 0) {
    const edge = seqAdd(rcvNxt, wnd);
    ok = wnd === 0 ? seq === rcvNxt : seqLe(rcvNxt, seq) && ((flags & RST) === 0 ? seqLe(seq, edge) : seqLt(seq, edge));
  }
  else if (wnd === 0) ok = false;
  else {
    const end = seqAdd(seq, segLen - 1);
    ok = (seqLe(rcvNxt, seq) && seqLt(seq, seqAdd(rcvNxt, wnd))) || (seqLe(rcvNxt, end) && seqLt(end, seqAdd(rcvNxt, wnd)));
  }
  // A zero-window probe (or keepalive) carrying data we cannot take still gets an ACK below.
  if (!ok) {
    if ((flags & RST) !== 0) { c.tcpInRstOutOfWindow++; return; }
    if (t.state === SYN_RECEIVED && (flags & SYN) !== 0 && seq === t.irs) {
      // Simultaneous open (RFC 9293 §3.5 figure 8): the peer's SYN,ACK acknowledging our SYN completes it.
      if ((flags & ACK) !== 0 && seqLt(t.sndUna, ack) && seqLe(ack, t.sndMax)) {
        established(tcp, t, now);
        t.sndUna = ack;
        t.sndWnd = s.window(); // a SYN's window is never scaled (RFC 7323 §2.2)
        t.maxSndWnd = t.sndWnd;
        t.sndWl1 = seq; t.sndWl2 = ack;
        t.lastRecv = now;
        t.ackNow = true;
        output(tcp, t, now);
        return;
      }
      // Duplicate SYN in SYN-RECEIVED: the SYN-ACK was lost, send it again.
      sendSegment(tcp, t, t.iss, SYN | ACK, 0, now);
      return;
    }
    // RFC 5961 §4.2: a SYN, whatever its sequence number, gets a (rate-limited) challenge ACK.
    if ((flags & SYN) !== 0) { if (tcp.challengeAllowed(now)) sendAck(tcp, t, now); return; }
    c.tcpInUnacceptable++;
    // A keepalive or an old duplicate: just ACK. Note activity for keepalive.
    t.lastRecv = now; t.keepAliveSent = 0; tcp.armKeepAlive(t);
    sendAck(tcp, t, now);
    return;
  }

  // Second: RST (RFC 5961 §3.2: only the exact RCV.NXT resets; in-window otherwise -> challenge ACK).
  if ((flags & RST) !== 0) {
    if (seq !== rcvNxt) {
      if (tcp.challengeAllowed(now)) sendAck(tcp, t, now);
      return;
    }
    c.tcpInRsts++;
    switch (t.state) {
      case SYN_RECEIVED:
        // Passive open: back to LISTEN (the block is freed); active: connection refused.
        if (t.listener >= 0 && !t.accepted) { t.orphan = true; tcp.release(t, ERR_NONE); }
        else { c.tcpAttemptFails++; tcp.release(t, ERR_REFUSED); }
        return;
      case ESTABLISHED: case FIN_WAIT_1: case FIN_WAIT_2: case CLOSE_WAIT:
        c.tcpEstabResets++;
        // RFC 9293: any outstanding RECEIVEs and SEND should receive "reset"; the data is dropped.
        t.sndLen = 0;
        tcp.release(t, ERR_RESET);
        return;
      default: // CLOSING, LAST-ACK
        tcp.release(t, ERR_NONE);
        return;
    }
  }

  // Fourth (checked before trimming, so that a SYN just below RCV.NXT cannot slip through as an old
  // byte): SYN in a synchronized state, RFC 5961 §4.2 / RFC 9293 §3.10.7.4 -> challenge ACK.
  if ((flags & SYN) !== 0) {
    if (t.state === SYN_RECEIVED && t.listener >= 0 && !t.accepted) {
      t.orphan = true; tcp.release(t, ERR_NONE); // passive: back to LISTEN
      return;
    }
    if (tcp.challengeAllowed(now)) sendAck(tcp, t, now);
    return;
  }

  // Trim to the window: bytes before RCV.NXT and after the right edge (incl. a FIN).
  let fin = (flags & FIN) !== 0;
  if (seqLt(seq, rcvNxt)) {
    let skip = seqDiff(rcvNxt, seq);
    if (skip > dataLen) { skip = dataLen; }
    dataAt += skip; dataLen -= skip; seq = seqAdd(seq, skip);
  }
  const room = seqDiff(seqAdd(rcvNxt, wnd), seq);
  if (dataLen > room) { dataLen = room > 0 ? room : 0; fin = false; c.tcpInDataTrimmed++; }

  // Fifth: ACK.
  if ((flags & ACK) === 0) return;
  t.lastRecv = now;
  t.keepAliveSent = 0;
  if (t.state === SYN_RECEIVED) {
    if (seqLt(t.sndUna, ack) && seqLe(ack, t.sndMax)) {
      established(tcp, t, now);
      t.sndWnd = s.window() << t.sndScale;
      t.maxSndWnd = t.sndWnd;
      t.sndWl1 = seq; t.sndWl2 = ack;
    } else {
      // RFC 9293: <SEQ=SEG.ACK><CTL=RST>
      tcp.rstFor(t.remoteIp, t.localIp, now);
      return;
    }
  }
  // RFC 5961 §5.2: acceptable ACKs are in [SND.UNA - MAX.SND.WND, SND.NXT].
  if (seqGt(ack, t.sndMax)) { c.tcpInAckTooNew++; sendAck(tcp, t, now); return; }
  if (seqLt(ack, seqAdd(t.sndUna, -Math.max(t.maxSndWnd, 1)))) { c.tcpInAckTooOld++; sendAck(tcp, t, now); return; }

  // RFC 7323 §4.3: update TS.Recent when the segment covers Last.ACK.sent.
  if (t.tsOk && o.hasTs && seqLe(seq, t.lastAckSent) && seqGe(seqAdd(seq, dataLen + (fin ? 1 : 0)), t.lastAckSent)) t.tsRecent = o.tsVal;

  processAck(tcp, t, seq, ack, dataLen, fin, now);
  if (t.state === CLOSED) return;

  // Seventh: segment text (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2).
  const st = t.state;
  if (dataLen > 0 && (st === ESTABLISHED || st === FIN_WAIT_1 || st === FIN_WAIT_2)) {
    receiveData(tcp, t, seq, s.b, dataAt, dataLen, fin, now);
  } else if (dataLen > 0) {
    t.ackNow = true; // after a FIN: ignore the text, but ACK
  }

  // Eighth: FIN, if it is now in sequence.
  if (fin && seqAdd(seq, dataLen) === t.rcvNxt && !t.finRcvd) receiveFin(tcp, t, now);
  else if (fin && t.finRcvd && t.state === TIME_WAIT) t.ackNow = true;

  tcp.armKeepAlive(t);
  output(tcp, t, now);
}

/** SYN-RECEIVED -> ESTABLISHED (or SYN-SENT -> ESTABLISHED). */
function established(tcp: Tcp, t: Tcb, now: number): void {
  t.state = ESTABLISHED;
  t.retries = 0;
  tcp.setTimer(t, T_RTX, Infinity);
  void now;
  if (t.listener >= 0 && !t.accepted) tcp.queueAccept(t);
  else { t.events |= EV_CONNECTED | EV_WRITABLE; tcp.pendingWork = true; }
  tcp.armKeepAlive(t);
}

/** RFC 9293 §3.10.7.3: SYN-SENT. */
function synSent(tcp: Tcp, t: Tcb, now: number): void {
  const s = tcp.seg, c = tcp.c;
  const flags = s.flags();
  const ack = s.ack();
  const hasAck = (flags & ACK) !== 0;
  if (hasAck && (seqLe(ack, t.iss) || seqGt(ack, t.sndMax))) {
    if ((flags & RST) === 0) tcp.rstFor(t.remoteIp, t.localIp, now);
    return;
  }
  if ((flags & RST) !== 0) {
    // RFC 5961 §3.2 / RFC 9293: only a RST that acknowledges our SYN is believed.
    if (hasAck) { c.tcpAttemptFails++; c.tcpInRsts++; tcp.release(t, ERR_REFUSED); }
    return;
  }
  if ((flags & SYN) === 0) return;
  t.irs = s.seq();
  t.rcvNxt = seqAdd(t.irs, 1);
  t.rcvAdv = t.rcvNxt;
  tcp.negotiate(t, now);
  if (hasAck) {
    t.sndUna = ack;
    rttSample(tcp, t, now, ack);
    t.sndWnd = s.window(); // RFC 7323 §2.2: the window in a SYN (or SYN-ACK) is never scaled
    t.maxSndWnd = t.sndWnd;
    t.sndWl1 = t.irs; t.sndWl2 = ack;
    established(tcp, t, now);
    t.lastRecv = now;
    // Data in the SYN-ACK is not expected; it is dropped (the peer retransmits it) and ACKed.
    t.ackNow = true;
    output(tcp, t, now);
  } else {
    // Simultaneous open (RFC 9293 §3.5 figure 7): SYN-RECEIVED, send SYN-ACK with our ISS.
    t.state = SYN_RECEIVED;
    t.sndWnd = s.window();
    t.maxSndWnd = t.sndWnd;
    t.sndWl1 = t.irs; t.sndWl2 = t.iss;
    sendSegment(tcp, t, t.iss, SYN | ACK, 0, now);
  }
}

/** RFC 6298 RTT sample from timestamps (RFC 7323 §4) or the timed segment (Karn). */
function rttSample(tcp: Tcp, t: Tcb, now: number, ack: number): void {
  let r = -1;
  const o = tcp.opts;
  if (t.tsOk && o.hasTs && o.tsEcr !== 0) {
    // An echo of a timestamp sent before the last timeout measures the timeout too: skip it.
    if (((o.tsEcr - t.tsRtxFloor) | 0) < 0) return;
    r = ((Math.floor(now) + t.tsOffset - o.tsEcr) | 0);
    if (r < 0) r = -1;
  } else if (t.rttTiming && seqGt(ack, t.rttSeq)) {
    r = now - t.rttTime;
    t.rttTiming = false;
  }
  if (r < 0) return;
  if (t.srtt === 0) { t.srtt = r; t.rttvar = r / 2; }
  else {
    // RFC 6298 §2.3: alpha = 1/8, beta = 1/4.
    const d = t.srtt > r ? t.srtt - r : r - t.srtt;
    t.rttvar = 0.75 * t.rttvar + 0.25 * d;
    t.srtt = 0.875 * t.srtt + 0.125 * r;
  }
  let rto = t.srtt + Math.max(1, 4 * t.rttvar);
  const cfg = tcp.cfg;
  if (rto < cfg.rtoMinMs) rto = cfg.rtoMinMs;
  if (rto > cfg.rtoMaxMs) rto = cfg.rtoMaxMs;
  t.rto = rto;
}

/** Fifth step for synchronized states: SND.UNA, send window, congestion control, our FIN. */
function processAck(tcp: Tcp, t: Tcb, seq: number, ack: number, dataLen: number, fin: boolean, now: number): void {
  const s = tcp.seg, c = tcp.c, o = tcp.opts;
  const win = s.window() << t.sndScale;
  const smss = tcp.effMss(t);
  const flight = t.inFlight();
  // RFC 2018 / RFC 6675: fold the SACK blocks into the scoreboard first.
  const newlySacked = t.sackOk && o.sackCount > 0 ? sackUpdate(t, o.sack, o.sackCount, ack) : 0;
  if (seqGt(ack, t.sndUna)) {
    // New data acknowledged.
    let acked = seqDiff(ack, t.sndUna);
    rttSample(tcp, t, now, ack);
    t.retries = 0;
    // Remove acknowledged data from the ring (a FIN occupies one sequence number but no byte).
    let bytes = acked;
    if (t.sndUna === t.iss) bytes--; // our SYN
    if (t.finSent && seqGt(ack, t.finSeq)) bytes--;
    if (bytes > t.sndLen) bytes = t.sndLen;
    t.sndHead += bytes;
    if (t.sndHead >= t.snd.length) t.sndHead -= t.snd.length;
    t.sndLen -= bytes;
    t.sndUna = ack;
    if (seqLt(t.sndNxt, ack)) t.sndNxt = ack; // after a go-back, the peer had more than we resent
    if (t.sbCount > 0) sackAdvance(t);
    if (bytes > 0) { t.events |= EV_WRITABLE; tcp.pendingWork = true; }
    // Congestion control.
    if (t.inRecovery) {
      if (seqGe(ack, t.recover)) {
        // RFC 6582 §3.2 step 3 / RFC 6675 §5: full ACK ends recovery; deflate the window.
        t.cwnd = Math.min(t.ssthresh, Math.max(seqDiff(t.sndMax, ack), 0) + smss);
        t.inRecovery = false;
        t.dupAcks = 0;
      } else if (t.sackOk) {
        // RFC 6675: a partial ACK in SACK recovery; output() sends by pipe (holes first).
        if (seqLt(t.highRxt, ack)) t.highRxt = ack;
        tcp.setTimer(t, T_RTX, now + t.rto);
      } else {
        // Partial ACK: retransmit the next hole, deflate by the amount acked, add back one SMSS.
        retransmitFirst(tcp, t, now);
        t.cwnd = Math.max(t.cwnd - acked + (acked >= smss ? smss : 0), smss);
        tcp.setTimer(t, T_RTX, now + t.rto);
      }
    } else {
      t.dupAcks = 0;
      if (t.cwnd < t.ssthresh) t.cwnd += Math.min(acked, smss); // slow start, RFC 3465 L = 1 SMSS
      else {
        t.bytesAcked += acked; // congestion avoidance, RFC 3465 byte counting
        if (t.bytesAcked >= t.cwnd) { t.bytesAcked -= t.cwnd; t.cwnd += smss; }
      }
    }
    // RFC 6298 §5.2/5.3: all acked -> stop the timer; else restart it.
    if (t.inFlight() === 0) { if (!t.persisting) tcp.setTimer(t, T_RTX, Infinity); }
    else if (!t.inRecovery) tcp.setTimer(t, T_RTX, now + t.rto);
    acked = 0;
  } else if (ack === t.sndUna && dataLen === 0 && !fin && flight > 0 && !t.persisting && win !== 0 &&
    (win === t.sndWnd || newlySacked > 0)) {
    // RFC 5681 §2 duplicate ACK (RFC 6675: or one that SACKs new data).
    t.dupAcks++;
    const lost = t.sackOk && isLost(t, t.sndUna, smss);
    if ((t.dupAcks === 3 || lost) && !t.inRecovery) {
      // RFC 6582 §3.2 step 2: only if the ACK covers more than `recover` (avoid multiple fast rtx).
      if (seqGt(ack, t.recover) || t.recover === 0 || seqLe(t.recover, t.iss)) {
        c.tcpFastRetrans++;
        t.ssthresh = Math.max(flight >> 1, 2 * smss);
        t.recover = t.sndMax;
        t.inRecovery = true;
        t.highRxt = t.sndUna;
        retransmitFirst(tcp, t, now);
        // RFC 6675 §5 (4.2): cwnd = ssthresh, sending then follows pipe; NewReno inflates by 3 SMSS.
        t.cwnd = t.sackOk ? t.ssthresh : t.ssthresh + 3 * smss;
        tcp.setTimer(t, T_RTX, now + t.rto);
      }
    } else if (t.inRecovery && !t.sackOk) {
      t.cwnd += smss; // RFC 6582 §3.2 step 4: inflate
    }
  }
  // Send window update (RFC 9293 §3.10.7.4: SND.WL1/WL2 rule).
  if (seqLt(t.sndWl1, seq) || (t.sndWl1 === seq && seqLe(t.sndWl2, ack))) {
    t.sndWnd = win;
    t.sndWl1 = seq;
    t.sndWl2 = ack;
    if (win > t.maxSndWnd) t.maxSndWnd = win;
    if (win > 0 && t.persisting) {
      // The window opened: a probe byte not acknowledged is simply sent again with the data.
      t.persisting = false;
      if (t.inFlight() <= 1) t.sndNxt = t.sndUna;
      tcp.setTimer(t, T_RTX, t.inFlight() > 0 ? now + t.rto : Infinity);
    }
  }
  if (t.sndWnd > 0 || t.inFlight() > 0) t.dirty = true;
  // Our FIN acknowledged?
  if (t.finSent && seqGt(t.sndUna, t.finSeq)) {
    switch (t.state) {
      case FIN_WAIT_1: t.state = FIN_WAIT_2; tcp.armLinger(t, now); break;
      case CLOSING: tcp.enterTimeWait(t, now); return;
      case LAST_ACK: tcp.release(t, ERR_NONE); return;
      default: break;
    }
  }
}

/** Resend one segment from SND.UNA (fast retransmit, partial ACK). */
function retransmitFirst(tcp: Tcp, t: Tcb, now: number): void {
  const smss = tcp.payloadMax(t);
  let len = seqDiff(t.sndMax, t.sndUna);
  let flags = ACK;
  if (t.finSent && seqGt(t.sndMax, t.finSeq)) len--;
  if (len > t.sndLen) len = t.sndLen;
  if (len > smss) len = smss;
  else if (t.finSent && len === seqDiff(t.finSeq, t.sndUna)) flags |= FIN;
  if (len <= 0 && (flags & FIN) === 0) return;
  if (sendSegment(tcp, t, t.sndUna, flags, len, now)) {
    tcp.c.tcpRetransSegs++;
    t.retransmits++;
    t.rttTiming = false; // Karn
    const end = (t.sndUna + len) >>> 0;
    if (seqGt(end, t.highRxt)) t.highRxt = end;
  }
  armRtx(tcp, t, now);
}

/** Store received text in the ring: in order at RCV.NXT, out of order in place (RFC 9293 §3.10.7.4 seventh). */
function receiveData(tcp: Tcp, t: Tcb, seq: number, b: Uint8Array, at: number, len: number, fin: boolean, now: number): void {
  const c = tcp.c;
  const ring = t.rcv, size = ring.length;
  const off = seqDiff(seq, t.rcvNxt); // >= 0 after trimming
  if (!t.orphan) {
    let pos = t.rcvHead + t.rcvLen + off;
    while (pos >= size) pos -= size;
    for (let k = 0; k < len; k++) {
      ring[pos] = b[at + k];
      if (++pos === size) pos = 0;
    }
  }
  if (off > 0) {
    // Out of order: remember the range (most recent first, RFC 2018 §4) and ACK at once (RFC 5681 §4.2).
    addRange(t, seq, seqAdd(seq, len), c);
    c.tcpInOutOfOrder++;
    t.ackNow = true;
    return;
  }
  let advance = len;
  // Pull in stored ranges that now touch RCV.NXT.
  let end = seqAdd(seq, len);
  const hadHoles = t.oooCount > 0;
  for (let again = true; again;) {
    again = false;
    for (let i = 0; i < t.oooCount; i++) {
      const rs = t.ooo[2 * i], re = t.ooo[2 * i + 1];
      if (seqLe(rs, end)) {
        if (seqGt(re, end)) { advance += seqDiff(re, end); end = re; }
        removeRange(t, i);
        again = true;
        break;
      }
    }
  }
  t.rcvNxt = end;
  t.bytesIn += advance;
  if (!t.orphan) {
    t.rcvLen += advance;
    t.events |= EV_READABLE;
    tcp.pendingWork = true;
  }
  // Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2): every second full-sized segment, at once when a
  // hole was filled, else within delayedAckMs.
  if (len >= t.rcvMss - (t.tsOk ? 12 : 0)) t.unackedSegs++;
  if (hadHoles || t.unackedSegs >= 2 || fin) t.ackNow = true;
  else if (tcp.timer(t, T_DELACK) === Infinity) tcp.setTimer(t, T_DELACK, now + tcp.cfg.delayedAckMs);
}

function addRange(t: Tcb, start: number, end: number, c: { tcpInOutOfOrderDropped: number }): void {
  // Merge with every overlapping/adjacent range, then put the result first.
  for (let i = 0; i < t.oooCount;) {
    const rs = t.ooo[2 * i], re = t.ooo[2 * i + 1];
    if (seqLe(rs, end) && seqLe(start, re)) {
      if (seqLt(rs, start)) start = rs;
      if (seqGt(re, end)) end = re;
      removeRange(t, i);
    } else i++;
  }
  if (t.oooCount === OOO_MAX) {
    // Full: forget the range farthest from RCV.NXT (its bytes will be resent).
    let far = 0;
    for (let i = 1; i < t.oooCount; i++) if (seqGt(t.ooo[2 * i + 1], t.ooo[2 * far + 1])) far = i;
    if (seqGt(t.ooo[2 * far], start)) removeRange(t, far);
    else { c.tcpInOutOfOrderDropped++; return; }
    c.tcpInOutOfOrderDropped++;
  }
  for (let i = t.oooCount; i > 0; i--) { t.ooo[2 * i] = t.ooo[2 * i - 2]; t.ooo[2 * i + 1] = t.ooo[2 * i - 1]; }
  t.ooo[0] = start; t.ooo[1] = end;
  t.oooCount++;
}

function removeRange(t: Tcb, i: number): void {
  for (let k = i; k < t.oooCount - 1; k++) { t.ooo[2 * k] = t.ooo[2 * k + 2]; t.ooo[2 * k + 1] = t.ooo[2 * k + 3]; }
  t.oooCount--;
}

/** Eighth step: the peer's FIN (RFC 9293 §3.10.7.4). */
function receiveFin(tcp: Tcp, t: Tcb, now: number): void {
  t.rcvNxt = seqAdd(t.rcvNxt, 1);
  t.finRcvd = true;
  t.ackNow = true;
  // Tell the owner: data then end of stream (onError after the data is read, at the socket).
  if (!t.orphan) { t.events |= EV_READABLE | EV_ERROR; tcp.pendingWork = true; if (t.error === 0) t.error = ERR_CLOSED; }
  switch (t.state) {
    case SYN_RECEIVED: case ESTABLISHED:
      t.state = CLOSE_WAIT;
      break;
    case FIN_WAIT_1:
      if (t.finSent && seqGt(t.sndUna, t.finSeq)) { sendAck(tcp, t, now); tcp.enterTimeWait(t, now); return; }
      t.state = CLOSING;
      break;
    case FIN_WAIT_2:
      sendAck(tcp, t, now);
      tcp.enterTimeWait(t, now);
      return;
    default:
      break;
  }
}
