/**
 * TCP: the connection pool, demultiplexing, listeners, TIME-WAIT records, timers and the API the
 * sockets use. Segment arrival for a connection is in input.ts, segment sending in output.ts.
 *
 * RFCs: 9293 (the protocol), 6298 (RTO), 5681 + 6582 + 3042 (congestion control), 7323 (window
 * scale, timestamps), 2018 (SACK), 5961 (blind attacks), 6528 (ISN), 1122 (keepalive).
 */
import type { StackConfig } from "../config.js";
import type { Counters } from "../counters.js";
import type { Stack } from "../stack.js";
import { ACK, RST, SYN, TCP_HLEN, TcpOptions, TcpView } from "../wire/tcp.js";
import { KeyedHash, makeIsn } from "./isn.js";
import { segmentArrives } from "./input.js";
import { output, sendControl, sendRst } from "./output.js";
import { seqAdd, seqGt } from "./seq.js";
import {
  CLOSE_WAIT, CLOSED, ERR_ABORTED, ERR_CLOSED, ERR_NONE, ERR_TIMEOUT, ESTABLISHED, EV_ACCEPT, EV_ERROR, FIN_WAIT_2,
  LAST_ACK, SYN_RECEIVED, SYN_SENT, T_COUNT, T_DELACK, T_KEEPALIVE, T_LINGER, T_RTX, Tcb, type TcbOwner,
} from "./tcb.js";
import { onDelayedAck, onKeepAlive, onRetransmitTimeout } from "./timers.js";

/** MSS values a SYN cookie can carry (3 bits), smallest first. */
const COOKIE_MSS: readonly number[] = Object.freeze([536, 1200, 1360, 1440, 1452, 1460]);

/** What a Listener socket implements to hear about new connections. */
export interface ListenerOwner {
  /** Called from Stack.poll() when connections are ready to accept (EV_ACCEPT) or on error. */
  deliver(events: number): void;
}

export class Tcp {
  readonly stack: Stack;
  readonly cfg: StackConfig;
  readonly c: Counters;
  readonly tcbs: Tcb[] = [];
  /** Timer table: due[id * T_COUNT + timer], absolute ms, Infinity = not armed. */
  readonly due: Float64Array;
  /** Views reused for every segment. */
  readonly seg = new TcpView();
  readonly opts = new TcpOptions();
  readonly outOpts = new TcpOptions();
  /**
   * Scratch for nextLostHole's second result (the hole's end). Per instance, never at module scope:
   * a preloaded module's typed arrays are read-only on the device.
   */
  readonly holeEnd = new Float64Array(1);
  readonly isnHash: KeyedHash;
  /** Our receive-window shift for connections (RFC 7323 §2.3), from recvBufBytes. */
  readonly rcvShift: number;

  // Listeners
  readonly lPort: Uint16Array;
  readonly lBacklog: Uint16Array;
  readonly lOwner: (ListenerOwner | null)[] = [];
  readonly lEvents: Uint8Array;

  // TIME-WAIT records (RFC 9293 §3.6): compact, not a Tcb.
  readonly twCount: number;
  readonly twLocalPort: Uint16Array;
  readonly twRemotePort: Uint16Array;
  readonly twRemoteIp: Float64Array;
  readonly twSndNxt: Float64Array;
  readonly twRcvNxt: Float64Array;
  readonly twExpires: Float64Array;
  readonly twTsRecent: Float64Array;
  readonly twRcvWnd: Uint16Array;
  /** The connection's timestamp clock offset: TIME-WAIT ACKs keep TSval monotonic (RFC 7323 §5.4). */
  readonly twTsOffset: Float64Array;
  /** Bit 0: in use; bit 1: timestamps on. */
  readonly twFlags: Uint8Array;

  private nextEphemeral: number;
  private acceptSeq = 0;
  private challengeTokens = 0;
  private challengeRefill = 0;
  /** Set when some Tcb or listener has undelivered events or pending output. */
  pendingWork = false;

  constructor(stack: Stack) {
    this.stack = stack;
    this.cfg = stack.config;
    this.c = stack.counters;
    const cfg = this.cfg;
    const arena = stack.arena;
    for (let i = 0; i < cfg.maxConnections; i++) {
      this.tcbs.push(new Tcb(i, arena.take(cfg.sendBufBytes), arena.take(cfg.recvBufBytes)));
    }
    this.due = new Float64Array(cfg.maxConnections * T_COUNT).fill(Infinity);
    const seed = new Uint8Array(8);
    stack.driver.random(seed);
    this.isnHash = new KeyedHash(seed);
    let shift = 0;
    while (shift < 14 && (cfg.recvBufBytes >> shift) > 65535) shift++;
    this.rcvShift = cfg.windowScale ? shift : 0;
    const nl = cfg.maxListeners;
    this.lPort = new Uint16Array(nl);
    this.lBacklog = new Uint16Array(nl);
    this.lEvents = new Uint8Array(nl);
    for (let i = 0; i < nl; i++) this.lOwner.push(null);
    const tw = cfg.timeWaitEntries;
    this.twCount = tw;
    this.twLocalPort = new Uint16Array(tw);
    this.twRemotePort = new Uint16Array(tw);
    this.twRemoteIp = new Float64Array(tw);
    this.twSndNxt = new Float64Array(tw);
    this.twRcvNxt = new Float64Array(tw);
    this.twExpires = new Float64Array(tw);
    this.twTsRecent = new Float64Array(tw);
    this.twRcvWnd = new Uint16Array(tw);
    this.twTsOffset = new Float64Array(tw);
    this.twFlags = new Uint8Array(tw);
    stack.driver.random(seed);
    this.nextEphemeral = 49152 + (((seed[0] << 8) | seed[1]) % 16384);
  }

  /** Arena bytes TCP needs besides the per-connection rings (none today). */
  static arenaBytes(_c: StackConfig): number { return 0; }

  // ------------------------------------------------------------------ demultiplexing

  /** One TCP segment, b[at .. at+len), from IP. */
  input(b: Uint8Array, at: number, len: number, src: number, dst: number, now: number): void {
    const c = this.c;
    const s = this.seg;
    if (!s.aim(b, at, len)) { c.tcpInErrs++; c.tcpInBadLen++; return; }
    if (!s.checksumOk(src, dst)) { c.tcpInErrs++; c.tcpInBadChecksum++; return; }
    if (!s.options(this.opts)) { c.tcpInErrs++; c.tcpInBadOptions++; return; }
    c.tcpInSegs++;
    const sport = s.srcPort(), dport = s.dstPort();
    if (sport === 0 || dport === 0) { c.tcpInErrs++; c.tcpInBadPort++; return; }
    const t = this.find(dport, src, sport);
    if (t !== null) { segmentArrives(this, t, now); return; }
    const w = this.findTimeWait(dport, src, sport);
    if (w >= 0 && this.timeWaitInput(w, now)) return;
    const l = this.findListener(dport);
    if (l >= 0) { this.listenInput(l, src, dst, now); return; }
    // RFC 9293 §3.10.7.1: CLOSED. A RST is dropped; anything else is answered with a RST.
    c.tcpNoPort++;
    this.rstFor(src, dst, now);
  }

  /** Answer the current segment (this.seg) with a RST, per RFC 9293 §3.10.7.1. */
  rstFor(src: number, dst: number, now: number): void {
    const s = this.seg;
    if (s.has(RST)) return;
    if (s.has(ACK)) sendRst(this, dst, src, s.dstPort(), s.srcPort(), s.ack(), 0, RST, now);
    else {
      let segLen = s.dataLen();
      if (s.has(SYN)) segLen++;
      if (s.has(0x01)) segLen++;
      sendRst(this, dst, src, s.dstPort(), s.srcPort(), 0, seqAdd(s.seq(), segLen), RST | ACK, now);
    }
  }

  find(localPort: number, remoteIp: number, remotePort: number): Tcb | null {
    const tcbs = this.tcbs;
    for (let i = 0; i < tcbs.length; i++) {
      const t = tcbs[i];
      if (t.state !== CLOSED && t.localPort === localPort && t.remotePort === remotePort && t.remoteIp === remoteIp) return t;
    }
    return null;
  }

  findListener(port: number): number {
    const p = this.lPort;
    for (let i = 0; i < p.length; i++) if (p[i] === port && this.lOwner[i] !== null) return i;
    return -1;
  }

  private allocTcb(): Tcb | null {
    const tcbs = this.tcbs;
    for (let i = 0; i < tcbs.length; i++) {
      const t = tcbs[i];
      if (t.state === CLOSED && t.owner === null && t.events === 0) {
        t.reset();
        for (let k = 0; k < T_COUNT; k++) this.due[i * T_COUNT + k] = Infinity;
        return t;
      }
    }
    return null;
  }

  /** Fill the option-derived fields common to both opens. */
  private initTcb(t: Tcb, localIp: number, remoteIp: number, localPort: number, remotePort: number, now: number): void {
    const cfg = this.cfg;
    t.localIp = localIp; t.remoteIp = remoteIp; t.localPort = localPort; t.remotePort = remotePort;
    t.iss = makeIsn(this.isnHash, localIp, remoteIp, localPort, remotePort, now);
    t.sndUna = t.iss; t.sndNxt = t.iss; t.sndMax = t.iss;
    t.rto = cfg.rtoInitialMs;
    t.rcvMss = this.ourMss();
    t.rcvScale = this.rcvShift;
    t.tsOffset = (this.isnHash.hash(remoteIp, localPort, remotePort) & 0xffff) * 65536;
    t.tsRtxFloor = (Math.floor(now) + t.tsOffset) >>> 0;
    t.lastRecv = now;
    t.lastSend = now;
    t.ssthresh = 0x7fffffff;
  }

  /** The MSS we announce: config bound and what the interface carries (MTU - 40). */
  ourMss(): number {
    return Math.min(this.cfg.mss, this.stack.mtu - 40);
  }

  // ------------------------------------------------------------------ LISTEN (RFC 9293 §3.10.7.2)

  private listenInput(l: number, src: number, dst: number, now: number): void {
    const s = this.seg;
    const c = this.c;
    if (s.has(RST)) return;
    if (s.has(ACK)) {
      if (this.cookieAccept(l, src, dst, now)) return;
      sendRst(this, dst, src, s.dstPort(), s.srcPort(), s.ack(), 0, RST, now);
      return;
    }
    if (!s.has(SYN)) return;
    // Backlog: half-open plus not-yet-accepted connections of this listener.
    let pending = 0, halfOpen = 0;
    for (const t of this.tcbs) {
      if (t.state === CLOSED || t.listener !== l || t.accepted) continue;
      pending++;
      if (t.state === SYN_RECEIVED) halfOpen++;
    }
    if (pending >= this.lBacklog[l]) { c.tcpListenDrops++; return; }
    if (halfOpen >= this.cfg.synQueue) {
      // The SYN queue is full (a flood?): answer statelessly with a SYN cookie, or drop.
      if (this.cfg.synCookies) this.sendCookie(src, dst, now);
      else c.tcpListenDrops++;
      return;
    }
    const t = this.allocTcb();
    if (t === null) { c.tcpListenDrops++; c.tcpNoTcb++; return; }
    this.initTcb(t, dst, src, s.dstPort(), s.srcPort(), now);
    t.state = SYN_RECEIVED;
    t.listener = l;
    t.accepted = false;
    t.irs = s.seq();
    t.rcvNxt = seqAdd(t.irs, 1);
    t.rcvAdv = t.rcvNxt;
    this.negotiate(t, now);
    // RFC 9293 §3.10.7.2: SND.WND from the SYN (never scaled in a SYN, RFC 7323 §2.2).
    t.sndWnd = s.window();
    t.maxSndWnd = t.sndWnd;
    t.sndWl1 = t.irs;
    t.sndWl2 = t.iss;
    c.tcpPassiveOpens++;
    output(this, t, now);
  }

  // ------------------------------------------------------------------ SYN cookies (RFC 4987 §3.6)
  //
  // ISS = count(5 bits, 64 s periods) | MSS index (3 bits) | 24 bits of a keyed hash over the 4-tuple,
  // the peer's ISN and the count. The final ACK (ISS + 1) is checked against the last two periods;
  // the connection then starts ESTABLISHED with the MSS from the table and no other options (the
  // cookie cannot carry window scale, SACK-permitted or timestamps).

  private cookieHash(src: number, sport: number, dport: number, irs: number, count: number): number {
    return this.isnHash.hash(src, ((sport << 16) | dport) >>> 0, (irs ^ Math.imul(count, 0x9e3779b9)) >>> 0) & 0xffffff;
  }

  private sendCookie(src: number, dst: number, now: number): void {
    const s = this.seg, o = this.opts;
    const irs = s.seq();
    const count = Math.floor(now / 64000) & 31;
    const peerMss = o.mss >= 0 ? o.mss : 536;
    let idx = COOKIE_MSS.length - 1;
    while (idx > 0 && COOKIE_MSS[idx] > Math.min(peerMss, this.ourMss())) idx--;
    const iss = ((count << 27) | (idx << 24) | this.cookieHash(src, s.srcPort(), s.dstPort(), irs, count)) >>> 0;
    const out = this.outOpts;
    out.clear();
    out.mss = this.ourMss();
    const syn = 0x02 | ACK;
    sendControl(this, dst, src, s.dstPort(), s.srcPort(), iss, seqAdd(irs, 1), syn, Math.min(this.cfg.recvBufBytes, 65535), out, now);
    this.c.tcpSynCookiesSent++;
  }

  /** A bare ACK to a listener: is it the answer to one of our cookies? Then make the connection. */
  private cookieAccept(l: number, src: number, dst: number, now: number): boolean {
    const s = this.seg, c = this.c;
    if (!this.cfg.synCookies || s.has(SYN) || s.has(RST) || !s.has(ACK)) return false;
    const iss = (s.ack() - 1) >>> 0, irs = (s.seq() - 1) >>> 0;
    const count = iss >>> 27, idx = (iss >>> 24) & 7;
    const age = ((Math.floor(now / 64000) & 31) - count) & 31;
    if (age > 1 || idx >= COOKIE_MSS.length || this.cookieHash(src, s.srcPort(), s.dstPort(), irs, count) !== (iss & 0xffffff)) {
      c.tcpSynCookiesFailed++;
      return false;
    }
    let pending = 0;
    for (const t of this.tcbs) if (t.state !== CLOSED && t.listener === l && !t.accepted) pending++;
    const t = pending < this.lBacklog[l] ? this.allocTcb() : null;
    if (t === null) { c.tcpListenDrops++; return true; } // valid, but no room: the peer will retry
    c.tcpSynCookiesOk++;
    this.initTcb(t, dst, src, s.dstPort(), s.srcPort(), now);
    t.iss = iss;
    t.sndUna = seqAdd(iss, 1); t.sndNxt = t.sndUna; t.sndMax = t.sndUna;
    t.irs = irs; t.rcvNxt = s.seq(); t.rcvAdv = t.rcvNxt;
    t.peerMss = COOKIE_MSS[idx];
    t.mss = Math.min(t.peerMss, this.stack.mtu - 40);
    t.wsOk = false; t.sackOk = false; t.tsOk = false; t.sndScale = 0; t.rcvScale = 0;
    const smss = this.effMss(t);
    t.cwnd = Math.min(4 * smss, Math.max(2 * smss, 4380));
    t.sndWnd = s.window(); t.maxSndWnd = t.sndWnd; t.sndWl1 = irs; t.sndWl2 = t.sndUna;
    t.listener = l; t.accepted = false;
    t.state = ESTABLISHED;
    c.tcpPassiveOpens++;
    this.queueAccept(t);
    this.armKeepAlive(t);
    segmentArrives(this, t, now); // the ACK may carry data
    return true;
  }

  /** Apply the options of a received SYN (this.opts) to t (RFC 7323, RFC 2018, RFC 9293 §3.7.1). */
  negotiate(t: Tcb, now: number): void {
    const o = this.opts;
    const cfg = this.cfg;
    t.peerMss = o.mss >= 0 ? o.mss : 536;
    t.mss = Math.max(64, Math.min(t.peerMss, this.stack.mtu - 40));
    const activeOpen = t.state === SYN_SENT;
    // Each option is on only if we offered it (active) / allow it (passive) and the peer sent it.
    t.wsOk = cfg.windowScale && o.wscale >= 0;
    t.sndScale = t.wsOk ? o.wscale : 0;
    t.rcvScale = t.wsOk ? this.rcvShift : 0;
    t.sackOk = cfg.sack && o.sackOk;
    t.tsOk = cfg.timestamps && o.hasTs;
    if (t.tsOk) t.tsRecent = o.tsVal;
    void activeOpen;
    // Initial window, RFC 5681 §3.1 / RFC 3390.
    const smss = this.effMss(t);
    t.cwnd = Math.min(4 * smss, Math.max(2 * smss, 4380));
    t.lastRecv = now;
  }

  /** Payload bytes per full-sized segment we send (MSS less the timestamp option): SMSS for cc. */
  effMss(t: Tcb): number {
    return t.tsOk ? t.mss - 12 : t.mss;
  }

  /** Payload that fits in the next segment: MSS less every option it carries now (TS, SACK blocks). */
  payloadMax(t: Tcb): number {
    let opt = t.tsOk ? 12 : 0;
    if (t.sackOk && t.oooCount > 0) opt += 4 + 8 * Math.min(t.oooCount, t.tsOk ? 3 : 4);
    return t.mss - opt;
  }

  // ------------------------------------------------------------------ TIME-WAIT (compact records)

  findTimeWait(localPort: number, remoteIp: number, remotePort: number): number {
    for (let i = 0; i < this.twCount; i++) {
      if ((this.twFlags[i] & 1) !== 0 && this.twLocalPort[i] === localPort && this.twRemotePort[i] === remotePort &&
        this.twRemoteIp[i] === remoteIp) return i;
    }
    return -1;
  }

  /** Move t into a TIME-WAIT record and free it at once. */
  enterTimeWait(t: Tcb, now: number): void {
    let w = -1, oldest = -1;
    for (let i = 0; i < this.twCount; i++) {
      if ((this.twFlags[i] & 1) === 0) { w = i; break; }
      if (oldest < 0 || this.twExpires[i] < this.twExpires[oldest]) oldest = i;
    }
    if (w < 0) { w = oldest; this.c.tcpTimeWaitRecycled++; }
    if (this.cfg.timeWaitMs > 0) {
      this.twLocalPort[w] = t.localPort;
      this.twRemotePort[w] = t.remotePort;
      this.twRemoteIp[w] = t.remoteIp;
      this.twSndNxt[w] = seqGt(t.sndMax, t.sndNxt) ? t.sndMax : t.sndNxt;
      this.twRcvNxt[w] = t.rcvNxt;
      this.twExpires[w] = now + this.cfg.timeWaitMs;
      if (this.twExpires[w] < this.dueMin) this.dueMin = this.twExpires[w];
      this.twTsRecent[w] = t.tsRecent;
      this.twTsOffset[w] = t.tsOffset;
      this.twRcvWnd[w] = Math.min(65535, t.rcvSpace() >> t.rcvScale);
      this.twFlags[w] = 1 | (t.tsOk ? 2 : 0);
    }
    this.release(t, ERR_NONE);
  }

  /**
   * A segment for a TIME-WAIT record (RFC 9293 §3.10.7.4). Returns false when the record was
   * dropped and the segment should go to a listener (a new SYN above RCV.NXT, RFC 6191-style).
   */
  private timeWaitInput(w: number, now: number): boolean {
    const s = this.seg;
    const rcvNxt = this.twRcvNxt[w];
    if (s.has(RST)) {
      // RFC 9293: RST in TIME-WAIT -> CLOSED (only if in window: exact sequence, RFC 5961).
      if (s.seq() === rcvNxt) { this.twFlags[w] = 0; this.c.tcpTimeWaitRsts++; }
      return true;
    }
    if (s.has(SYN) && !s.has(ACK) && seqGt(s.seq(), rcvNxt)) {
      this.twFlags[w] = 0;
      return false;
    }
    // RFC 9293 §3.10.7.4: the only thing that can arrive is a retransmission of the remote FIN:
    // ACK it and restart the 2MSL timeout. An in-sequence bare ACK needs no answer (answering it
    // would start an ACK loop with a peer that is in TIME-WAIT too); anything else gets an ACK.
    if (s.has(0x01)) {
      this.twExpires[w] = now + this.cfg.timeWaitMs;
      if (this.twExpires[w] < this.dueMin) this.dueMin = this.twExpires[w];
    }
    else if (s.seq() === rcvNxt && s.dataLen() === 0) return true;
    const o = this.outOpts;
    o.clear();
    if ((this.twFlags[w] & 2) !== 0) {
      o.hasTs = true;
      o.tsVal = (Math.floor(now) + this.twTsOffset[w]) >>> 0;
      o.tsEcr = this.opts.hasTs ? this.opts.tsVal : this.twTsRecent[w];
    }
    sendControl(this, this.stack.address, this.twRemoteIp[w], this.twLocalPort[w], this.twRemotePort[w],
      this.twSndNxt[w], rcvNxt, ACK, this.twRcvWnd[w], o, now);
    return true;
  }

  // ------------------------------------------------------------------ timers

  /**
   * Lower bound of every armed timer and TIME-WAIT expiry: while now < dueMin no timer can be due,
   * so poll() skips the scan (most polls follow a segment and have nothing due). Disarming a timer
   * leaves it low; an early scan is harmless and recomputes it.
   */
  private dueMin = Infinity;

  /** Run due timers, send pending output, deliver events. Returns the next deadline. */
  poll(now: number): number {
    const tcbs = this.tcbs;
    const due = this.due;
    const scan = now >= this.dueMin;
    for (let i = 0; i < tcbs.length; i++) {
      const t = tcbs[i];
      if (t.state === CLOSED) continue;
      if (scan) {
        const base = i * T_COUNT;
        if (due[base + T_RTX] <= now) { due[base + T_RTX] = Infinity; onRetransmitTimeout(this, t, now); }
        if (t.state !== CLOSED && due[base + T_DELACK] <= now) { due[base + T_DELACK] = Infinity; onDelayedAck(this, t, now); }
        if (t.state !== CLOSED && due[base + T_KEEPALIVE] <= now) { due[base + T_KEEPALIVE] = Infinity; onKeepAlive(this, t, now); }
        if (t.state !== CLOSED && due[base + T_LINGER] <= now) { due[base + T_LINGER] = Infinity; this.abort(t, ERR_TIMEOUT, now, false); }
      }
      if (t.state !== CLOSED && t.dirty) output(this, t, now);
    }
    // Events after timers (so an abort above is reported in this same pass).
    for (let i = 0; i < tcbs.length; i++) {
      const t = tcbs[i];
      const ev = t.events;
      if (ev === 0) continue;
      if (t.owner === null) {
        if (t.accepted) t.events = 0; // nobody listens: drop (e.g. after close)
        continue;
      }
      t.events = 0;
      this.deliverTo(t.owner, ev);
    }
    for (let l = 0; l < this.lEvents.length; l++) {
      const ev = this.lEvents[l];
      if (ev === 0) continue;
      this.lEvents[l] = 0;
      const o = this.lOwner[l];
      if (o !== null) this.deliverTo(o, ev);
    }
    this.pendingWork = false;
    if (scan || now >= this.dueMin) this.recomputeDueMin(now);
    // Work raised during delivery (even on a CLOSED block a socket still holds) needs another pass.
    let next = this.dueMin;
    for (let i = 0; i < tcbs.length; i++) {
      const t = tcbs[i];
      if ((t.events !== 0 && t.owner !== null) || (t.dirty && t.state !== CLOSED)) { next = now; break; }
    }
    for (let l = 0; l < this.lEvents.length; l++) if (this.lEvents[l] !== 0 && this.lOwner[l] !== null) next = now;
    if (this.pendingWork) next = now;
    return next;
  }

  /** Exact earliest timer / TIME-WAIT expiry; expired TIME-WAIT records are freed here. */
  private recomputeDueMin(now: number): void {
    const tcbs = this.tcbs, due = this.due;
    let next = Infinity;
    for (let i = 0; i < tcbs.length; i++) {
      if (tcbs[i].state === CLOSED) continue;
      const base = i * T_COUNT;
      for (let k = 0; k < T_COUNT; k++) if (due[base + k] < next) next = due[base + k];
    }
    for (let w = 0; w < this.twCount; w++) {
      if ((this.twFlags[w] & 1) === 0) continue;
      if (this.twExpires[w] <= now) { this.twFlags[w] = 0; continue; }
      if (this.twExpires[w] < next) next = this.twExpires[w];
    }
    this.dueMin = next;
  }

  /** Call a socket's deliver(); an exception in application code is counted, not propagated. */
  private deliverTo(o: TcbOwner | ListenerOwner, ev: number): void {
    try {
      o.deliver(ev);
    } catch (e) {
      this.callbackErrors++;
      this.lastCallbackError = e;
    }
  }
  /** Exceptions thrown by application callbacks (counted; the stack keeps running). */
  callbackErrors = 0;
  lastCallbackError: unknown = null;

  /**
   * Work became pending outside poll() (a socket method raised an event): ask the platform to poll
   * soon through stack.onWake, if it set one.
   */
  requestPoll(): void {
    this.pendingWork = true;
    const w = this.stack.onWake;
    if (w !== null) w();
  }

  setTimer(t: Tcb, k: number, at: number): void {
    this.due[t.id * T_COUNT + k] = at;
    if (at < this.dueMin) this.dueMin = at;
  }
  timer(t: Tcb, k: number): number { return this.due[t.id * T_COUNT + k]; }

  /** Re-arm keepalive from the last receive time (RFC 1122 §4.2.3.6). */
  armKeepAlive(t: Tcb): void {
    if (t.keepAliveMs <= 0 || (t.state !== ESTABLISHED && t.state !== CLOSE_WAIT)) {
      this.setTimer(t, T_KEEPALIVE, Infinity);
      return;
    }
    this.setTimer(t, T_KEEPALIVE, t.lastRecv + t.keepAliveMs + t.keepAliveSent * this.cfg.keepAliveIntervalMs);
  }

  /** RFC 5961 §7: a global budget of challenge ACKs per second. */
  challengeAllowed(now: number): boolean {
    if (now >= this.challengeRefill) { this.challengeTokens = this.cfg.challengeAckPerSec; this.challengeRefill = now + 1000; }
    if (this.challengeTokens <= 0) { this.c.tcpChallengeAcksSuppressed++; return false; }
    this.challengeTokens--;
    this.c.tcpChallengeAcks++;
    return true;
  }

  // ------------------------------------------------------------------ closing

  /**
   * The connection is over: report `err` (unless ERR_NONE or orphaned), free the block once its
   * owner has seen the events. Timers are cleared.
   */
  release(t: Tcb, err: number): void {
    if (t.state === ESTABLISHED || t.state === CLOSE_WAIT) { /* tcpCurrEstab is derived */ }
    t.state = CLOSED;
    for (let k = 0; k < T_COUNT; k++) this.due[t.id * T_COUNT + k] = Infinity;
    // A reset or timeout supersedes a clean close that was not yet reported.
    if (err !== ERR_NONE && (t.error === ERR_NONE || t.error === ERR_CLOSED)) t.error = err;
    if (!t.orphan && t.owner !== null) { t.events |= EV_ERROR; this.pendingWork = true; }
    else if (!t.accepted && t.listener >= 0) { t.owner = null; t.events = 0; }
    if (t.orphan) { t.owner = null; t.events = 0; }
  }

  /** Abort: send RST (if synchronized and `rst`), then release with err. */
  abort(t: Tcb, err: number, now: number, rst = true): void {
    if (rst && t.state !== SYN_SENT && t.state !== CLOSED) {
      sendRst(this, t.localIp, t.remoteIp, t.localPort, t.remotePort, t.sndNxt, 0, RST, now);
    }
    if (t.state === ESTABLISHED || t.state === CLOSE_WAIT) this.c.tcpEstabResets++;
    if (t.state === SYN_SENT || t.state === SYN_RECEIVED) this.c.tcpAttemptFails++;
    this.release(t, err);
  }

  // ------------------------------------------------------------------ API for the sockets

  /** Active open (RFC 9293 §3.10.1). Returns the Tcb or null when no block is free. */
  connect(owner: TcbOwner, remoteIp: number, remotePort: number, now: number): Tcb | null {
    const t = this.allocTcb();
    if (t === null) { this.c.tcpNoTcb++; return null; }
    const localPort = this.ephemeralPort(remoteIp, remotePort);
    this.initTcb(t, this.stack.address, remoteIp, localPort, remotePort, now);
    t.owner = owner;
    t.state = SYN_SENT;
    t.cwnd = this.effMss(t);
    this.c.tcpActiveOpens++;
    output(this, t, now);
    return t;
  }

  private ephemeralPort(remoteIp: number, remotePort: number): number {
    for (let tries = 0; tries < 16384; tries++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p >= 65535 ? 49152 : p + 1;
      if (this.find(p, remoteIp, remotePort) === null && this.findTimeWait(p, remoteIp, remotePort) < 0 &&
        this.findListener(p) < 0) return p;
    }
    return this.nextEphemeral;
  }

  /** Start listening on `port` (0 = pick one). Returns the listener index or throws. */
  listen(owner: ListenerOwner, port: number, backlog: number): number {
    if (port !== 0 && this.findListener(port) >= 0) throw new Error(`port ${port} in use`);
    for (let l = 0; l < this.lPort.length; l++) {
      if (this.lOwner[l] !== null) continue;
      if (port === 0) port = this.ephemeralPort(0, 0);
      this.lPort[l] = port;
      this.lBacklog[l] = backlog;
      this.lOwner[l] = owner;
      this.lEvents[l] = 0;
      return l;
    }
    throw new RangeError("no free listener (config.maxListeners)");
  }

  /** Stop listening; connections not yet accepted are reset. */
  unlisten(l: number, now: number): void {
    this.lOwner[l] = null;
    this.lEvents[l] = 0;
    this.lPort[l] = 0;
    for (const t of this.tcbs) {
      if (t.state !== CLOSED && t.listener === l && !t.accepted) { t.orphan = true; this.abort(t, ERR_ABORTED, now); }
    }
  }

  /** Connections of listener l ready to accept. */
  acceptable(l: number): number {
    let n = 0;
    for (const t of this.tcbs) if (t.listener === l && !t.accepted && t.state !== CLOSED && t.state !== SYN_RECEIVED) n++;
    return n;
  }

  /** Take the oldest established connection of listener l (null if none). */
  accept(l: number): Tcb | null {
    let best: Tcb | null = null;
    for (const t of this.tcbs) {
      if (t.listener !== l || t.accepted || t.state === CLOSED || t.state === SYN_RECEIVED) continue;
      if (best === null || t.acceptOrder < best.acceptOrder) best = t;
    }
    if (best !== null) { best.accepted = true; best.listener = -1; }
    return best;
  }

  /** Called when a passive connection becomes ESTABLISHED: queue it on its listener. */
  queueAccept(t: Tcb): void {
    if (t.accepted || t.listener < 0) return;
    t.acceptOrder = ++this.acceptSeq;
    this.lEvents[t.listener] |= EV_ACCEPT;
    this.pendingWork = true;
  }

  /** Copy up to `len` bytes from the app into the send ring. Returns bytes taken. */
  write(t: Tcb, src: Uint8Array, at: number, len: number, now: number, push: boolean): number {
    const space = t.sndSpace();
    const n = len < space ? len : space;
    const ring = t.snd, size = ring.length;
    let pos = t.sndHead + t.sndLen;
    if (pos >= size) pos -= size;
    for (let k = 0; k < n; k++) {
      ring[pos] = src[at + k];
      if (++pos === size) pos = 0;
    }
    t.sndLen += n;
    t.bytesOut += n;
    t.dirty = true;
    if (push) output(this, t, now);
    return n;
  }

  /** Copy up to `len` in-order received bytes to dst; frees window (may send an update). */
  read(t: Tcb, dst: Uint8Array, at: number, len: number, now: number): number {
    const n = len < t.rcvLen ? len : t.rcvLen;
    const ring = t.rcv, size = ring.length;
    let pos = t.rcvHead;
    for (let k = 0; k < n; k++) {
      dst[at + k] = ring[pos];
      if (++pos === size) pos = 0;
    }
    t.rcvHead = pos;
    t.rcvLen -= n;
    if (n > 0 && t.state !== CLOSED) { t.dirty = true; output(this, t, now); }
    return n;
  }

  /** Graceful close: FIN after the queued data (RFC 9293 §3.10.4). `orphan`: release the socket too. */
  close(t: Tcb, now: number, orphan: boolean): void {
    if (orphan) { t.orphan = true; t.owner = null; t.events = 0; t.rcvLen = 0; }
    switch (t.state) {
      case CLOSED: return;
      case SYN_SENT: this.release(t, ERR_NONE); return;
      case SYN_RECEIVED: case ESTABLISHED: case CLOSE_WAIT:
        t.finQueued = true; t.dirty = true; output(this, t, now); return;
      default: return; // FIN already queued
    }
  }

  /** Orphaned FIN-WAIT-2 connections give up after finWait2Ms (Linux tcp_fin_timeout). */
  armLinger(t: Tcb, now: number): void {
    if (t.orphan && t.state === FIN_WAIT_2) this.setTimer(t, T_LINGER, now + this.cfg.finWait2Ms);
  }

  /** Connections in use (any state but CLOSED) and TIME-WAIT records, for tests and the console. */
  inUse(): { connections: number; timeWait: number; listeners: number } {
    let n = 0, w = 0, l = 0;
    for (const t of this.tcbs) if (t.state !== CLOSED || t.owner !== null) n++;
    for (let i = 0; i < this.twCount; i++) if ((this.twFlags[i] & 1) !== 0) w++;
    for (const o of this.lOwner) if (o !== null) l++;
    return { connections: n, timeWait: w, listeners: l };
  }

  /** Is `t` (a LAST-ACK connection etc.) fully done? Frees when CLOSED and nobody holds it. */
  static isFree(t: Tcb): boolean { return t.state === CLOSED && t.owner === null; }
}

export { LAST_ACK, TCP_HLEN };
