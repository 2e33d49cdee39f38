/**
 * iperf3 (Debian's, 3.12) against our iperf3-compatible endpoint (host-sim/iperf3.ts) over the TAP:
 * kernel client -> our server both directions, our client -> kernel server both directions. The byte
 * counts each side reports must agree (exactly where the protocol allows it).
 */
import assert from "node:assert/strict";
import type { Iperf3TestRecord } from "../../host-sim/iperf3.js";
import { ALL_OPTIONS, brief, cleanLink, cleanupAfter, defaultNamespaceClean, frameAccounting, handshakeChecks, pcapHygiene, requireInterop, runInterop, where, type Facts } from "./harness.js";

interface Sum { bytes: number; seconds: number; bits_per_second: number; retransmits?: number }
interface IperfReport extends Facts {
  seconds: number;
  listening?: boolean;
  done?: boolean;
  iperf3: { exit: number | string | null; result: { error: string | null; sent: Sum | null; received: Sum | null } | null; stderr: string };
}

/** 1 s moves ~30-60 MB; the headers-only pcap of it takes tshark a few seconds to judge. */
const SECONDS = 1;

describe("interop: iperf3 with the Linux kernel (TAP in a namespace)", function () {
  this.timeout(120_000);
  before(function () { requireInterop(this); });
  afterEach(function () {
    cleanupAfter(this);
    const dirty = defaultNamespaceClean();
    assert.equal(dirty, "", dirty);
  });

  for (const reverse of [false, true]) {
    it(`kernel iperf3 -c${reverse ? " -R" : ""} runs a ${SECONDS} s TCP test against our iperf3 server (${reverse ? "we send" : "the kernel sends"})`, async function () {
      const { report: r, dir } = await runInterop<IperfReport>("iperf3", [reverse ? "server-reverse" : "server", String(SECONDS)]);
      const at = where(r, dir);
      const res = r.iperf3.result;
      const ours = (r.summary.servers["iperf3:5201"] as { tests: Iperf3TestRecord[] } | undefined)?.tests[0];
      console.log(`      iperf3 -c${reverse ? " -R" : ""}: sent ${res?.sent?.bytes} received ${res?.received?.bytes} ` +
        `(${((res?.received?.bits_per_second ?? 0) / 1e6).toFixed(1)} Mbit/s); ours ${ours?.bytes} B ${ours?.mbps} Mbit/s; ${brief(r)}`);
      assert.equal(r.iperf3.exit, 0, `iperf3 client failed: ${res?.error ?? ""} ${r.iperf3.stderr}${at}`);
      assert.ok(res !== null && res.error === null, `iperf3: ${res?.error}${at}`);
      assert.ok(ours !== undefined, `our server saw no test: ${JSON.stringify(r.summary.servers)}${at}`);
      assert.equal(ours.state, "done", `our server's test ended in ${ours.state}: ${ours.error ?? ""}${at}`);
      assert.equal(ours.reverse, reverse, at);
      assert.ok(ours.bytes > 100_000, `only ${ours.bytes} bytes moved${at}`);
      if (reverse) {
        // We sent; the kernel client counted what arrived, and printed our count as "sent".
        assert.equal(res.sent?.bytes, ours.bytes, `kernel shows ${res.sent?.bytes} sent, we sent ${ours.bytes}${at}`);
        assert.ok((res.received?.bytes ?? 0) > 0 && (res.received?.bytes ?? 0) <= ours.bytes, `kernel received ${res.received?.bytes}${at}`);
      } else {
        // The kernel sent; our server's count is what the kernel prints as received.
        assert.equal(res.received?.bytes, ours.bytes, `kernel shows ${res.received?.bytes} received, our server counted ${ours.bytes}${at}`);
        assert.ok((res.sent?.bytes ?? 0) >= ours.bytes, `kernel sent ${res.sent?.bytes} < ${ours.bytes}${at}`);
        assert.equal(ours.clientBytes, res.sent?.bytes, `the client's results JSON said ${ours.clientBytes}${at}`);
      }
      assert.deepEqual(frameAccounting(r), [], at);
      assert.deepEqual(pcapHygiene(r.judge), [], at);
      assert.deepEqual(cleanLink(r.judge, r.kernel.snmp), [], `${at}\n${r.judge?.examples.join("\n")}`);
      assert.deepEqual(handshakeChecks(r.judge, ALL_OPTIONS), [], at);
    });
  }

  for (const reverse of [false, true]) {
    it(`our iperf3 client${reverse ? " (reverse)" : ""} runs a ${SECONDS} s TCP test against kernel iperf3 -s (${reverse ? "the kernel sends" : "we send"})`, async function () {
      const { report: r, dir } = await runInterop<IperfReport>("iperf3", [reverse ? "client-reverse" : "client", String(SECONDS)]);
      const at = where(r, dir);
      const res = r.iperf3.result;
      const task = r.summary.tasks[0];
      const ip = task?.iperf3;
      console.log(`      our client${reverse ? " -R" : ""}: ${task?.bytes} B in ${task?.seconds.toFixed(2)} s (${task?.mbps} Mbit/s); ` +
        `kernel server: sent ${res?.sent?.bytes} received ${res?.received?.bytes}; ${brief(r)}`);
      assert.ok(r.listening, "iperf3 -s did not listen");
      assert.ok(r.done && task !== undefined && ip !== undefined, `our client did not finish${at}\n${r.log}`);
      assert.ok(task.ok, `our client: ${task.error}${at}\n${r.log}`);
      assert.equal(r.iperf3.exit, 0, `iperf3 -s failed: ${res?.error ?? ""} ${r.iperf3.stderr}${at}`);
      assert.ok(res !== null && res.error === null, `iperf3 -s: ${res?.error}${at}`);
      if (reverse) {
        assert.ok(ip.receivedBytes > 100_000, `we received ${ip.receivedBytes}${at}`);
        assert.ok(ip.receivedBytes <= (res.sent?.bytes ?? 0), `we received ${ip.receivedBytes} > kernel sent ${res.sent?.bytes}${at}`);
        assert.equal(ip.serverBytes, res.sent?.bytes, `the server's results JSON said ${ip.serverBytes}${at}`);
      } else {
        assert.ok(ip.sentBytes > 100_000, `we sent ${ip.sentBytes}${at}`);
        // We send TEST_END only once every byte is acknowledged: the kernel's count is exact.
        assert.equal(res.received?.bytes, ip.sentBytes, `kernel received ${res.received?.bytes}, we sent ${ip.sentBytes}${at}`);
        assert.equal(ip.serverBytes, ip.sentBytes, `the server's results JSON said ${ip.serverBytes}${at}`);
      }
      assert.deepEqual(frameAccounting(r), [], at);
      assert.deepEqual(pcapHygiene(r.judge), [], at);
      assert.deepEqual(cleanLink(r.judge, r.kernel.snmp), [], `${at}\n${r.judge?.examples.join("\n")}`);
      assert.deepEqual(handshakeChecks(r.judge, ALL_OPTIONS), [], at);
    });
  }
});
