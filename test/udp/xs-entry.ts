/**
 * XS fixture (bundled by test/udp/xs.test.ts, also importable in V8): steady-state steps for the UDP
 * receive path and a whole DNS resolution (query out, answer in, parsed, slot released). Pure
 * ECMAScript: no Node.
 */
import { UDP_DATA, type UdpOwner } from "../../src/udp/udp.js";
import { Stack } from "../../src/stack.js";
import { DNS_OK } from "../../src/dns/resolver.js";
import { emitArp, ARP_REPLY } from "../../src/wire/arp.js";
import { get16, put16 } from "../../src/wire/bytes.js";
import { emitEth, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../../src/wire/ethernet.js";
import { emitIpv4, IPV4_HLEN, PROTO_UDP } from "../../src/wire/ipv4.js";
import { emitUdp } from "../../src/wire/udp.js";

const OUR = 0xc0000202, PEER = 0xc0000201;
const L4 = ETH_HLEN + IPV4_HLEN;

/** A driver that keeps the last frame (copied into a fixed buffer). */
class SinkDriver {
  readonly mac = new Uint8Array([2, 0, 0, 0, 0, 2]);
  readonly peerMac = new Uint8Array([2, 0, 0, 0, 0, 1]);
  readonly mtu = 1500;
  readonly last = new Uint8Array(1514);
  lastLen = 0;
  frames = 0;
  private x = 0x12345678;
  transmit(f: Uint8Array, n: number): boolean {
    for (let i = 0; i < n; i++) this.last[i] = f[i];
    this.lastLen = n;
    this.frames++;
    return true;
  }
  random(into: Uint8Array): void {
    for (let i = 0; i < into.length; i++) {
      let x = this.x;
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      this.x = x >>> 0;
      into[i] = x & 0xff;
    }
  }
}

interface State {
  s: Stack;
  d: SinkDriver;
  frame: Uint8Array;
  len: number;
  slot: number;
  buf: Uint8Array;
  now: number;
  ok: number;
}
let st: State | undefined;

/** Frame: peer -> us, UDP sport -> dport, `data` bytes, checksum 0 (accepted, RFC 768). */
function udpFrame(d: SinkDriver, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const f = new Uint8Array(L4 + 8 + data.length);
  emitEth(f, 0, d.mac, 0, d.peerMac, 0, ETHERTYPE_IPV4);
  emitIpv4(f, ETH_HLEN, PEER, OUR, PROTO_UDP, 8 + data.length, 1, 64);
  emitUdp(f, L4, sport, dport, data.length);
  f.set(data, L4 + 8);
  return f;
}

function makeStack(extra: object): { s: Stack; d: SinkDriver } {
  const d = new SinkDriver();
  const s = new Stack({ address: OUR, preset: "minimal", ...extra }, d);
  // Learn the peer's MAC.
  const arp = new Uint8Array(42);
  emitEth(arp, 0, d.mac, 0, d.peerMac, 0, ETHERTYPE_ARP);
  emitArp(arp, ETH_HLEN, ARP_REPLY, d.peerMac, 0, PEER, d.mac, 0, OUR);
  s.input(arp, 42, 0);
  return { s, d };
}

const owner: UdpOwner = { deliver(): void { /* counted by the layer */ } };

function setupUdp(): number {
  const { s, d } = makeStack({});
  const slot = s.udpLayer.openSocket(5000, 0, owner);
  const data = new Uint8Array(200);
  for (let i = 0; i < data.length; i++) data[i] = i;
  const frame = udpFrame(d, 4000, 5000, data);
  st = { s, d, frame, len: frame.length, slot, buf: new Uint8Array(1500), now: 1, ok: 0 };
  return slot;
}

/** One datagram in, delivered at poll(), taken out of the queue. */
function stepUdp(): void {
  const t = st as State;
  t.s.input(t.frame, t.len, t.now);
  t.s.poll(t.now);
  if (t.s.udpLayer.queued(t.slot) > 0 && t.s.udpLayer.take(t.slot, t.buf, 0) === 200) t.ok++;
  t.now += 1;
}

function setupDns(): number {
  const { s, d } = makeStack({ dnsServers: [PEER], dnsCacheEntries: 0 });
  // Answer for board.test: header, question, one A record with a pointer to the question.
  const name = [5, 98, 111, 97, 114, 100, 4, 116, 101, 115, 116, 0];
  const msg = new Uint8Array([0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...name, 0, 1, 0, 1,
    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 10]);
  const frame = udpFrame(d, 53, 0, msg);
  st = { s, d, frame, len: frame.length, slot: -1, buf: new Uint8Array(0), now: 1, ok: 0 };
  return frame.length;
}

/** resolve(), the query goes out, the answer (its ID and port patched in) comes back, release(). */
function stepDns(): void {
  const t = st as State;
  const h = t.s.dns.resolve("board.test", null, t.now);
  t.s.poll(t.now);
  const q = t.d.last;
  // Our query: source port at L4, ID at the start of the UDP payload.
  put16(t.frame, L4 + 2, get16(q, L4));
  t.frame[UDP_DATA] = q[UDP_DATA];
  t.frame[UDP_DATA + 1] = q[UDP_DATA + 1];
  t.s.input(t.frame, t.len, t.now);
  t.s.poll(t.now);
  if (t.s.dns.status(h) === DNS_OK && t.s.dns.address(h) === 0xc000020a) t.ok++;
  t.s.dns.release(h);
  t.now += 1;
}

/** resolve() and release() alone: what the name string costs (XS wraps a primitive string on each access). */
function stepResolveOnly(): void {
  const t = st as State;
  t.s.dns.release(t.s.dns.resolve("board.test", null, t.now));
  t.ok++;
  t.now += 1;
}

function result(): { ok: number; internalErrors: number; frames: number } {
  const t = st as State;
  return { ok: t.ok, internalErrors: t.s.internalErrors, frames: t.d.frames };
}

export const scenarios = { setupUdp, stepUdp, setupDns, stepDns, stepResolveOnly, result };
