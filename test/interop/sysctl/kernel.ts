/**
 * Inside a fresh namespace: our stack on tap0 (192.0.2.2) against the Linux kernel (192.0.2.1) with one
 * TCP option switched off by sysctl. argv: SYSCTL(tcp_sack|tcp_timestamps|tcp_window_scaling) BYTES WORKDIR
 *   out: our sender -> socat sink (file), `ss -tin` sampled on the kernel side before our FIN;
 *   in:  kernel socat source -> our discard server; `ss -tin` sampled while it runs (best effort).
 */
import { writeFileSync } from "node:fs";
import { discardServer, fillPattern, patternSha256 } from "../../../host-sim/apps.js";
import { netnsMain, nstat, report, setupNamespace, sh, shAsync, startPeer, tapUp, waitFor } from "../../../host-sim/netns.js";
import { holdingSender, judgePcap, openStack, type TransferResult } from "../lwip/common.js";

netnsMain(async () => {
  const [knob = "", bytesArg = "1048576", dir = "/tmp"] = process.argv.slice(2);
  if (!/^tcp_(sack|timestamps|window_scaling)$/.test(knob)) throw new Error(`bad sysctl ${knob}`);
  const total = Number(bytesArg);
  setupNamespace();
  sh(`sysctl -qw net.ipv4.${knob}=0`);
  const setting = sh(`sysctl -n net.ipv4.${knob}`).trim();
  const expected = patternSha256(total);
  const pcap = `${dir}/tap0-${knob}.pcap`;

  const ours = openStack();
  tapUp("tap0", "192.0.2.1/24");
  const tshark = startPeer(`tshark -n -i tap0 -w ${pcap} -a duration:60`, { lifetimeMs: 70_000, readyPattern: /Capturing on/, readyTimeoutMs: 10_000 });
  await tshark.ready;
  await new Promise((r) => setTimeout(r, 600)); // "Capturing on" comes ~0.4 s before frames are really captured

  // us -> kernel
  const sinkFile = `${dir}/sink-${knob}.bin`;
  const sink = startPeer(`socat -u -b 131072 TCP-LISTEN:9000,bind=192.0.2.1,reuseaddr OPEN:${sinkFile},creat,trunc`, { lifetimeMs: 40_000 });
  if (!(await waitFor(() => /192\.0\.2\.1:9000\b/.test(sh("ss -tlnH")), 3_000, 20))) throw new Error(`socat sink not listening: ${sink.stderr}`);
  let ssOut = "";
  const out: TransferResult = await holdingSender(ours.env, "192.0.2.1", 9000, total, 30_000, async () => {
    ssOut = (await shAsync("ss -tinH state established '( sport = :9000 )'", 3_000)).stdout.trim();
  });
  const sinkCode = await Promise.race([sink.exited, new Promise<number>((r) => setTimeout(() => r(-999), 10_000))]);
  const sinkSha = sh(`sha256sum ${sinkFile}`).split(" ")[0]!;
  const sinkBytes = Number(sh(`stat -c %s ${sinkFile}`).trim());

  // kernel -> us
  const srcFile = `${dir}/src-${knob}.bin`;
  const src = new Uint8Array(total);
  fillPattern(src, 0);
  writeFileSync(srcFile, src);
  let inDone: { bytes: number; sha256: string } | null = null;
  discardServer(ours.env, 9, (bytes, sha256) => { inDone = { bytes, sha256 }; });
  const t0 = performance.now();
  const source = startPeer(`socat -u -b 131072 OPEN:${srcFile} TCP:192.0.2.2:9`, { lifetimeMs: 40_000 });
  const ssIn: string[] = [];
  for (let i = 0; i < 300 && inDone === null; i++) {
    const s = (await shAsync("ss -tinH state established '( dport = :9 )'", 2_000)).stdout.trim();
    if (s && ssIn.length < 3) ssIn.push(s);
    await new Promise((r) => setTimeout(r, 5));
  }
  await waitFor(() => inDone !== null, 30_000, 10);
  const inMs = performance.now() - t0;
  const sourceCode = await Promise.race([source.exited, new Promise<number>((r) => setTimeout(() => r(-999), 5_000))]);
  const d = inDone as { bytes: number; sha256: string } | null;
  await new Promise((r) => setTimeout(r, 300));
  await tshark.stop(3_000);
  const judge = judgePcap(pcap);
  const kernel = nstat("TcpRetransSegs", "TcpInCsumErrors", "TcpExtTCPSackRecovery", "TcpExtTCPSACKReneging", "TcpExtPAWSEstab");
  ours.tap.close();
  report({
    knob, setting, total, expected,
    out: { ...out, sinkCode, sinkSha, sinkBytes, ss: ssOut, mbps: Math.round((total * 8) / (out.ms * 1000)) },
    in: { bytes: d?.bytes ?? 0, sha256: d?.sha256 ?? "", ms: inMs, sourceCode, ss: ssIn, srcStderr: source.stderr.slice(-500), mbps: Math.round((total * 8) / (inMs * 1000)) },
    judge, kernel, pcap, tap: ours.tap.counters(),
  });
});
