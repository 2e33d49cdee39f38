/**
 * Interop with Debian's lwIP (liblwip-dev 2.1.3): test/interop/lwip/peer.c is built with gcc into a temp
 * dir and runs on its own TAP (tap1, 192.0.2.3); our stack runs on tap0 (192.0.2.2); a Linux bridge br0
 * joins them inside a fresh namespace; tshark captures on br0. Optional loss: nftables bridge-family
 * rule dropping a share of forwarded TCP frames.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseReport, requireAll, runInNetns } from "../../host-sim/netns.js";
import { requireNetns } from "../helpers/netns.js";
import type { PcapJudge, TransferResult } from "./lwip/common.js";

const PEER_C = fileURLToPath(new URL("../../../test/interop/lwip/peer.c", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./lwip/bridge.js", import.meta.url));
const MB = 1 << 20;

interface BridgeReport {
  mode: string; total: number; loss: number; expected: string; result: TransferResult; peerCode: number;
  peerOut: string[]; peerErr: string; dropped: number; judge: PcapJudge; pcap: string; mbps: number;
}

function missing(): string {
  const gaps: string[] = [];
  const has = (cmd: string): boolean => spawnSync("sh", ["-c", cmd], { stdio: "ignore", timeout: 10_000 }).status === 0;
  if (!has("command -v gcc")) gaps.push("gcc (apt-get install gcc)");
  if (!has("test -f /usr/include/lwip/lwip/tcpip.h && test -e /usr/lib/x86_64-linux-gnu/liblwip.so || pkg-config --exists lwip")) gaps.push("lwIP headers/library (apt-get install liblwip-dev)");
  if (!has("command -v tshark")) gaps.push("tshark (apt-get install tshark)");
  if (!has("command -v nft")) gaps.push("nft (apt-get install nftables)");
  if (gaps.length === 0 && !has("unshare --net sh -c 'ip link add br0 type bridge && nft add table bridge probe'")) gaps.push("bridge + nftables bridge family in a namespace");
  return gaps.join(", ");
}

describe("interop: Debian lwIP peer over a bridge (TAP in a namespace)", function () {
  this.timeout(120_000);
  let work = "";
  let peer = "";
  before(function () {
    requireNetns(this);
    const gaps = missing();
    if (gaps) {
      if (requireAll()) throw new Error(`REQUIRE_ALL=1: lwIP interop cannot run: missing ${gaps}`);
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), "lwip-interop-"));
    peer = join(work, "peer");
    const cc = spawnSync("sh", ["-c", `gcc -O2 -Wall -pthread $(pkg-config --cflags lwip 2>/dev/null || echo -I/usr/include/lwip) ${PEER_C} -o ${peer} -llwip`], { encoding: "utf8", timeout: 60_000 });
    assert.equal(cc.status, 0, `gcc failed building ${PEER_C}:\n${cc.stderr}`);
  });
  after(function () { if (work && process.env.KEEP_INTEROP !== "1") rmSync(work, { recursive: true, force: true }); });

  async function run(mode: "echo" | "send", bytes: number, loss: number): Promise<BridgeReport> {
    const r = await runInNetns(SCRIPT, [mode, String(bytes), String(loss), peer, work], { timeoutMs: 90_000 });
    const rep = parseReport<BridgeReport>(r.stdout);
    if (r.code !== 0 || rep === undefined) {
      throw new Error(`lwip bridge ${mode} loss ${loss}: code ${r.code}${r.timedOut ? " (timed out)" : ""}\n--- stderr ---\n${r.stderr.slice(-5000)}\n--- stdout ---\n${r.stdout.slice(-3000)}`);
    }
    console.log(`      ${mode} ${bytes} B loss ${loss}%: ${rep.result.ms.toFixed(0)} ms (${rep.mbps} Mbit/s), bridge dropped ${rep.dropped}, retransmissions ${JSON.stringify(rep.judge.retransmissionsBySrc)}, ${rep.judge.frames} frames; ${rep.judge.syns.join(" | ")}`);
    return rep;
  }

  function check(rep: BridgeReport, bytes: number): void {
    const at = ` [pcap ${rep.pcap}; peer: ${rep.peerOut.join(" / ")} ${rep.peerErr}]`;
    assert.equal(rep.result.error, "", `transfer error: ${rep.result.error}${at}`);
    assert.equal(rep.result.bytesReceived, bytes, `bytes${at}`);
    assert.equal(rep.result.sha256, rep.expected, `SHA-256 of the received bytes${at}`);
    assert.equal(rep.peerCode, 0, `lwIP peer exit code${at}`);
    assert.ok(rep.peerOut.some((l) => l.startsWith("DONE")), `lwIP peer did not finish${at}`);
    assert.equal(rep.judge.malformed, 0, `malformed/error frames in the capture: ${rep.judge.expertErrors}${at}`);
    assert.equal(rep.judge.badChecksums, 0, `bad checksums in the capture${at}`);
    assert.ok(rep.judge.frames > bytes / 1500, `capture too small: ${rep.judge.frames} frames${at}`);
  }

  it("our client -> lwIP echo server: 1 MiB back byte-exact, clean capture", async function () {
    const rep = await run("echo", MB, 0);
    check(rep, MB);
    assert.equal(rep.result.bytesSent, MB);
    assert.deepEqual(rep.judge.retransmissionsBySrc, {}, "no retransmissions on a clean bridge");
  });

  it("lwIP client -> our discard server: 1 MiB byte-exact, clean capture", async function () {
    const rep = await run("send", MB, 0);
    check(rep, MB);
    assert.deepEqual(rep.judge.retransmissionsBySrc, {}, "no retransmissions on a clean bridge");
  });

  it("our client -> lwIP echo server with 3% loss on the bridge: byte-exact", async function () {
    const rep = await run("echo", MB, 3);
    check(rep, MB);
    assert.ok(rep.dropped > 0, "the nftables loss rule dropped nothing");
  });

  it("lwIP client -> our discard server with 3% loss on the bridge: byte-exact", async function () {
    const rep = await run("send", MB, 3);
    check(rep, MB);
    assert.ok(rep.dropped > 0, "the nftables loss rule dropped nothing");
  });
});
