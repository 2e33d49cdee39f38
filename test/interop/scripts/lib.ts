/**
 * Script-side helpers for the kernel interop tests (run inside a fresh network namespace by
 * test/interop/harness.ts): the netsim CLI on tap0 as a peer process, a tshark capture, the tshark
 * judge, an `ss -tin` sampler, pattern files. Everything bounded in time.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { linkStats, nstat, sh, shAsync, startPeer, type LinkStats, type Peer } from "../../../host-sim/netns.js";
import { patternView, SUMMARY_PREFIX, type TapSummary } from "../../../host-sim/tap-cli.js";

export const OUR_IP = "192.0.2.2";
export const KERNEL_IP = "192.0.2.1";
export const DEV = "tap0";
/** TapDriver's default MAC (host-sim/tap.ts DEFAULT_TAP_MAC). */
export const OUR_MAC = "02:00:00:00:00:02";

/** Where pcaps and data files go (the test passes INTEROP_DIR; it keeps them when a test fails). */
export function workDir(): string {
  const d = process.env.INTEROP_DIR;
  if (!d || !existsSync(d)) throw new Error("INTEROP_DIR is not set or missing (run through test/interop/harness.ts)");
  return d;
}

export function workFile(name: string): string {
  return join(workDir(), name);
}

/** Progress note on stderr (shown by the test when the script fails or hangs). */
export function phase(what: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${what}\n`);
}

// ---- isolation -----------------------------------------------------------------------------------

export interface Isolation {
  links: string[];
  routes: string[];
  ok: boolean;
}

/** Only lo and the given devices exist here, and the only routes are 192.0.2.0/24 ones (no default route). */
export function checkIsolation(devs: string[] = [DEV]): Isolation {
  const links = sh("ip -o link show").split("\n").filter(Boolean).map((l) => (/^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? l).trim());
  const routes = sh("ip route show table all").split("\n").filter((l) => l.trim() !== "" && !/^(local|broadcast|multicast) /.test(l) && !/table local/.test(l));
  const okLinks = links.every((l) => l === "lo" || devs.includes(l));
  const okRoutes = routes.every((r) => r.startsWith("192.0.2."));
  return { links, routes, ok: okLinks && okRoutes };
}

// ---- the stack: netsim tap as a peer process -------------------------------------------------------

const CLI = fileURLToPath(new URL("../../../host-sim/cli.js", import.meta.url));

export interface Netsim {
  peer: Peer;
  /** Resolves with the CLI's summary when it exits (rejects if it printed none). */
  summary: Promise<TapSummary>;
  /** SIGTERM (the CLI prints its summary and closes the TAP), then wait. */
  stop(): Promise<TapSummary>;
  /** The CLI's exit code once it has exited. */
  exitCode(): Promise<number | null>;
  /** Start the client tasks (the CLI runs with --wait-signal): SIGUSR2. */
  release(): void;
  /** Resolves true once the CLI printed "tasks done" (false after timeoutMs or if it exited first). */
  tasksDone(timeoutMs: number): Promise<boolean>;
}

/**
 * Starts `netsim tap --tap tap0 --ip 192.0.2.2/24 --gw 192.0.2.1 --host-ip 192.0.2.1/24 --json
 * --wait-signal --linger 60 --seconds 60 ...args` and waits until it printed "ready" (servers up,
 * client tasks held until release()).
 */
export async function startNetsim(args: string[], lifetimeMs = 70_000): Promise<Netsim> {
  // NETSIM_NODE_ARGS: extra Node flags for the stack process (debugging: "--prof", "--cpu-prof").
  const nodeArgs = (process.env.NETSIM_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const cmd = [process.execPath, ...nodeArgs, CLI, "tap", "--tap", DEV, "--ip", `${OUR_IP}/24`, "--gw", KERNEL_IP,
    "--host-ip", `${KERNEL_IP}/24`, "--json", "--wait-signal", "--linger", "60", "--seconds", "60", ...args].map(shellQuote).join(" ");
  const peer = startPeer(cmd, { lifetimeMs, readyPattern: /netsim tap: ready/, readyTimeoutMs: 15_000 });
  const summary = peer.exited.then((code) => {
    const line = peer.stdout.split("\n").find((l) => l.startsWith(SUMMARY_PREFIX));
    if (line === undefined) {
      throw new Error(`netsim exited (code ${code}, signal ${peer.proc.signalCode}) without a summary\n--- stdout ---\n${peer.stdout.slice(-3000)}\n--- stderr ---\n${peer.stderr.slice(-3000)}`);
    }
    return JSON.parse(line.slice(SUMMARY_PREFIX.length)) as TapSummary;
  });
  summary.catch(() => undefined);
  await peer.ready;
  return {
    peer,
    summary,
    stop: async () => {
      await peer.stop(5_000);
      return summary;
    },
    exitCode: () => peer.exited,
    release: () => { peer.proc.kill("SIGUSR2"); },
    tasksDone: async (timeoutMs: number) => {
      let exited = false;
      void peer.exited.then(() => { exited = true; });
      const limit = Date.now() + timeoutMs;
      while (Date.now() < limit && !exited) {
        if (/netsim tap: tasks done/.test(peer.stdout)) return true;
        await sleep(20);
      }
      return /netsim tap: tasks done/.test(peer.stdout);
    },
  };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** The CLI's own output lines (progress and summary text, not the JSON line), for reports. */
export function netsimLog(n: Netsim, maxChars = 4000): string {
  return n.peer.stdout.split("\n").filter((l) => !l.startsWith(SUMMARY_PREFIX)).join("\n").slice(-maxChars);
}

// ---- capture and judge ---------------------------------------------------------------------------

export interface Capture {
  path: string;
  stop(): Promise<void>;
}

/** `tshark -i tap0 -w PATH` (full frames); resolves once tshark captures. */
export async function startCapture(name: string, dev = DEV, lifetimeMs = 60_000, snaplen = 0): Promise<Capture> {
  const path = workFile(name);
  const peer = startPeer(`tshark -n -i ${dev} -B 32${snaplen > 0 ? ` -s ${snaplen}` : ""} -w ${path}`, { lifetimeMs, readyPattern: /Capturing on/, readyTimeoutMs: 15_000 });
  await peer.ready;
  // "Capturing on" comes a little before dumpcap really reads; the judge also checks every
  // connection's SYN is in the file.
  await sleep(300);
  return {
    path,
    stop: async () => {
      await sleep(200); // the last frames reach dumpcap
      peer.proc.kill("SIGINT");
      const t = setTimeout(() => peer.proc.kill("SIGKILL"), 5_000);
      await peer.exited;
      clearTimeout(t);
    },
  };
}

export type FlagName =
  | "retransmission" | "fast_retransmission" | "spurious_retransmission" | "duplicate_ack" | "zero_window"
  | "zero_window_probe" | "lost_segment" | "out_of_order" | "ack_lost_segment" | "window_full" | "keep_alive";
export const FLAGS: FlagName[] = [
  "retransmission", "fast_retransmission", "spurious_retransmission", "duplicate_ack", "zero_window",
  "zero_window_probe", "lost_segment", "out_of_order", "ack_lost_segment", "window_full", "keep_alive",
];

export interface JudgeResult {
  pcap: string;
  frames: number;
  tcpFrames: number;
  /** Per TCP stream: completeness bits (1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST) and ports. */
  streams: { stream: number; completeness: number; ports: string }[];
  /** Streams whose SYN, SYN-ACK and ACK are not all in the file (capture started late). */
  incompleteStarts: number;
  malformed: number;
  /** Frames with a bad IP or TCP checksum: from us; from the kernel (of which with TCP checksum 0xffff, see peers.md §6). */
  badChecksumsOurs: number;
  badChecksumsKernel: number;
  badChecksumsKernelFfff: number;
  /** tcp.analysis flags counted by sender. */
  ours: Record<FlagName, number>;
  kernel: Record<FlagName, number>;
  /** Of ours.duplicate_ack: those answering a kernel retransmission just before (RFC 9293 §3.10.7.4: ACK a duplicate at once). */
  oursDupAckForRetrans: number;
  /** Up to 12 problem frames, "frame src flags / expert messages". */
  examples: string[];
  /** SYN and SYN-ACK options of each stream, as the capture shows them. */
  handshakes: Handshake[];
  /** `tshark -q -z expert` (summary by severity). */
  expert: string;
}

export interface SynOptions { from: string; mss: number; wscale: number; sackPerm: boolean; ts: boolean }
export interface Handshake { stream: number; syn: SynOptions | null; synAck: SynOptions | null }

/** What a SYN-ACK may carry given the SYN: each option only when the SYN offered it (RFC 7323 §1.3, RFC 2018). */
export function negotiated(h: Handshake): { wscale: boolean; sack: boolean; ts: boolean } {
  const a = h.syn, b = h.synAck;
  return {
    wscale: a !== null && b !== null && a.wscale >= 0 && b.wscale >= 0,
    sack: a !== null && b !== null && a.sackPerm && b.sackPerm,
    ts: a !== null && b !== null && a.ts && b.ts,
  };
}

function zeroFlags(): Record<FlagName, number> {
  return Object.fromEntries(FLAGS.map((f) => [f, 0])) as Record<FlagName, number>;
}

/** tshark reads the capture: malformed packets, checksums, TCP analysis flags by side. */
export function judge(pcap: string, ourIp = OUR_IP, ourMac = OUR_MAC): JudgeResult {
  const fields = ["frame.number", "ip.src", "tcp.stream", "tcp.completeness", "ip.checksum.status", "tcp.checksum.status",
    "tcp.checksum", "tcp.srcport", "tcp.dstport", "_ws.malformed", ...FLAGS.map((f) => `tcp.analysis.${f}`), "_ws.expert.message", "tcp.len", "eth.src"];
  const outFile = `${pcap}.fields.txt`;
  sh(`tshark -n -r ${pcap} -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -o tcp.analyze_sequence_numbers:TRUE ` +
    `-T fields -E separator=/t -E occurrence=f ${fields.map((f) => `-e ${f}`).join(" ")} > ${outFile} 2>/dev/null`, 120_000);
  const out = readFileSync(outFile, "utf8");
  rmSync(outFile, { force: true });
  const r: JudgeResult = {
    pcap, frames: 0, tcpFrames: 0, streams: [], incompleteStarts: 0, malformed: 0,
    badChecksumsOurs: 0, badChecksumsKernel: 0, badChecksumsKernelFfff: 0,
    ours: zeroFlags(), kernel: zeroFlags(), oursDupAckForRetrans: 0, examples: [], handshakes: [], expert: "",
  };
  const streams = new Map<number, { completeness: number; ports: string }>();
  /** Per stream: kernel retransmissions not yet matched with a duplicate ACK of ours. */
  const retransCredits = new Map<number, number>();
  for (const line of out.split("\n")) {
    if (line === "") continue;
    const c = line.split("\t");
    r.frames++;
    const src = c[1] ?? "";
    // By IP or MAC: one flipped bit (the corrupt fault) never changes both.
    const ours = src === ourIp || (c[12 + FLAGS.length] ?? "") === ourMac;
    const stream = c[2] === "" || c[2] === undefined ? -1 : Number(c[2]);
    let problem = "";
    if (stream >= 0) {
      r.tcpFrames++;
      const s = streams.get(stream) ?? { completeness: 0, ports: `${c[7]}-${c[8]}` };
      s.completeness = Math.max(s.completeness, Number(c[3] || 0));
      streams.set(stream, s);
    }
    if (c[4] === "0" || c[5] === "0") {
      if (ours) r.badChecksumsOurs++;
      else if (c[6] === "0xffff") r.badChecksumsKernelFfff++;
      else r.badChecksumsKernel++;
      problem += " bad-checksum";
    }
    if (c[9] !== "" && c[9] !== undefined) { r.malformed++; problem += " malformed"; }
    const has = (f: FlagName): boolean => { const v = c[10 + FLAGS.indexOf(f)]; return v !== "" && v !== undefined; };
    FLAGS.forEach((f) => {
      if (has(f)) {
        (ours ? r.ours : r.kernel)[f]++;
        if (f !== "window_full" && f !== "keep_alive") problem += ` ${f}`;
      }
    });
    if (stream >= 0) {
      // A duplicate segment is ACKed at once (RFC 9293 §3.10.7.4): each kernel retransmission earns
      // one duplicate ACK from us, whenever our (possibly lagging) input gets to it.
      if (!ours && (has("retransmission") || has("spurious_retransmission"))) retransCredits.set(stream, (retransCredits.get(stream) ?? 0) + 1);
      if (ours && has("duplicate_ack") && (retransCredits.get(stream) ?? 0) > 0) {
        retransCredits.set(stream, retransCredits.get(stream)! - 1);
        r.oursDupAckForRetrans++;
        problem += " (answers a kernel retransmission)";
      }
    }
    if (problem !== "" && r.examples.length < 16) r.examples.push(`#${c[0]} ${src}${problem}: ${c[10 + FLAGS.length] ?? ""}`);
  }
  for (const [stream, s] of streams) {
    r.streams.push({ stream, ...s });
    if ((s.completeness & 7) !== 7) r.incompleteStarts++;
  }
  const syns = sh(`tshark -n -r ${pcap} -Y 'tcp.flags.syn == 1' -T fields -E separator=/t -E occurrence=f -e tcp.stream -e ip.src ` +
    `-e tcp.flags.ack -e tcp.options.mss_val -e tcp.options.wscale.shift -e tcp.options.sack_perm -e tcp.options.timestamp.tsval 2>/dev/null`, 60_000);
  const hs = new Map<number, Handshake>();
  for (const line of syns.split("\n")) {
    if (line === "") continue;
    const c = line.split("\t");
    const stream = Number(c[0]);
    const h = hs.get(stream) ?? { stream, syn: null, synAck: null };
    const o: SynOptions = { from: c[1] ?? "", mss: Number(c[3] || 0), wscale: c[4] === "" || c[4] === undefined ? -1 : Number(c[4]), sackPerm: (c[5] ?? "") !== "", ts: (c[6] ?? "") !== "" };
    if (c[2] === "1" || c[2] === "True") h.synAck ??= o;
    else h.syn ??= o;
    hs.set(stream, h);
  }
  r.handshakes = [...hs.values()];
  r.expert = sh(`tshark -n -r ${pcap} -q -z expert 2>/dev/null`, 120_000).trim();
  return r;
}

// ---- ss -tin as a second oracle -------------------------------------------------------------------

export interface SsSample {
  state: string;
  local: string;
  peer: string;
  info: string;
  wscale: string | null;
  ts: boolean;
  sack: boolean;
  mss: number;
  retrans: number;
  totalRetrans: number;
  bytesRetrans: number;
  lost: number;
  dsackDups: number;
  rtt: string | null;
  cwnd: number;
  bytesAcked: number;
  bytesReceived: number;
}

export function parseSs(out: string): SsSample[] {
  const lines = out.split("\n");
  const r: SsSample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!;
    if (head.trim() === "" || /^\s/.test(head)) continue;
    const h = head.trim().split(/\s+/);
    const info = (lines[i + 1] ?? "").trim();
    const tok = (name: string): string | null => {
      const m = new RegExp(`(?:^|\\s)${name}:(\\S+)`).exec(info);
      return m ? m[1]! : null;
    };
    const num = (name: string): number => Number(tok(name) ?? 0);
    const retrans = tok("retrans");
    r.push({
      state: h[0] ?? "", local: h[3] ?? "", peer: h[4] ?? "", info,
      wscale: tok("wscale"), ts: /(^|\s)ts(\s|$)/.test(info), sack: /(^|\s)sack(\s|$)/.test(info),
      mss: num("mss"), retrans: retrans ? Number(retrans.split("/")[0]) : 0, totalRetrans: retrans ? Number(retrans.split("/")[1]) : 0,
      bytesRetrans: num("bytes_retrans"), lost: num("lost"), dsackDups: num("dsack_dups"), rtt: tok("rtt"),
      cwnd: num("cwnd"), bytesAcked: num("bytes_acked"), bytesReceived: num("bytes_received"),
    });
    i++;
  }
  return r;
}

export interface SsSampler {
  /** The last sample of each kernel socket talking to us (key: local peer). */
  last(): SsSample[];
  /** Samples taken. */
  count(): number;
  stop(): Promise<void>;
}

/** Runs `ss -tinH dst 192.0.2.2` every intervalMs (without blocking the loop) until stop(). */
export function ssSampler(intervalMs = 100, maxSamples = 600): SsSampler {
  const last = new Map<string, SsSample>();
  let n = 0;
  let running = true;
  const loop = (async () => {
    while (running && n < maxSamples) {
      const r = await shAsync(`ss -tinH dst ${OUR_IP}`, 3_000);
      n++;
      for (const s of parseSs(r.stdout)) {
        if (s.state === "LISTEN" || s.state.startsWith("SYN")) continue; // options are known once synchronized
        const key = `${s.local} ${s.peer}`;
        const prev = last.get(key);
        // Keep the richest view: the latest sample, but never forget a retransmission seen earlier.
        if (prev && prev.totalRetrans > s.totalRetrans) s.totalRetrans = prev.totalRetrans;
        last.set(key, s);
      }
      await sleep(intervalMs);
    }
  })();
  return {
    last: () => [...last.values()],
    count: () => n,
    stop: async () => { running = false; await loop; },
  };
}

// ---- data files ----------------------------------------------------------------------------------

/** Writes `bytes` pattern bytes (the apps' stream) to a file; returns its SHA-256. */
export function writePatternFile(path: string, bytes: number): string {
  const fd = openSync(path, "w");
  const h = createHash("sha256");
  try {
    for (let off = 0; off < bytes; off += 65536) {
      const v = patternView(off, Math.min(65536, bytes - off));
      h.update(v);
      writeSync(fd, v);
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** Writes `bytes` pseudo-random bytes (seeded xorshift; not the pattern) and returns the SHA-256. */
export function writeRandomFile(path: string, bytes: number, seed = 1): string {
  const b = new Uint8Array(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  const fd = openSync(path, "w");
  try { writeSync(fd, b); } finally { closeSync(fd); }
  return createHash("sha256").update(b).digest("hex");
}

export function sha256File(path: string): { bytes: number; sha256: string } {
  if (!existsSync(path)) return { bytes: -1, sha256: "" };
  const b = readFileSync(path);
  return { bytes: statSync(path).size, sha256: createHash("sha256").update(b).digest("hex") };
}

// ---- kernel-side facts -----------------------------------------------------------------------------

export interface KernelFacts {
  link: LinkStats | null;
  snmp: Record<string, number>;
}

/** Link counters of tap0 (while it exists) and the kernel's checksum / retransmission counters. */
export function kernelFacts(): KernelFacts {
  let link: LinkStats | null = null;
  try { link = linkStats(DEV); } catch { link = null; }
  return {
    link,
    snmp: nstat("IpInHdrErrors", "IpInReceives", "TcpInCsumErrors", "TcpInErrs", "TcpRetransSegs", "TcpOutRsts",
      "TcpExtTCPLostRetransmit", "TcpExtTCPSackRecovery", "TcpExtTCPLossProbes", "TcpExtTCPSpuriousRTOs",
      "TcpExtTCPTimeouts", "TcpExtTCPDSACKRecv", "TcpExtTCPOFOQueue", "TcpExtTCPRcvQDrop", "TcpExtTCPZeroWindowDrop",
      "TcpExtTCPSpuriousRtxHostQueues", "TcpExtTCPAbortOnData", "TcpExtTCPDSACKOldSent", "TcpExtTCPRenoRecovery",
      "TcpExtTCPSACKReorder", "TcpExtTCPFastRetrans", "TcpExtTCPSlowStartRetrans"),
  };
}

// ---- one session: netsim + capture + ss, then the facts -----------------------------------------

export interface Session {
  name: string;
  netsim: Netsim;
  cap: Capture | null;
  ss: SsSampler | null;
  isolation: Isolation;
}

export interface SessionFacts {
  isolation: Isolation;
  kernel: KernelFacts;
  summary: TapSummary;
  judge: JudgeResult | null;
  ss: SsSample[];
  ssSamples: number;
  netsimExit: number | null;
  /** tap0 is gone once netsim exited (the device is closed on exit). */
  tapGoneAfterExit: boolean;
  log: string;
}

/** netsim on tap0 (servers up, tasks held), then a capture and the ss sampler. */
export async function openSession(name: string, netsimArgs: string[], opts: { capture?: boolean; ss?: boolean; snaplen?: number } = {}): Promise<Session> {
  phase(`netsim ${netsimArgs.join(" ")}`);
  const netsim = await startNetsim(netsimArgs);
  const isolation = checkIsolation();
  phase("capture");
  const cap = opts.capture === false ? null : await startCapture(`${name}.pcap`, DEV, 60_000, opts.snaplen ?? 0);
  const ss = opts.ss === false ? null : ssSampler();
  phase("session open");
  return { name, netsim, cap, ss, isolation };
}

/** Stop sampling and capturing, read the kernel's counters (tap0 still there), stop netsim, judge the pcap. */
export async function closeSession(s: Session): Promise<SessionFacts> {
  phase("closing: ss, capture");
  await s.ss?.stop();
  await s.cap?.stop();
  const kernel = kernelFacts();
  phase("closing: netsim");
  const summary = await s.netsim.stop();
  const netsimExit = await s.netsim.exitCode();
  const tapGoneAfterExit = (await shAsync(`ip link show dev ${DEV}`, 3_000)).code !== 0;
  phase("judging the pcap");
  const judged = s.cap ? judge(s.cap.path) : null;
  phase("judged");
  return {
    isolation: s.isolation, kernel, summary, netsimExit, tapGoneAfterExit,
    judge: judged,
    ss: s.ss?.last() ?? [], ssSamples: s.ss?.count() ?? 0,
    log: netsimLog(s.netsim),
  };
}

/** Waits until something listens on TCP `port` in this namespace (bounded). */
export async function waitListening(port: number, timeoutMs = 5_000): Promise<boolean> {
  const limit = Date.now() + timeoutMs;
  while (Date.now() < limit) {
    const r = await shAsync(`ss -ltnH 'sport = :${port}'`, 2_000);
    if (r.stdout.trim() !== "") return true;
    await sleep(20);
  }
  return false;
}
