/**
 * Stack: the sans-I/O core (DESIGN.md §2). Ethernet II in and out, ARP (RFC 826), IPv4 (RFC 791,
 * RFC 1122 §3.2), ICMP echo (RFC 792), and the transport protocols on top.
 *
 * - `input(frame, length, now)`: one received Ethernet frame. Never throws, whatever the bytes.
 * - `poll(now)`: runs due timers, sends what is pending, delivers deferred socket callbacks; returns the
 *   next absolute deadline in ms (Infinity when only input can wake it). Calling early is harmless.
 * Everything is allocated here, in the constructor, from the config.
 */
import { Arena, arenaSize } from "./arena.js";
import { ArpCache } from "./arp/cache.js";
import { makeConfig, type StackConfig, type StackOptions } from "./config.js";
import { Counters } from "./counters.js";
import type { Driver } from "./driver.js";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpView, emitArp } from "./wire/arp.js";
import { ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthView, emitEth } from "./wire/ethernet.js";
import { emitIcmpEcho, emitIcmpError, ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IcmpView } from "./wire/icmp.js";
import {
  emitIpv4, IP_BAD_CHECKSUM, IP_BAD_HLEN, IP_BAD_TOTLEN, IP_BAD_VERSION, IP_OK, IPV4_HLEN, Ipv4View,
  PROTO_ICMP, PROTO_TCP, PROTO_UDP,
} from "./wire/ipv4.js";
import { Tcp } from "./tcp/tcp.js";
import { UdpLayer } from "./udp/udp.js";
import { DhcpClient } from "./dhcp/client.js";
import { DnsResolver } from "./dns/resolver.js";

/** Offset of the transport header in the tx scratch frame. */
export const TX_L4 = ETH_HLEN + IPV4_HLEN;

const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO_MAC = new Uint8Array(6);

/** A transport protocol plugged into the IP layer (UDP; TCP is built in). */
export interface Transport {
  input(b: Uint8Array, at: number, len: number, src: number, dst: number, broadcast: boolean, now: number): void;
  poll(now: number): number;
}

export class Stack {
  readonly config: StackConfig;
  readonly driver: Driver;
  readonly counters = new Counters();
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** Our address, netmask and gateway (uint32); DHCP may change them. */
  address: number;
  netmask: number;
  gateway: number;
  readonly arp: ArpCache;
  readonly tcp: Tcp;
  /** The one frame every outgoing packet is built in (driver.transmit copies). */
  readonly tx: Uint8Array;
  /** The arena all byte storage comes from. */
  readonly arena: Arena;
  /** UDP (set by src/udp when it is used). */
  udp: Transport | null = null;
  /** UDP demultiplexing, socket queues and sending (also `udp`). */
  readonly udpLayer: UdpLayer;
  /** DNS resolver: `dns.resolve(name, owner, now)` (src/dns/resolver.ts). */
  readonly dns: DnsResolver;
  /** DHCP client when `config.dhcp`; null otherwise. */
  readonly dhcp: DhcpClient | null;
  /** Offset of the IP header of the packet being delivered to a transport (for ICMP errors). */
  rxIpAt = 0;

  private readonly eth = new EthView();
  private readonly arpView = new ArpView();
  private readonly ip = new Ipv4View();
  private readonly icmp = new IcmpView();
  private ipId = 0;
  private icmpTokens = 0;
  private icmpRefill = 0;

  constructor(options: StackOptions | StackConfig, driver: Driver) {
    if (driver === null || typeof driver !== "object") throw new TypeError("Stack: driver must be an object");
    if (!(driver.mac instanceof Uint8Array) || driver.mac.length !== 6) throw new TypeError("Stack: driver.mac must be a 6-byte Uint8Array");
    if (typeof driver.transmit !== "function" || typeof driver.random !== "function") throw new TypeError("Stack: driver needs transmit() and random()");
    const mtu = driver.mtu;
    if (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < 576 || mtu > 9000) throw new RangeError("Stack: driver.mtu must be an integer in 576..9000");
    this.config = makeConfig(options as StackOptions);
    this.driver = driver;
    this.mtu = mtu;
    this.address = this.config.address;
    this.netmask = this.config.netmask;
    this.gateway = this.config.gateway;
    this.arena = new Arena(Stack.footprint(this.config, mtu).arenaBytes);
    this.mac = this.arena.take(6);
    this.mac.set(driver.mac);
    const frameBytes = ETH_HLEN + mtu;
    this.tx = this.arena.take(frameBytes);
    this.arp = new ArpCache(this.config, this.counters, frameBytes, this.arena.take(frameBytes * this.config.arpPendingFrames));
    for (let k = 0; k < this.config.arpPendingFrames; k++) {
      this.pendingViews.push(new Uint8Array(this.arp.pending.buffer, this.arp.pending.byteOffset + k * frameBytes, frameBytes));
    }
    this.tcp = new Tcp(this);
    this.udpLayer = new UdpLayer(this, 1 + DnsResolver.udpSlots(this.config));
    this.udp = this.udpLayer;
    this.dns = new DnsResolver(this);
    this.dhcp = this.config.dhcp ? new DhcpClient(this) : null;
  }
  /** One view per ARP pending slot, made once, so a flushed frame needs no subarray. */
  private readonly pendingViews: Uint8Array[] = [];

  /** Bytes the stack's arena needs for `config` (and the fixed buffers in it), without building it. */
  static footprint(options: StackOptions | StackConfig, mtu = 1500): { arenaBytes: number; perConnectionBytes: number } {
    const c = makeConfig(options as StackOptions);
    const frame = ETH_HLEN + mtu;
    const perConn = arenaSize(c.sendBufBytes) + arenaSize(c.recvBufBytes);
    const arenaBytes = arenaSize(6) + arenaSize(frame) + arenaSize(frame * c.arpPendingFrames) +
      c.maxConnections * perConn + Tcp.arenaBytes(c) + UdpLayer.arenaBytes(c) + DnsResolver.arenaBytes(c);
    return { arenaBytes, perConnectionBytes: perConn };
  }

  // ---------------------------------------------------------------- input

  /** One received Ethernet frame. Never throws. */
  input(frame: Uint8Array, length: number, now: number): void {
    try {
      this.inputFrame(frame, length, now);
    } catch (e) {
      // A bug, not bad input: every parser bounds its reads. Count it and keep running.
      this.internalErrors++;
      this.lastInternalError = e;
    }
  }
  /** Exceptions caught at the input/poll boundary (always 0 unless there is a bug). */
  internalErrors = 0;
  lastInternalError: unknown = null;

  private inputFrame(frame: Uint8Array, length: number, now: number): void {
    const c = this.counters;
    c.linkInFrames++;
    if (!(frame instanceof Uint8Array)) { c.ethTooShort++; return; }
    if (!(length <= frame.length)) length = frame.length; // also catches NaN
    if (this.onReceive !== null) this.onReceive(frame, 0, length);
    if (!this.eth.aim(frame, 0, length)) { c.ethTooShort++; return; }
    const eth = this.eth;
    if (!eth.isMulticast() && !eth.dstIs(this.mac, 0)) { c.ethNotForUs++; return; }
    const type = eth.type();
    if (type === ETHERTYPE_IPV4) this.inputIp(frame, ETH_HLEN, length - ETH_HLEN, eth.isMulticast(), now);
    else if (type === ETHERTYPE_ARP) this.inputArp(frame, ETH_HLEN, length - ETH_HLEN, now);
    else c.ethUnknownType++;
  }

  private inputArp(b: Uint8Array, at: number, len: number, now: number): void {
    const c = this.counters;
    const a = this.arpView;
    if (!a.aim(b, at, len)) { c.arpBad++; return; }
    const op = a.op();
    const spa = a.spa(), tpa = a.tpa();
    if (op === ARP_REQUEST) c.arpInRequests++;
    else if (op === ARP_REPLY) c.arpInReplies++;
    else { c.arpBad++; return; }
    if (this.dhcp !== null) this.dhcp.arpSeen(op, spa, tpa, now);
    // A sender MAC that is multicast/broadcast is never learned.
    if ((b[a.shaAt()] & 1) !== 0) { c.arpBad++; return; }
    if (spa !== 0 && spa === this.address) { c.arpConflict++; return; }
    const forUs = this.address !== 0 && tpa === this.address;
    if (spa !== 0) {
      // RFC 826 merge: refresh an existing entry; create one only when the packet is for us.
      // Gratuitous ARP (spa === tpa, not for us) for an address we do not cache is ignored.
      const learned = this.arp.learn(spa, b, a.shaAt(), now, forUs);
      if (learned < 0 && !forUs && spa === tpa) c.arpGratuitousIgnored++;
      if (learned >= 0) this.flushPending(spa, learned);
    }
    if (op === ARP_REQUEST && forUs) {
      const t = this.tx;
      emitEth(t, 0, b, a.shaAt(), this.mac, 0, ETHERTYPE_ARP);
      emitArp(t, ETH_HLEN, ARP_REPLY, this.mac, 0, this.address, b, a.shaAt(), spa);
      if (this.send(ETH_HLEN + ARP_LEN)) c.arpOutReplies++;
    }
  }

  /** Frames that waited for `ip` now go out with its MAC (entry index `e`). */
  private flushPending(ip: number, e: number): void {
    const arp = this.arp;
    for (let s = arp.pendingFor(ip); s >= 0; s = arp.pendingFor(ip)) {
      const base = s * arp.slotBytes;
      const p = arp.pending;
      for (let k = 0; k < 6; k++) p[base + k] = arp.macs[e * 6 + k];
      const len = arp.pendingLength(s);
      arp.releasePending(s);
      this.transmitRaw(p, base, len);
    }
  }

  private inputIp(b: Uint8Array, at: number, len: number, linkBroadcast: boolean, now: number): void {
    const c = this.counters;
    const ip = this.ip;
    c.ipInReceives++;
    const r = ip.check(b, at, len);
    if (r !== IP_OK) {
      c.ipInHdrErrors++;
      if (r === IP_BAD_CHECKSUM) c.ipInBadChecksum++;
      else if (r === IP_BAD_VERSION) c.ipInBadVersion++;
      else if (r === IP_BAD_HLEN) c.ipInBadHlen++;
      else if (r === IP_BAD_TOTLEN) c.ipInBadLen++;
      else c.ipInTooShort++;
      return;
    }
    const src = ip.src(), dst = ip.dst();
    const bcast = this.isBroadcast(dst);
    this.rxIpAt = at;
    if (dst !== this.address && !bcast) {
      // With no address yet (DHCP), unicast to any address is accepted for UDP (RFC 2131 §4.1 replies).
      if (!(this.address === 0 && ip.proto() === PROTO_UDP)) { c.ipInAddrErrors++; return; }
    }
    // RFC 1122 §3.2.1.3: discard a source that is broadcast, multicast or one of ours.
    if (this.isBroadcast(src) || (src >>> 28) === 0xe || (src !== 0 && src === this.address) || (src >>> 24) === 127) {
      c.ipInBadSrc++; return;
    }
    if (ip.isFragment()) { c.ipReasmFails++; return; }
    const proto = ip.proto();
    const pAt = ip.payloadAt(), pLen = ip.payloadLen();
    const broadcast = bcast || linkBroadcast;
    if (proto === PROTO_TCP) {
      c.ipInDelivers++;
      if (broadcast) { c.tcpInErrs++; c.tcpInBadPort++; return; } // RFC 9293 §3.9.1 / 1122: no TCP to broadcast
      this.tcp.input(b, pAt, pLen, src, dst, now);
    } else if (proto === PROTO_ICMP) {
      c.ipInDelivers++;
      this.inputIcmp(b, pAt, pLen, src, broadcast);
    } else if (proto === PROTO_UDP && this.udp !== null) {
      c.ipInDelivers++;
      this.udp.input(b, pAt, pLen, src, dst, broadcast, now);
    } else if (proto === PROTO_UDP) {
      c.ipInDelivers++;
      c.udpNoPorts++;
      if (!broadcast) this.sendIcmpUnreachable(b, at, 3 /* port unreachable */, now);
    } else {
      c.ipInUnknownProtos++;
      if (!broadcast) this.sendIcmpUnreachable(b, at, 2 /* protocol unreachable */, now);
    }
  }

  private inputIcmp(b: Uint8Array, at: number, len: number, src: number, broadcast: boolean): void {
    const c = this.counters;
    const m = this.icmp;
    c.icmpInMsgs++;
    if (!m.aim(b, at, len) || !m.checksumOk()) { c.icmpInErrors++; return; }
    const type = m.type();
    if (type === ICMP_ECHO_REPLY) {
      c.icmpInEchoReps++;
      if (this.onEchoReply !== null) this.onEchoReply(src, m.id(), m.seq(), m.dataLen());
      return;
    }
    if (type === ICMP_DEST_UNREACH) { c.icmpInDestUnreachs++; return; }
    if (type !== ICMP_ECHO_REQUEST) return;
    c.icmpInEchos++;
    if (broadcast) { c.icmpInBroadcastEchoIgnored++; return; }
    const dataLen = m.dataLen();
    if (TX_L4 + 8 + dataLen > this.tx.length) { c.ipOutTooBig++; return; }
    const t = this.tx;
    const from = m.dataAt(), to = TX_L4 + 8;
    for (let k = 0; k < dataLen; k++) t[to + k] = b[from + k];
    emitIcmpEcho(t, TX_L4, ICMP_ECHO_REPLY, m.id(), m.seq(), dataLen);
    if (this.sendIp(src, PROTO_ICMP, 8 + dataLen, 0)) { c.icmpOutMsgs++; c.icmpOutEchoReps++; }
  }

  /** Observer of ICMP echo replies (ping); null = none. Called from input(). */
  onEchoReply: ((src: number, id: number, seq: number, dataLen: number) => void) | null = null;

  /**
   * Send an ICMP echo request (ping) with `dataLen` pattern bytes. Returns true when it was handed to
   * the driver or queued for ARP resolution.
   */
  ping(dst: number, id: number, seq: number, dataLen: number, now: number): boolean {
    if (!Number.isInteger(dataLen) || dataLen < 0 || TX_L4 + 8 + dataLen > this.tx.length) throw new RangeError("ping: bad data length");
    const t = this.tx, to = TX_L4 + 8;
    for (let k = 0; k < dataLen; k++) t[to + k] = k & 0xff;
    emitIcmpEcho(t, TX_L4, ICMP_ECHO_REQUEST, id & 0xffff, seq & 0xffff, dataLen);
    const ok = this.sendIp(dst >>> 0, PROTO_ICMP, 8 + dataLen, now);
    if (ok) this.counters.icmpOutMsgs++;
    return ok;
  }

  /** ICMP destination unreachable for the datagram whose IP header starts at b[ipAt] (rate-limited). */
  sendIcmpUnreachable(b: Uint8Array, ipAt: number, code: number, now: number): void {
    const c = this.counters;
    const limit = this.config.icmpErrorsPerSec;
    if (now >= this.icmpRefill) { this.icmpTokens = limit; this.icmpRefill = now + 1000; }
    if (this.icmpTokens <= 0) { c.icmpOutRateLimited++; return; }
    this.icmpTokens--;
    const ip = this.ip;
    if (ip.check(b, ipAt, b.length - ipAt) !== IP_OK) return;
    const origLen = Math.min(ip.headerLen() + 8, ip.totalLen());
    const t = this.tx, to = TX_L4 + 8;
    for (let k = 0; k < origLen; k++) t[to + k] = b[ipAt + k];
    emitIcmpError(t, TX_L4, ICMP_DEST_UNREACH, code, 0, origLen);
    if (this.sendIp(ip.src(), PROTO_ICMP, 8 + origLen, now)) { c.icmpOutMsgs++; c.icmpOutDestUnreachs++; }
  }

  /** Limited broadcast, or the directed broadcast of our subnet. */
  isBroadcast(ip: number): boolean {
    if (ip === 0xffffffff) return true;
    const host = (~this.netmask) >>> 0;
    return this.address !== 0 && host !== 0 && ((ip ^ this.address) & this.netmask) === 0 && (ip & host) >>> 0 === host;
  }

  // ---------------------------------------------------------------- output

  /**
   * Send an IPv4 packet whose transport payload (`payloadLen` bytes) is already at tx[TX_L4..].
   * Fills the IP and Ethernet headers, resolves the next hop by ARP (queueing the frame while it
   * resolves). Returns true when the frame was handed to the driver or queued for ARP.
   */
  sendIp(dst: number, proto: number, payloadLen: number, now: number, src = this.address): boolean {
    const c = this.counters;
    c.ipOutRequests++;
    if (IPV4_HLEN + payloadLen > this.mtu) { c.ipOutTooBig++; return false; }
    const t = this.tx;
    this.ipId = (this.ipId + 1) & 0xffff;
    emitIpv4(t, ETH_HLEN, src, dst, proto, payloadLen, this.ipId, this.config.ttl);
    const len = ETH_HLEN + IPV4_HLEN + payloadLen;
    if (dst === 0xffffffff || this.isBroadcast(dst)) {
      emitEth(t, 0, BROADCAST_MAC, 0, this.mac, 0, ETHERTYPE_IPV4);
      return this.send(len);
    }
    let hop = dst;
    if (this.address === 0 || ((dst ^ this.address) & this.netmask) !== 0) {
      if (this.gateway === 0) { c.ipOutNoRoutes++; return false; }
      hop = this.gateway;
    }
    const e = this.arp.lookup(hop, now);
    if (e >= 0) {
      emitEth(t, 0, this.arp.macs, e * 6, this.mac, 0, ETHERTYPE_IPV4);
      return this.send(len);
    }
    // Not resolved: queue this frame (destination filled in on reply) and ask.
    emitEth(t, 0, ZERO_MAC, 0, this.mac, 0, ETHERTYPE_IPV4);
    const w = this.arp.want(hop, now);
    if (w < 0) return false; // the cache is full of neighbours in use: dropped (arpCacheFull)
    const queued = this.arp.enqueue(hop, t, len);
    if (w > 0) this.sendArpRequest(hop);
    return queued;
  }

  /** ARP request for `ip` from our address (0 while DHCP probes: RFC 5227 probe; = ip: announcement). */
  arpProbe(ip: number): void {
    this.sendArpRequest(ip);
  }

  private sendArpRequest(ip: number): void {
    const t = this.tx;
    // The tx scratch may hold a frame being built; ARP is small and goes in the tail of `tx`? No:
    // callers have already queued or sent their frame, so the scratch is free here.
    emitEth(t, 0, BROADCAST_MAC, 0, this.mac, 0, ETHERTYPE_ARP);
    emitArp(t, ETH_HLEN, ARP_REQUEST, this.mac, 0, this.address, ZERO_MAC, 0, ip);
    if (this.send(ETH_HLEN + ARP_LEN)) this.counters.arpOutRequests++;
  }

  /** Hand tx[0..len) to the driver. */
  private send(len: number): boolean {
    return this.transmitRaw(this.tx, 0, len);
  }

  private transmitRaw(b: Uint8Array, at: number, len: number): boolean {
    // Ethernet minimum frame: pad with zeros to 60 bytes (the FCS is the MAC's job).
    while (len < 60) b[at + len++] = 0;
    const ok = this.driver.transmit(at === 0 ? b : this.pendingViews[(at / this.arp.slotBytes) | 0], len);
    if (ok) this.counters.linkOutFrames++;
    else this.counters.linkTxRefused++;
    if (this.onTransmit !== null) this.onTransmit(b, at, len, ok);
    return ok;
  }

  /**
   * Called when work became pending outside input()/poll() (e.g. a socket method queued a callback):
   * the platform should call poll() soon. Null = the platform polls often enough anyway.
   */
  onWake: (() => void) | null = null;

  /** Observer of every transmitted frame (the console's trace ring); null = none. */
  onTransmit: ((b: Uint8Array, at: number, len: number, ok: boolean) => void) | null = null;
  /** Observer of every frame handed to input(), before any check (the console's trace ring); null = none. */
  onReceive: ((b: Uint8Array, at: number, len: number) => void) | null = null;

  // ---------------------------------------------------------------- timers

  /** Run due timers and deferred work; returns the next absolute deadline (ms) or Infinity. */
  poll(now: number): number {
    try {
      return this.pollInner(now);
    } catch (e) {
      this.internalErrors++;
      this.lastInternalError = e;
      return now + 1000;
    }
  }

  private pollInner(now: number): number {
    for (let ip = this.arp.due(now); ip >= 0; ip = this.arp.due(now)) this.sendArpRequest(ip);
    // DHCP, DNS and UDP socket callbacks may open TCP connections or start DNS queries: they run
    // before TCP; the deadlines a later callback can still move (ARP, DNS, DHCP) are read at the end.
    let d = Infinity;
    if (this.dhcp !== null) {
      const h = this.dhcp.poll(now);
      if (h < d) d = h;
    }
    const n = this.dns.poll(now);
    if (n < d) d = n;
    if (this.udp !== null) {
      const u = this.udp.poll(now);
      if (u < d) d = u;
    }
    const t = this.tcp.poll(now);
    if (t < d) d = t;
    const a = this.arp.deadline();
    if (a < d) d = a;
    const n2 = this.dns.deadline(now);
    if (n2 < d) d = n2;
    if (this.dhcp !== null && this.dhcp.deadline < d) d = this.dhcp.deadline;
    return d;
  }
}
