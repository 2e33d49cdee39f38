/**
 * Echo and half-close with the Linux kernel (TAP in a namespace): socat and nc send a file to our echo
 * server and half-close (EOF kernel -> us) while still reading; our echo client against a socat echo.
 */
import assert from "node:assert/strict";
import { ALL_OPTIONS, brief, cleanLink, cleanupAfter, defaultNamespaceClean, frameAccounting, handshakeChecks, pcapHygiene, requireInterop, runInterop, where, type Facts } from "./harness.js";

interface EchoReport extends Facts {
  bytes: number;
  expectedSha256: string;
  got: { bytes: number; sha256: string };
  peer: { exit: number | null; stderr: string; seconds: number };
}

interface EchoClientReport extends Facts {
  bytes: number;
  listening: boolean;
  done: boolean;
}

describe("interop: echo and half-close with the Linux kernel (TAP in a namespace)", function () {
  this.timeout(120_000);
  before(function () { requireInterop(this); });
  afterEach(function () {
    cleanupAfter(this);
    const dirty = defaultNamespaceClean();
    assert.equal(dirty, "", dirty);
  });

  const cases: ["socat" | "nc", string][] = [["socat", "throughput"], ["nc", "throughput"], ["nc", "default"]];
  for (const [tool, preset] of cases) {
    it(`${tool} sends 1 MiB to our echo server (preset ${preset}) and half-closes: every byte comes back, then our FIN`, async function () {
      const { report: r, dir } = await runInterop<EchoReport>("echo", [tool, String(1 << 20), preset]);
      const at = where(r, dir);
      console.log(`      ${tool}: ${r.got.bytes} bytes echoed in ${r.peer.seconds} s; ${brief(r)}`);
      assert.ok(r.isolation.ok, `namespace not isolated: ${JSON.stringify(r.isolation)}`);
      assert.equal(r.peer.exit, 0, `${tool} failed: ${r.peer.stderr}${at}`);
      assert.equal(r.got.bytes, r.bytes, `${tool} got ${r.got.bytes} of ${r.bytes} bytes back; echo server ${JSON.stringify(r.summary.servers)}${at}`);
      assert.equal(r.got.sha256, r.expectedSha256, `echoed bytes differ${at}`);
      assert.deepEqual(frameAccounting(r), [], at);
      assert.deepEqual(pcapHygiene(r.judge), [], at);
      // The echo app stops reading while its replies do not fit: our zero window is flow control here.
      assert.deepEqual(cleanLink(r.judge, r.kernel.snmp, { allowOurZeroWindow: true }), [], `${at}\n${r.judge?.examples.join("\n")}`);
      assert.deepEqual(handshakeChecks(r.judge, { ...ALL_OPTIONS, wscale: preset === "throughput" }), [], at);
    });
  }

  it("our echo client sends 1 MiB to a socat echo (PIPE) and reads it all back", async function () {
    const { report: r, dir } = await runInterop<EchoClientReport>("echo", ["client", String(1 << 20)]);
    const at = where(r, dir);
    const t = r.summary.tasks[0];
    console.log(`      echo client: ${t?.bytes} bytes in ${t?.seconds.toFixed(3)} s; ${brief(r)}`);
    assert.ok(r.listening, "socat did not listen");
    assert.ok(r.done && t !== undefined, `echo task did not finish${at}\n${r.log}`);
    assert.ok(t.ok, `${t.error ?? ""}: ${t.bytes} bytes, sha ${t.sha256}${at}`);
    assert.equal(t.bytes, r.bytes, at);
    assert.deepEqual(frameAccounting(r), [], at);
    assert.deepEqual(pcapHygiene(r.judge), [], at);
    assert.deepEqual(cleanLink(r.judge, r.kernel.snmp), [], `${at}\n${r.judge?.examples.join("\n")}`);
    assert.deepEqual(handshakeChecks(r.judge, ALL_OPTIONS), [], at);
  });
});
