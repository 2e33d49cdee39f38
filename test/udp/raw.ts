/**
 * Test helpers for UDP, DHCP and DNS: exact frames in and out, built and parsed with src/wire.
 *
 * - udpFrame()/parseFrame(): Ethernet + IPv4 + UDP (or ICMP, ARP) as plain objects.
 * - FakeDriver: a Driver that keeps every transmitted frame; seeded random().
 * - RawHost: a simulator Endpoint playing a server (DHCP, DNS) at the frame level: it answers ARP for
 *   its addresses, hands UDP datagrams to a handler, and sends what the handler returns from poll(),
 *   as a stack would. Hostile servers are subclasses that send whatever bytes they like.
 */
import type { Driver } from "../../src/driver.js";
import type { Endpoint } from "../../host-sim/endpoint.js";
import { Rng } from "../../host-sim/rng.js";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpView, emitArp } from "../../src/wire/arp.js";
import { get16, get32 } from "../../src/wire/bytes.js";
import { emitEth, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthView } from "../../src/wire/ethernet.js";
import { IcmpView } from "../../src/wire/icmp.js";
import { emitIpv4, IP_OK, IPV4_HLEN, Ipv4View, PROTO_ICMP, PROTO_UDP } from "../../src/wire/ipv4.js";
import { emitUdp, fillUdpChecksum, UDP_HLEN, UdpView } from "../../src/wire/udp.js";

export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC = new Uint8Array(6);

export interface UdpSpec {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  data: Uint8Array;
  /** Default true; false sends checksum 0. */
  checksum?: boolean;
  /** Overwrite the UDP Length field (lying lengths). */
  udpLength?: number;
  ttl?: number;
}

/** An Ethernet + IPv4 + UDP frame. */
export function udpFrame(s: UdpSpec): Uint8Array {
  const n = s.data.length;
  const f = new Uint8Array(ETH_HLEN + IPV4_HLEN + UDP_HLEN + n);
  emitEth(f, 0, s.dstMac, 0, s.srcMac, 0, ETHERTYPE_IPV4);
  emitIpv4(f, ETH_HLEN, s.src >>> 0, s.dst >>> 0, PROTO_UDP, UDP_HLEN + n, 1, s.ttl ?? 64);
  const u = ETH_HLEN + IPV4_HLEN;
  emitUdp(f, u, s.sport, s.dport, n);
  f.set(s.data, u + UDP_HLEN);
  if (s.checksum !== false) fillUdpChecksum(f, u, UDP_HLEN + n, s.src >>> 0, s.dst >>> 0);
  if (s.udpLength !== undefined) { f[u + 4] = s.udpLength >> 8; f[u + 5] = s.udpLength & 0xff; }
  return f;
}

/** An ARP request or reply frame. */
export function arpFrame(op: number, srcMac: Uint8Array, spa: number, dstMac: Uint8Array, tha: Uint8Array, tpa: number): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + ARP_LEN);
  emitEth(f, 0, dstMac, 0, srcMac, 0, ETHERTYPE_ARP);
  emitArp(f, ETH_HLEN, op, srcMac, 0, spa >>> 0, tha, 0, tpa >>> 0);
  return f;
}

export interface Parsed {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  kind: "udp" | "icmp" | "arp" | "ip" | "other";
  src: number;
  dst: number;
  ttl: number;
  /** IP header checksum verified. */
  ipOk: boolean;
  // UDP
  sport: number;
  dport: number;
  data: Uint8Array;
  udpChecksumOk: boolean;
  udpChecksum: number;
  // ICMP
  icmpType: number;
  icmpCode: number;
  /** The bytes after the ICMP header (for errors: the original IP header + 8). */
  icmpData: Uint8Array;
  // ARP
  arpOp: number;
  spa: number;
  tpa: number;
  sha: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Parse one frame (copies what it returns). */
export function parseFrame(frame: Uint8Array, length = frame.length): Parsed {
  const f = frame.slice(0, length);
  const p: Parsed = {
    dstMac: f.slice(0, 6), srcMac: f.slice(6, 12), kind: "other", src: 0, dst: 0, ttl: 0, ipOk: false,
    sport: 0, dport: 0, data: EMPTY, udpChecksumOk: false, udpChecksum: 0,
    icmpType: -1, icmpCode: -1, icmpData: EMPTY, arpOp: 0, spa: 0, tpa: 0, sha: EMPTY,
  };
  const eth = new EthView();
  if (!eth.aim(f, 0, f.length)) return p;
  if (eth.type() === ETHERTYPE_ARP) {
    const a = new ArpView();
    if (!a.aim(f, ETH_HLEN, f.length - ETH_HLEN)) return p;
    p.kind = "arp";
    p.arpOp = a.op(); p.spa = a.spa(); p.tpa = a.tpa(); p.sha = f.slice(a.shaAt(), a.shaAt() + 6);
    return p;
  }
  if (eth.type() !== ETHERTYPE_IPV4) return p;
  const ip = new Ipv4View();
  const r = ip.check(f, ETH_HLEN, f.length - ETH_HLEN);
  if (r !== IP_OK) return p;
  p.kind = "ip"; p.ipOk = true; p.src = ip.src(); p.dst = ip.dst(); p.ttl = ip.ttl();
  if (ip.proto() === PROTO_UDP) {
    const u = new UdpView();
    if (!u.aim(f, ip.payloadAt(), ip.payloadLen())) return p;
    p.kind = "udp";
    p.sport = u.srcPort(); p.dport = u.dstPort(); p.udpChecksum = u.checksum();
    p.udpChecksumOk = u.checksumOk(p.src, p.dst);
    p.data = f.slice(u.dataAt(), u.dataAt() + u.dataLen());
  } else if (ip.proto() === PROTO_ICMP) {
    const m = new IcmpView();
    if (!m.aim(f, ip.payloadAt(), ip.payloadLen())) return p;
    p.kind = "icmp";
    p.icmpType = m.type(); p.icmpCode = f[ip.payloadAt() + 1];
    p.icmpData = f.slice(ip.payloadAt() + 8, ip.payloadAt() + ip.payloadLen());
  }
  return p;
}

/** A Driver that records every frame; random() from a seeded Rng. */
export class FakeDriver implements Driver {
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly sent: Uint8Array[] = [];
  accept = true;
  readonly rng: Rng;
  constructor(mac: Uint8Array, seed = 1, mtu = 1500) {
    this.mac = mac;
    this.mtu = mtu;
    this.rng = new Rng(seed);
  }
  transmit(frame: Uint8Array, length: number): boolean {
    if (!this.accept) return false;
    this.sent.push(frame.slice(0, length));
    return true;
  }
  random(into: Uint8Array): void { this.rng.fill(into); }
  /** Remove and parse every frame sent so far. */
  take(): Parsed[] {
    const out = this.sent.map((f) => parseFrame(f));
    this.sent.length = 0;
    return out;
  }
}

/** A datagram a RawHost received. */
export interface Datagram {
  timeMs: number;
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  data: Uint8Array;
}

/** What a RawHost sends: a frame (built by the handler), sent from the next poll() (optionally later). */
export interface Outgoing {
  frame: Uint8Array;
  atMs?: number;
}

/**
 * A host on the simulator that answers ARP for `ips` and passes UDP datagrams to `onDatagram`; the
 * frames it returns go out from poll() at their time. Counts what it saw.
 */
export class RawHost implements Endpoint {
  readonly driver: Driver;
  readonly ips: number[];
  readonly received: Datagram[] = [];
  readonly arpSeen: Parsed[] = [];
  /** Called for every UDP datagram; returns frames to send. */
  onDatagram: (d: Datagram, host: RawHost) => Outgoing[] = () => [];
  /** Answer ARP requests for our addresses (false: a host that is silent at layer 2). */
  answerArp = true;
  #out: Outgoing[] = [];
  #now = 0;

  constructor(driver: Driver, ips: number[]) {
    this.driver = driver;
    this.ips = ips.slice();
  }

  get mac(): Uint8Array { return this.driver.mac; }
  get now(): number { return this.#now; }

  input(frame: Uint8Array, length: number, now: number): void {
    this.#now = now;
    const p = parseFrame(frame, length);
    if (p.kind === "arp") {
      this.arpSeen.push(p);
      if (p.arpOp === ARP_REQUEST && this.answerArp && this.ips.includes(p.tpa) && p.spa !== p.tpa) {
        this.#out.push({ frame: arpFrame(ARP_REPLY, this.mac, p.tpa, p.sha, p.sha, p.spa) });
      }
      return;
    }
    if (p.kind !== "udp") return;
    const d: Datagram = { timeMs: now, srcMac: p.srcMac, dstMac: p.dstMac, src: p.src, dst: p.dst, sport: p.sport, dport: p.dport, data: p.data };
    this.received.push(d);
    for (const o of this.onDatagram(d, this)) this.#out.push(o);
  }

  /** Queue a frame to go out at `atMs` (default: the next poll). */
  send(frame: Uint8Array, atMs?: number): void {
    this.#out.push(atMs === undefined ? { frame } : { frame, atMs });
  }

  poll(now: number): number {
    this.#now = now;
    let next = Infinity;
    const keep: Outgoing[] = [];
    for (const o of this.#out) {
      if (o.atMs === undefined || o.atMs <= now) this.driver.transmit(o.frame, o.frame.length);
      else { keep.push(o); if (o.atMs < next) next = o.atMs; }
    }
    this.#out = keep;
    return next;
  }

  /** A UDP reply frame from `src`:sport to the datagram's sender (its MAC and address). */
  reply(d: Datagram, data: Uint8Array, opts: Partial<UdpSpec> = {}): Uint8Array {
    return udpFrame({
      dstMac: d.srcMac, srcMac: this.mac, src: d.dst === 0xffffffff ? this.ips[0] : d.dst, dst: d.src,
      sport: d.dport, dport: d.sport, data, ...opts,
    });
  }
}

/** Big-endian readers for test assertions. */
export { get16, get32 };
