/**
 * Inside a fresh namespace: write N small UDP frames toward the kernel (to a socat discard peer),
 * compare the kernel's rx_packets on tap0 with what the driver counted. argv: [frames=100000]
 */
import { performance } from "node:perf_hooks";
import { TapDriver } from "../../../host-sim/tap.js";
import {
  linkStats,
  neighPermanent,
  netnsMain,
  nstat,
  report,
  setupNamespace,
  sh,
  startPeer,
  tapUp,
  waitFor,
} from "../../../host-sim/netns.js";
import { macOf, udpFrame } from "./frames.js";

const SNMP = [
  "IpInReceives", "IpInDelivers", "IpInDiscards", "IpInHdrErrors", "IpInAddrErrors",
  "UdpInDatagrams", "UdpRcvbufErrors", "UdpInErrors", "UdpNoPorts", "UdpInCsumErrors", "UdpMemErrors",
];

netnsMain(async () => {
  const total = Number(process.argv[2] ?? 100_000);
  setupNamespace();
  const tap = new TapDriver({ name: "tap0" });
  let fromKernel = 0;
  tap.attach({ input: () => void fromKernel++, poll: () => Infinity });
  tapUp("tap0", "192.0.2.1/24");
  neighPermanent("192.0.2.2", "02:00:00:00:00:02");
  const tapMac = macOf(JSON.parse(sh("ip -j link show dev tap0"))[0].address);
  const peer = startPeer("socat -u UDP-RECV:9,bind=192.0.2.1,rcvbuf=8388608 /dev/null", { lifetimeMs: 30_000 });
  if (!(await waitFor(() => /192\.0\.2\.1:9\b/.test(sh("ss -ulnH")), 3_000, 20))) {
    throw new Error(`socat discard peer not listening: ${peer.stderr}`);
  }

  const frame = udpFrame(tapMac, tap.mac, "192.0.2.2", "192.0.2.1", 40000, 9, 18); // 60-byte frame
  const before = linkStats("tap0");
  const udpBefore = nstat(...SNMP);
  let ok = 0;
  let refused = 0;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    if (tap.transmit(frame, frame.length)) ok++;
    else refused++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = linkStats("tap0");
  // UDP counts InDatagrams when the application reads (udp_recvmsg): let socat drain its queue.
  let udpAfter = nstat(...SNMP);
  const settled = (): boolean => {
    udpAfter = nstat(...SNMP);
    const d = (k: string): number => (udpAfter[k] ?? 0) - (udpBefore[k] ?? 0);
    return d("UdpInDatagrams") + d("UdpInErrors") + d("UdpNoPorts") >= ok;
  };
  await waitFor(settled, 5_000, 25);
  await peer.stop();
  const counters = tap.counters();
  tap.close();
  const delta = (k: string): number => (udpAfter[k] ?? 0) - (udpBefore[k] ?? 0);
  report({
    total,
    ok,
    refused,
    seconds,
    framesPerSecond: Math.round(total / seconds),
    kernelRxPackets: after.rx_packets - before.rx_packets,
    kernelRxDropped: after.rx_dropped - before.rx_dropped,
    kernelRxErrors: after.rx_errors - before.rx_errors,
    udpInDatagrams: delta("UdpInDatagrams"),
    udpRcvbufErrors: delta("UdpRcvbufErrors"),
    udpInErrors: delta("UdpInErrors"),
    snmp: Object.fromEntries(SNMP.map((k) => [k, delta(k)])),
    udpNoPorts: delta("UdpNoPorts"),
    fromKernel,
    counters,
  });
});

