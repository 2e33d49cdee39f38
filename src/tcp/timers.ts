/**
 * Timer expiry handlers: retransmission (RFC 6298 §5.4-5.7, RFC 5681 §3.1 loss window), persist
 * (RFC 9293 §3.8.6.1 zero-window probes), delayed ACK (RFC 9293 §3.8.6.3), keepalive (RFC 1122 §4.2.3.6).
 */
import { ACK } from "../wire/tcp.js";
import { dataSent, output, sendAck, sendSegment, tsNow } from "./output.js";
import { sackClear } from "./sack.js";
import { seqAdd, seqDiff, seqGt } from "./seq.js";
import {
  CLOSE_WAIT, ERR_TIMEOUT, ESTABLISHED, SYN_RECEIVED, SYN_SENT, T_RTX, type Tcb,
} from "./tcb.js";
import type { Tcp } from "./tcp.js";

export function onRetransmitTimeout(tcp: Tcp, t: Tcb, now: number): void {
  if (t.persisting) { persistProbe(tcp, t, now); return; }
  if (t.inFlight() === 0 && !(t.state === SYN_SENT || t.state === SYN_RECEIVED)) {
    // Nothing outstanding (e.g. a refused transmit): just try to send.
    output(tcp, t, now);
    return;
  }
  const syn = t.state === SYN_SENT || t.state === SYN_RECEIVED;
  t.retries++;
  if (t.retries > (syn ? tcp.cfg.synRetries : tcp.cfg.maxRetries)) {
    tcp.c.tcpTimeouts++;
    tcp.abort(t, ERR_TIMEOUT, now, !syn);
    return;
  }
  tcp.c.tcpTimeouts++;
  // RFC 6298 §5.5: back off; §5.7 after SYN timeout the RTO for data stays backed off until a sample.
  t.rto = Math.min(t.rto * 2, tcp.cfg.rtoMaxMs);
  t.rttTiming = false; // Karn
  t.tsRtxFloor = tsNow(t, now);
  if (syn) {
    tcp.c.tcpSynRetrans++;
    tcp.c.tcpRetransSegs++;
    t.retransmits++;
    t.sndNxt = t.iss; // output() resends the SYN or SYN-ACK
    output(tcp, t, now);
    return;
  }
  // RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS); cwnd = loss window (1 SMSS).
  const smss = tcp.effMss(t);
  const flight = seqDiff(t.sndMax, t.sndUna);
  t.ssthresh = Math.max(flight >> 1, 2 * smss);
  t.cwnd = smss;
  t.bytesAcked = 0;
  // RFC 6582 §3.2 step 4: after a timeout, recover = highest sequence sent.
  t.recover = t.sndMax;
  t.inRecovery = false;
  t.dupAcks = 0;
  // RFC 2018 §8: after a timeout, SACK information is not trusted (the receiver may have reneged).
  sackClear(t);
  t.highRxt = t.sndUna;
  // Go back: resend from SND.UNA (the FIN too, if it was sent and not acked).
  t.sndNxt = t.sndUna;
  if (t.finSent && !seqGt(t.sndUna, t.finSeq)) t.finSent = false;
  tcp.setTimer(t, T_RTX, Infinity);
  output(tcp, t, now);
  if (tcp.timer(t, T_RTX) === Infinity) tcp.setTimer(t, T_RTX, now + t.rto);
}

/** Zero-window probe: one byte beyond the window (or the byte already probed), then back off. */
function persistProbe(tcp: Tcp, t: Tcb, now: number): void {
  const unsent = t.sndLen - dataSent(t);
  if (t.sndWnd > 0 || (unsent <= 0 && t.inFlight() === 0)) {
    // Window open but too small for SWS avoidance to send: override once.
    t.persisting = false;
    t.swsOverride = true;
    output(tcp, t, now);
    return;
  }
  tcp.c.tcpPersistProbes++;
  if (t.inFlight() === 0) {
    if (sendSegment(tcp, t, t.sndUna, ACK, 1, now)) {
      t.sndNxt = seqAdd(t.sndUna, 1);
      if (seqGt(t.sndNxt, t.sndMax)) t.sndMax = t.sndNxt;
    }
  } else {
    sendSegment(tcp, t, t.sndUna, ACK, 1, now);
  }
  if (t.persistShift < 16) t.persistShift++;
  const base = Math.max(t.rto, 200);
  tcp.setTimer(t, T_RTX, now + Math.min(base * (1 << t.persistShift), tcp.cfg.persistMaxMs));
}

export function onDelayedAck(tcp: Tcp, t: Tcb, now: number): void {
  if (t.state === SYN_SENT) return;
  tcp.c.tcpDelayedAcks++;
  sendAck(tcp, t, now);
}

export function onKeepAlive(tcp: Tcp, t: Tcb, now: number): void {
  if (t.keepAliveMs <= 0 || (t.state !== ESTABLISHED && t.state !== CLOSE_WAIT)) return;
  if (t.keepAliveSent >= tcp.cfg.keepAliveProbes) {
    tcp.c.tcpKeepAliveDrops++;
    tcp.abort(t, ERR_TIMEOUT, now);
    return;
  }
  // RFC 1122 §4.2.3.6: <SEQ=SND.UNA-1> with no data elicits an ACK.
  tcp.c.tcpKeepAliveProbes++;
  t.keepAliveSent++;
  sendSegment(tcp, t, (t.sndUna - 1) >>> 0, ACK, 0, now);
  tcp.armKeepAlive(t);
}
