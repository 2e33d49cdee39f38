/**
 * Our stack against the Linux kernel over TAP with one TCP option switched off per namespace:
 * net.ipv4.tcp_sack=0, tcp_timestamps=0, tcp_window_scaling=0. 1 MiB each way byte-exact (SHA-256);
 * the kernel's `ss -tin` line and its SYN/SYN-ACK in the capture show the option really off.
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

const SCRIPT = fileURLToPath(new URL("./sysctl/kernel.js", import.meta.url));
const MB = 1 << 20;

interface SysctlReport {
  knob: string; setting: string; total: number; expected: string; pcap: string; judge: PcapJudge;
  out: TransferResult & { sinkCode: number; sinkSha: string; sinkBytes: number; ss: string; mbps: number };
  in: { bytes: number; sha256: string; ms: number; sourceCode: number; ss: string[]; srcStderr: string; mbps: number };
  kernel: Record<string, number>;
}

/** The ss -tin token that the option produces when on. */
const SS_TOKEN: Record<string, RegExp> = {
  tcp_sack: /(^|\s)sack(\s|$)/,
  tcp_timestamps: /(^|\s)ts(\s|$)/,
  tcp_window_scaling: /wscale:/,
};
/** The SYN option (summary from judgePcap) the kernel must not send. */
const SYN_FIELD: Record<string, RegExp> = {
  tcp_sack: /sack=yes/,
  tcp_timestamps: /ts=yes/,
  tcp_window_scaling: /wscale=\d/,
};

describe("interop: Linux kernel with one TCP option off (sysctl, TAP in a namespace)", function () {
  this.timeout(90_000);
  let work = "";
  before(function () {
    requireNetns(this);
    const gaps = ["socat", "tshark", "ss", "sha256sum"].filter((t) => spawnSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" }).status !== 0);
    if (gaps.length) {
      if (requireAll()) throw new Error(`REQUIRE_ALL=1: sysctl interop cannot run: missing ${gaps.join(", ")} (apt-get install socat tshark iproute2 coreutils)`);
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), "sysctl-interop-"));
  });
  after(function () { if (work && process.env.KEEP_INTEROP !== "1") rmSync(work, { recursive: true, force: true }); });

  for (const knob of ["tcp_sack", "tcp_timestamps", "tcp_window_scaling"]) {
    it(`net.ipv4.${knob}=0: 1 MiB each way byte-exact, ss and the SYNs show it off`, async function () {
      const r = await runInNetns(SCRIPT, [knob, String(MB), work], { timeoutMs: 75_000 });
      const rep = parseReport<SysctlReport>(r.stdout);
      if (r.code !== 0 || rep === undefined) {
        throw new Error(`sysctl ${knob}: code ${r.code}${r.timedOut ? " (timed out)" : ""}\n--- stderr ---\n${r.stderr.slice(-5000)}\n--- stdout ---\n${r.stdout.slice(-3000)}`);
      }
      const at = ` [pcap ${rep.pcap}]`;
      console.log(`      ${knob}=0: out ${rep.out.mbps} Mbit/s, in ${rep.in.mbps} Mbit/s; rtx ${JSON.stringify(rep.judge.retransmissionsBySrc)}; ${rep.judge.syns.join(" | ")}\n      ss: ${rep.out.ss.replace(/\s+/g, " ")}`);
      assert.equal(rep.setting, "0");
      assert.equal(rep.out.error, "", `send error${at}`);
      assert.equal(rep.out.sinkBytes, MB, `kernel sink got ${rep.out.sinkBytes} bytes${at}`);
      assert.equal(rep.out.sinkSha, rep.expected, `SHA-256 at the kernel sink${at}`);
      assert.equal(rep.in.bytes, MB, `we received ${rep.in.bytes} bytes from the kernel${at}; socat: ${rep.in.srcStderr}`);
      assert.equal(rep.in.sha256, rep.expected, `SHA-256 at our discard server${at}`);
      assert.equal(rep.in.sourceCode, 0, `socat source exit${at}`);
      assert.ok(rep.out.ss.length > 0, "no established connection in ss -tin on the kernel side");
      assert.doesNotMatch(rep.out.ss, SS_TOKEN[knob]!, `ss -tin still shows the option: ${rep.out.ss}`);
      for (const s of rep.in.ss) assert.doesNotMatch(s, SS_TOKEN[knob]!, `ss -tin (kernel -> us) still shows the option: ${s}`);
      const kernelSyns = rep.judge.syns.filter((s) => s.startsWith("192.0.2.1 "));
      assert.equal(kernelSyns.length, 2, `expected the kernel's SYN-ACK and SYN: ${rep.judge.syns.join(" | ")}`);
      for (const s of kernelSyns) assert.doesNotMatch(s, SYN_FIELD[knob]!, `kernel still offers the option: ${s}`);
      assert.equal(rep.judge.malformed, 0, `malformed frames${at}`);
      assert.equal(rep.judge.badChecksums, 0, `bad checksums${at}`);
      assert.equal(rep.kernel.TcpInCsumErrors ?? 0, 0, "kernel TcpInCsumErrors");
    });
  }
});
