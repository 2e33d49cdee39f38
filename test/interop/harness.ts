/**
 * Test-side harness of the kernel interop tests: each test runs one script of test/interop/scripts/ in
 * a fresh network + PID + mount namespace (host-sim/netns.ts runInNetns), with its own work directory
 * for pcaps and data files (kept when the test fails, or always with KEEP_INTEROP=1).
 *
 * Prerequisites (root, /dev/net/tun, unshare, the TAP addon, and the Debian tools below) are checked in
 * `before`: missing ones skip the tests, or FAIL them under REQUIRE_ALL=1 (CI).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { linkExistsHere, parseReport, requireAll, runInNetns } from "../../host-sim/netns.js";
import type { TapSummary } from "../../host-sim/tap-cli.js";
import { requireNetns } from "../helpers/netns.js";
import { negotiated, type JudgeResult, type KernelFacts, type SessionFacts, type SsSample } from "./scripts/lib.js";

/** Tool → Debian package. */
export const INTEROP_TOOLS: Record<string, string> = {
  tshark: "tshark", socat: "socat", nc: "netcat-openbsd", iperf3: "iperf3", nft: "nftables", iptables: "iptables",
  tc: "iproute2", ss: "iproute2", nstat: "iproute2", ip: "iproute2", curl: "curl", python3: "python3", sha256sum: "coreutils",
};

let toolCheck: string | undefined;
/** Names of missing tools with their packages ("" when all are there). Cached. */
export function missingTools(): string {
  if (toolCheck !== undefined) return toolCheck;
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(INTEROP_TOOLS)) {
    const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8", timeout: 5_000 });
    if (r.status !== 0) missing.push(`${tool} (apt-get install ${pkg})`);
  }
  if (missing.length === 0) {
    // nf_tables and the statistic match must work in a namespace (no netem on this kernel: loss is nft/iptables).
    const nft = spawnSync("unshare", ["--net", "sh", "-c", "nft add table inet probe && iptables -A OUTPUT -m statistic --mode random --probability 0.5 -j ACCEPT"], { encoding: "utf8", timeout: 10_000 });
    if (nft.status !== 0) missing.push(`nftables/iptables do not work in a namespace: ${(nft.stderr || nft.error?.message || "").trim()}`);
  }
  return (toolCheck = missing.join(", "));
}

/** `before` hook: namespaces + TAP addon (requireNetns) and the interop tools. */
export function requireInterop(ctx: Mocha.Context): void {
  requireNetns(ctx);
  snapshotDefaultNamespace();
  const missing = missingTools();
  if (missing === "") return;
  if (requireAll()) throw new Error(`REQUIRE_ALL=1: kernel interop tests cannot run: missing ${missing}`);
  ctx.skip();
}

export const INTEROP_ROOT = "/tmp/xs-tcpip-interop";
let seq = 0;

export interface InteropRun<T> {
  report: T;
  dir: string;
  stderr: string;
}

/** Absolute path of a compiled script under dist/test/interop/scripts/. */
export function interopScript(name: string): string {
  return fileURLToPath(new URL(`./scripts/${name}.js`, import.meta.url));
}

/** Directories of the tests that passed, removed by cleanupPassed(). */
const created: string[] = [];

/**
 * Runs scripts/<name>.js ARGS in a fresh namespace with INTEROP_DIR set; throws (with the script's
 * stderr and the work directory) unless it exits 0 and reports.
 */
export async function runInterop<T = Record<string, unknown>>(name: string, args: string[], timeoutMs = 90_000): Promise<InteropRun<T>> {
  const dir = `${INTEROP_ROOT}/${name}-${args.join("-").replace(/[^\w.-]/g, "_")}-${process.pid}-${++seq}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  created.push(dir);
  const result = await runInNetns(interopScript(name), args, { timeoutMs, env: { INTEROP_DIR: dir } });
  if (result.code !== 0) {
    throw new Error(
      `interop script ${name} ${args.join(" ")} failed: code ${result.code} signal ${result.signal}${result.timedOut ? " (timed out)" : ""}; ` +
        `files (pcap) kept in ${dir}\n--- stderr ---\n${result.stderr.slice(-6000)}\n--- stdout ---\n${result.stdout.slice(-4000)}`,
    );
  }
  const report = parseReport<T>(result.stdout);
  if (report === undefined) throw new Error(`interop script ${name} reported nothing; files in ${dir}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
  return { report, dir, stderr: result.stderr };
}

/** afterEach: delete the work directory of a passed test (unless KEEP_INTEROP=1); say where a failed one is. */
export function cleanupAfter(ctx: Mocha.Context): void {
  const dir = created.pop();
  if (dir === undefined) return;
  const failed = ctx.currentTest?.state === "failed";
  if (failed || process.env.KEEP_INTEROP === "1") {
    if (failed) console.log(`      interop files kept: ${dir}`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

function defaultNamespaceState(): { links: string[]; addrs: string[] } {
  const links = (spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8", timeout: 5_000 }).stdout ?? "")
    .split("\n").filter(Boolean).map((l) => (/^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? l).trim());
  const addrs = (spawnSync("ip", ["-o", "addr", "show"], { encoding: "utf8", timeout: 5_000 }).stdout ?? "")
    .split("\n").filter(Boolean).map((l) => l.replace(/\s+valid_lft.*$/, "").replace(/^\d+:\s+/, "").trim());
  return { links, addrs };
}

let baseline: { links: string[]; addrs: string[] } | undefined;
/** before: remember the default namespace's links and addresses (this machine may use 192.0.2.0/24 itself). */
export function snapshotDefaultNamespace(): void {
  baseline ??= defaultNamespaceState();
}

/** Nothing of ours in the default namespace: no tap0, no link or address that was not there before. */
export function defaultNamespaceClean(): string {
  const problems: string[] = [];
  if (linkExistsHere("tap0")) problems.push("tap0 exists in the default namespace");
  if (baseline !== undefined) {
    const now = defaultNamespaceState();
    const newLinks = now.links.filter((l) => !baseline!.links.includes(l));
    const newAddrs = now.addrs.filter((a) => !baseline!.addrs.includes(a));
    if (newLinks.length > 0) problems.push(`new links in the default namespace: ${newLinks.join(", ")}`);
    if (newAddrs.length > 0) problems.push(`new addresses in the default namespace: ${newAddrs.join("; ")}`);
  }
  return problems.join("; ");
}

// ---- assertion helpers ---------------------------------------------------------------------------

/** Everything a session script reports. */
export type Facts = SessionFacts & Record<string, unknown>;

/** One line to append to every assertion message: the pcap, the work dir, key numbers. */
export function where(f: { judge: JudgeResult | null; summary?: TapSummary }, dir: string): string {
  return ` [pcap: ${f.judge?.pcap ?? "(none)"}; files: ${dir}]`;
}

/** Frame accounting between the TAP and the stack: nothing silently lost either way. */
export function frameAccounting(f: Facts): string[] {
  const bad: string[] = [];
  const t = f.summary.tap;
  const k = f.summary.kernelLink;
  const faults = f.summary.faults;
  if (t.txRefused !== 0) bad.push(`the kernel refused ${t.txRefused} of our frames (txRefused)`);
  if (t.rxInputErrors !== 0) bad.push(`${t.rxInputErrors} frames threw in stack.input`);
  if (t.rxError !== 0) bad.push(`TAP reader stopped with errno ${t.rxError}`);
  if (k === null) bad.push("no kernel link stats in the summary");
  else {
    if (k.tx_dropped !== 0) bad.push(`kernel dropped ${k.tx_dropped} frames toward us (tap0 tx_dropped: we did not read fast enough)`);
    if (k.rx_dropped !== 0) bad.push(`kernel dropped ${k.rx_dropped} of our frames (tap0 rx_dropped)`);
    // Frames the kernel queued to the TAP = frames we read (the summary reads both at the same moment).
    if (Number(k.tx_packets) !== t.rxFrames) bad.push(`kernel sent ${k.tx_packets} frames to tap0, we read ${t.rxFrames}`);
    if (Number(k.rx_packets) !== t.txFrames) bad.push(`we wrote ${t.txFrames} frames, kernel counted ${k.rx_packets}`);
  }
  const rxDrops = faults?.rx ? faults.rx.lost + faults.rx.queueDrops + faults.rx.mtuDrops - faults.rx.duplicated : 0;
  const rxQueued = faults?.rxQueued ?? 0;
  if (t.rxFrames - rxDrops - rxQueued !== t.rxDelivered) {
    bad.push(`read ${t.rxFrames} frames, fault drops ${rxDrops}, still queued ${rxQueued}, but delivered ${t.rxDelivered} to the stack`);
  }
  if (f.summary.internalErrors !== 0) bad.push(`stack internal errors: ${f.summary.internalErrors}`);
  if (!f.tapGoneAfterExit) bad.push("tap0 still exists after netsim exited (device not closed)");
  if (f.netsimExit !== 0 && f.netsimExit !== 1) bad.push(`netsim exit code ${f.netsimExit}`);
  if (f.summary.callbackErrors !== 0) bad.push(`app callback errors: ${f.summary.callbackErrors}`);
  return bad;
}

/** tshark findings that must never appear: malformed frames, bad checksums from us, a capture that missed a SYN. */
export function pcapHygiene(j: JudgeResult | null, allowBadOurs = 0): string[] {
  if (j === null) return ["no capture"];
  const bad: string[] = [];
  if (j.frames === 0) bad.push("empty capture");
  // A corrupted port number of ours shows up as a stream of its own: allowed as many as corrupted frames.
  if (j.incompleteStarts > allowBadOurs) bad.push(`${j.incompleteStarts} TCP streams without SYN/SYN-ACK/ACK in the capture (capture started late?)`);
  if (j.malformed > allowBadOurs) bad.push(`${j.malformed} malformed frames`);
  if (j.badChecksumsOurs > allowBadOurs) bad.push(`${j.badChecksumsOurs} frames from us with a bad IP/TCP checksum`);
  if (j.badChecksumsKernel !== 0) bad.push(`${j.badChecksumsKernel} kernel frames with a bad checksum (not the 0xffff case)`);
  return bad;
}

/**
 * On a clean link (the issue: "no retransmissions, duplicate ACKs or zero-window stalls from our side"):
 * - our stack: no retransmission of any kind, no lost/out-of-order segment, no zero window (unless the
 *   app is meant to stop reading, e.g. echo), no duplicate ACK except the immediate ACK that answers a
 *   kernel retransmission (RFC 9293 §3.10.7.4);
 * - the kernel: no fast retransmission, no duplicate ACK, no RTO (TcpExtTCPTimeouts); its only allowed
 *   retransmissions are tail loss probes (TcpExtTCPLossProbes), which it sends when our ACKs are late
 *   because the Node process was descheduled or busy (see the event-loop delay in the summary).
 */
export function cleanLink(j: JudgeResult | null, snmp: Record<string, number>, opts: { allowOurZeroWindow?: boolean } = {}): string[] {
  if (j === null) return ["no capture"];
  const bad: string[] = [];
  for (const f of ["retransmission", "fast_retransmission", "spurious_retransmission", "lost_segment", "out_of_order", "ack_lost_segment"] as const) {
    if (j.ours[f] > 0) bad.push(`our stack: ${j.ours[f]} × ${f}`);
  }
  if (!opts.allowOurZeroWindow && (j.ours.zero_window > 0 || j.ours.zero_window_probe > 0)) bad.push(`our stack: ${j.ours.zero_window} × zero_window, ${j.ours.zero_window_probe} × zero_window_probe`);
  const dup = j.ours.duplicate_ack - j.oursDupAckForRetrans;
  if (dup > 0) bad.push(`our stack: ${dup} × duplicate_ack not answering a kernel retransmission`);
  for (const f of ["fast_retransmission", "duplicate_ack", "out_of_order", "ack_lost_segment", "lost_segment"] as const) {
    if (j.kernel[f] > 0) bad.push(`the kernel: ${j.kernel[f]} × ${f}`);
  }
  const probes = snmp.TcpExtTCPLossProbes ?? 0;
  const kernelRtx = j.kernel.retransmission + j.kernel.spurious_retransmission;
  if (kernelRtx > probes) bad.push(`the kernel: ${kernelRtx} retransmissions in the pcap but only ${probes} tail loss probes (TcpExtTCPLossProbes)`);
  if ((snmp.TcpRetransSegs ?? 0) > probes) bad.push(`the kernel: TcpRetransSegs ${snmp.TcpRetransSegs} > TcpExtTCPLossProbes ${probes}`);
  if ((snmp.TcpExtTCPTimeouts ?? 0) > 0) bad.push(`the kernel: ${snmp.TcpExtTCPTimeouts} RTO timeouts`);
  return bad;
}

/**
 * ss -tin: every kernel socket that talked to us negotiated what we expect and never retransmitted.
 * iproute2 6.1's ss on this kernel (6.18) prints no "ts"/"sack" tokens even kernel-to-kernel, so those
 * are only checked when ss printed them for some socket; the kernel's mss (1460 - 12 with timestamps)
 * and the SYN/SYN-ACK options in the pcap (judge().handshakes) show them instead.
 */
export function ssChecks(ss: SsSample[], expect: { wscale: boolean; ts: boolean; sack: boolean; mss: number; retrans: boolean }, snmp: Record<string, number> = {}): string[] {
  const ssShowsOptions = ss.some((s) => s.ts || s.sack);
  const probes = snmp.TcpExtTCPLossProbes ?? 0;
  const ssRetrans = ss.reduce((n, s) => n + s.totalRetrans, 0);
  const bad: string[] = [];
  if (ss.length === 0) bad.push("ss -tin never saw a connection with us");
  for (const s of ss) {
    const who = `${s.local}<->${s.peer}`;
    if (expect.wscale && s.wscale === null) bad.push(`${who}: no wscale`);
    if (!expect.wscale && s.wscale !== null) bad.push(`${who}: unexpected wscale:${s.wscale}`);
    if (ssShowsOptions && s.ts !== expect.ts) bad.push(`${who}: timestamps ${s.ts}, expected ${expect.ts}`);
    if (ssShowsOptions && s.sack !== expect.sack) bad.push(`${who}: sack ${s.sack}, expected ${expect.sack}`);
    if (s.mss !== expect.mss) bad.push(`${who}: mss ${s.mss}, expected ${expect.mss}`);
    // Tail loss probes count as retransmissions in tcp_info: only more than the kernel's TLP count is a finding.
    if (!expect.retrans && ssRetrans > probes && s.totalRetrans > 0) bad.push(`${who}: kernel retransmitted (retrans ${s.retrans}/${s.totalRetrans}, bytes_retrans ${s.bytesRetrans}) beyond its ${probes} tail loss probes`);
  }
  return bad;
}

/** A compact line for the test log. */
export function brief(f: Facts): string {
  const j = f.judge;
  const k: KernelFacts = f.kernel;
  return `frames ${j?.frames ?? "-"}, ours ${JSON.stringify(nonZero(j?.ours))}, kernel ${JSON.stringify(nonZero(j?.kernel))}, ` +
    `kernel TcpRetransSegs ${k.snmp.TcpRetransSegs ?? "-"} (TLP ${k.snmp.TcpExtTCPLossProbes ?? "-"}), our rtx ${f.summary.stack.tcpRetransSegs ?? "-"}, ` +
    `our dup ACKs answering kernel rtx ${j?.oursDupAckForRetrans ?? "-"}, event loop max ${f.summary.eventLoop?.maxMs ?? "-"} ms`;
}

export function nonZero(r: Record<string, number> | undefined): Record<string, number> {
  if (!r) return {};
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 0));
}

/** Every handshake in the pcap negotiated exactly `expect`, and our SYN / SYN-ACK announced MSS `mss`. */
export function handshakeChecks(j: JudgeResult | null, expect: { wscale: boolean; sack: boolean; ts: boolean }, ourIp = "192.0.2.2", mss = 1460): string[] {
  if (j === null) return ["no capture"];
  const bad: string[] = [];
  if (j.handshakes.length === 0) bad.push("no SYN in the capture");
  for (const h of j.handshakes) {
    if (h.syn === null || h.synAck === null) { bad.push(`stream ${h.stream}: SYN or SYN-ACK missing`); continue; }
    const got = negotiated(h);
    for (const k of ["wscale", "sack", "ts"] as const) {
      if (got[k] !== expect[k]) bad.push(`stream ${h.stream}: ${k} negotiated ${got[k]}, expected ${expect[k]} (SYN ${JSON.stringify(h.syn)}, SYN-ACK ${JSON.stringify(h.synAck)})`);
    }
    const ours = h.syn.from === ourIp ? h.syn : h.synAck;
    if (ours.mss !== mss) bad.push(`stream ${h.stream}: our MSS option ${ours.mss}, expected ${mss}`);
  }
  return bad;
}

/** The preset "throughput" offers window scaling, timestamps and SACK; the kernel's MSS is 1460 - 12 (timestamps). */
export const THROUGHPUT_SS = { wscale: true, ts: true, sack: true, mss: 1448, retrans: false };
/** Both sides offer window scaling, SACK and timestamps (preset "throughput" against Linux defaults). */
export const ALL_OPTIONS = { wscale: true, sack: true, ts: true };

export interface BulkReport extends Facts {
  bytes: number;
  preset: string;
  fault: string;
  faults: Record<string, number | string>;
  listening: boolean;
  done: boolean;
  send: { expectedSha256: string; got: { bytes: number; sha256: string }; sinkExit: number | string | null; sinkStderr: string } | null;
  recv: { expectedSha256: string; sourceExit: number | null; sourceSeconds: number; sourceStderr: string } | null;
}

/** Byte-exact both ways, as far as the case has them; returns the problems. */
export function bulkChecks(r: BulkReport): string[] {
  const bad: string[] = [];
  if (!r.done) bad.push(`netsim tasks did not finish:\n${r.log}`);
  if (r.send !== null) {
    const task = r.summary.tasks.find((t) => t.kind === "send");
    if (r.send.sinkExit !== 0) bad.push(`socat sink exit ${r.send.sinkExit}: ${r.send.sinkStderr}`);
    if (r.send.got.bytes !== r.bytes) bad.push(`sink got ${r.send.got.bytes} of ${r.bytes} bytes`);
    if (r.send.got.sha256 !== r.send.expectedSha256) bad.push("sink SHA-256 differs from what we sent");
    if (!task?.ok) bad.push(`our send task: ${JSON.stringify(task)}`);
  }
  if (r.recv !== null) {
    const task = r.summary.tasks.find((t) => t.kind === "recv");
    const c = task?.connections?.[0];
    if (r.recv.sourceExit !== 0) bad.push(`socat source exit ${r.recv.sourceExit}: ${r.recv.sourceStderr}`);
    if (!task?.ok || c === undefined) bad.push(`our recv task: ${JSON.stringify(task)}`);
    else {
      if (c.bytes !== r.bytes) bad.push(`we received ${c.bytes} of ${r.bytes} bytes`);
      if (c.sha256 !== r.recv.expectedSha256) bad.push("received SHA-256 differs from the file socat sent");
    }
  }
  return bad;
}

