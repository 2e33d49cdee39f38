/**
 * `npm start`: two simulated hosts on a lossy link. A client sends a file to a server through the
 * ECMA-419 classes (Listener, TCP), with a live progress line; then the connection table, the
 * counters, and a pcap for Wireshark. Options: --bytes N --loss P --delay MS --seed S --pcap FILE.
 * --console PATH exposes the client's serial console on a pseudo-terminal (for the xstcp tool) and
 * runs the simulation paced to the wall clock; --linger S keeps it up S seconds after the transfer.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bulkSend, discardServer, patternSha256 } from "./apps.js";
import { PcapWriter } from "./pcap.js";
import { counterSummary, connectionTable } from "./report.js";
import { SimNetwork } from "./simnet.js";
import { Stack } from "../src/stack.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new RangeError(`--${name}: not a number`);
  return v;
}
function argStr(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : String(process.argv[i + 1]);
}

export async function runDemo(): Promise<number> {
  const seed = arg("seed", 1);
  const bytes = arg("bytes", 1 << 20);
  const loss = arg("loss", 0.02);
  const delayMs = arg("delay", 20);
  const pcapPath = argStr("pcap", join(tmpdir(), "netsim-demo.pcap"));
  const pcap = new PcapWriter();
  const net = new SimNetwork({ seed, pcap });
  const a = net.addNode("client"), b = net.addNode("server");
  const consolePath = process.argv.includes("--console") ? argStr("console", "") : "";
  const client = new Stack({ address: "192.0.2.1", preset: "default", ...(consolePath !== "" ? { traceFrames: 256, traceSnapBytes: 1514 } : {}) }, a);
  const server = new Stack({ address: "192.0.2.2", preset: "default" }, b);
  a.attach(client); b.attach(server);
  net.setFaults("*", "*", { loss, delayMs, jitterMs: 2, duplicate: 0.005, reorder: 0.005, bandwidth: 1_250_000 });
  const tty = process.stdout.isTTY === true;
  console.log(`netsim demo: 192.0.2.1 -> 192.0.2.2:9, ${bytes} bytes, ${(loss * 100).toFixed(1)}% loss each way, ` +
    `${delayMs} ms delay, 10 Mbit/s, seed ${seed}`);

  const clock = (): number => net.now;
  let received = -1, receivedSha = "";
  const srv = discardServer({ stack: server, clock }, 9, (n, sha) => { received = n; receivedSha = sha; });
  let lastShown = -1, failed = false;
  const show = (sent: number): void => {
    const pct = Math.floor((sent / bytes) * 100);
    if (!tty && pct < lastShown + 10 && sent < bytes) return;
    if (pct === lastShown && sent < bytes) return;
    lastShown = pct;
    const bar = "#".repeat(Math.floor(pct / 4)).padEnd(25, ".");
    const line = `  [${bar}] ${String(pct).padStart(3)}%  ${sent} bytes written  t=${(net.now / 1000).toFixed(2)} s  ` +
      `retransmits ${client.counters.tcpRetransSegs}`;
    if (tty) process.stdout.write(`\r${line}`); else console.log(line);
  };
  let sock: ReturnType<typeof bulkSend> | null = null;
  net.schedule(10, () => {
    sock = bulkSend({ stack: client, clock }, "192.0.2.2", 9, bytes, (p) => {
      show(p.sent);
      // The connection table is most interesting mid-transfer: keep one snapshot at half way.
      if (midTable === "" && p.sent >= bytes / 2) { midTable = connectionTable(client, net.now); lastMid = net.now; }
    }, (err) => { failed = err; });
  });
  let midTable = "", lastMid = 0;
  let r: { reason: string };
  if (consolePath !== "") {
    const { SimConsole, runRealtime } = await import("./console.js");
    const sc = await SimConsole.open(client, { path: consolePath, clock });
    console.log(`console of 192.0.2.1 on ${consolePath} (try: xstcp watch ${consolePath})`);
    await runRealtime(net, { consoles: [sc], until: () => received >= 0 || failed });
    r = { reason: "until" };
    const linger = arg("linger", 30) * 1000;
    const end = net.now + linger;
    if (tty) process.stdout.write("\n");
    console.log(`transfer over; console stays up ${linger / 1000} s`);
    await runRealtime(net, { consoles: [sc], until: () => net.now >= end });
    await sc.close();
  } else {
    r = net.run({ until: () => received >= 0 || failed, maxMs: 3_600_000 });
  }
  if (tty) process.stdout.write("\n");
  void sock;
  const seconds = (net.now - 10) / 1000;
  const ok = received === bytes && receivedSha === patternSha256(bytes);
  console.log(`\n${ok ? "OK" : "FAILED"}: server received ${received} bytes in ${seconds.toFixed(2)} s of virtual time ` +
    `(${((received * 8) / seconds / 1e6).toFixed(2)} Mbit/s), SHA-256 ${ok ? "matches" : "differs"} (${r.reason})`);
  // Let the connection finish closing (TIME-WAIT shows in the table), then report.
  net.runFor(500);
  console.log(`\nClient connection half way through (t=${(lastMid / 1000).toFixed(2)} s):`);
  console.log(midTable);
  console.log("\nConnections after the transfer (client, then server):");
  console.log(connectionTable(client, net.now));
  console.log(connectionTable(server, net.now));
  console.log("\nCounters (client):");
  console.log(counterSummary(client));
  console.log("\nCounters (server):");
  console.log(counterSummary(server));
  const link = net.linkStats();
  console.log(`\nLink: ${link.sent} frames sent, ${link.lost} lost, ${link.duplicated} duplicated, ${link.reordered} reordered`);
  pcap.writeFile(pcapPath);
  console.log(`pcap: ${pcapPath} (${pcap.count} frames; open with wireshark)`);
  void srv;
  return ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDemo().then((code) => { process.exitCode = code; }, (e: unknown) => { console.error(e); process.exitCode = 1; });
}
