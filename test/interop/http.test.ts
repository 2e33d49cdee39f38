/**
 * HTTP interop with the Linux kernel's TCP in a fresh namespace: curl against our HTTP server, our HTTP
 * client against python3 -m http.server. Byte-exact (SHA-256), tshark-judged, ss -tin as a second oracle.
 */
import assert from "node:assert/strict";
import type { JudgeResult } from "./scripts/lib.js";
import { ALL_OPTIONS, brief, cleanLink, handshakeChecks, THROUGHPUT_SS, cleanupAfter, defaultNamespaceClean, frameAccounting, pcapHygiene, requireInterop, runInterop, ssChecks, where, type Facts } from "./harness.js";

interface CurlReport extends Facts {
  ownPcap: JudgeResult;
  bytes: number;
  expectedSha256: string;
  got: { bytes: number; sha256: string };
  curl: { exit: number; httpCode: number; size: number; seconds: number; stderr: string };
}

interface ClientReport extends Facts {
  bytes: number;
  expectedSha256: string;
  done: boolean;
  listening: boolean;
}


describe("interop: HTTP with the Linux kernel (TAP in a namespace)", function () {
  this.timeout(120_000);
  before(function () { requireInterop(this); });
  afterEach(function () {
    cleanupAfter(this);
    const dirty = defaultNamespaceClean();
    assert.equal(dirty, "", dirty);
  });

  it("curl fetches 4 MiB from our HTTP server: byte-exact, clean pcap, ss sees wscale/ts/sack and no retransmission", async function () {
    const { report: r, dir } = await runInterop<CurlReport>("http", ["curl", String(4 << 20)]);
    const at = where(r, dir);
    console.log(`      curl: ${r.curl.size} bytes in ${r.curl.seconds} s (${((r.curl.size * 8) / r.curl.seconds / 1e6).toFixed(1)} Mbit/s); ${brief(r)}`);
    assert.ok(r.isolation.ok, `namespace not isolated: ${JSON.stringify(r.isolation)}`);
    assert.equal(r.curl.exit, 0, `curl failed: ${r.curl.stderr}${at}`);
    assert.equal(r.curl.httpCode, 200, at);
    assert.equal(r.got.bytes, r.bytes, `curl got ${r.got.bytes} bytes${at}`);
    assert.equal(r.got.sha256, r.expectedSha256, `SHA-256 differs${at}`);
    assert.deepEqual(frameAccounting(r), [], at);
    assert.deepEqual(pcapHygiene(r.judge), [], at);
    assert.deepEqual(cleanLink(r.judge, r.kernel.snmp), [], `${at}\n${r.judge?.examples.join("\n")}`);
    assert.deepEqual(ssChecks(r.ss, THROUGHPUT_SS, r.kernel.snmp), [], `${JSON.stringify(r.ss)}${at}`);
    assert.deepEqual(handshakeChecks(r.judge, ALL_OPTIONS), [], at);
    assert.equal(r.kernel.snmp.TcpInCsumErrors, 0, at);
    // netsim --pcap (the stack's side of the TAP): every frame, the same clean verdict.
    const own = r.ownPcap;
    assert.equal(own.frames, r.summary.tap.rxDelivered + r.summary.tap.txFrames, `netsim pcap ${own.pcap} has ${own.frames} frames`);
    assert.deepEqual(pcapHygiene(own), [], `netsim pcap ${own.pcap}`);
    assert.deepEqual(cleanLink(own, r.kernel.snmp), [], `netsim pcap ${own.pcap}\n${own.examples.join("\n")}`);
    assert.equal(r.kernel.snmp.IpInHdrErrors, 0, at);
  });

  it("our HTTP client fetches 3 MiB from python3 -m http.server: byte-exact, clean pcap, no kernel retransmission", async function () {
    const { report: r, dir } = await runInterop<ClientReport>("http", ["client", String(3 << 20)]);
    const at = where(r, dir);
    const t = r.summary.tasks[0];
    console.log(`      get: ${t?.bytes} bytes in ${t?.seconds.toFixed(3)} s (${t?.mbps} Mbit/s); ${brief(r)}`);
    assert.ok(r.isolation.ok, `namespace not isolated: ${JSON.stringify(r.isolation)}`);
    assert.ok(r.listening, "python3 -m http.server did not listen");
    assert.ok(r.done && t !== undefined, `the GET did not finish${at}\n${r.log}`);
    assert.equal(t.status, 200, `${t.error ?? ""}${at}`);
    assert.equal(t.bytes, r.bytes, at);
    assert.equal(t.sha256, r.expectedSha256, `SHA-256 differs${at}`);
    assert.ok(t.ok, `${t.error ?? ""}${at}`);
    assert.deepEqual(frameAccounting(r), [], at);
    assert.deepEqual(pcapHygiene(r.judge), [], at);
    assert.deepEqual(cleanLink(r.judge, r.kernel.snmp), [], `${at}\n${r.judge?.examples.join("\n")}`);
    assert.deepEqual(ssChecks(r.ss, THROUGHPUT_SS, r.kernel.snmp), [], `${JSON.stringify(r.ss)}${at}`);
    assert.deepEqual(handshakeChecks(r.judge, ALL_OPTIONS), [], at);
  });
});
