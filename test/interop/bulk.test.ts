/**
 * Bulk transfers with the Linux kernel (TAP in a namespace), end-of-file in each direction: our sender
 * to a socat sink (EOF us -> kernel), a socat source to our receiver (EOF kernel -> us), both at once,
 * and both at once with the small-window "default" preset. Byte-exact, tshark-judged, ss -tin checked.
 */
import assert from "node:assert/strict";
import { ALL_OPTIONS, brief, bulkChecks, cleanLink, cleanupAfter, THROUGHPUT_SS, type BulkReport, defaultNamespaceClean, frameAccounting, handshakeChecks, pcapHygiene, requireInterop, runInterop, ssChecks, where } from "./harness.js";

function rates(r: BulkReport): string {
  return r.summary.tasks.map((t) => `${t.kind} ${t.bytes} B ${t.kind === "recv" ? t.connections?.[0]?.mbps : t.mbps} Mbit/s`).join(", ");
}

describe("interop: bulk transfers and EOF with the Linux kernel (TAP in a namespace)", function () {
  this.timeout(120_000);
  before(function () { requireInterop(this); });
  afterEach(function () {
    cleanupAfter(this);
    const dirty = defaultNamespaceClean();
    assert.equal(dirty, "", dirty);
  });

  const cases: [string, string, number, string][] = [
    ["send", "our sender -> socat sink, 4 MiB, then our FIN (EOF us -> kernel)", 4 << 20, "throughput"],
    ["recv", "socat source -> our receiver, 4 MiB, then the kernel's FIN (EOF kernel -> us)", 4 << 20, "throughput"],
    ["both", "both directions at once, 2 MiB each", 2 << 20, "throughput"],
    ["both", "both directions at once with the default preset (5840-byte windows, no window scaling), 1 MiB each", 1 << 20, "default"],
  ];
  for (const [kase, title, bytes, preset] of cases) {
    it(`${title}: byte-exact, clean pcap, ss agrees`, async function () {
      const { report: r, dir } = await runInterop<BulkReport>("bulk", [kase, String(bytes), preset, "none"]);
      const at = where(r, dir);
      console.log(`      ${rates(r)}; ${brief(r)}`);
      assert.ok(r.isolation.ok, `namespace not isolated: ${JSON.stringify(r.isolation)}`);
      assert.ok(r.listening, "socat sink did not listen");
      assert.deepEqual(bulkChecks(r), [], at);
      assert.deepEqual(frameAccounting(r), [], at);
      assert.deepEqual(pcapHygiene(r.judge), [], at);
      // With 5840-byte windows our receive window may close between two polls of a batch: flow control.
      assert.deepEqual(cleanLink(r.judge, r.kernel.snmp, { allowOurZeroWindow: preset === "default" }), [], `${at}\n${r.judge?.examples.join("\n")}`);
      const big = preset === "throughput";
      assert.deepEqual(handshakeChecks(r.judge, { ...ALL_OPTIONS, wscale: big }), [], at);
      assert.deepEqual(ssChecks(r.ss, { ...THROUGHPUT_SS, wscale: big }, r.kernel.snmp), [], `${JSON.stringify(r.ss)}${at}`);
    });
  }
});
