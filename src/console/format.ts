/**
 * Formatters: one response line each, written into a LineWriter without allocation.
 *
 * Connection lines are an `ss -ti` view: state, local and remote address, then `key:value` pairs
 * (RFC 9293 / 6298 / 5681 names), so a person can read them and the PC tool can parse them:
 *   ESTABLISHED 192.0.2.1:49152 192.0.2.2:80 id:0 iss:.. irs:.. sndUna:.. sndNxt:.. sndMax:..
 *     rcvNxt:.. sndWnd:.. rcvWnd:.. cwnd:.. ssthresh:.. srtt:12.5 rttvar:3.0 rto:200 rtx:0
 *     sacked:0 ooo:0 in:.. out:.. sndq:.. rcvq:.. mss:.. opts:ts,sack,ws
 *   LISTEN 192.0.2.1:80 0.0.0.0:* backlog:4 ready:0
 *   TIME-WAIT 192.0.2.1:49152 192.0.2.2:80 sndNxt:.. rcvNxt:.. expires:59000
 */
import type { ArpCache } from "../arp/cache.js";
import type { Stack } from "../stack.js";
import { CLOSED, stateNames, SYN_RECEIVED, type Tcb } from "../tcp/tcb.js";
import type { Tcp } from "../tcp/tcp.js";
import type { LineWriter } from "./line.js";

/** Column where the key:value part of a connection line starts (aligns the 4-tuples). */
const COL_LOCAL = 13, COL_REMOTE = 35, COL_KV = 57;

/** Bytes the peer has SACKed and we hold as acknowledged out of order (sender scoreboard, if any). */
function sackedBytes(t: Tcb): number {
  const v = (t as unknown as { readonly sackedBytes?: unknown }).sackedBytes;
  return typeof v === "number" ? v : 0;
}

/** Bytes we hold out of order (the ranges our SACK blocks report). */
function oooBytes(t: Tcb): number {
  let n = 0;
  for (let i = 0; i < t.oooCount; i++) n += t.ooo[2 * i + 1] - t.ooo[2 * i];
  return n;
}

export function connLine(w: LineWriter, t: Tcb): void {
  w.str(stateNames[t.state] ?? "?").padTo(COL_LOCAL);
  w.ip(t.localIp).ch(0x3a).dec(t.localPort).padTo(COL_REMOTE);
  w.ip(t.remoteIp).ch(0x3a).dec(t.remotePort).padTo(COL_KV);
  w.str("id:").dec(t.id);
  w.str(" iss:").dec(t.iss).str(" irs:").dec(t.irs);
  w.str(" sndUna:").dec(t.sndUna).str(" sndNxt:").dec(t.sndNxt).str(" sndMax:").dec(t.sndMax);
  w.str(" rcvNxt:").dec(t.rcvNxt);
  w.str(" sndWnd:").dec(t.sndWnd).str(" rcvWnd:").dec(t.rcvSpace());
  w.str(" cwnd:").dec(t.cwnd).str(" ssthresh:").dec(t.ssthresh);
  w.str(" srtt:").dec1(t.srtt).str(" rttvar:").dec1(t.rttvar).str(" rto:").dec(t.rto);
  w.str(" rtx:").dec(t.retransmits).str(" sacked:").dec(sackedBytes(t)).str(" ooo:").dec(oooBytes(t));
  w.str(" in:").dec(t.bytesIn).str(" out:").dec(t.bytesOut);
  w.str(" sndq:").dec(t.sndLen).str(" rcvq:").dec(t.rcvLen).str(" mss:").dec(t.mss);
  w.str(" opts:");
  let any = false;
  if (t.tsOk) { w.str("ts"); any = true; }
  if (t.sackOk) { if (any) w.ch(0x2c); w.str("sack"); any = true; }
  if (t.wsOk) { if (any) w.ch(0x2c); w.str("ws").dec(t.sndScale).ch(0x2f).dec(t.rcvScale); any = true; }
  if (!any) w.ch(0x2d);
}

export function listenerLine(w: LineWriter, stack: Stack, tcp: Tcp, l: number): void {
  w.str("LISTEN").padTo(COL_LOCAL);
  w.ip(stack.address).ch(0x3a).dec(tcp.lPort[l]).padTo(COL_REMOTE);
  w.str("0.0.0.0:*").padTo(COL_KV);
  // Counted here with an index loop (a for-of iterator would allocate in XS).
  let ready = 0;
  for (let i = 0; i < tcp.tcbs.length; i++) {
    const t = tcp.tcbs[i];
    if (t.listener === l && !t.accepted && t.state !== CLOSED && t.state !== SYN_RECEIVED) ready++;
  }
  w.str("backlog:").dec(tcp.lBacklog[l]).str(" ready:").dec(ready);
}

export function timeWaitLine(w: LineWriter, stack: Stack, tcp: Tcp, i: number, now: number): void {
  w.str("TIME-WAIT").padTo(COL_LOCAL);
  w.ip(stack.address).ch(0x3a).dec(tcp.twLocalPort[i]).padTo(COL_REMOTE);
  w.ip(tcp.twRemoteIp[i]).ch(0x3a).dec(tcp.twRemotePort[i]).padTo(COL_KV);
  w.str("sndNxt:").dec(tcp.twSndNxt[i]).str(" rcvNxt:").dec(tcp.twRcvNxt[i]);
  const left = tcp.twExpires[i] - now;
  w.str(" expires:").dec(left > 0 ? left : 0);
}

/** One ARP entry: "ip mac state expires:ms" (false when the entry is free). */
export function arpLine(w: LineWriter, arp: ArpCache, i: number, now: number): boolean {
  const state = arp.entryState(i);
  if (state === "free") return false;
  w.ip(arp.entryIp(i)).padTo(17);
  if (state === "resolved") w.mac(arp.macs, i * 6);
  else w.str("-");
  w.padTo(35).str(state);
  if (state === "resolved") {
    const left = arp.entryExpires(i) - now;
    w.str(" expires:").dec(left > 0 ? left : 0);
  }
  return true;
}

/** "name value", the value aligned. */
export function counterLine(w: LineWriter, name: string, value: number): void {
  w.str(name).padTo(32).dec(value);
}

export const HELP: readonly string[] = [
  "conns                 connections: state, 4-tuple, sequence numbers, windows, cwnd, rtt (ss -ti)",
  "stats [PREFIX|reset]  counters by MIB name (all, or those starting with PREFIX)",
  "arp                   ARP cache",
  "trace on [FILTER]     stream frames (F records); FILTER: arp ip icmp tcp udp, port N, host IP, in, out",
  "trace keep [FILTER]   keep recent frames in the ring without streaming; `trace dump` sends them",
  "trace off             stop capturing (frames already captured are still sent)",
  "trace                 trace status",
  "info                  version, addresses, trace ring size (H record)",
  "help                  this list",
  "A line may start with #N: the reply's B and E records carry N.",
];
