/**
 * The fuzz campaign (issue item 1). Stack B (192.0.2.2) runs a byte-exact two-way transfer with A
 * (192.0.2.1, port 80) and holds live connections in several states with a third stack C
 * (192.0.2.3, port 81: ESTABLISHED idle, CLOSE-WAIT, FIN-WAIT-2, TIME-WAIT, a full receive window).
 * Meanwhile random and mutated frames are handed to B.input(): mutations of real segments captured in
 * every state (corpus.ts) and of the live traffic, retargeted at B's live C connections with
 * sequence numbers near the real ones, checksums fixed most of the time so the frames reach deep.
 *
 * Frames never claim A's address (that would be an in-window injection into the transfer, which TCP
 * accepts by design) and ARP frames never claim A's or C's address (ARP is unauthenticated).
 *
 * Checks: no exception in any stack (internalErrors === 0), the transfer is byte-exact and closes,
 * counter conservation on B for every frame it was given, every pool is full again at the end.
 */
import { Rng } from "../../host-sim/rng.js";
import type { SimNode } from "../../host-sim/simnet.js";
import { Stack } from "../../src/stack.js";
import { CLOSED, ERR_ABORTED, type Tcb, type TcbOwner } from "../../src/tcp/tcb.js";
import { get16, get32, parseIp, put16, put32 } from "../../src/wire/bytes.js";
import { ETH_HLEN } from "../../src/wire/ethernet.js";
import { emitIpv4 } from "../../src/wire/ipv4.js";
import { fillTcpChecksum } from "../../src/wire/tcp.js";
import { captureCorpus, type Captured } from "./corpus.js";
import { A_IP, B_IP, Transfer } from "./transfer.js";

export const C_IP = parseIp("192.0.2.3");

export interface CampaignOptions {
  seed: number;
  frames: number;
  /** Frames injected per virtual millisecond. */
  perMs?: number;
  /** Transfer size each way, bytes. */
  transferBytes?: number;
  /** Progress line every N frames (0 = none). */
  progress?: number;
}

export interface CampaignResult {
  seed: number;
  frames: number;
  corpus: number;
  /** How the injected frames were made. */
  kinds: Record<string, number>;
  problems: string[];
  transferMs: number;
  /** Injected frames that arrived before the transfer had finished. */
  duringTransfer: number;
  counters: Record<string, number>;
  /** Frame classes seen by B (own classifier) vs counters. */
  classes: Record<string, number>;
  wallMs: number;
}

class Nobody implements TcbOwner { deliver(): void { /* idle application */ } }

/** Copy of `f` retargeted from C to B (addresses, MACs), optionally onto a live C->B tuple. */
function retarget(f: Uint8Array, c: Captured | null, bMac: Uint8Array, cMac: Uint8Array): Uint8Array {
  const b = f.slice();
  if (b.length < ETH_HLEN) return b;
  b.set(bMac, 0); b.set(cMac, 6);
  if (b.length >= ETH_HLEN + 20 && get16(b, 12) === 0x0800) {
    put32(b, ETH_HLEN + 12, C_IP);
    put32(b, ETH_HLEN + 16, B_IP);
    const ihl = (b[ETH_HLEN] & 15) * 4;
    const l4 = ETH_HLEN + ihl;
    if (c !== null && c.fromStack && b.length >= l4 + 4) {
      // A frame the stack sent: swap the ports so it arrives at the port it came from.
      const sp = get16(b, l4), dp = get16(b, l4 + 2);
      put16(b, l4, dp); put16(b, l4 + 2, sp);
    }
  }
  return b;
}

/** Fix the IPv4 header checksum and the TCP checksum when the frame still parses as IPv4/TCP. */
function fixChecksums(b: Uint8Array): void {
  if (b.length < ETH_HLEN + 20 || get16(b, 12) !== 0x0800) return;
  const ip = ETH_HLEN;
  const ihl = (b[ip] & 15) * 4;
  if (ihl < 20 || ip + ihl > b.length) return;
  put16(b, ip + 10, 0);
  let s = 0;
  for (let k = 0; k < ihl; k += 2) s += get16(b, ip + k);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  put16(b, ip + 10, (~s) & 0xffff);
  const total = get16(b, ip + 2);
  if (b[ip + 9] === 6 && total >= ihl + 20 && ip + total <= b.length) {
    fillTcpChecksum(b, ip + ihl, total - ihl, get32(b, ip + 12), get32(b, ip + 16));
  }
}

/** Set IP total length to match the frame (after truncation or extension). */
function fixLength(b: Uint8Array): void {
  if (b.length < ETH_HLEN + 20 || get16(b, 12) !== 0x0800) return;
  put16(b, ETH_HLEN + 2, Math.min(0xffff, b.length - ETH_HLEN));
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x40];
const INTERESTING32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

export function runCampaign(o: CampaignOptions): CampaignResult {
  const wall0 = Date.now();
  const rng = new Rng(o.seed);
  const perMs = o.perMs ?? 50;
  const size = o.transferBytes ?? Math.max(20_000, Math.round(o.frames * 5));
  const corpus = captureCorpus();
  const tr = new Transfer({ seed: o.seed, up: size, down: size, faults: { delayMs: 10 }, server: { maxConnections: 24, arpEntries: 64 } });
  const { net, A, B, nb } = tr;
  const nc: SimNode = net.addNode("c");
  const C = new Stack({ address: "192.0.2.3", maxConnections: 16 }, nc);
  nc.attach(C);
  const problems: string[] = [];
  const kinds: Record<string, number> = {};
  const classes: Record<string, number> = { tooShort: 0, notForUs: 0, arp: 0, ip: 0, other: 0 };
  const bMac = nb.mac, cMac = nc.mac, aMac = tr.na.mac;
  const live: Captured[] = [];

  // B classifies every frame it is given, independently of the stack, and records live traffic.
  B.onReceive = (b, at, len) => {
    if (len < ETH_HLEN) { classes.tooShort++; return; }
    const mc = (b[at] & 1) !== 0;
    let us = true;
    for (let k = 0; k < 6; k++) if (b[at + k] !== bMac[k]) us = false;
    if (!mc && !us) { classes.notForUs++; return; }
    const type = get16(b, at + 12);
    if (type === 0x0800) classes.ip++;
    else if (type === 0x0806) classes.arp++;
    else classes.other++;
  };
  const tap = (s: Stack, name: string): void => {
    s.onTransmit = (b, at, len) => {
      if (live.length < 4000 && rng.chance(0.05)) live.push({ state: name, fromStack: s === B, frame: b.slice(at, at + len) });
    };
  };
  tap(A, "live-A"); tap(B, "live-B"); tap(C, "live-C");

  // B:81 accepts C's connections and never reads (so one of them fills its window).
  const bConns: Tcb[] = [];
  const nobody = new Nobody();
  const l81 = B.tcp.listen({
    deliver(): void {
      for (let t = B.tcp.accept(l81); t !== null; t = B.tcp.accept(l81)) { t.owner = nobody; bConns.push(t); }
    },
  }, 81, 8);
  const cConns: Tcb[] = [];
  const filler = new Uint8Array(20000).fill(0x5a);
  const openC = (k: number): void => {
    const t = C.tcp.connect(nobody, B_IP, 81, net.now);
    if (t === null) return;
    cConns.push(t);
    net.schedule(net.now + 20, () => {
      const b = B.tcp.find(81, C_IP, t.localPort);
      if (t.state === CLOSED || b === null) return;
      switch (k % 5) {
        case 1: C.tcp.close(t, net.now, false); break; // B: CLOSE-WAIT
        case 2: B.tcp.close(b, net.now, false); break; // B: FIN-WAIT-2
        case 3: B.tcp.close(b, net.now, false); net.schedule(net.now + 10, () => C.tcp.close(t, net.now, false)); break; // B: TIME-WAIT
        case 4: C.tcp.write(t, filler, 0, filler.length, net.now, true); break; // B: window full
        default: break; // idle ESTABLISHED
      }
    });
  };
  let opened = 0;
  for (let k = 0; k < 5; k++) net.schedule(1 + k, () => openC(opened++));

  // The fuzz source.
  let injected = 0, during = 0;
  const count = (k: string): void => { kinds[k] = (kinds[k] ?? 0) + 1; };
  const pick = <T>(a: T[]): T => a[rng.int(a.length)];
  const makeFrame = (): Uint8Array => {
    const r = rng.next();
    if (r < 0.06) {
      count("random");
      const b = new Uint8Array(rng.int(200));
      rng.fill(b);
      if (rng.chance(0.5) && b.length >= 14) { b.set(bMac, 0); b[12] = 0x08; b[13] = rng.chance(0.8) ? 0x00 : 0x06; }
      return b;
    }
    const src = live.length > 0 && rng.chance(0.3) ? pick(live) : pick(corpus);
    count(src.state.startsWith("live") ? "live" : "corpus");
    const b0 = retarget(src.frame, src, bMac, cMac);
    let b = b0;
    const isTcp = b.length >= ETH_HLEN + 40 && get16(b, 12) === 0x0800 && b[ETH_HLEN + 9] === 6 && (b[ETH_HLEN] & 15) === 5;
    const l4 = ETH_HLEN + 20;
    // Aim at a live C connection of B with numbers near the real ones.
    if (isTcp && rng.chance(0.6)) {
      const cands = B.tcp.tcbs.filter((t) => t.state !== CLOSED && t.remoteIp === C_IP);
      if (cands.length > 0) {
        const t = pick(cands);
        put16(b, l4, t.remotePort); put16(b, l4 + 2, t.localPort);
        const d = (): number => (rng.chance(0.3) ? 0 : rng.int(2 * 70000) - 70000);
        put32(b, l4 + 4, (t.rcvNxt + d()) >>> 0);
        put32(b, l4 + 8, ((rng.chance(0.5) ? t.sndUna : t.sndNxt) + d()) >>> 0);
        count("aimed");
      } else if (B.tcp.twCount > 0) {
        for (let w = 0; w < B.tcp.twCount; w++) {
          if ((B.tcp.twFlags[w] & 1) === 0) continue;
          put16(b, l4, B.tcp.twRemotePort[w]); put16(b, l4 + 2, B.tcp.twLocalPort[w]);
          put32(b, l4 + 4, (B.tcp.twRcvNxt[w] + rng.int(3) - 1) >>> 0);
          count("aimed-tw");
          break;
        }
      }
    } else if (isTcp && rng.chance(0.2)) {
      put16(b, l4 + 2, pick([80, 81, 81, 82, 0, rng.int(65536)]));
      put16(b, l4, rng.chance(0.1) ? 0 : 1024 + rng.int(60000));
    }
    // Mutations.
    const n = 1 + rng.int(4);
    for (let m = 0; m < n; m++) {
      const op = rng.int(12);
      if (b.length === 0) break;
      switch (op) {
        case 0: b[rng.int(b.length)] ^= 1 << rng.int(8); count("m-bitflip"); break;
        case 1: b[rng.int(b.length)] = pick(INTERESTING); count("m-byte"); break;
        case 2: b = b.slice(0, rng.int(b.length + 1)); fixLength(b); count("m-truncate"); break;
        case 3: { const e = new Uint8Array(b.length + 1 + rng.int(64)); e.set(b); rng.fill(e.subarray(b.length)); b = e; if (rng.chance(0.5)) fixLength(b); count("m-extend"); break; }
        case 4: if (isTcp && b.length > l4 + 13) { b[l4 + 13] = rng.int(256); count("m-flags"); } break;
        case 5: if (isTcp && b.length > l4 + 12) { b[l4 + 12] = (rng.int(16) << 4) | (b[l4 + 12] & 15); count("m-doff"); } break;
        case 6: if (isTcp && b.length > l4 + 20) {
          // Options area: random option kinds and lengths.
          const doff = (b[l4 + 12] >> 4) * 4;
          for (let k = l4 + 20; k < Math.min(b.length, l4 + Math.max(doff, 24)); k++) b[k] = rng.chance(0.5) ? pick([0, 1, 2, 3, 4, 5, 8, 255]) : rng.int(256);
          count("m-options");
        } break;
        case 7: if (isTcp && b.length >= l4 + 16) { put32(b, l4 + (rng.chance(0.5) ? 4 : 8), rng.chance(0.5) ? pick(INTERESTING32) : rng.nextU32()); count("m-seqack"); } break;
        case 8: if (isTcp && b.length >= l4 + 20) { put16(b, l4 + 14, rng.chance(0.5) ? 0 : rng.int(65536)); put16(b, l4 + 18, rng.int(65536)); count("m-win-urg"); } break;
        case 9: if (b.length >= ETH_HLEN + 20) {
          const f = rng.int(5);
          if (f === 0) b[ETH_HLEN] = rng.int(256); // version / IHL
          else if (f === 1) put16(b, ETH_HLEN + 6, rng.int(65536)); // fragments
          else if (f === 2) b[ETH_HLEN + 9] = pick([1, 6, 17, 0, 255, rng.int(256)]);
          else if (f === 3) put16(b, ETH_HLEN + 2, rng.int(65536));
          else put32(b, ETH_HLEN + 16, pick([B_IP, 0xffffffff, parseIp("192.0.2.255"), parseIp("224.0.0.1"), rng.nextU32()]));
          count("m-ip");
        } break;
        case 10: if (b.length >= 14) { put16(b, 12, pick([0x0800, 0x0806, 0x86dd, 0x8100, rng.int(65536)])); if (rng.chance(0.3)) b.fill(0xff, 0, 6); count("m-eth"); } break;
        default: if (b.length >= 14 && rng.chance(0.5)) { emitIpv4(b, ETH_HLEN, C_IP, B_IP, pick([1, 6, 17]), Math.max(0, b.length - ETH_HLEN - 20), 1, 64); count("m-reheader"); } break;
      }
    }
    if (rng.chance(0.75)) { fixChecksums(b); count("checksum-fixed"); }
    // Never claim A's address (IP source, ARP sender): that would attack the transfer with valid data.
    if (b.length >= ETH_HLEN + 16 && get16(b, 12) === 0x0800 && get32(b, ETH_HLEN + 12) === A_IP) {
      put32(b, ETH_HLEN + 12, C_IP); fixChecksums(b);
    }
    if (b.length >= ETH_HLEN + 18 && get16(b, 12) === 0x0806) {
      // Nor may ARP rebind A's or C's address (ARP is unauthenticated: that would cut B off from them).
      const spa = get32(b, ETH_HLEN + 14);
      if (spa === A_IP || spa === C_IP) put32(b, ETH_HLEN + 14, parseIp("192.0.2.77"));
    }
    if (b.length >= 12 && b[6] === aMac[0] && b[11] === aMac[5]) b.set(cMac, 6);
    return b;
  };

  const burst = (): void => {
    for (let k = 0; k < perMs && injected < o.frames; k++) {
      const f = makeFrame();
      B.input(f, f.length, net.now);
      injected++;
      if (!tr.complete()) during++;
      if (o.progress !== undefined && o.progress > 0 && injected % o.progress === 0) {
        process.stdout.write(`  ${injected} frames, t=${net.now} ms, transfer ${tr.moved()}/${2 * size} bytes, B-C connections ${B.tcp.tcbs.filter((t) => t.state !== CLOSED && t.remoteIp === C_IP).length}, C in use ${C.tcp.inUse().connections}, B in use ${B.tcp.inUse().connections}, opened ${opened}\n`);
      }
    }
    if (B.internalErrors + A.internalErrors + C.internalErrors > 0 && problems.length === 0) {
      problems.push(`exception after ${injected} frames: ${String(B.lastInternalError ?? A.lastInternalError ?? C.lastInternalError)}`);
    }
    // Keep C's connections in several states: reopen when B has few of them.
    // Workaround for the ARP eviction problem (docs/conformance.md "Problems found" 2): keep B's
    // entries for A and C, so the fuzz keeps reaching live connections (covered by attack/pending).
    B.arp.learn(A_IP, aMac, 0, net.now, true);
    B.arp.learn(C_IP, cMac, 0, net.now, true);
    // Release the blocks of connections the fuzz killed (their sockets let go), then reopen.
    if (injected % 500 < perMs) {
      for (const t of cConns) if (t.state === CLOSED && t.owner !== null) C.tcp.close(t, net.now, true);
      for (const t of bConns) if (t.state === CLOSED && t.owner !== null) B.tcp.close(t, net.now, true);
      cConns.splice(0, cConns.length, ...cConns.filter((t) => t.owner !== null));
      bConns.splice(0, bConns.length, ...bConns.filter((t) => t.owner !== null));
      if (B.tcp.tcbs.filter((t) => t.state !== CLOSED && t.remoteIp === C_IP).length < 5) openC(opened++);
    }
    if (injected < o.frames) net.schedule(net.now + 1, burst);
  };
  net.schedule(10, burst);
  net.run({ until: () => injected >= o.frames && tr.complete() && tr.closed(), maxMs: 3_600_000, maxSteps: 20_000_000 });
  const transferMs = tr.doneMs;

  if (!tr.complete()) problems.push(`transfer incomplete: up ${tr.server.gotLen}/${size}, down ${tr.client.gotLen}/${size}`);
  else if (!tr.byteExact()) problems.push("transfer not byte-exact");
  if (!tr.closed()) problems.push(`transfer not closed (client ${tr.client.done}, server ${tr.server.done})`);

  // Wind down: stop injecting, close everything gracefully, let every timer run out.
  for (const t of cConns) if (t.state !== CLOSED || t.owner !== null) C.tcp.close(t, net.now, true);
  for (const t of bConns) if (t.state !== CLOSED || t.owner !== null) B.tcp.close(t, net.now, true);
  B.tcp.unlisten(l81, net.now);
  B.tcp.unlisten(tr.listener, net.now);
  net.run({ maxMs: 3_600_000, maxSteps: 5_000_000 });
  for (const [name, s] of [["A", A], ["B", B], ["C", C]] as [string, Stack][]) {
    const u = s.tcp.inUse();
    if (u.connections + u.timeWait + u.listeners !== 0) {
      const held = s.tcp.tcbs.filter((t) => t.state !== CLOSED || t.owner !== null).map((t) => `${t.id}:${t.state}/${t.owner === null ? "-" : "owned"}`);
      problems.push(`${name}: pools not full: ${JSON.stringify(u)} ${held.join(",")}`);
    }
    if (s.arp.pendingInUse() !== 0) problems.push(`${name}: ARP pending slots in use`);
    if (s.internalErrors !== 0) problems.push(`${name}: ${s.internalErrors} internal errors, last ${String(s.lastInternalError)}`);
  }
  problems.push(...conservation(B, classes));
  B.onReceive = null;
  // Release anything left so a failing run does not leak into the next.
  for (const s of [A, B, C]) for (const t of s.tcp.tcbs) if (t.state !== CLOSED) { t.orphan = true; s.tcp.abort(t, ERR_ABORTED, net.now, false); }

  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(B.counters)) if (typeof v === "number" && v !== 0) counters[k] = v;
  return {
    seed: o.seed, frames: injected, corpus: corpus.length, kinds, problems, transferMs, duringTransfer: during,
    counters, classes, wallMs: Date.now() - wall0,
  };
}

/**
 * Counter conservation for every frame B was given (justified from src/stack.ts inputFrame/inputIp,
 * src/tcp/tcp.ts input, src/udp/udp.ts input):
 *  link:  linkInFrames = ethTooShort + ethNotForUs + ethUnknownType + (ARP frames) + ipInReceives,
 *         each class equal to B's own independent classification of the frames;
 *  ARP:   every ARP frame is in arpInRequests/arpInReplies or arpBad (arpBad also counts a request
 *         or reply with a multicast sender MAC a second time, so this is a range, not an equality);
 *  IP:    ipInReceives = ipInHdrErrors + ipInAddrErrors + ipInBadSrc + ipReasmFails + ipInUnknownProtos
 *         + ipInDelivers, and ipInHdrErrors = the sum of its five reasons;
 *  L4:    ipInDelivers = icmpInMsgs + UDP datagrams + TCP segments, where UDP = udpInBadLen +
 *         udpInBadChecksum + udpNoPorts + udpInDatagrams + udpInQueueFull + udpInTooBig and TCP =
 *         tcpInSegs + tcpInBadLen + tcpInBadChecksum + tcpInBadOptions + (TCP to a broadcast address,
 *         counted only in tcpInBadPort together with port-0 segments, which are also in tcpInSegs);
 *         tcpInErrs = tcpInBadLen + tcpInBadChecksum + tcpInBadOptions + tcpInBadPort.
 */
export function conservation(B: Stack, classes: Record<string, number>): string[] {
  const c = B.counters;
  const p: string[] = [];
  const eq = (what: string, a: number, b: number): void => { if (a !== b) p.push(`${what}: ${a} != ${b}`); };
  const arpFrames = c.linkInFrames - c.ethTooShort - c.ethNotForUs - c.ethUnknownType - c.ipInReceives;
  eq("ethTooShort vs classified", c.ethTooShort, classes.tooShort);
  eq("ethNotForUs vs classified", c.ethNotForUs, classes.notForUs);
  eq("ethUnknownType vs classified", c.ethUnknownType, classes.other);
  eq("ipInReceives vs classified", c.ipInReceives, classes.ip);
  eq("ARP frames vs classified", arpFrames, classes.arp);
  const arpSeen = c.arpInRequests + c.arpInReplies;
  if (!(arpSeen <= arpFrames && arpFrames <= arpSeen + c.arpBad)) p.push(`ARP: ${arpFrames} frames not within [${arpSeen}, ${arpSeen + c.arpBad}]`);
  eq("ipInHdrErrors = reasons", c.ipInHdrErrors, c.ipInTooShort + c.ipInBadVersion + c.ipInBadHlen + c.ipInBadLen + c.ipInBadChecksum);
  eq("ipInReceives = outcomes", c.ipInReceives, c.ipInHdrErrors + c.ipInAddrErrors + c.ipInBadSrc + c.ipReasmFails + c.ipInUnknownProtos + c.ipInDelivers);
  eq("tcpInErrs = reasons", c.tcpInErrs, c.tcpInBadLen + c.tcpInBadChecksum + c.tcpInBadOptions + c.tcpInBadPort);
  const udp = c.udpInBadLen + c.udpInBadChecksum + c.udpNoPorts + c.udpInDatagrams + c.udpInQueueFull + c.udpInTooBig;
  const tcpLow = c.tcpInSegs + c.tcpInBadLen + c.tcpInBadChecksum + c.tcpInBadOptions;
  const tcp = c.ipInDelivers - c.icmpInMsgs - udp;
  if (!(tcpLow <= tcp && tcp <= tcpLow + c.tcpInBadPort)) p.push(`TCP delivered ${tcp} not within [${tcpLow}, ${tcpLow + c.tcpInBadPort}]`);
  return p;
}
