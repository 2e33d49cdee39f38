/**
 * Faults between our stack and the Linux kernel (TAP in a namespace). This kernel has no netem: loss
 * on the kernel side with nftables and iptables' statistic match on input (our frames into the kernel;
 * a drop on the kernel's OUTPUT is seen by its TCP, which sends again: no wire loss), rate with tbf;
 * delay, jitter, reordering, duplication, loss (also the kernel's frames to us) and corruption in Node
 * with the simulator's seeded FaultLink (netsim --loss/--delay/--dup/--reorder/--corrupt).
 * Transfers stay byte-exact (SHA-256 both ways); the pcap stays free of malformed frames.
 */
import assert from "node:assert/strict";
import { brief, bulkChecks, cleanupAfter, defaultNamespaceClean, frameAccounting, pcapHygiene, requireInterop, runInterop, where, type BulkReport } from "./harness.js";

const BYTES = 2 << 20;

describe("interop: faults between our stack and the Linux kernel (TAP in a namespace)", function () {
  this.timeout(120_000);
  before(function () { requireInterop(this); });
  afterEach(function () {
    cleanupAfter(this);
    const dirty = defaultNamespaceClean();
    assert.equal(dirty, "", dirty);
  });

  async function run(fault: string, bytes = BYTES): Promise<{ r: BulkReport; at: string }> {
    const { report: r, dir } = await runInterop<BulkReport>("bulk", ["both", String(bytes), "throughput", fault], 110_000);
    const at = where(r, dir);
    const rates = r.summary.tasks.map((t) => `${t.kind} ${t.kind === "recv" ? t.connections?.[0]?.mbps : t.mbps} Mbit/s`).join(", ");
    console.log(`      ${fault}: ${JSON.stringify(r.faults)}${r.summary.faults ? ` node rx ${JSON.stringify(r.summary.faults.rx)} tx ${JSON.stringify(r.summary.faults.tx)}` : ""}; ` +
      `${rates}; our rtx ${r.summary.stack.tcpRetransSegs}; ${brief(r)}`);
    assert.ok(r.isolation.ok, `namespace not isolated: ${JSON.stringify(r.isolation)}`);
    assert.deepEqual(bulkChecks(r), [], at);
    assert.deepEqual(frameAccounting(r), [], at);
    return { r, at };
  }

  it("nftables drops 3 % of our frames into the kernel: both directions byte-exact, our retransmissions recover", async function () {
    const { r, at } = await run("nft");
    assert.ok(Number(r.faults.droppedPackets) > 0, `nft dropped nothing: ${JSON.stringify(r.faults)}${at}`);
    assert.ok(r.summary.stack.tcpRetransSegs! > 0, `we never retransmitted${at}`);
    assert.deepEqual(pcapHygiene(r.judge), [], at);
  });

  it("iptables (statistic) drops 3 % of our frames on INPUT (and 3 % of the kernel's on OUTPUT): both directions byte-exact", async function () {
    const { r, at } = await run("iptables");
    assert.ok(Number(r.faults.droppedPackets) > 0, `iptables INPUT dropped nothing: ${JSON.stringify(r.faults)}${at}`);
    assert.ok(r.summary.stack.tcpRetransSegs! > 0, `we never retransmitted${at}`);
    assert.deepEqual(pcapHygiene(r.judge), [], at);
  });

  it("Node-side FaultLink loses 3 % of the kernel's frames to us: byte-exact, the kernel repairs with SACK from our ACKs", async function () {
    const { r, at } = await run("rxloss");
    const f = r.summary.faults;
    assert.ok(f !== null && f.rx !== null && f.rx.lost > 0, `nothing lost: ${JSON.stringify(f)}${at}`);
    const k = r.kernel.snmp;
    assert.ok((k.TcpRetransSegs ?? 0) > (k.TcpExtTCPLossProbes ?? 0), `the kernel retransmitted only tail loss probes: ${JSON.stringify(k)}${at}`);
    assert.ok((k.TcpExtTCPSackRecovery ?? 0) > 0, `the kernel never entered SACK recovery (our SACK blocks?): ${JSON.stringify(k)}${at}`);
    assert.equal(k.TcpExtTCPRenoRecovery ?? 0, 0, `the kernel fell back to Reno recovery: ${JSON.stringify(k)}${at}`);
    assert.deepEqual(pcapHygiene(r.judge), [], at);
  });

  it("tbf limits the kernel to 20 Mbit/s toward us: byte-exact, the rate holds", async function () {
    const { r, at } = await run("tbf");
    const recv = r.summary.tasks.find((t) => t.kind === "recv")?.connections?.[0];
    assert.ok(recv !== undefined, at);
    assert.ok(recv.mbps <= 20 * 1.15, `received at ${recv.mbps} Mbit/s through a 20 Mbit/s tbf${at}`);
    assert.ok(recv.mbps >= 20 * 0.3, `received at only ${recv.mbps} Mbit/s through a 20 Mbit/s tbf${at}`);
    assert.deepEqual(pcapHygiene(r.judge), [], at);
  });

  it("Node-side FaultLink: 1 % loss, 2 % duplication, 2 % reordering, 2 ms + 1 ms jitter both ways: byte-exact", async function () {
    const { r, at } = await run("node");
    const f = r.summary.faults;
    assert.ok(f !== null && f.rx !== null && f.tx !== null, at);
    assert.ok(f.rx.lost + f.tx.lost > 0 && f.rx.duplicated + f.tx.duplicated > 0 && f.rx.reordered + f.tx.reordered > 0,
      `the FaultLink did nothing: ${JSON.stringify(f)}${at}`);
    assert.deepEqual(pcapHygiene(r.judge), [], at);
  });

  it("Node-side FaultLink: 1 % of frames get a bit flipped both ways: byte-exact, checksums catch them", async function () {
    const { r, at } = await run("corrupt");
    const f = r.summary.faults;
    assert.ok(f !== null && f.rx !== null && f.tx !== null, at);
    assert.ok(f.rx.corrupted > 0 && f.tx.corrupted > 0, `nothing corrupted: ${JSON.stringify(f)}${at}`);
    const s = r.summary.stack;
    const oursCaught = (s.tcpInBadChecksum ?? 0) + (s.ipInBadChecksum ?? 0) + (s.ipInHdrErrors ?? 0) + (s.ethNotForUs ?? 0) + (s.ethUnknownType ?? 0) + (s.arpBad ?? 0);
    assert.ok(oursCaught > 0, `our stack flagged none of ${f.rx.corrupted} corrupted frames: ${JSON.stringify(s)}${at}`);
    const k = r.kernel.snmp;
    assert.ok((k.TcpInCsumErrors ?? 0) + (k.IpInHdrErrors ?? 0) > 0, `the kernel saw no checksum error from ${f.tx.corrupted} corrupted frames${at}`);
    // Our corrupted frames are on the wire (the capture is the kernel's side): only those may be bad.
    assert.deepEqual(pcapHygiene(r.judge, f.tx.corrupted), [], at);
  });
});
