/**
 * The TAP attachment against the real Linux kernel, each test in a fresh network namespace
 * (host-sim/netns.ts). Root only; REQUIRE_ALL=1 turns "cannot run here" into a failure.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { linkExistsHere, parseReport, processesInNetns, startInNetns } from "../../host-sim/netns.js";
import { requireNetns, runScript, tapScript } from "../helpers/netns.js";

interface PingReport {
  transmitted: number;
  received: number;
  pingOutput: string;
  requests: number;
  counters: Record<string, number>;
}

interface BulkReport {
  total: number;
  ok: number;
  refused: number;
  seconds: number;
  framesPerSecond: number;
  kernelRxPackets: number;
  kernelRxDropped: number;
  udpInDatagrams: number;
  udpRcvbufErrors: number;
  udpInErrors: number;
  udpNoPorts: number;
  snmp: Record<string, number>;
  counters: Record<string, number>;
}

describe("TAP (Linux kernel in a network namespace)", function () {
  this.timeout(60_000);

  before(function () {
    requireNetns(this);
  });

  it("the default namespace has no tap0 before we start", function () {
    assert.equal(linkExistsHere("tap0"), false, "tap0 exists in the default namespace: refusing to guess whose it is");
  });

  it("kernel ping gets 3 replies from a hand-written ICMP responder on the TAP", async function () {
    const { report } = await runScript<PingReport>("ping-responder", ["3"]);
    assert.equal(report.transmitted, 3, report.pingOutput);
    assert.equal(report.received, 3, report.pingOutput);
    assert.equal(report.requests, 3);
    assert.equal(report.counters.txFrames, 3);
    assert.equal(report.counters.txRefused, 0);
    assert.equal(report.counters.rxInputErrors, 0);
    assert.equal(report.counters.rxFrames, report.counters.rxDelivered);
  });

  it("100,000 frames toward the kernel: each one accepted or counted as refused, kernel agrees", async function () {
    const { report } = await runScript<BulkReport>("bulk", ["100000"]);
    console.log(
      `      bulk: ${report.framesPerSecond} frames/s (${report.ok} ok, ${report.refused} refused, ` +
        `kernel rx ${report.kernelRxPackets}, rx_dropped ${report.kernelRxDropped}, ` +
        `udp in ${report.udpInDatagrams}, rcvbuf errors ${report.udpRcvbufErrors})`,
    );
    assert.equal(report.ok + report.refused, report.total);
    assert.equal(report.counters.txFrames, report.ok);
    assert.equal(report.counters.txRefused, report.refused);
    assert.equal(report.kernelRxPackets, report.ok, "kernel rx_packets differs from frames written");
    assert.equal(report.snmp.IpInReceives, report.ok, "kernel IP did not see every frame");
    assert.equal(report.udpInDatagrams + report.udpInErrors + report.udpNoPorts, report.ok, "kernel UDP did not account for every frame");
  });

  for (const victim of ["unshare", "script"] as const) {
    it(`the namespace, its TAP and its peers vanish when the ${victim} process is SIGKILLed`, async function () {
      let out = "";
      const run = startInNetns(tapScript("hold"), [], { timeoutMs: 20_000, onStdout: (c) => (out += c) });
      const ready = await waitForText(() => out, "READY\n", 10_000);
      assert.ok(ready, `hold script never became ready:\n${out}`);
      const info = parseReport<{ netns: string }>(out)!;
      const inside = processesInNetns(info.netns);
      assert.ok(inside.length >= 2, `expected the script and its peer in ${info.netns}, found ${inside.join(",")}`);
      assert.equal(linkExistsHere("tap0"), false, "tap0 leaked into the default namespace");
      if (victim === "unshare") run.kill();
      else {
        // The script is PID 1 of the new PID namespace; from here it is the child of unshare.
        const scriptPid = inside.find((p) => p !== run.proc.pid)!;
        process.kill(scriptPid, "SIGKILL");
      }
      const result = await run.result;
      assert.equal(result.signal ?? "exited", victim === "unshare" ? "SIGKILL" : result.signal ?? "exited");
      let left = processesInNetns(info.netns);
      for (let i = 0; i < 100 && left.length > 0; i++) {
        await sleep(20);
        left = processesInNetns(info.netns);
      }
      assert.deepEqual(left, [], `processes still in ${info.netns}`);
      assert.equal(linkExistsHere("tap0"), false);
    });
  }
});

async function waitForText(get: () => string, text: string, timeoutMs: number): Promise<boolean> {
  for (let i = 0; i < timeoutMs / 20; i++) {
    if (get().includes(text)) return true;
    await sleep(20);
  }
  return get().includes(text);
}
