/**
 * iperf3 against our iperf3-compatible endpoint (host-sim/iperf3.ts), inside a fresh namespace.
 *   server         — kernel `iperf3 -c us -t T -J` to our server (netsim --serve iperf3:5201): kernel sends
 *   server-reverse — the same with -R: we send
 *   client         — our client (netsim --iperf3) to kernel `iperf3 -s -1 -J`: we send
 *   client-reverse — our client with --iperf3-reverse: the kernel sends
 * argv: CASE [SECONDS]
 */
import { netnsMain, report, setupNamespace, shAsync, startPeer } from "../../../host-sim/netns.js";
import { closeSession, KERNEL_IP, openSession, OUR_IP, waitListening } from "./lib.js";

interface IperfJson {
  error?: string;
  end?: { sum_sent?: { bytes: number; seconds: number; bits_per_second: number; retransmits?: number }; sum_received?: { bytes: number; seconds: number; bits_per_second: number } };
}

/** iperf3 moves ~100 MB in 2 s: capture headers only (checksums of truncated frames stay unverified). */
const SNAPLEN = 128;

function parseIperf(out: string): IperfJson | null {
  try { return JSON.parse(out) as IperfJson; } catch { return null; }
}

function brief(j: IperfJson | null): unknown {
  if (j === null) return null;
  return { error: j.error ?? null, sent: j.end?.sum_sent ?? null, received: j.end?.sum_received ?? null };
}

netnsMain(async () => {
  const kase = process.argv[2] ?? "server";
  const seconds = Number(process.argv[3] ?? 2);
  setupNamespace();
  if (kase === "server" || kase === "server-reverse") {
    const s = await openSession(`iperf3-${kase}`, ["--preset", "throughput", "--serve", "iperf3:5201"], { snaplen: SNAPLEN });
    const r = await shAsync(`iperf3 -c ${OUR_IP} -p 5201 -t ${seconds} -J --connect-timeout 5000${kase === "server-reverse" ? " -R" : ""}`, (seconds + 20) * 1000);
    const facts = await closeSession(s);
    report({ case: kase, seconds, iperf3: { exit: r.code, result: brief(parseIperf(r.stdout)), stderr: r.stderr.trim(), raw: r.stdout.length > 0 ? "" : r.stdout }, ...facts });
  } else if (kase === "client" || kase === "client-reverse") {
    const args = ["--preset", "throughput", "--iperf3", `${KERNEL_IP}:5201`, "--iperf3-time", String(seconds)];
    if (kase === "client-reverse") args.push("--iperf3-reverse");
    const s = await openSession(`iperf3-${kase}`, args, { snaplen: SNAPLEN });
    const srv = startPeer(`iperf3 -s -1 -J -B ${KERNEL_IP} -p 5201`, { lifetimeMs: (seconds + 30) * 1000 });
    const listening = await waitListening(5201);
    s.netsim.release();
    const done = await s.netsim.tasksDone((seconds + 20) * 1000);
    const srvExit = await Promise.race([srv.exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 10_000))]);
    const facts = await closeSession(s);
    await srv.stop();
    report({ case: kase, seconds, listening, done, iperf3: { exit: srvExit, result: brief(parseIperf(srv.stdout)), stderr: srv.stderr.trim() }, ...facts });
  } else throw new Error(`unknown case ${kase}`);
}, 80_000);
