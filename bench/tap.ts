/**
 * TAP throughput for `npm run bench` (the lead's runner calls `benchTap()`): bulk throughput of our
 * stack -> the kernel and the kernel -> our stack over a TAP, next to kernel <-> kernel throughput
 * over a veth pair measured in the same run, and the ratios.
 *
 * Everything runs in a fresh network namespace (host-sim/netns.ts runInNetns; root only): this file
 * re-runs itself inside it (BENCH_TAP_INSIDE=1).
 * - TAP: `netsim tap --preset throughput` (no capture, no faults), `--send` to a socat sink and a
 *   socat source to `--recv`, BYTES each, RUNS times; the median Mbit/s as netsim measures it (send:
 *   from the SYN to the ACK of the last byte; recv: from the accept to the peer's FIN), byte counts and
 *   SHA-256 checked.
 * - veth: a second namespace (an `unshare --net sleep` child of ours), veth0 192.0.2.1 <-> veth1
 *   192.0.2.2, `iperf3 -c -t 2 -J` both directions (sum_received).
 */
import { spawn } from "node:child_process";
import { mkdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { currentNetns, netnsAvailable, netnsMain, parseReport, report, runInNetns, setupNamespace, sh, shAsync, startPeer } from "../host-sim/netns.js";

export interface BenchRow { name: string; value: number; unit: string }

export interface TapBenchOptions {
  /** Bytes per TAP transfer (default 32 MiB). */
  bytes?: number;
  /** TAP runs per direction; the median is reported (default 3). */
  runs?: number;
  /** iperf3 seconds per veth direction (default 2). */
  vethSeconds?: number;
  /** Whole-run limit, ms (default 240 s). */
  timeoutMs?: number;
}

interface InsideReport {
  ourToKernel: number[];
  kernelToOur: number[];
  vethForward: number;
  vethReverse: number;
  eventLoopMaxMs: number[];
  notes: string[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor((s.length - 1) / 2)]!;
}

/** Runs the TAP and veth measurements in a fresh namespace; returns the bench rows. Throws if it cannot run. */
export async function benchTap(options: TapBenchOptions = {}): Promise<BenchRow[]> {
  const a = netnsAvailable();
  if (!a.ok) throw new Error(`bench/tap: cannot run: ${a.reason}`);
  const bytes = options.bytes ?? 32 << 20;
  const runs = options.runs ?? 3;
  const vethSeconds = options.vethSeconds ?? 2;
  const dir = join(tmpdir(), `xs-tcpip-bench-tap-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const r = await runInNetns(fileURLToPath(import.meta.url), [String(bytes), String(runs), String(vethSeconds)], {
      timeoutMs: options.timeoutMs ?? 240_000,
      env: { BENCH_TAP_INSIDE: "1", INTEROP_DIR: dir },
    });
    const rep = parseReport<InsideReport>(r.stdout);
    if (r.code !== 0 || rep === undefined) {
      throw new Error(`bench/tap failed: code ${r.code}${r.timedOut ? " (timed out)" : ""}\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
    }
    const out = median(rep.ourToKernel), inn = median(rep.kernelToOur);
    const veth = (rep.vethForward + rep.vethReverse) / 2;
    const mib = Math.round(bytes / (1 << 20));
    return [
      { name: `tap: our stack -> kernel, ${mib} MiB bulk (median of ${runs})`, value: out, unit: "Mbit/s" },
      { name: `tap: kernel -> our stack, ${mib} MiB bulk (median of ${runs})`, value: inn, unit: "Mbit/s" },
      { name: `veth: kernel -> kernel, iperf3 -t ${vethSeconds} (mean of both directions)`, value: round(veth), unit: "Mbit/s" },
      { name: "ratio: tap our stack -> kernel / veth kernel -> kernel", value: round((out / veth) * 100, 2), unit: "%" },
      { name: "ratio: tap kernel -> our stack / veth kernel -> kernel", value: round((inn / veth) * 100, 2), unit: "%" },
      { name: "tap: event-loop delay, worst run", value: Math.max(0, ...rep.eventLoopMaxMs), unit: "ms" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number, digits = 1): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

// ------------------------------------------------------------------------------------------------
// Inside the namespace

async function tapRuns(bytes: number, runs: number, rep: InsideReport): Promise<void> {
  const lib = await import("../test/interop/scripts/lib.js");
  const input = lib.workFile("bench-in.bin");
  const inSha = lib.writeRandomFile(input, bytes, 5);
  const expectOut = (await import("../host-sim/tap-cli.js")).patternSha(bytes);
  for (let i = 0; i < runs; i++) {
    for (const dir of ["send", "recv"] as const) {
      const args = ["--preset", "throughput", "--quiet", dir === "send" ? "--send" : "--recv", dir === "send" ? `192.0.2.1:9000:${bytes}` : "5001"];
      lib.phase(`tap ${dir} run ${i + 1}`);
      const n = await lib.startNetsim(args);
      const output = lib.workFile("bench-out.bin");
      const sink = dir === "send" ? startPeer(`socat -u -b 131072 TCP-LISTEN:9000,bind=192.0.2.1,reuseaddr OPEN:${output},creat,trunc`, { lifetimeMs: 60_000 }) : null;
      if (sink) await lib.waitListening(9000);
      n.release();
      const src = dir === "recv" ? shAsync(`socat -u -b 131072 OPEN:${input} TCP:192.0.2.2:5001`, 60_000) : null;
      const done = await n.tasksDone(60_000);
      if (sink) await Promise.race([sink.exited, sleep(10_000)]);
      await src;
      const s = await n.stop();
      await sink?.stop();
      const t = s.tasks[0];
      if (!done || t === undefined || !t.ok) throw new Error(`tap ${dir} run ${i + 1} failed: ${JSON.stringify(t)}\n${lib.netsimLog(n)}`);
      if (dir === "send") {
        const got = lib.sha256File(output);
        if (got.bytes !== bytes || got.sha256 !== expectOut) throw new Error(`tap send run ${i + 1}: sink got ${got.bytes} bytes, SHA-256 ${got.sha256 === expectOut ? "ok" : "differs"}`);
        rep.ourToKernel.push(t.mbps);
      } else {
        const c = t.connections?.[0];
        if (c === undefined || c.bytes !== bytes || c.sha256 !== inSha) throw new Error(`tap recv run ${i + 1}: ${JSON.stringify(c)}`);
        rep.kernelToOur.push(c.mbps);
      }
      rep.eventLoopMaxMs.push(s.eventLoop.maxMs);
      rmSync(output, { force: true });
    }
  }
}

async function vethRuns(seconds: number, rep: InsideReport): Promise<void> {
  // A second namespace: a child of ours (dies with our PID namespace), holding its own network namespace.
  const child = spawn("unshare", ["--net", "sleep", "300"], { stdio: "ignore" });
  const pid = child.pid!;
  const ns = `/proc/${pid}/ns/net`;
  const me = currentNetns();
  for (let i = 0; i < 200; i++) {
    try { if (readlinkSync(ns) !== me) break; } catch { /* not there yet */ }
    await sleep(10);
  }
  if (readlinkSync(ns) === me) throw new Error("veth: the child namespace did not appear");
  const inChild = (cmd: string): string => sh(`nsenter --net=${ns} sh -c '${cmd}'`);
  try {
    sh("ip link add veth0 type veth peer name veth1");
    sh(`ip link set veth1 netns ${pid}`);
    sh("ip addr add 192.0.2.1/24 dev veth0 && ip link set veth0 up");
    inChild("ip link set lo up; sysctl -qw net.ipv6.conf.all.disable_ipv6=1; ip addr add 192.0.2.2/24 dev veth1; ip link set veth1 up");
    for (const reverse of [false, true]) {
      const srv = startPeer(`nsenter --net=${ns} iperf3 -s -1 -B 192.0.2.2 -p 5201`, { lifetimeMs: (seconds + 20) * 1000 });
      for (let i = 0; i < 100 && inChild("ss -ltnH sport = :5201").trim() === ""; i++) await sleep(20);
      const r = await shAsync(`iperf3 -c 192.0.2.2 -p 5201 -t ${seconds} -J${reverse ? " -R" : ""}`, (seconds + 20) * 1000);
      await Promise.race([srv.exited, sleep(5_000)]);
      await srv.stop();
      let bps = 0;
      try { bps = (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second; } catch { /* below */ }
      if (!(bps > 0)) throw new Error(`veth iperf3${reverse ? " -R" : ""} failed: ${r.stderr} ${r.stdout.slice(0, 500)}`);
      if (reverse) rep.vethReverse = round(bps / 1e6); else rep.vethForward = round(bps / 1e6);
    }
  } finally {
    child.kill("SIGKILL");
  }
}

if (process.env.BENCH_TAP_INSIDE === "1") {
  netnsMain(async () => {
    const bytes = Number(process.argv[2] ?? 32 << 20);
    const runs = Number(process.argv[3] ?? 3);
    const vethSeconds = Number(process.argv[4] ?? 2);
    setupNamespace();
    const rep: InsideReport = { ourToKernel: [], kernelToOur: [], vethForward: 0, vethReverse: 0, eventLoopMaxMs: [], notes: [] };
    await tapRuns(bytes, runs, rep);
    await vethRuns(vethSeconds, rep);
    report(rep);
  }, 230_000);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `node dist/bench/tap.js`: run it and print the rows.
  benchTap().then((rows) => {
    for (const r of rows) console.log(`${r.name.padEnd(70)} ${String(r.value).padStart(10)} ${r.unit}`);
  }, (e: unknown) => {
    console.error(String(e));
    process.exitCode = 1;
  });
}
