/**
 * Inside a fresh namespace: our stack on tap0 (192.0.2.2) and Debian's lwIP (peer binary) on its own
 * tap1 (192.0.2.3), both TAPs enslaved to a Linux bridge br0 (192.0.2.1 for debugging), tshark on br0.
 * argv: MODE(echo|send) BYTES LOSS_PERCENT PEER_BINARY WORKDIR
 *   echo: our client sends BYTES to lwIP's echo server (port 7) and checks what comes back;
 *   send: lwIP's client sends BYTES to our discard server (port 9).
 * LOSS_PERCENT > 0: nftables bridge-family rule drops that share of forwarded TCP frames (both ways).
 */
import { patternSha256, discardServer } from "../../../host-sim/apps.js";
import { linkStats, netnsMain, report, setupNamespace, sh, startPeer, waitFor } from "../../../host-sim/netns.js";
import { echoClient, judgePcap, openStack, type TransferResult } from "./common.js";

netnsMain(async () => {
  const [mode = "echo", bytesArg = "1048576", lossArg = "0", peerBin = "", dir = "/tmp"] = process.argv.slice(2);
  const total = Number(bytesArg);
  const loss = Number(lossArg);
  if (!/^(echo|send)$/.test(mode) || !(total > 0) || !(loss >= 0 && loss < 50) || !peerBin) throw new Error(`bad args ${process.argv.slice(2).join(" ")}`);
  setupNamespace();
  sh("ip link add br0 type bridge && ip link set br0 up && ip addr add 192.0.2.1/24 dev br0");
  sh("sysctl -qw net.ipv6.conf.br0.disable_ipv6=1 || true");
  if (loss > 0) {
    sh("nft add table bridge lossy");
    sh("nft add chain bridge lossy lossfwd '{ type filter hook forward priority 0; policy accept; }'");
    sh(`nft add rule bridge lossy lossfwd ether type ip ip protocol tcp numgen random mod 100 '<' ${loss | 0} counter drop`);
  }
  const pcap = `${dir}/br0-${mode}-${loss}.pcap`;
  const tshark = startPeer(`tshark -n -i br0 -w ${pcap} -a duration:60`, { lifetimeMs: 70_000, readyPattern: /Capturing on/, readyTimeoutMs: 10_000 });
  await tshark.ready;
  await new Promise((r) => setTimeout(r, 600)); // "Capturing on" comes ~0.4 s before frames are really captured

  const ours = openStack();
  sh("ip link set tap0 master br0 && ip link set tap0 up");
  const expected = patternSha256(total);
  let discard: { bytes: number; sha256: string } | null = null;
  if (mode === "send") discardServer(ours.env, 9, (bytes, sha256) => { discard = { bytes, sha256 }; });

  const peer = startPeer(mode === "echo" ? `${peerBin} echo tap1 50` : `${peerBin} send tap1 50 ${total}`,
    { lifetimeMs: 60_000, readyPattern: /READY/, readyTimeoutMs: 5_000 });
  await peer.ready;
  sh("ip link set tap1 master br0 && ip link set tap1 up");
  // Bridge ports go through no STP delay (STP off by default) but wait until both forward.
  await waitFor(() => (sh("bridge link show").match(/state forwarding/g) ?? []).length >= 2, 5_000, 20);

  let result: TransferResult;
  const t0 = performance.now();
  if (mode === "echo") {
    result = await echoClient(ours.env, "192.0.2.3", 7, total, 45_000);
  } else {
    const ok = await waitFor(() => discard !== null, 45_000, 10);
    const d = discard as { bytes: number; sha256: string } | null;
    result = { bytesSent: 0, bytesReceived: d?.bytes ?? 0, sha256: d?.sha256 ?? "", ms: performance.now() - t0, error: ok ? "" : "discard server never saw the end" };
  }
  const peerCode = await Promise.race([peer.exited, new Promise<number>((r) => setTimeout(() => r(-999), 5_000))]);
  const dropped = loss > 0 ? Number(/packets (\d+)/.exec(sh("nft list chain bridge lossy lossfwd"))?.[1] ?? -1) : 0;
  const tap0 = linkStats("tap0");
  await new Promise((r) => setTimeout(r, 300));
  await tshark.stop(3_000);
  const judge = judgePcap(pcap);
  ours.tap.close();
  report({
    mode, total, loss, expected, result, peerCode, peerOut: peer.stdout.trim().split("\n"), peerErr: peer.stderr.slice(-2000),
    dropped, tap0, judge, pcap, tap: ours.tap.counters(), stack: ours.stack.counters,
    mbps: result.ms > 0 ? Math.round((total * 8) / (result.ms * 1000)) : 0,
  });
});
