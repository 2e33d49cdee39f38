/**
 * The TAP attachment against the real Linux kernel, each test in a fresh network namespace
 * (host-sim/netns.ts). Root only; REQUIRE_ALL=1 turns "cannot run here" into a failure.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { currentNetns, linkExistsHere, PARENT_NS_ENV, parseReport, processesInNetns, startInNetns } from "../../host-sim/netns.js";
import { requireNetns, runScript, tapScript } from "../helpers/netns.js";

interface PingReport {
  transmitted: number;
  received: number;
  pingOutput: string;
  requests: number;
  counters: Record<string, number>;
}

interface LifecycleReport {
  whileDown: boolean;
  refusedWhileDown: number;
  whileUp: boolean;
  afterClose: boolean;
  afterPing: { rxFrames: number; rxDelivered: number; inputs: number };
  polls: number;
  timerFires: number;
  tapStillThere: boolean;
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

  it("a namespace script refuses to run in the parent's namespace (nothing touches the default one)", function () {
    for (const env of [{}, { [PARENT_NS_ENV]: currentNetns() }]) {
      const r = spawnSync(process.execPath, [tapScript("hold")], {
        env: { ...process.env, [PARENT_NS_ENV]: "", ...env },
        encoding: "utf8",
        timeout: 10_000,
      });
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /refusing to run/);
    }
    assert.equal(linkExistsHere("tap0"), false);
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

  for (const mode of ["close", "unref"] as const) {
    it(`life cycle (${mode}): refusals counted, one timer re-armed per deadline, the process exits by itself`, async function () {
      const { report } = await runScript<LifecycleReport>("lifecycle", [mode], { timeoutMs: 10_000 });
      assert.equal(report.whileDown, false, "a write while the link is down must be refused (EIO)");
      assert.equal(report.refusedWhileDown, 1);
      assert.equal(report.whileUp, true);
      // The endpoint asks for a wake-up 30 ms later on each of its first 5 polls, then for none.
      assert.equal(report.polls, 1 + report.timerFires + report.counters.rxBatches!, "polls = attach + timers + batches");
      assert.ok(report.timerFires >= 1 && report.timerFires <= 5, `timer fired ${report.timerFires} times`);
      assert.ok(report.polls >= 6);
      assert.ok(report.afterPing.rxFrames >= 2, "the kernel's echo requests reach the endpoint");
      assert.equal(report.afterPing.rxFrames, report.afterPing.inputs);
      if (mode === "close") {
        assert.equal(report.afterClose, false);
        assert.equal(report.tapStillThere, false, "closing the fd deletes the TAP");
        assert.equal(report.counters.txRefused, 2);
      } else {
        assert.equal(report.afterClose, true);
      }
    });
  }

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

describe("Stack on a TAP (Linux kernel in a network namespace)", function () {
  this.timeout(60_000);

  before(function () {
    requireNetns(this);
    if (!existsSync(fileURLToPath(new URL("../../src/stack.js", import.meta.url)))) {
      if (process.env.REQUIRE_ALL === "1") throw new Error("REQUIRE_ALL=1: src/stack.ts is not built");
      this.skip();
    }
  });

  it("answers the kernel's ping (ARP both ways by the stack)", async function () {
    const { report } = await runScript<StackPingReport>("stack-ping", ["3", "0.2"]);
    assert.equal(report.received, 3, `${report.pingOutput}\n${JSON.stringify(report.stack)}`);
    assert.equal(report.kernel.IcmpInCsumErrors, 0);
    assert.equal(report.kernel.IpInHdrErrors, 0);
    assert.equal(report.tap.txRefused, 0);
  });

  it("answers 200 pings at 10 ms intervals without a loss", async function () {
    const { report } = await runScript<StackPingReport>("stack-ping", ["200", "0.01"]);
    assert.equal(report.received, 200, `${report.pingOutput}\n${JSON.stringify(report.stack)}`);
  });
});

interface StackPingReport {
  transmitted: number;
  received: number;
  pingOutput: string;
  kernel: Record<string, number>;
  tap: Record<string, number>;
  stack: unknown;
}
