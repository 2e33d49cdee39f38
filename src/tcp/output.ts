/**
 * Segment output: what to send now and building the segment (RFC 9293 §3.8.6 window management,
 * RFC 896 Nagle, SWS avoidance both ends, RFC 5681 / 3042 congestion and limited transmit,
 * RFC 7323 options on every segment, RFC 2018 SACK blocks).
 *
 * Every segment is built in the stack's one tx frame: header, options, then payload copied from the
 * send ring. Nothing is allocated.
 */
import { TX_L4 } from "../stack.js";
import { PROTO_TCP } from "../wire/ipv4.js";
import { ACK, emitTcp, emitTcpOptions, fillTcpChecksum, FIN, PSH, RST, SYN, TCP_HLEN, type TcpOptions } from "../wire/tcp.js";
import { nextLostHole, pipe } from "./sack.js";
import { seqAdd, seqDiff, seqGt, seqLt } from "./seq.js";
import {
  CLOSE_WAIT, CLOSED, CLOSING, ESTABLISHED, FIN_WAIT_1, LAST_ACK, SYN_RECEIVED, SYN_SENT, T_DELACK, T_RTX,
  type Tcb,
} from "./tcb.js";
import type { Tcp } from "./tcp.js";

/** Our timestamp clock: ms, offset per connection (RFC 7323 §5.4). */
export function tsNow(t: Tcb, now: number): number {
  return (Math.floor(now) + t.tsOffset) >>> 0;
}

/**
 * The window to advertise now, unscaled bytes (RFC 9293 §3.8.6.2.2 receiver SWS avoidance):
 * the right edge moves only by at least min(buffer/2, MSS), and never moves left.
 */
export function windowToAdvertise(t: Tcb): number {
  const space = t.rcvSpace();
  const offered = seqDiff(t.rcvAdv, t.rcvNxt); // what the peer may still send (>= 0 unless shrunk)
  const cur = offered > 0 ? offered : 0;
  const step = Math.min(t.rcv.length >> 1, t.rcvMss);
  let wnd = space - cur >= step ? space : cur;
  if (wnd > space && cur <= space) wnd = space;
  const max = 65535 << t.rcvScale;
  if (wnd > max) wnd = max;
  // Round down to what the scaled field can carry.
  return (wnd >>> t.rcvScale) << t.rcvScale;
}

/** Would a window update (ACK) now open the window meaningfully? (RFC 9293 §3.8.6.2.2) */
export function windowUpdateDue(t: Tcb): boolean {
  const right = seqAdd(t.rcvNxt, windowToAdvertise(t));
  const grow = seqDiff(right, t.rcvAdv);
  if (grow <= 0) return false;
  const edge = seqDiff(t.rcvAdv, t.rcvNxt);
  // Always announce when the peer sees (almost) no window; else when it grows by 2 MSS or half the buffer.
  return edge < t.rcvMss || grow >= Math.min(t.rcv.length >> 1, 2 * t.rcvMss);
}

/** Fill tcp.outOpts for a segment of t (timestamps, SACK blocks). `syn`: the SYN options. */
function buildOptions(tcp: Tcp, t: Tcb, syn: boolean, now: number): TcpOptions {
  const o = tcp.outOpts;
  o.clear();
  if (syn) {
    const cfg = tcp.cfg;
    o.mss = t.rcvMss;
    const active = t.state === SYN_SENT;
    // Passive: echo only what the peer offered (RFC 7323 §1.3, RFC 2018 §2).
    if (active ? cfg.windowScale : t.wsOk) o.wscale = tcp.rcvShift;
    if (active ? cfg.sack : t.sackOk) o.sackOk = true;
    if (active ? cfg.timestamps : t.tsOk) {
      o.hasTs = true; o.tsVal = tsNow(t, now); o.tsEcr = active ? 0 : t.tsRecent;
    }
    return o;
  }
  if (t.tsOk) { o.hasTs = true; o.tsVal = tsNow(t, now); o.tsEcr = t.tsRecent; }
  if (t.sackOk && t.oooCount > 0) {
    const n = Math.min(t.oooCount, t.tsOk ? 3 : 4);
    for (let i = 0; i < n; i++) { o.sack[2 * i] = t.ooo[2 * i]; o.sack[2 * i + 1] = t.ooo[2 * i + 1]; }
    o.sackCount = n;
  }
  return o;
}

/**
 * Build and send one segment of t: `seq`, flags, `dataLen` bytes of the send ring starting at
 * sequence `seq`. Updates ACK-related state (rcvAdv, delayed ACK). Returns false if the driver refused.
 */
export function sendSegment(tcp: Tcp, t: Tcb, seq: number, flags: number, dataLen: number, now: number): boolean {
  const stack = tcp.stack;
  const b = stack.tx;
  const syn = (flags & SYN) !== 0;
  const o = buildOptions(tcp, t, syn, now);
  const optLen = emitTcpOptions(b, TX_L4 + TCP_HLEN, o, syn);
  let wnd: number;
  if (syn) wnd = Math.min(t.rcvSpace(), 65535); // RFC 7323 §2.2: the SYN window is never scaled
  else wnd = windowToAdvertise(t);
  const ackNum = (flags & ACK) !== 0 ? t.rcvNxt : 0;
  emitTcp(b, TX_L4, t.localPort, t.remotePort, seq, ackNum, flags, syn ? wnd : wnd >>> t.rcvScale, optLen);
  const hlen = TCP_HLEN + optLen;
  if (dataLen > 0) {
    // Copy payload from the ring: byte at sequence `seq` sits sndHead + (seq - sndUna) into the ring.
    // Ring and tx frame are both in the stack's arena: at most two native copies, no allocation.
    const ring = t.snd, size = ring.length;
    let pos = t.sndHead + seqDiff(seq, t.sndUna);
    if (pos >= size) pos -= size;
    const to = TX_L4 + hlen;
    const first = size - pos < dataLen ? size - pos : dataLen;
    stack.arena.copy(b, to, ring, pos, first);
    if (first < dataLen) stack.arena.copy(b, to + first, ring, 0, dataLen - first);
  }
  fillTcpChecksum(b, TX_L4, hlen + dataLen, t.localIp, t.remoteIp);
  const ok = stack.sendIp(t.remoteIp, PROTO_TCP, hlen + dataLen, now, t.localIp);
  if (!ok) { tcp.c.tcpOutNoRoom++; return false; }
  tcp.c.tcpOutSegs++;
  if ((flags & ACK) !== 0) {
    const right = seqAdd(t.rcvNxt, syn ? wnd : wnd);
    if (seqGt(right, t.rcvAdv)) t.rcvAdv = right;
    t.lastAckSent = t.rcvNxt;
    t.ackNow = false;
    t.unackedSegs = 0;
    tcp.setTimer(t, T_DELACK, Infinity);
  }
  t.lastSend = now;
  return true;
}

/**
 * Send a bare ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> now. While retransmitting after a timeout
 * SND.NXT has gone back; a pure ACK carries the highest sequence sent instead (as BSD does), or the
 * peer, which has seen that data, finds it unacceptable and never reads its acknowledgment.
 */
export function sendAck(tcp: Tcp, t: Tcb, now: number): void {
  sendSegment(tcp, t, seqGt(t.sndMax, t.sndNxt) ? t.sndMax : t.sndNxt, ACK, 0, now);
}

/** A RST not tied to a Tcb (RFC 9293 §3.10.7.1, or abort). No options. */
export function sendRst(tcp: Tcp, src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, now: number): void {
  const o = tcp.outOpts;
  o.clear();
  sendControl(tcp, src, dst, sport, dport, seq, ack, flags, 0, o, now);
  tcp.c.tcpOutRsts++;
}

/**
 * A control segment not tied to a Tcb (RST, TIME-WAIT ACK, SYN cookie SYN-ACK); the caller fills
 * the options (`o.mss` etc. are written in SYN layout when `flags` has SYN).
 */
export function sendControl(tcp: Tcp, src: number, dst: number, sport: number, dport: number, seq: number, ack: number,
  flags: number, window: number, o: TcpOptions, now: number): void {
  const stack = tcp.stack;
  const b = stack.tx;
  const optLen = emitTcpOptions(b, TX_L4 + TCP_HLEN, o, (flags & SYN) !== 0);
  emitTcp(b, TX_L4, sport, dport, seq >>> 0, ack >>> 0, flags, window, optLen);
  fillTcpChecksum(b, TX_L4, TCP_HLEN + optLen, src, dst);
  if (stack.sendIp(dst, PROTO_TCP, TCP_HLEN + optLen, now, src)) tcp.c.tcpOutSegs++;
}

/** Data bytes already sent (sequence space from sndUna, less a sent FIN). */
export function dataSent(t: Tcb): number {
  let n = seqDiff(t.sndNxt, t.sndUna);
  if (t.finSent && seqGt(t.sndNxt, t.finSeq)) n--;
  return n < 0 ? 0 : n > t.sndLen ? t.sndLen : n;
}

/**
 * RFC 6675 §5 (C): while cwnd - pipe >= 1 SMSS, send NextSeg(): first a lost hole not yet
 * retransmitted (rule 1), else new data within the peer's window (rule 2). Returns true if it sent.
 */
function sackRecoveryOutput(tcp: Tcp, t: Tcb, smss: number, maxLen: number, now: number): boolean {
  let sent = false;
  for (let guard = 0; guard < 256; guard++) {
    if (t.cwnd - pipe(t, smss) < smss) break;
    const hole = nextLostHole(t, smss, tcp.holeEnd);
    if (hole >= 0) {
      let len = seqDiff(tcp.holeEnd[0], hole);
      if (len > maxLen) len = maxLen;
      const avail = t.sndLen - seqDiff(hole, t.sndUna);
      if (len > avail) len = avail;
      if (len <= 0) break;
      if (!sendSegment(tcp, t, hole, ACK, len, now)) break;
      tcp.c.tcpRetransSegs++;
      t.retransmits++;
      t.rttTiming = false;
      t.highRxt = seqAdd(hole, len);
      sent = true;
      continue;
    }
    // New data at SND.NXT (= SND.MAX in SACK recovery), inside the peer's window.
    const off = dataSent(t);
    let len = t.sndLen - off;
    if (len > maxLen) len = maxLen;
    const room = t.sndWnd - seqDiff(t.sndNxt, t.sndUna);
    if (len > room) len = room;
    if (len <= 0 || t.finSent) break;
    // Nagle (RFC 896) still holds a small tail while data is in flight.
    if (len < maxLen && !(t.noDelay || t.finQueued)) break;
    const seq = t.sndNxt;
    if (!sendSegment(tcp, t, seq, len === t.sndLen - off ? ACK | PSH : ACK, len, now)) break;
    t.sndNxt = seqAdd(seq, len);
    if (seqGt(t.sndNxt, t.sndMax)) t.sndMax = t.sndNxt;
    armRtx(tcp, t, now);
    sent = true;
  }
  return sent;
}

/** Arm the retransmission timer if it is not running (RFC 6298 §5.1). */
export function armRtx(tcp: Tcp, t: Tcb, now: number): void {
  if (tcp.timer(t, T_RTX) === Infinity || t.persisting) {
    t.persisting = false;
    tcp.setTimer(t, T_RTX, now + t.rto);
  }
}

/**
 * Send what t owes its peer now: SYN / SYN-ACK, new data as windows and Nagle allow, FIN, and an ACK
 * or window update if one is due. Bounded: at most one segment per MSS of usable window.
 */
export function output(tcp: Tcp, t: Tcb, now: number): void {
  t.dirty = false;
  const st = t.state;
  if (st === CLOSED) return;
  if (st === SYN_SENT || st === SYN_RECEIVED) {
    if (t.sndNxt === t.iss) {
      const flags = st === SYN_SENT ? SYN : SYN | ACK;
      if (sendSegment(tcp, t, t.iss, flags, 0, now)) {
        t.sndNxt = seqAdd(t.iss, 1);
        if (seqGt(t.sndNxt, t.sndMax) || t.sndMax === t.iss) t.sndMax = t.sndNxt;
        armRtx(tcp, t, now);
      } else {
        tcp.setTimer(t, T_RTX, now + t.rto);
      }
      return;
    }
    if (t.ackNow && st === SYN_RECEIVED) sendSegment(tcp, t, t.iss, SYN | ACK, 0, now);
    return;
  }
  let sentSomething = false;
  const canSendData = st === ESTABLISHED || st === CLOSE_WAIT || st === FIN_WAIT_1 || st === CLOSING || st === LAST_ACK;
  if (canSendData) {
    const smss = tcp.effMss(t);
    const maxLen = tcp.payloadMax(t);
    // RFC 5681 §4.1: restart after an idle period longer than the RTO.
    if (t.inFlight() === 0 && now - t.lastSend > t.rto && t.cwnd > 0) {
      const iw = Math.min(4 * smss, Math.max(2 * smss, 4380));
      if (t.cwnd > iw) t.cwnd = iw;
    }
    if (t.inRecovery && t.sackOk) sentSomething = sackRecoveryOutput(tcp, t, smss, maxLen, now);
    else for (let guard = 0; guard < 1024; guard++) {
      const sent = dataSent(t);
      const unsent = t.sndLen - sent;
      const flight = t.inFlight();
      // Limited transmit (RFC 3042): up to two extra segments on the first two duplicate ACKs.
      const extra = !t.inRecovery && t.dupAcks > 0 && t.dupAcks < 3 ? t.dupAcks * smss : 0;
      let wnd = t.sndWnd < t.cwnd + extra ? t.sndWnd : t.cwnd + extra;
      if (t.persisting) wnd = 0;
      const usable = wnd - flight;
      let len = unsent < maxLen ? unsent : maxLen;
      if (len > usable) len = usable > 0 ? usable : 0;
      const finNow = t.finQueued && !t.finSent && len === unsent;
      if (len > 0) {
        // Sender SWS avoidance + Nagle (RFC 9293 §3.8.6.2.1, RFC 896).
        const full = len === maxLen;
        const allQueued = len === unsent;
        const nagleOk = t.noDelay || flight === 0 || t.finQueued;
        const bigEnough = t.maxSndWnd > 0 && len >= (t.maxSndWnd >> 1);
        if (!(full || (allQueued && nagleOk) || bigEnough || t.swsOverride)) break;
      } else if (!finNow) break;
      const seq = seqAdd(t.sndUna, sent);
      let flags = ACK;
      if (len > 0 && len === unsent) flags |= PSH;
      if (finNow) flags |= FIN;
      if (!sendSegment(tcp, t, seq, flags, len, now)) { tcp.setTimer(t, T_RTX, now + t.rto); break; }
      sentSomething = true;
      t.swsOverride = false;
      const isNew = !seqLt(seq, t.sndMax);
      if (isNew) { /* new data */ } else { tcp.c.tcpRetransSegs++; t.retransmits++; }
      let nxt = seqAdd(seq, len);
      if (finNow) {
        t.finSent = true; t.finSeq = nxt; nxt = seqAdd(nxt, 1);
        // RFC 9293 §3.10.4: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK.
        if (t.state === ESTABLISHED) t.state = FIN_WAIT_1;
        else if (t.state === CLOSE_WAIT) t.state = LAST_ACK;
      }
      t.sndNxt = nxt;
      if (seqGt(nxt, t.sndMax)) t.sndMax = nxt;
      // RFC 6298 / Karn: time one new segment per RTT (without timestamps).
      if (!t.rttTiming && isNew && !t.tsOk) { t.rttTiming = true; t.rttSeq = seq; t.rttTime = now; }
      armRtx(tcp, t, now);
      if (finNow) break;
    }
    // Data waiting and nothing in flight (zero window, or a window too small to use): the persist
    // timer. On expiry it probes a zero window (RFC 9293 §3.8.6.1) or sends what a small window
    // allows (the sender SWS override timeout, RFC 9293 §3.8.6.2.1), so a lost window update never stalls.
    if (t.sndLen - dataSent(t) > 0 && t.inFlight() === 0 && !t.persisting) {
      t.persisting = true;
      t.persistShift = 0;
      tcp.setTimer(t, T_RTX, now + Math.max(t.rto, 200));
    }
  }
  if (!sentSomething && (t.ackNow || windowUpdateDue(t))) sendAck(tcp, t, now);
}

export { RST };
