/**
 * Bulk transfers with end-of-file in each direction, on a clean link or with faults (inside a fresh
 * namespace; see test/interop/bulk.test.ts and faults.test.ts).
 *   send — our bulk sender (netsim --send) to `socat -u TCP-LISTEN OPEN:file`: we close after the last
 *          ACK (EOF us -> kernel); socat exits 0 on our FIN; the file must be the pattern, byte-exact
 *   recv — `socat -u OPEN:file TCP:us:5001` to our bulk receiver (netsim --recv): EOF kernel -> us
 *   both — both at once on one stack (full-duplex load on the TAP)
 * FAULT (this kernel has no netem):
 *   none
 *   nft      — kernel side, our frames into the kernel: nftables `iifname tap0 numgen random mod 100 < 3 drop`
 *   iptables — kernel side: iptables statistic random 3 % DROP on INPUT -i tap0 (our frames) and on
 *              OUTPUT -o tap0 (a local drop: the kernel's TCP sees it and sends again, no wire loss)
 *   tbf      — kernel side: tc tbf 20 Mbit/s on tap0 (kernel -> us)
 *   node     — Node side (FaultLink): 1 % loss, 2 % duplication, 2 % reordering, 2 ms delay + 1 ms jitter, both ways
 *   corrupt  — Node side (FaultLink): 1 % of frames get one bit flipped, both ways
 *   rxloss   — Node side (FaultLink): 3 % of the kernel's frames lost on the way to us (wire loss the
 *              kernel must repair, from our SACK blocks)
 * argv: CASE [BYTES] [PRESET] [FAULT]
 */
import { netnsMain, report, setupNamespace, sh, shAsync, startPeer } from "../../../host-sim/netns.js";
import { patternSha } from "../../../host-sim/tap-cli.js";
import { closeSession, DEV, KERNEL_IP, openSession, OUR_IP, sha256File, waitListening, workFile, writeRandomFile } from "./lib.js";

const NODE_FAULTS: Record<string, string[]> = {
  node: ["--loss", "0.01", "--dup", "0.02", "--reorder", "0.02", "--delay", "2", "--jitter", "1", "--seed", "7"],
  corrupt: ["--corrupt", "0.01", "--seed", "3"],
  rxloss: ["--loss", "0.03", "--faults-dir", "rx", "--seed", "9"],
};

/** Kernel-side fault rules (after tap0 exists, before traffic); returns a reader of their counters. */
function kernelFault(fault: string): () => Record<string, unknown> {
  if (fault === "nft") {
    sh("nft add table inet interop");
    sh(`nft add chain inet interop in '{ type filter hook input priority 0; policy accept; }'`);
    sh(`nft add rule inet interop in iifname "${DEV}" numgen random mod 100 '<' 3 counter drop`);
    return () => {
      const m = /counter packets (\d+) bytes (\d+) drop/.exec(sh("nft list ruleset"));
      return { rule: "nft input iifname tap0 numgen random mod 100 < 3 drop", droppedPackets: m ? Number(m[1]) : -1 };
    };
  }
  if (fault === "iptables") {
    // INPUT: our frames lost before the kernel's TCP (wire loss). OUTPUT: the kernel's own packets,
    // but TCP sees that drop locally (EPERM) and sends the data again as new: no wire loss, no retransmission.
    sh(`iptables -A INPUT -i ${DEV} -m statistic --mode random --probability 0.03 -j DROP`);
    sh(`iptables -A OUTPUT -o ${DEV} -m statistic --mode random --probability 0.03 -j DROP`);
    return () => {
      const count = (chain: string): number => {
        const line = sh(`iptables -L ${chain} -v -n -x`).split("\n").find((l) => /statistic/.test(l)) ?? "";
        return Number(line.trim().split(/\s+/)[0] ?? -1);
      };
      return { rule: "iptables INPUT -i tap0 / OUTPUT -o tap0 statistic random 0.03 DROP", droppedPackets: count("INPUT"), droppedOutput: count("OUTPUT") };
    };
  }
  if (fault === "tbf") {
    sh(`tc qdisc add dev ${DEV} root tbf rate 20mbit burst 32kbit latency 100ms`);
    return () => {
      const out = sh(`tc -s qdisc show dev ${DEV}`);
      const m = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(out);
      return { rule: "tbf rate 20mbit burst 32kbit latency 100ms", rateBitsPerSecond: 20e6, sentPackets: m ? Number(m[2]) : -1, droppedPackets: m ? Number(m[3]) : -1, overlimits: m ? Number(m[4]) : -1 };
    };
  }
  return () => ({});
}

netnsMain(async () => {
  const kase = process.argv[2] ?? "send";
  const bytes = Number(process.argv[3] ?? 4 << 20);
  const preset = process.argv[4] ?? "throughput";
  const fault = process.argv[5] ?? "none";
  setupNamespace();
  const send = kase === "send" || kase === "both";
  const recv = kase === "recv" || kase === "both";
  const args = ["--preset", preset, ...(NODE_FAULTS[fault] ?? [])];
  if (send) args.push("--send", `${KERNEL_IP}:9000:${bytes}`);
  if (recv) args.push("--recv", "5001");
  const input = workFile("in.bin"), output = workFile("out.bin");
  const inSha = recv ? writeRandomFile(input, bytes, 11) : "";
  const s = await openSession(`bulk-${kase}-${fault}`, args);
  const faultCounters = kernelFault(fault);
  const sink = send ? startPeer(`socat -u -b 131072 TCP-LISTEN:9000,bind=${KERNEL_IP},reuseaddr OPEN:${output},creat,trunc`, { lifetimeMs: 60_000 }) : null;
  const listening = send ? await waitListening(9000) : true;
  s.netsim.release();
  const t0 = Date.now();
  const source = recv ? shAsync(`socat -u -b 131072 OPEN:${input} TCP:${OUR_IP}:5001`, 45_000).then((r) => ({ ...r, seconds: (Date.now() - t0) / 1000 })) : null;
  const done = await s.netsim.tasksDone(45_000);
  const sinkExit = sink ? await Promise.race([sink.exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 10_000))]) : null;
  const src = source ? await source : null;
  const faults = faultCounters();
  const facts = await closeSession(s);
  await sink?.stop();
  report({
    case: kase, bytes, preset, fault, faults, listening, done,
    send: send ? { expectedSha256: patternSha(bytes), got: sha256File(output), sinkExit, sinkStderr: sink?.stderr.trim() ?? "" } : null,
    recv: recv ? { expectedSha256: inSha, sourceExit: src?.code ?? null, sourceSeconds: src?.seconds ?? 0, sourceStderr: src?.stderr.trim() ?? "" } : null,
    ...facts,
  });
}, 80_000);
