/**
 * Against real servers: dnsmasq (DHCP + DNS) and a socat TCP echo server, in a network namespace the
 * test creates (runInNetns: unshare --net --pid ...), our stack on tap0 (test/dns/scripts/dnsmasq-flow.ts).
 * Root, /dev/net/tun, the TAP addon, dnsmasq and socat are needed; without them the test is skipped,
 * and with REQUIRE_ALL=1 it FAILS saying what is missing.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { requireAll, runInNetns, parseReport, linkExistsHere } from "../../host-sim/netns.js";
import { requireNetns } from "../helpers/netns.js";

interface FlowReport {
  done: boolean;
  address: string;
  netmask: string;
  gateway: string;
  dnsServers: string[];
  leaseExpiresInS: number;
  resolved: string;
  reply: string;
  tcpError: boolean;
  log: string[];
  lease: string;
  mac: string;
  dnsmasqLog: string;
  counters: Record<string, number>;
}

function which(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":").concat(["/usr/sbin", "/sbin"])) {
    if (existsSync(`${dir}/${cmd}`)) return true;
  }
  return false;
}

/** dnsmasq processes in this (the default) namespace. */
function dnsmasqPids(): string {
  try {
    return execFileSync("pgrep", ["-x", "dnsmasq"], { encoding: "utf8" }).trim();
  } catch {
    return ""; // pgrep exits 1 when there is none
  }
}

describe("dnsmasq: DHCP lease, DNS name, TCP connection (Linux netns + TAP)", function () {
  this.timeout(90_000);

  before(function () {
    requireNetns(this);
    const missing = ["dnsmasq", "socat", "ss"].filter((c) => !which(c));
    if (missing.length > 0) {
      if (requireAll()) throw new Error(`REQUIRE_ALL=1: dnsmasq test cannot run: ${missing.join(", ")} not installed (apt-get install dnsmasq socat iproute2)`);
      this.skip();
    }
  });

  it("our stack gets a lease from dnsmasq, resolves echo.board.test there, and echoes over TCP", async function () {
    const before = dnsmasqPids();
    const leaseFile = `/tmp/xs-tcpip-dnsmasq-${process.pid}-${Date.now()}.leases`;
    const script = fileURLToPath(new URL("./scripts/dnsmasq-flow.js", import.meta.url));
    let result;
    try {
      result = await runInNetns(script, [leaseFile], { timeoutMs: 60_000 });
    } finally {
      rmSync(leaseFile, { force: true });
    }
    const r = parseReport<FlowReport>(result.stdout);
    const why = `code ${result.code}${result.timedOut ? " (timed out)" : ""}\n--- stderr ---\n${result.stderr}\n--- stdout ---\n${result.stdout.slice(-6000)}`;
    assert.equal(result.code, 0, why);
    assert.ok(r !== undefined, why);
    const ctx = `\n${r.log.join("\n")}\n--- dnsmasq ---\n${r.dnsmasqLog}\ncounters ${JSON.stringify(r.counters)}`;
    assert.ok(r.done, `flow did not finish${ctx}`);
    for (const line of r.log) console.log(`      ${line}`);
    // 1. The lease.
    const host = Number(r.address.split(".")[3]);
    assert.match(r.address, /^192\.0\.2\.\d+$/, ctx);
    assert.ok(host >= 50 && host <= 150, `address ${r.address} outside the dhcp-range${ctx}`);
    assert.equal(r.netmask, "255.255.255.0");
    assert.equal(r.gateway, "192.0.2.1");
    assert.deepEqual(r.dnsServers, ["192.0.2.1"]);
    assert.ok(r.leaseExpiresInS > 3500 && r.leaseExpiresInS <= 3600, `lease ${r.leaseExpiresInS} s`);
    assert.ok(r.lease.includes(r.mac) && r.lease.includes(r.address), `dnsmasq's lease file: ${r.lease}${ctx}`);
    assert.match(r.dnsmasqLog, /DHCPACK\(tap0\)/, ctx);
    // 2. The name, 3. the connection.
    assert.equal(r.resolved, "192.0.2.1", ctx);
    assert.equal(r.tcpError, false, ctx);
    assert.equal(r.reply, "hello over dhcp + dns + tcp", ctx);
    assert.equal(r.counters.internalErrors, 0);
    assert.equal(r.counters.dhcpInMalformed + r.counters.dhcpInBadOptions + r.counters.dnsInMalformed, 0, ctx);
    // Nothing left behind in the default namespace.
    assert.equal(linkExistsHere("tap0"), false);
    assert.equal(dnsmasqPids(), before, "a dnsmasq process was left running outside the test namespace");
  });
});
