/**
 * The scripted peer (DESIGN.md §1 "test: scripted peer", STYLE.md "What we take" 8 and 9).
 *
 * One Stack under test on a fake Driver; the test plays the remote TCP by hand, smoltcp style:
 * `peerSends({...})` encodes a real Ethernet + IPv4 + TCP frame with src/wire (checksums filled) and
 * hands it to `stack.input()` then `stack.poll()`, as the platform loop does; `expectSent({...})` pops
 * the next frame the stack transmitted, parses it with src/wire views and compares every field (listed
 * ones, the rest from a template), with a field-by-field diff on failure; `expectNothing()`;
 * `advance(ms)` moves the virtual clock, stopping at every deadline `poll()` returns on the way.
 *
 * Fixtures per state (lwIP's tcp_set_state style where a real exchange cannot choose a value): the
 * handshake is real, then our ISS is rewritten on the Tcb to OUR_ISS, just below 2^32, so that every
 * test runs its sequence numbers across the wrap (lwIP test_tcp.c does the same).
 */
import assert from "node:assert/strict";
import type { StackOptions } from "../../src/config.js";
import type { Counters } from "../../src/counters.js";
import type { Driver } from "../../src/driver.js";
import { Stack } from "../../src/stack.js";
import {
  CLOSE_WAIT, CLOSED, CLOSING, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, LISTEN, stateNames,
  ERR_ABORTED, SYN_RECEIVED, SYN_SENT, type Tcb, type TcbOwner,
} from "../../src/tcp/tcb.js";
import type { ListenerOwner } from "../../src/tcp/tcp.js";
import { parseIp } from "../../src/wire/bytes.js";
import { emitEth, ETH_HLEN, ETHERTYPE_IPV4, EthView } from "../../src/wire/ethernet.js";
import { emitIpv4, IP_OK, IPV4_HLEN, Ipv4View, PROTO_TCP } from "../../src/wire/ipv4.js";
import {
  ACK, CWR, ECE, emitTcp, emitTcpOptions, FIN, fillTcpChecksum, PSH, RST, SYN, TCP_HLEN, TcpOptions,
  tcpOptionsLen, TcpView, URG,
} from "../../src/wire/tcp.js";

export { ACK, FIN, PSH, RST, SYN };
export { CLOSE_WAIT, CLOSED, CLOSING, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, LISTEN, SYN_RECEIVED, SYN_SENT };

export const OUR_MAC = new Uint8Array([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
export const PEER_MAC = new Uint8Array([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]);
export const OUR_IP_S = "192.0.2.2";
export const PEER_IP_S = "192.0.2.1";
export const OUR_IP = parseIp(OUR_IP_S);
export const PEER_IP = parseIp(PEER_IP_S);
/** Our listening port in the passive fixtures; the remote port in the active ones. */
export const SERVER_PORT = 80;
/** The peer's port in the passive fixtures. */
export const PEER_PORT = 40000;
/** Our ISS after the fixture rewrites it: 256 below 2^32, so sent data wraps after 255 bytes. */
export const OUR_ISS = 0xffffff00;
/** The peer's ISS in the fixtures: 16 below 2^32, so received data wraps after 15 bytes. */
export const PEER_ISS = 0xfffffff0;
/** The peer's timestamp clock: TSval = PEER_TS0 + now (ms). */
export const PEER_TS0 = 0x7fff0000;
/** Round-trip time the fixtures let pass between a SYN-ACK and its ACK, ms. */
export const FIXTURE_RTT = 10;

/** a + n mod 2^32 (RFC 9293 §3.4). */
export function add(a: number, n: number): number { return (a + n) >>> 0; }

/** "SYN|ACK" */
export function flagNames(f: number): string {
  const names: [number, string][] = [[CWR, "CWR"], [ECE, "ECE"], [URG, "URG"], [ACK, "ACK"], [PSH, "PSH"], [RST, "RST"], [SYN, "SYN"], [FIN, "FIN"]];
  const out: string[] = [];
  for (const [bit, n] of names) if ((f & bit) !== 0) out.push(n);
  return out.length === 0 ? "<none>" : out.join("|");
}

/** The byte the scripted peer puts at sequence number `seq` (so resent or overlapping data agrees). */
export function peerByte(seq: number): number { return (seq * 7 + (seq >>> 8)) & 0xff; }
/** The byte our application writes at offset `k` of its stream. */
export function appByte(k: number): number { return (k * 13 + 5) & 0xff; }
export function appBytes(from: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let k = 0; k < len; k++) b[k] = appByte(from + k);
  return b;
}

// ------------------------------------------------------------------ driver

/** One frame the stack handed to the driver, with the virtual time it was sent. */
export interface Sent { at: number; frame: Uint8Array }

/** Fake Driver: fixed MAC and MTU, copies every transmitted frame, deterministic random(). */
export class ScriptDriver implements Driver {
  readonly mac = OUR_MAC;
  readonly mtu: number;
  readonly frames: Sent[] = [];
  /** Set by the Peer: the current virtual time, stamped on each frame. */
  now = 0;
  /** false: transmit() refuses (driver full). */
  accept = true;
  private state: number;
  constructor(mtu = 1500, seed = 0x1234567) {
    this.mtu = mtu;
    this.state = (seed >>> 0) || 1;
  }
  transmit(frame: Uint8Array, length: number): boolean {
    if (!this.accept) return false;
    this.frames.push({ at: this.now, frame: frame.slice(0, length) });
    return true;
  }
  random(into: Uint8Array): void {
    for (let i = 0; i < into.length; i++) {
      // xorshift32
      let x = this.state;
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      this.state = x;
      into[i] = x & 0xff;
    }
  }
}

/** Records the event bits a Tcb or listener delivers from poll(). */
export class Recorder implements TcbOwner, ListenerOwner {
  readonly events: number[] = [];
  deliver(events: number): void { this.events.push(events); }
  /** OR of every event delivered so far. */
  all(): number { let e = 0; for (const v of this.events) e |= v; return e; }
}

// ------------------------------------------------------------------ segments

/** A parsed segment from the stack. */
export interface Seg {
  at: number;
  srcPort: number; dstPort: number;
  flags: number; seq: number; ack: number; win: number; urg: number;
  len: number; data: Uint8Array;
  mss: number | null; wscale: number | null; sackOk: boolean;
  ts: [number, number] | null;
  sack: [number, number][];
}

/** What the peer sends. Omitted: ack 0, win peer.peerWin, no data, options per the peer's template. */
export interface SendSpec {
  flags: number;
  seq: number;
  ack?: number;
  win?: number;
  /** Payload bytes, or a length: that many bytes of peerByte(seq + k). */
  data?: Uint8Array | number;
  mss?: number;
  wscale?: number;
  sackOk?: boolean;
  /** [TSval, TSecr]; null: no timestamps even if the peer template has them. */
  ts?: [number, number] | null;
  sack?: [number, number][];
  srcPort?: number;
  dstPort?: number;
  /** Corrupt the TCP checksum. */
  badChecksum?: boolean;
}

/** What we expect the stack to send. Omitted fields come from the peer's template. */
export interface ExpectSpec {
  flags: number;
  seq: number;
  /** Required when ACK is set; 0 otherwise. */
  ack?: number;
  win?: number;
  len?: number;
  data?: Uint8Array;
  mss?: number | null;
  wscale?: number | null;
  sackOk?: boolean;
  ts?: [number, number] | null;
  sack?: [number, number][];
  srcPort?: number;
  dstPort?: number;
  /** Virtual time (ms) the frame must have been sent at. */
  at?: number;
}

function hex(n: number): string { return "0x" + (n >>> 0).toString(16).padStart(8, "0"); }

function fmt(key: string, v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (key === "flags" && typeof v === "number") return flagNames(v);
  if ((key === "seq" || key === "ack") && typeof v === "number") return hex(v);
  if (v instanceof Uint8Array) return `<${v.length} bytes ${Array.from(v.slice(0, 8)).join(",")}${v.length > 8 ? ",..." : ""}>`;
  if (Array.isArray(v)) return JSON.stringify(v.map((x) => (Array.isArray(x) ? x.map((y: number) => hex(y)) : x)));
  return String(v);
}

export function fmtSeg(s: Seg): string {
  let out = `${flagNames(s.flags)} seq=${hex(s.seq)} ack=${hex(s.ack)} win=${s.win} len=${s.len} ${s.srcPort}->${s.dstPort} t=${s.at}`;
  if (s.mss !== null) out += ` mss=${s.mss}`;
  if (s.wscale !== null) out += ` wscale=${s.wscale}`;
  if (s.sackOk) out += " sackOk";
  if (s.ts !== null) out += ` ts=[${s.ts[0]},${s.ts[1]}]`;
  if (s.sack.length > 0) out += ` sack=${fmt("sack", s.sack)}`;
  return out;
}

// ------------------------------------------------------------------ the peer

export interface PeerOptions {
  /** Stack options on top of the address/netmask/gateway used by every test. */
  config?: StackOptions;
  mtu?: number;
  seed?: number;
}

export class Peer {
  readonly driver: ScriptDriver;
  readonly stack: Stack;
  now = 0;
  /** The connection under test (null before one exists). */
  tcb: Tcb | null = null;
  /** Generation of tcb when it was taken: a reused block is not ours any more. */
  tcbGen = -1;
  listener = -1;
  readonly owner = new Recorder();
  readonly listenerOwner = new Recorder();
  /** Template: our port, the peer's port. */
  localPort = SERVER_PORT;
  remotePort = PEER_PORT;
  /** Template: the window field we expect in our segments. */
  win = 5840;
  /** Template: the window field the peer sends. */
  peerWin = 65535;
  /** Timestamps in use: the peer adds them, our segments must carry them. */
  tsOn = false;
  /** Our timestamp clock offset (Tcb.tsOffset), captured when the connection is made. */
  tsOffset = 0;
  /** The peer's last TSval sent (what our TSecr should echo) and our last TSval seen. */
  lastPeerTs = 0;
  lastOurTs = 0;
  /** Segments popped so far (for messages). */
  private popped = 0;
  private readonly eth = new EthView();
  private readonly ip = new Ipv4View();
  private readonly tcp = new TcpView();
  private readonly opts = new TcpOptions();
  private ipId = 0;

  constructor(o: PeerOptions = {}) {
    this.driver = new ScriptDriver(o.mtu ?? 1500, o.seed ?? 0x1234567);
    this.stack = new Stack({
      address: OUR_IP_S, netmask: "255.255.255.0", gateway: "192.0.2.254", arpLifetimeMs: 3600000, ...o.config,
    }, this.driver);
    this.learnArp();
    live.push(this);
  }

  get counters(): Counters { return this.stack.counters; }

  /** Pre-seed (refresh) the ARP entry of the peer so no ARP traffic appears. */
  private learnArp(): void {
    this.stack.arp.learn(PEER_IP, PEER_MAC, 0, this.now, true);
  }

  /** Take `t` as the connection under test (ports and timestamp clock from it). */
  adopt(t: Tcb): void {
    this.tcb = t;
    this.tcbGen = t.gen;
    this.localPort = t.localPort;
    this.remotePort = t.remotePort;
    this.tsOffset = t.tsOffset;
  }

  /** The Tcb under test; fails if there is none. */
  get t(): Tcb {
    assert.ok(this.tcb !== null, "no connection under test");
    return this.tcb;
  }

  /** State name of the connection under test ("CLOSED" when its block was released). */
  state(): string {
    const t = this.t;
    if (t.gen !== this.tcbGen) return "CLOSED";
    return stateNames[t.state];
  }

  /** Our TSval at the current time. */
  ourTs(at = this.now): number { return (Math.floor(at) + this.tsOffset) >>> 0; }
  /** The peer's TSval at the current time. */
  peerTs(at = this.now): number { return (PEER_TS0 + Math.floor(at)) >>> 0; }

  // ---------------------------------------------------------------- input

  /** Encode one segment from the peer and hand it to the stack, then poll (the platform loop). */
  peerSends(s: SendSpec): void {
    const data = typeof s.data === "number" ? peerData(s.seq, s.data) : (s.data ?? new Uint8Array(0));
    const o = new TcpOptions();
    const syn = (s.flags & SYN) !== 0;
    if (s.mss !== undefined) o.mss = s.mss;
    if (s.wscale !== undefined) o.wscale = s.wscale;
    if (s.sackOk !== undefined) o.sackOk = s.sackOk;
    let ts = s.ts;
    if (ts === undefined && this.tsOn && (s.flags & RST) === 0) ts = [this.peerTs(), this.lastOurTs];
    if (ts !== undefined && ts !== null) {
      o.hasTs = true; o.tsVal = ts[0] >>> 0; o.tsEcr = ts[1] >>> 0;
      this.lastPeerTs = o.tsVal;
    }
    if (s.sack !== undefined) {
      o.sackCount = s.sack.length;
      s.sack.forEach(([l, r], i) => { o.sack[2 * i] = l; o.sack[2 * i + 1] = r; });
    }
    const optLen = tcpOptionsLen(o, syn);
    const tcpLen = TCP_HLEN + optLen + data.length;
    const f = new Uint8Array(ETH_HLEN + IPV4_HLEN + tcpLen);
    emitEth(f, 0, OUR_MAC, 0, PEER_MAC, 0, ETHERTYPE_IPV4);
    this.ipId = (this.ipId + 1) & 0xffff;
    emitIpv4(f, ETH_HLEN, PEER_IP, OUR_IP, PROTO_TCP, tcpLen, this.ipId, 64);
    const at = ETH_HLEN + IPV4_HLEN;
    emitTcpOptions(f, at + TCP_HLEN, o, syn);
    emitTcp(f, at, s.srcPort ?? this.remotePort, s.dstPort ?? this.localPort, s.seq >>> 0, (s.ack ?? 0) >>> 0,
      s.flags, s.win ?? this.peerWin, optLen);
    f.set(data, at + TCP_HLEN + optLen);
    fillTcpChecksum(f, at, tcpLen, PEER_IP, OUR_IP);
    if (s.badChecksum === true) f[at + 16] ^= 0x55;
    this.driver.now = this.now;
    this.stack.input(f, f.length, this.now);
    this.stack.poll(this.now);
  }

  // ---------------------------------------------------------------- output

  /** Pop and parse the next frame the stack sent. */
  next(): Seg | null {
    const e = this.driver.frames.shift();
    if (e === undefined) return null;
    this.popped++;
    return this.parse(e);
  }

  /** Parse a transmitted frame; asserts it is a well-formed TCP segment from us to the peer. */
  parse(e: Sent): Seg {
    const f = e.frame;
    const eth = this.eth, ip = this.ip, tcp = this.tcp, o = this.opts;
    assert.ok(eth.aim(f, 0, f.length), "frame shorter than an Ethernet header");
    assert.equal(eth.type(), ETHERTYPE_IPV4, "not IPv4 (ARP traffic?)");
    assert.ok(eth.dstIs(PEER_MAC, 0), "Ethernet destination is not the peer");
    assert.deepEqual(Array.from(f.slice(6, 12)), Array.from(OUR_MAC), "Ethernet source is not ours");
    assert.equal(ip.check(f, ETH_HLEN, f.length - ETH_HLEN), IP_OK, "bad IPv4 header");
    assert.equal(ip.proto(), PROTO_TCP, "not TCP");
    assert.equal(ip.src(), OUR_IP, "IP source");
    assert.equal(ip.dst(), PEER_IP, "IP destination");
    assert.ok(tcp.aim(f, ip.payloadAt(), ip.payloadLen()), "bad TCP header length");
    assert.ok(tcp.checksumOk(OUR_IP, PEER_IP), "bad TCP checksum");
    assert.ok(tcp.options(o), "malformed TCP options");
    const sack: [number, number][] = [];
    for (let i = 0; i < o.sackCount; i++) sack.push([o.sack[2 * i], o.sack[2 * i + 1]]);
    const data = f.slice(tcp.dataAt(), tcp.dataAt() + tcp.dataLen());
    const seg: Seg = {
      at: e.at, srcPort: tcp.srcPort(), dstPort: tcp.dstPort(), flags: tcp.flags(), seq: tcp.seq(), ack: tcp.ack(),
      win: tcp.window(), urg: tcp.urgent(), len: data.length, data,
      mss: o.mss >= 0 ? o.mss : null, wscale: o.wscale >= 0 ? o.wscale : null, sackOk: o.sackOk,
      ts: o.hasTs ? [o.tsVal, o.tsEcr] : null, sack,
    };
    if (seg.ts !== null) this.lastOurTs = seg.ts[0];
    return seg;
  }

  /**
   * Pop the next segment and compare it with `spec`, fields not listed taken from the template:
   * our port and the peer's, window `this.win` (0 for RST), no payload, no MSS / window scale /
   * SACK-permitted / SACK blocks, timestamps [ourTs(now), lastPeerTs] when they are on (none on RST).
   */
  expectSent(spec: ExpectSpec): Seg {
    const isRst = (spec.flags & RST) !== 0;
    if ((spec.flags & ACK) !== 0 && spec.ack === undefined) throw new Error("expectSent: ACK set but no ack given");
    const e = this.driver.frames[0];
    const at = e === undefined ? this.now : e.at;
    const want: Record<string, unknown> = {
      flags: spec.flags,
      seq: spec.seq >>> 0,
      ack: (spec.ack ?? 0) >>> 0,
      win: spec.win ?? (isRst ? 0 : this.win),
      len: spec.len ?? (spec.data !== undefined ? spec.data.length : 0),
      mss: spec.mss ?? null,
      wscale: spec.wscale ?? null,
      sackOk: spec.sackOk ?? false,
      ts: spec.ts !== undefined ? spec.ts : (this.tsOn && !isRst ? [this.ourTs(at), this.lastPeerTs] : null),
      sack: spec.sack ?? [],
      srcPort: spec.srcPort ?? this.localPort,
      dstPort: spec.dstPort ?? this.remotePort,
    };
    if (spec.data !== undefined) want.data = spec.data;
    if (spec.at !== undefined) want.at = spec.at;
    const n = this.popped + 1;
    const seg = this.next();
    if (seg === null) assert.fail(`expected segment #${n} ${describe(want)} at t=${this.now}, but nothing was sent`);
    const got = seg as unknown as Record<string, unknown>;
    const diffs: string[] = [];
    for (const k of Object.keys(want)) {
      let w = want[k], g = got[k];
      if (k === "ts" && Array.isArray(w)) w = w.map((x: number) => x >>> 0);
      if (k === "sack" && Array.isArray(w)) w = w.map((p: [number, number]) => [p[0] >>> 0, p[1] >>> 0]);
      if (w instanceof Uint8Array) { w = Array.from(w); g = Array.from(g as Uint8Array); }
      try { assert.deepStrictEqual(g, w); } catch {
        diffs.push(`  ${k.padEnd(7)} expected ${fmt(k, want[k])}, got ${fmt(k, got[k])}`);
      }
    }
    if (diffs.length > 0) {
      assert.fail(`segment #${n} differs:\n${diffs.join("\n")}\n  sent:     ${fmtSeg(seg)}\n  expected: ${describe(want)}`);
    }
    return seg;
  }

  /** No frame was transmitted (since the last one popped). */
  expectNothing(): void {
    const left = this.driver.frames.map((e) => fmtSeg(this.parseQuiet(e)));
    if (left.length > 0) assert.fail(`expected nothing, but ${left.length} segment(s) were sent:\n  ${left.join("\n  ")}`);
  }

  private parseQuiet(e: Sent): Seg {
    const save = this.lastOurTs;
    try { return this.parse(e); } finally { this.lastOurTs = save; }
  }

  /** Drop every frame sent so far. */
  drain(): Seg[] {
    const out: Seg[] = [];
    for (let s = this.next(); s !== null; s = this.next()) out.push(s);
    return out;
  }

  // ---------------------------------------------------------------- time

  /**
   * Move the virtual clock forward by `ms`, running poll() at every deadline it returns on the way
   * (as the platform timer would) and at the end. Bounded.
   */
  advance(ms: number): void {
    const end = this.now + ms;
    let stuck = 0;
    for (let i = 0; i < 100000; i++) {
      this.learnArp();
      this.driver.now = this.now;
      const d = this.stack.poll(this.now);
      if (d > end) break;
      if (d <= this.now) { if (++stuck > 3) break; continue; }
      stuck = 0;
      this.now = d;
    }
    this.now = end;
    this.learnArp();
    this.driver.now = end;
    this.stack.poll(end);
  }

  /** The next deadline the stack reports now. */
  deadline(): number { this.driver.now = this.now; return this.stack.poll(this.now); }

  // ---------------------------------------------------------------- the application side

  /** The app writes `len` bytes (appByte pattern continuing `offset`). Returns bytes taken. */
  written = 0;
  write(len: number, push = true): number {
    const n = this.stack.tcp.write(this.t, appBytes(this.written, len), 0, len, this.now, push);
    this.written += n;
    this.driver.now = this.now;
    return n;
  }
  /** The app reads up to `len` bytes. */
  read(len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.driver.now = this.now;
    const n = this.stack.tcp.read(this.t, b, 0, len, this.now);
    return b.slice(0, n);
  }
  /** The app closes (FIN after queued data). `orphan`: the socket is released too. */
  close(orphan = false): void {
    this.driver.now = this.now;
    this.stack.tcp.close(this.t, this.now, orphan);
  }
  /** The socket lets go of a connection that is over (what a socket does after onError). */
  release(): void {
    const t = this.t;
    if (t.gen !== this.tcbGen) return;
    this.stack.tcp.close(t, this.now, true);
  }

  /**
   * End of test: release what is still held (documented: most segment tests end with the connection
   * still ESTABLISHED; it is aborted here, which also checks that abort frees its block), stop
   * listening, let TIME-WAIT records expire, then every pool must be full again and no exception
   * may have been swallowed by input()/poll().
   */
  teardown(): void {
    const tcp = this.stack.tcp;
    assert.equal(this.stack.internalErrors, 0, `exception inside the stack: ${String(this.stack.lastInternalError)}`);
    for (const t of tcp.tcbs) {
      if (t.state !== CLOSED) { t.orphan = true; tcp.abort(t, ERR_ABORTED, this.now); }
      if (t.owner !== null) tcp.close(t, this.now, true);
    }
    for (let l = 0; l < tcp.lPort.length; l++) if (tcp.lOwner[l] !== null) tcp.unlisten(l, this.now);
    this.advance(this.stack.config.timeWaitMs + 1);
    assert.deepEqual(tcp.inUse(), { connections: 0, timeWait: 0, listeners: 0 }, "pools not full again");
    for (const t of tcp.tcbs) assert.ok(t.state === CLOSED && t.owner === null && t.events === 0, `tcb ${t.id} still held`);
    assert.equal(this.stack.internalErrors, 0, `exception inside the stack: ${String(this.stack.lastInternalError)}`);
  }
}

/** Peers made by the current test (torn down by teardownAll in afterEach). */
const live: Peer[] = [];

/**
 * afterEach: tear down every Peer of the test (see Peer.teardown). Only when the test passed: after a
 * failure the state is whatever the failure left, and the test's own message is the useful one.
 */
export function teardownAll(passed: boolean): void {
  const all = live.splice(0, live.length);
  if (passed) for (const p of all) p.teardown();
}

function peerData(seq: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let k = 0; k < len; k++) b[k] = peerByte((seq + k) >>> 0);
  return b;
}
export { peerData };

function describe(w: Record<string, unknown>): string {
  return Object.keys(w).map((k) => `${k}=${fmt(k, w[k])}`).join(" ");
}

// ------------------------------------------------------------------ fixtures

export interface FixtureOptions extends PeerOptions {
  /** Options the peer puts in its SYN / SYN-ACK. Defaults: mss 1460, SACK-permitted, timestamps, no window scale. */
  mss?: number | null;
  wscale?: number | null;
  sackOk?: boolean;
  ts?: boolean;
  /** Window field in the peer's segments. Default 65535. */
  peerWin?: number;
  /** Our ISS is rewritten to this (null: keep the keyed-hash ISN). Default OUR_ISS. */
  ourIss?: number | null;
  peerIss?: number;
}

/** Options the peer offers with no options at all (only what a 1981 TCP would send). */
export const PLAIN: FixtureOptions = { mss: null, sackOk: false, ts: false, wscale: null };

function peerSynOptions(p: Peer, f: FixtureOptions): Pick<SendSpec, "mss" | "wscale" | "sackOk" | "ts"> {
  const o: Pick<SendSpec, "mss" | "wscale" | "sackOk" | "ts"> = {};
  const mss = f.mss === undefined ? 1460 : f.mss;
  if (mss !== null) o.mss = mss;
  if (f.wscale !== undefined && f.wscale !== null) o.wscale = f.wscale;
  if (f.sackOk ?? true) o.sackOk = true;
  o.ts = (f.ts ?? true) ? [p.peerTs(), 0] : null;
  return o;
}

/** Rewrite our ISS on a Tcb whose SYN / SYN-ACK is the only thing sent (lwIP tcp_set_state style). */
function forceIss(t: Tcb, iss: number): void {
  t.iss = iss; t.sndUna = iss; t.sndNxt = add(iss, 1); t.sndMax = t.sndNxt;
  if (t.state === SYN_RECEIVED) t.sndWl2 = iss;
}

/** A stack listening on SERVER_PORT (backlog 4). */
export function listening(f: FixtureOptions = {}): Peer {
  const p = new Peer(f);
  p.listener = p.stack.tcp.listen(p.listenerOwner, SERVER_PORT, 4);
  if (f.peerWin !== undefined) p.peerWin = f.peerWin;
  return p;
}

/** LISTEN + SYN: the SYN-ACK is checked (window, options echoed), then our ISS is set to OUR_ISS. */
export function synReceived(f: FixtureOptions = {}): Peer {
  const p = listening(f);
  const peerIss = f.peerIss ?? PEER_ISS;
  const o = peerSynOptions(p, f);
  p.peerSends({ flags: SYN, seq: peerIss, ...o });
  const t = p.stack.tcp.find(SERVER_PORT, PEER_IP, PEER_PORT);
  assert.ok(t !== null && t.state === SYN_RECEIVED, "SYN did not create a SYN-RECEIVED connection");
  p.adopt(t);
  const cfg = p.stack.config;
  const tsOn = cfg.timestamps && o.ts !== null && o.ts !== undefined;
  const wsOn = cfg.windowScale && o.wscale !== undefined;
  p.expectSent({
    flags: SYN | ACK, seq: t.iss, ack: add(peerIss, 1), win: Math.min(cfg.recvBufBytes, 65535),
    mss: Math.min(cfg.mss, p.driver.mtu - 40), sackOk: cfg.sack && o.sackOk === true,
    wscale: wsOn ? p.stack.tcp.rcvShift : null, ts: tsOn ? [p.ourTs(), p.lastPeerTs] : null,
  });
  p.expectNothing();
  p.tsOn = tsOn;
  const iss = f.ourIss === undefined ? OUR_ISS : f.ourIss;
  if (iss !== null) forceIss(t, iss);
  p.win = Math.min(cfg.recvBufBytes, 65535 << t.rcvScale) >>> t.rcvScale;
  return p;
}

/** Passive open completed by the peer's ACK after FIXTURE_RTT ms; accepted, owner attached. */
export function established(f: FixtureOptions = {}): Peer {
  const p = synReceived(f);
  const t = p.t;
  p.advance(FIXTURE_RTT);
  p.peerSends({ flags: ACK, seq: add(t.irs, 1), ack: add(t.iss, 1) });
  p.expectNothing();
  assert.equal(p.state(), "ESTABLISHED");
  const a = p.stack.tcp.accept(p.listener);
  assert.ok(a === t, "the connection was not offered to accept()");
  t.owner = p.owner;
  p.win = winField(t);
  return p;
}

/** The window field an idle connection advertises (full buffer, scaled, at most 65535 << scale). */
function winField(t: Tcb): number {
  const w = Math.min(t.rcv.length, 65535 << t.rcvScale);
  return w >>> t.rcvScale;
}

/** Active open: connect() sent its SYN (checked), then our ISS is set to OUR_ISS. */
export function synSent(f: FixtureOptions = {}): Peer {
  const p = new Peer(f);
  if (f.peerWin !== undefined) p.peerWin = f.peerWin;
  const t = p.stack.tcp.connect(p.owner, PEER_IP, SERVER_PORT, p.now);
  assert.ok(t !== null);
  p.adopt(t);
  const cfg = p.stack.config;
  p.expectSent({
    flags: SYN, seq: t.iss, win: Math.min(cfg.recvBufBytes, 65535), mss: Math.min(cfg.mss, p.driver.mtu - 40),
    sackOk: cfg.sack, wscale: cfg.windowScale ? p.stack.tcp.rcvShift : null, ts: cfg.timestamps ? [p.ourTs(), 0] : null,
  });
  p.expectNothing();
  const iss = f.ourIss === undefined ? OUR_ISS : f.ourIss;
  if (iss !== null) forceIss(t, iss);
  return p;
}

/** Active open completed: the peer's SYN-ACK after FIXTURE_RTT ms, our ACK checked. */
export function establishedActive(f: FixtureOptions = {}): Peer {
  const p = synSent(f);
  const t = p.t;
  const peerIss = f.peerIss ?? PEER_ISS;
  p.advance(FIXTURE_RTT);
  const o = peerSynOptions(p, f);
  if (o.ts !== null && o.ts !== undefined) o.ts = [p.peerTs(), p.lastOurTs];
  p.peerSends({ flags: SYN | ACK, seq: peerIss, ack: add(t.iss, 1), ...o });
  const cfg = p.stack.config;
  p.tsOn = cfg.timestamps && o.ts !== null && o.ts !== undefined;
  p.win = winField(t);
  p.expectSent({ flags: ACK, seq: add(t.iss, 1), ack: add(peerIss, 1) });
  p.expectNothing();
  assert.equal(p.state(), "ESTABLISHED");
  return p;
}

/** ESTABLISHED, the app closed: our FIN <SEQ=OUR_ISS+1> is out. */
export function finWait1(f: FixtureOptions = {}): Peer {
  const p = established(f);
  p.close();
  p.expectSent({ flags: FIN | ACK, seq: add(p.t.iss, 1), ack: add(p.t.irs, 1) });
  p.expectNothing();
  assert.equal(p.state(), "FIN-WAIT-1");
  return p;
}

/** FIN-WAIT-1 and the peer ACKed our FIN. */
export function finWait2(f: FixtureOptions = {}): Peer {
  const p = finWait1(f);
  p.peerSends({ flags: ACK, seq: add(p.t.irs, 1), ack: add(p.t.iss, 2) });
  p.expectNothing();
  assert.equal(p.state(), "FIN-WAIT-2");
  return p;
}

/** ESTABLISHED and the peer sent FIN: we ACKed it at once. */
export function closeWait(f: FixtureOptions = {}): Peer {
  const p = established(f);
  p.peerSends({ flags: FIN | ACK, seq: add(p.t.irs, 1), ack: add(p.t.iss, 1) });
  // The FIN takes a sequence number but no buffer: the right edge stays (receiver SWS avoidance).
  p.win -= 1;
  p.expectSent({ flags: ACK, seq: add(p.t.iss, 1), ack: add(p.t.irs, 2) });
  p.expectNothing();
  assert.equal(p.state(), "CLOSE-WAIT");
  return p;
}

/** CLOSE-WAIT and the app closed: our FIN is out. */
export function lastAck(f: FixtureOptions = {}): Peer {
  const p = closeWait(f);
  p.close();
  p.expectSent({ flags: FIN | ACK, seq: add(p.t.iss, 1), ack: add(p.t.irs, 2) });
  p.expectNothing();
  assert.equal(p.state(), "LAST-ACK");
  return p;
}

/** FIN-WAIT-1 and the peer's FIN crossed ours (simultaneous close): we ACKed it. */
export function closing(f: FixtureOptions = {}): Peer {
  const p = finWait1(f);
  p.peerSends({ flags: FIN | ACK, seq: add(p.t.irs, 1), ack: add(p.t.iss, 1) });
  p.win -= 1;
  p.expectSent({ flags: ACK, seq: add(p.t.iss, 2), ack: add(p.t.irs, 2) });
  p.expectNothing();
  assert.equal(p.state(), "CLOSING");
  return p;
}

/** FIN-WAIT-2 and the peer's FIN: ACKed, the Tcb became a TIME-WAIT record. */
export function timeWait(f: FixtureOptions = {}): Peer {
  const p = finWait2(f);
  p.peerSends({ flags: FIN | ACK, seq: add(p.t.irs, 1), ack: add(p.t.iss, 2) });
  p.win -= 1;
  p.expectSent({ flags: ACK, seq: add(p.t.iss, 2), ack: add(p.t.irs, 2) });
  p.expectNothing();
  assert.equal(p.stack.tcp.inUse().timeWait, 1);
  return p;
}
