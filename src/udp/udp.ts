/**
 * UDP (RFC 768, RFC 1122 §4.1): port demultiplexing, a fixed receive queue per application socket,
 * direct in-place delivery to the stack's own protocols (DHCP, DNS), and sending.
 *
 * Bindings live in one fixed table made at creation: slots [0, udpSockets) are for the ECMA-419
 * sockets (src/socket/udp.ts), the rest for internal receivers (one for DHCP, one per DNS query).
 *
 * - Socket slots queue each datagram's bytes in their own ring (`udpQueueBytes`, at most
 *   `udpQueueDatagrams` datagrams); the owner hears about new datagrams from poll() only.
 * - Internal slots get the datagram in place, inside input(): the receiver parses it at once and must
 *   not call application code.
 * - A datagram for no binding is counted (udpNoPorts) and answered with ICMP port unreachable
 *   (RFC 1122 §4.1.3.1), rate-limited by the stack (`icmpErrorsPerSec`), never for broadcasts.
 * Nothing here allocates per datagram.
 */
import type { StackConfig } from "../config.js";
import type { Counters } from "../counters.js";
import { arenaSize } from "../arena.js";
import type { Stack, Transport } from "../stack.js";
import { ETH_HLEN } from "../wire/ethernet.js";
import { IPV4_HLEN, PROTO_UDP } from "../wire/ipv4.js";
import { emitUdp, fillUdpChecksum, UDP_HLEN, UdpView } from "../wire/udp.js";

/** Offset of the UDP header in `stack.tx` (= Stack's TX_L4; not imported: stack.ts imports this module). */
const TX_L4 = ETH_HLEN + IPV4_HLEN;
/** Where a sender puts its payload in `stack.tx` before `sendPrepared()`. */
export const UDP_DATA = TX_L4 + UDP_HLEN;

/** Slot kinds. */
const FREE = 0;
const SOCKET = 1;
const INTERNAL = 2;

/** open*() failures (negative slot numbers). */
export const UDP_ERR_NO_SLOT = -1;
export const UDP_ERR_PORT_IN_USE = -2;

/** First and last ephemeral port (RFC 6335 §6: 49152-65535). */
const EPHEMERAL_LO = 49152;
const EPHEMERAL_N = 16384;

/** A stack protocol that receives datagrams in place (DHCP, DNS). */
export interface UdpReceiver {
  /**
   * One datagram for the receiver's port: data at b[at .. at+len). Called inside Stack.input(): it
   * must not call application code and must not keep `b`.
   */
  udpReceive(tag: number, b: Uint8Array, at: number, len: number, src: number, srcPort: number, dst: number, now: number): void;
}

/** An application socket: told from Stack.poll() how many datagrams wait. */
export interface UdpOwner {
  deliver(datagrams: number): void;
}

export class UdpLayer implements Transport {
  readonly stack: Stack;
  readonly c: Counters;
  /** Application socket slots (the first ones). */
  readonly sockets: number;
  /** All slots. */
  readonly slots: number;
  readonly kind: Uint8Array;
  readonly port: Uint16Array;
  /** Bound local address, 0 = any. */
  readonly addr: Uint32Array;
  readonly tag: Int32Array;
  readonly receiver: (UdpReceiver | null)[] = [];
  readonly owner: (UdpOwner | null)[] = [];
  /** Socket slot has datagrams its owner has not been told about. */
  readonly pending: Uint8Array;

  // Receive queues, one per socket slot: datagram bytes in a ring, descriptors in a ring.
  readonly qBytes: Uint8Array;
  readonly qCap: number;
  readonly qMax: number;
  readonly qOff: Uint32Array;
  readonly qLen: Uint32Array;
  readonly qSrc: Uint32Array;
  readonly qPort: Uint16Array;
  readonly qHead: Uint32Array;
  readonly qCount: Uint32Array;
  /** Byte offset of the oldest datagram / where the next one goes. */
  readonly qStart: Uint32Array;
  readonly qEnd: Uint32Array;
  /** 1: the newest datagrams wrapped to offset 0 while older ones still sit at the end. */
  readonly qWrapped: Uint8Array;

  /** Exceptions thrown by application callbacks (counted; the stack keeps running). */
  callbackErrors = 0;
  lastCallbackError: unknown = null;
  /** The last `now` seen by input() or poll(). */
  now = 0;
  private readonly view = new UdpView();
  private readonly rnd = new Uint8Array(2);
  private nextEphemeral: number;
  private anyPending = false;

  constructor(stack: Stack, internalSlots: number) {
    this.stack = stack;
    this.c = stack.counters;
    const cfg = stack.config;
    const n = cfg.udpSockets + internalSlots;
    this.sockets = cfg.udpSockets;
    this.slots = n;
    this.kind = new Uint8Array(n);
    this.port = new Uint16Array(n);
    this.addr = new Uint32Array(n);
    this.tag = new Int32Array(n);
    this.pending = new Uint8Array(n);
    for (let i = 0; i < n; i++) { this.receiver.push(null); this.owner.push(null); }
    const s = cfg.udpSockets, q = cfg.udpQueueDatagrams;
    this.qCap = cfg.udpQueueBytes;
    this.qMax = q;
    this.qBytes = stack.arena.take(s * cfg.udpQueueBytes);
    this.qOff = new Uint32Array(s * q);
    this.qLen = new Uint32Array(s * q);
    this.qSrc = new Uint32Array(s * q);
    this.qPort = new Uint16Array(s * q);
    this.qHead = new Uint32Array(s);
    this.qCount = new Uint32Array(s);
    this.qStart = new Uint32Array(s);
    this.qEnd = new Uint32Array(s);
    this.qWrapped = new Uint8Array(s);
    stack.driver.random(this.rnd);
    this.nextEphemeral = EPHEMERAL_LO + (((this.rnd[0] << 8) | this.rnd[1]) % EPHEMERAL_N);
  }

  /** Arena bytes the receive queues take. */
  static arenaBytes(c: StackConfig): number {
    return arenaSize(c.udpSockets * c.udpQueueBytes);
  }

  // ------------------------------------------------------------------ bindings

  /** True when `port` is bound to `addr`, to any address, or (addr 0) to any specific address. */
  portInUse(port: number, addr: number): boolean {
    for (let i = 0; i < this.slots; i++) {
      if (this.kind[i] !== FREE && this.port[i] === port && (addr === 0 || this.addr[i] === 0 || this.addr[i] === addr)) return true;
    }
    return false;
  }

  /** A free ephemeral port (sequential from a random start). 0 if all 16384 are taken. */
  ephemeralPort(): number {
    for (let k = 0; k < EPHEMERAL_N; k++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === EPHEMERAL_LO + EPHEMERAL_N - 1 ? EPHEMERAL_LO : p + 1;
      if (!this.portInUse(p, 0)) return p;
    }
    return 0;
  }

  /** A free ephemeral port picked at random (RFC 6056 §3.3.1; DNS source ports, RFC 5452 §9.2). */
  randomPort(): number {
    for (let k = 0; k < 16; k++) {
      this.stack.driver.random(this.rnd);
      const p = EPHEMERAL_LO + (((this.rnd[0] << 8) | this.rnd[1]) % EPHEMERAL_N);
      if (!this.portInUse(p, 0)) return p;
    }
    return this.ephemeralPort();
  }

  /** Bind an application socket (port 0 = ephemeral). Returns the slot or UDP_ERR_*. */
  openSocket(port: number, addr: number, owner: UdpOwner): number {
    return this.open(SOCKET, 0, this.sockets, port, addr, owner, null, 0);
  }

  /** Bind an internal receiver (port 0 = random ephemeral). Returns the slot or UDP_ERR_*. */
  openInternal(port: number, receiver: UdpReceiver, tag: number): number {
    return this.open(INTERNAL, this.sockets, this.slots, port, 0, null, receiver, tag);
  }

  private open(kind: number, from: number, to: number, port: number, addr: number,
    owner: UdpOwner | null, receiver: UdpReceiver | null, tag: number): number {
    let s = -1;
    for (let i = from; i < to; i++) if (this.kind[i] === FREE) { s = i; break; }
    if (s < 0) return UDP_ERR_NO_SLOT;
    if (port === 0) port = kind === INTERNAL ? this.randomPort() : this.ephemeralPort();
    if (port === 0 || this.portInUse(port, addr)) return UDP_ERR_PORT_IN_USE;
    this.kind[s] = kind;
    this.port[s] = port;
    this.addr[s] = addr >>> 0;
    this.owner[s] = owner;
    this.receiver[s] = receiver;
    this.tag[s] = tag;
    this.pending[s] = 0;
    if (kind === SOCKET) this.flush(s);
    return s;
  }

  /** Move an internal slot to another port (a DNS query's fresh random port). False if taken. */
  rebind(s: number, port: number): boolean {
    if (this.kind[s] === FREE) return false;
    const old = this.port[s];
    this.port[s] = 0;
    if (port === 0 || this.portInUse(port, this.addr[s])) { this.port[s] = old; return false; }
    this.port[s] = port;
    return true;
  }

  /** Unbind; queued datagrams are discarded. */
  close(s: number): void {
    if (s < 0 || s >= this.slots) return;
    this.kind[s] = FREE;
    this.port[s] = 0;
    this.addr[s] = 0;
    this.owner[s] = null;
    this.receiver[s] = null;
    this.pending[s] = 0;
    if (s < this.sockets) this.flush(s);
  }

  /** Slots in use: [application sockets, internal]. */
  inUse(): { sockets: number; internal: number } {
    let a = 0, b = 0;
    for (let i = 0; i < this.slots; i++) {
      if (this.kind[i] === SOCKET) a++;
      else if (this.kind[i] === INTERNAL) b++;
    }
    return { sockets: a, internal: b };
  }

  // ------------------------------------------------------------------ input

  /** One UDP datagram from IP. Never throws on bad bytes: counts and drops. */
  input(b: Uint8Array, at: number, len: number, src: number, dst: number, broadcast: boolean, now: number): void {
    this.now = now;
    const c = this.c;
    const v = this.view;
    if (!v.aim(b, at, len)) { c.udpInErrors++; c.udpInBadLen++; return; }
    if (!v.checksumOk(src, dst)) { c.udpInErrors++; c.udpInBadChecksum++; return; }
    const dport = v.dstPort();
    const ours = this.stack.address;
    // Unicast to an address that is not ours: only accepted by IP while we have none (DHCP offers).
    const foreign = !broadcast && (ours === 0 || dst !== ours);
    const s = this.find(dport, dst, foreign);
    if (s < 0) {
      c.udpNoPorts++;
      if (!broadcast && !foreign && src !== 0) this.stack.sendIcmpUnreachable(b, this.stack.rxIpAt, 3 /* port unreachable */, now);
      return;
    }
    if (this.kind[s] === INTERNAL) {
      c.udpInDatagrams++;
      (this.receiver[s] as UdpReceiver).udpReceive(this.tag[s], b, v.dataAt(), v.dataLen(), src, v.srcPort(), dst, now);
      return;
    }
    if (this.enqueue(s, b, v.dataAt(), v.dataLen(), src, v.srcPort())) {
      c.udpInDatagrams++;
      this.pending[s] = 1;
      this.anyPending = true;
    }
  }

  /** The slot bound to `port` for destination `dst`: a specific address wins over "any". -1 if none. */
  private find(port: number, dst: number, foreign: boolean): number {
    let any = -1;
    for (let i = 0; i < this.slots; i++) {
      const k = this.kind[i];
      if (k === FREE || this.port[i] !== port) continue;
      if (foreign && k !== INTERNAL) continue;
      const a = this.addr[i];
      if (a === dst) return i;
      if (a === 0 && any < 0) any = i;
    }
    return any;
  }

  // ------------------------------------------------------------------ socket queues

  private flush(s: number): void {
    this.qHead[s] = 0;
    this.qCount[s] = 0;
    this.qStart[s] = 0;
    this.qEnd[s] = 0;
    this.qWrapped[s] = 0;
  }

  /** Copy one datagram into socket s's queue; false (counted) when it does not fit. */
  private enqueue(s: number, b: Uint8Array, at: number, len: number, src: number, sport: number): boolean {
    const c = this.c, cap = this.qCap;
    if (len > cap) { c.udpInErrors++; c.udpInTooBig++; return false; }
    const count = this.qCount[s];
    if (count === this.qMax) { c.udpInErrors++; c.udpInQueueFull++; return false; }
    let pos: number;
    let wrapped = this.qWrapped[s];
    if (count === 0) {
      pos = 0;
      wrapped = 0;
      this.qStart[s] = 0;
    } else {
      const st = this.qStart[s], en = this.qEnd[s];
      if (wrapped === 0) {
        // Data in [st, en): append, or wrap to [0, len) below st. Empty datagrams never wrap.
        if (en + len <= cap) pos = en;
        else if (len <= st) { pos = 0; wrapped = 1; }
        else { c.udpInErrors++; c.udpInQueueFull++; return false; }
      } else {
        // Data in [st, cap) and [0, en).
        if (en + len <= st) pos = en;
        else { c.udpInErrors++; c.udpInQueueFull++; return false; }
      }
    }
    const base = s * cap;
    const q = this.qBytes;
    for (let k = 0; k < len; k++) q[base + pos + k] = b[at + k];
    const d = s * this.qMax + (this.qHead[s] + count) % this.qMax;
    this.qOff[d] = pos;
    this.qLen[d] = len;
    this.qSrc[d] = src;
    this.qPort[d] = sport;
    this.qCount[s] = count + 1;
    this.qEnd[s] = pos + len;
    this.qWrapped[s] = wrapped;
    return true;
  }

  /** Datagrams waiting on socket s. */
  queued(s: number): number { return this.qCount[s]; }

  /** Descriptor index of the oldest datagram of socket s (qCount[s] > 0). */
  private head(s: number): number { return s * this.qMax + this.qHead[s]; }

  /** Length, sender address and port of the oldest datagram (qCount[s] > 0). */
  headLength(s: number): number { return this.qLen[this.head(s)]; }
  headSource(s: number): number { return this.qSrc[this.head(s)]; }
  headPort(s: number): number { return this.qPort[this.head(s)]; }

  /** Copy the oldest datagram into dst[at..] (room checked by the caller) and drop it; returns its length. */
  take(s: number, dst: Uint8Array, at: number): number {
    const d = this.head(s);
    const len = this.qLen[d], from = s * this.qCap + this.qOff[d];
    const q = this.qBytes;
    for (let k = 0; k < len; k++) dst[at + k] = q[from + k];
    this.pop(s);
    return len;
  }

  /** Drop the oldest datagram of socket s. */
  pop(s: number): void {
    const count = this.qCount[s];
    if (count === 0) return;
    if (count === 1) { this.flush(s); return; }
    const old = this.qStart[s];
    this.qHead[s] = (this.qHead[s] + 1) % this.qMax;
    this.qCount[s] = count - 1;
    const st = this.qOff[this.head(s)];
    this.qStart[s] = st;
    if (st < old) this.qWrapped[s] = 0; // the reader wrapped too: everything left is in [st, en)
  }

  // ------------------------------------------------------------------ output

  /** Largest payload one datagram can carry (no fragmentation): MTU - 28. */
  maxPayload(): number { return this.stack.mtu - 20 - UDP_HLEN; }

  /**
   * Send the `dataLen` payload bytes already at stack.tx[UDP_DATA..] from `srcPort` to dst:dstPort.
   * Returns true when the frame was handed to the driver or queued for ARP (counted either way).
   */
  sendPrepared(srcPort: number, dst: number, dstPort: number, dataLen: number, now: number, src = this.stack.address): boolean {
    const c = this.c;
    if (dataLen > this.maxPayload()) { c.udpOutErrors++; return false; }
    const t = this.stack.tx;
    emitUdp(t, TX_L4, srcPort, dstPort, dataLen);
    fillUdpChecksum(t, TX_L4, UDP_HLEN + dataLen, src, dst);
    const ok = this.stack.sendIp(dst, PROTO_UDP, UDP_HLEN + dataLen, now, src);
    if (ok) c.udpOutDatagrams++;
    else c.udpOutErrors++;
    return ok;
  }

  /** Send data[at .. at+len) from slot s to dst:dstPort (len <= maxPayload(), checked by the caller). */
  send(s: number, dst: number, dstPort: number, data: Uint8Array, at: number, len: number, now: number): boolean {
    const t = this.stack.tx;
    for (let k = 0; k < len; k++) t[UDP_DATA + k] = data[at + k];
    const a = this.addr[s];
    return this.sendPrepared(this.port[s], dst, dstPort, len, now, a !== 0 ? a : this.stack.address);
  }

  // ------------------------------------------------------------------ poll

  /** Tell socket owners about new datagrams (the only place their callbacks run). */
  poll(now: number): number {
    this.now = now;
    if (!this.anyPending) return Infinity;
    this.anyPending = false;
    for (let s = 0; s < this.sockets; s++) {
      if (this.pending[s] === 0) continue;
      this.pending[s] = 0;
      const o = this.owner[s];
      const n = this.qCount[s];
      if (o === null || n === 0) continue;
      try {
        o.deliver(n);
      } catch (e) {
        this.callbackErrors++;
        this.lastCallbackError = e;
      }
    }
    return Infinity;
  }
}
