/**
 * The transmission control block (RFC 9293 §3.3.1): one per connection, made at stack creation and
 * reused. Numeric fields only (XS keeps small integers and doubles inside the slot: no allocation).
 * Names follow the RFCs: sndUna sndNxt sndWnd sndWl1 sndWl2 iss rcvNxt rcvWnd irs (RFC 9293),
 * srtt rttvar rto (RFC 6298), cwnd ssthresh (RFC 5681).
 */

import { SB_MAX } from "./sack.js";

// States, RFC 9293 §3.3.2. Plain numbers (see STYLE.md §12).
export const CLOSED = 0;
export const LISTEN = 1;
export const SYN_SENT = 2;
export const SYN_RECEIVED = 3;
export const ESTABLISHED = 4;
export const FIN_WAIT_1 = 5;
export const FIN_WAIT_2 = 6;
export const CLOSE_WAIT = 7;
export const CLOSING = 8;
export const LAST_ACK = 9;
export const TIME_WAIT = 10;

export const stateNames: readonly string[] = Object.freeze([
  "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
  "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
]);

// Timers, one row per Tcb in the Tcp timer table.
export const T_RTX = 0;        // retransmission (SYN, data, FIN) or persist (zero-window probe)
export const T_DELACK = 1;     // delayed ACK
export const T_KEEPALIVE = 2;  // keepalive
export const T_LINGER = 3;     // FIN-WAIT-2 timeout of an orphaned connection
export const T_COUNT = 4;

// Errors reported to the socket (onError).
export const ERR_NONE = 0;
export const ERR_RESET = 1;      // connection reset by peer
export const ERR_REFUSED = 2;    // RST in SYN-SENT
export const ERR_TIMEOUT = 3;    // retransmissions / keepalive exhausted
export const ERR_CLOSED = 4;     // peer closed (FIN): reported after the data is read
export const ERR_ABORTED = 5;    // aborted locally or the stack ran out of resources

// Event bits delivered to the owning socket from poll() (never from input() or a method).
export const EV_READABLE = 1;
export const EV_WRITABLE = 2;
export const EV_ERROR = 4;
export const EV_CONNECTED = 8;
export const EV_ACCEPT = 16;

/** Maximum out-of-order ranges kept per connection (they also feed SACK blocks). */
export const OOO_MAX = 4;

/** What a socket must implement to receive the connection's events. */
export interface TcbOwner {
  /** Called from Stack.poll() with the pending EV_* bits. */
  deliver(events: number): void;
}

export class Tcb {
  readonly id: number;
  state = CLOSED;
  /** Generation, bumped each time the block is reused: sockets keep (id, gen) handles. */
  gen = 0;
  localIp = 0; localPort = 0; remoteIp = 0; remotePort = 0;

  // Send sequence space (RFC 9293 §3.3.1)
  iss = 0; sndUna = 0; sndNxt = 0; sndWnd = 0; sndWl1 = 0; sndWl2 = 0;
  /** Highest sequence number sent + 1 (sndNxt goes back on retransmission timeout). */
  sndMax = 0;
  /** Largest window the peer has offered (RFC 9293 §3.8.6.2.1 SWS avoidance, RFC 5961 §5). */
  maxSndWnd = 0;
  // Receive sequence space
  irs = 0; rcvNxt = 0;
  /** Right edge of the window we last advertised (rcvNxt + window then): never moved left. */
  rcvAdv = 0;

  // Options negotiated (RFC 7323, RFC 2018)
  /** Peer's shift, applied to windows it sends; -1 until negotiated. */
  sndScale = 0;
  /** Our shift, applied to windows we send. */
  rcvScale = 0;
  wsOk = false; tsOk = false; sackOk = false;
  /** Peer's MSS option (536 when absent, RFC 9293 §3.7.1). */
  peerMss = 536;
  /** Max payload we put in a segment without options (min of peer MSS and our MTU). */
  mss = 536;
  /** Our MSS as announced (for receiver-side decisions: full-sized segment test). */
  rcvMss = 536;
  tsRecent = 0; lastAckSent = 0;
  /** Time base of our timestamps: TSval = (now - tsBase) | 0 in ms. */
  tsOffset = 0;

  // RTT and RTO (RFC 6298)
  srtt = 0; rttvar = 0; rto = 1000;
  /** Sequence number being timed (Karn), valid when rttTiming. */
  rttSeq = 0; rttTime = 0; rttTiming = false;
  /** Our TSval at the last retransmission timeout: echoes older than this are ambiguous (Karn for RTTM). */
  tsRtxFloor = 0;
  /** Consecutive retransmissions of the oldest segment (RTO expiries). */
  retries = 0;
  /** Persist: backoff exponent of zero-window probes. */
  persistShift = 0;
  persisting = false;
  /** Send one segment even if SWS avoidance / Nagle would wait (persist timer expired). */
  swsOverride = false;

  // Congestion control (RFC 5681, RFC 6582)
  cwnd = 0; ssthresh = 0; dupAcks = 0; recover = 0; inRecovery = false;
  /** RFC 3465 byte counting in congestion avoidance. */
  bytesAcked = 0;
  /** Time of the last send (restart after idle, RFC 5681 §4.1). */
  lastSend = 0;

  // SACK scoreboard of what the peer holds above SND.UNA (RFC 2018, RFC 6675); see sack.ts.
  readonly sb = new Float64Array(SB_MAX * 2);
  sbCount = 0;
  sackedBytes = 0;
  /** RFC 6675 HighRxt: highest sequence retransmitted in this recovery. */
  highRxt = 0;
  /** D-SACK blocks received (RFC 2883), recognised and not counted as new information. */
  dsacks = 0;
  /** Ranges forgotten because the scoreboard was full. */
  sbOverflows = 0;

  // Receive side
  /** Full-sized segments received since our last ACK (delayed ACK: ACK every second). */
  unackedSegs = 0;
  ackNow = false;
  /** Time of the last segment received (keepalive idle). */
  lastRecv = 0;
  keepAliveMs = 0;
  keepAliveSent = 0;
  noDelay = false;

  // Closing
  /** The application has asked to close: FIN goes after the queued data. */
  finQueued = false;
  /** Sequence number of our FIN once sent (valid when finSent). */
  finSeq = 0;
  finSent = false;
  /** The peer's FIN has been received (and is in sequence). */
  finRcvd = false;
  /** The application released the connection (close()): no more callbacks; received data dropped. */
  orphan = false;

  // Rings
  readonly snd: Uint8Array;
  /** Ring offset of the byte at sndUna (data sequence space starts at iss + 1). */
  sndHead = 0;
  /** Bytes in the send ring: unacknowledged + unsent. */
  sndLen = 0;
  readonly rcv: Uint8Array;
  /** Ring offset of the first unread in-order byte. */
  rcvHead = 0;
  /** In-order bytes the application has not read. */
  rcvLen = 0;
  /** Out-of-order ranges [start, end) as absolute sequence numbers, most recent first. */
  readonly ooo = new Float64Array(OOO_MAX * 2);
  oooCount = 0;

  // Socket coupling
  owner: TcbOwner | null = null;
  events = 0;
  error = ERR_NONE;
  /** Listener index this connection came from (-1: active open), until accepted. */
  listener = -1;
  accepted = true;
  /** Order of arrival on the listener's accept queue. */
  acceptOrder = 0;
  /** A segment is owed to the peer (data, FIN, ACK or window update): output() will look. */
  dirty = false;
  /** Retransmissions counted for the console. */
  retransmits = 0;
  bytesIn = 0; bytesOut = 0;

  constructor(id: number, snd: Uint8Array, rcv: Uint8Array) {
    this.id = id;
    this.snd = snd;
    this.rcv = rcv;
  }

  /** Reset every field for reuse (rings keep their storage). */
  reset(): void {
    this.state = CLOSED; this.gen = (this.gen + 1) & 0x3fffffff;
    this.localIp = 0; this.localPort = 0; this.remoteIp = 0; this.remotePort = 0;
    this.iss = 0; this.sndUna = 0; this.sndNxt = 0; this.sndWnd = 0; this.sndWl1 = 0; this.sndWl2 = 0;
    this.sndMax = 0; this.maxSndWnd = 0; this.irs = 0; this.rcvNxt = 0; this.rcvAdv = 0;
    this.sndScale = 0; this.rcvScale = 0; this.wsOk = false; this.tsOk = false; this.sackOk = false;
    this.peerMss = 536; this.mss = 536; this.rcvMss = 536; this.tsRecent = 0; this.lastAckSent = 0; this.tsOffset = 0;
    this.srtt = 0; this.rttvar = 0; this.rto = 1000; this.rttSeq = 0; this.rttTime = 0; this.rttTiming = false; this.tsRtxFloor = 0;
    this.retries = 0; this.persistShift = 0; this.persisting = false; this.swsOverride = false;
    this.cwnd = 0; this.ssthresh = 0; this.dupAcks = 0; this.recover = 0; this.inRecovery = false;
    this.bytesAcked = 0; this.lastSend = 0;
    this.sbCount = 0; this.sackedBytes = 0; this.highRxt = 0; this.dsacks = 0; this.sbOverflows = 0;
    this.unackedSegs = 0; this.ackNow = false; this.lastRecv = 0; this.keepAliveMs = 0; this.keepAliveSent = 0;
    this.noDelay = false;
    this.finQueued = false; this.finSeq = 0; this.finSent = false; this.finRcvd = false; this.orphan = false;
    this.sndHead = 0; this.sndLen = 0; this.rcvHead = 0; this.rcvLen = 0; this.oooCount = 0;
    this.owner = null; this.events = 0; this.error = ERR_NONE; this.listener = -1; this.accepted = true;
    this.acceptOrder = 0; this.dirty = false; this.retransmits = 0; this.bytesIn = 0; this.bytesOut = 0;
  }

  /** Bytes sent but not yet acknowledged (sequence space, incl. SYN/FIN). */
  inFlight(): number { return (this.sndNxt - this.sndUna) | 0; }
  /** Free space in the send ring. */
  sndSpace(): number { return this.snd.length - this.sndLen; }
  /** The receive window we can offer now. */
  rcvSpace(): number { return this.rcv.length - this.rcvLen; }
}
