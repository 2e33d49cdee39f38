/**
 * Host-side text reports of a stack: an `ss -ti`-like connection table and the non-zero counters.
 * (The device console in src/console prints the same facts over a serial line.)
 */
import type { Stack } from "../src/stack.js";
import { stateNames } from "../src/tcp/tcb.js";
import { ipToString } from "../src/wire/bytes.js";

function pad(s: string | number, n: number): string { return String(s).padEnd(n); }

export function connectionTable(stack: Stack, now: number): string {
  const rows: string[] = [];
  rows.push(`  ${pad("State", 12)} ${pad("Local", 22)} ${pad("Remote", 22)} ${pad("sndUna..sndNxt", 24)} ${pad("rcvNxt", 11)} ` +
    `${pad("sndWnd", 7)} ${pad("rcvWnd", 7)} ${pad("cwnd", 7)} ${pad("ssthresh", 9)} ${pad("srtt/rto", 11)} rtx  in/out`);
  const tcp = stack.tcp;
  const local = ipToString(stack.address);
  for (let l = 0; l < tcp.lPort.length; l++) {
    if (tcp.lOwner[l] !== null) rows.push(`  ${pad("LISTEN", 12)} ${pad(`${local}:${tcp.lPort[l]}`, 22)} *:*`);
  }
  for (const t of tcp.tcbs) {
    if (t.state === 0) continue;
    const ss = t.ssthresh >= 0x7fffffff ? "-" : String(t.ssthresh);
    rows.push(`  ${pad(stateNames[t.state], 12)} ${pad(`${ipToString(t.localIp)}:${t.localPort}`, 22)} ` +
      `${pad(`${ipToString(t.remoteIp)}:${t.remotePort}`, 22)} ${pad(`${t.sndUna}..${t.sndNxt}`, 24)} ${pad(t.rcvNxt, 11)} ` +
      `${pad(t.sndWnd, 7)} ${pad(t.rcvSpace(), 7)} ${pad(t.cwnd, 7)} ${pad(ss, 9)} ` +
      `${pad(`${Math.round(t.srtt)}/${Math.round(t.rto)}`, 11)} ${pad(t.retransmits, 4)} ${t.bytesIn}/${t.bytesOut}`);
  }
  for (let w = 0; w < tcp.twCount; w++) {
    if ((tcp.twFlags[w] & 1) === 0) continue;
    rows.push(`  ${pad("TIME-WAIT", 12)} ${pad(`${local}:${tcp.twLocalPort[w]}`, 22)} ` +
      `${pad(`${ipToString(tcp.twRemoteIp[w])}:${tcp.twRemotePort[w]}`, 22)} expires in ${Math.round(tcp.twExpires[w] - now)} ms`);
  }
  return rows.join("\n");
}

/** Non-zero counters, several per line. */
export function counterSummary(stack: Stack): string {
  const c = stack.counters as unknown as Record<string, number>;
  const items = Object.keys(c).filter((k) => typeof c[k] === "number" && c[k] !== 0).map((k) => `${k}=${c[k]}`);
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += 5) lines.push(`  ${items.slice(i, i + 5).join("  ")}`);
  return lines.join("\n");
}
