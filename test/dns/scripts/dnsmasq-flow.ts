/**
 * Inside a fresh network namespace (started by test/dns/dnsmasq.test.ts through runInNetns):
 * the kernel owns 192.0.2.1/24 on tap0 and runs dnsmasq (DHCP + DNS on tap0 only) and a socat TCP
 * echo server on 192.0.2.1:7. Our Stack, on the TAP with `dhcp: true`:
 *   1. gets a lease from dnsmasq (address, netmask, router, DNS server),
 *   2. resolves echo.board.test at the DNS server the lease named,
 *   3. connects by TCP to the resolved address and gets its bytes echoed back.
 * Reports what happened as one NETNS-RESULT line. Every wait is bounded.
 * argv: [leaseFile]
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { TapDriver } from "../../../host-sim/tap.js";
import { netnsMain, report, setupNamespace, sh, startPeer, tapUp, waitFor } from "../../../host-sim/netns.js";
import { DNS_OK } from "../../../src/dns/resolver.js";
import { TCP } from "../../../src/socket/tcp.js";
import { Stack } from "../../../src/stack.js";
import { ipToString } from "../../../src/wire/bytes.js";

const MESSAGE = "hello over dhcp + dns + tcp";

netnsMain(async () => {
  const leaseFile = process.argv[2] ?? `/tmp/xs-tcpip-dnsmasq-${process.pid}.leases`;
  setupNamespace();
  const tap = new TapDriver({ name: "tap0" });
  tapUp("tap0", "192.0.2.1/24");
  const dnsmasq = startPeer(
    "dnsmasq --no-daemon --conf-file=/dev/null --log-facility=- --log-dhcp --interface=tap0 --bind-interfaces " +
      "--except-interface=lo --dhcp-range=192.0.2.50,192.0.2.150,255.255.255.0,1h --dhcp-authoritative " +
      "--address=/board.test/192.0.2.1 --host-record=echo.board.test,192.0.2.1,60 --port=53 --no-resolv --no-hosts " +
      `--dhcp-leasefile=${leaseFile} --user=root --group=root`,
    { lifetimeMs: 40_000, readyPattern: /started, version/, readyTimeoutMs: 10_000 },
  );
  await dnsmasq.ready;
  const echo = startPeer("socat TCP-LISTEN:7,bind=192.0.2.1,fork,reuseaddr EXEC:cat", { lifetimeMs: 40_000 });
  await echo.ready;
  // socat listens once it has bound: wait for the socket.
  await waitFor(() => /:7\b/.test(sh("ss -ltnH")), 5_000, 50);

  const stack = new Stack({ dhcp: true, dhcpProbeMs: 300 }, tap);
  const clock = (): number => performance.now();
  const log: string[] = [];
  let resolved = "";
  let reply = "";
  let tcpError = false;
  let client: TCP | undefined;
  const t0 = clock();
  stack.dhcp!.onChange = (ev): void => {
    log.push(`${Math.round(clock() - t0)} ms: ${ev} ${ipToString(stack.address)}`);
    if (ev !== "acquired") return;
    stack.dns.resolve("echo.board.test", {
      dnsResolved(_h: number, status: number, address: number): void {
        resolved = status === DNS_OK ? ipToString(address) : `error ${status}`;
        log.push(`${Math.round(clock() - t0)} ms: resolved ${resolved}`);
        if (status !== DNS_OK) return;
        let sent = false;
        client = new TCP({
          stack, clock, address: resolved, port: 7,
          onWritable(this: TCP): void {
            if (sent) return;
            sent = true;
            this.write(new TextEncoder().encode(MESSAGE));
          },
          onReadable(this: TCP): void {
            const d = this.read();
            if (d instanceof ArrayBuffer) reply += new TextDecoder().decode(d);
          },
          onError(): void { tcpError = true; },
        });
      },
    }, clock());
  };
  tap.attach(stack);
  const done = await waitFor(() => reply === MESSAGE || tcpError || resolved.startsWith("error"), 25_000, 20);
  client?.close();
  // Let the close handshake go out.
  await waitFor(() => stack.tcp.inUse().connections === 0, 3_000, 20);
  const c = stack.counters;
  const lease = (() => { try { return readFileSync(leaseFile, "utf8"); } catch { return ""; } })();
  tap.close();
  await dnsmasq.stop();
  await echo.stop();
  report({
    done,
    address: ipToString(stack.address),
    netmask: ipToString(stack.netmask),
    gateway: ipToString(stack.gateway),
    dnsServers: stack.dns.servers().map(ipToString),
    leaseExpiresInS: Math.round((stack.dhcp!.leaseExpires - clock()) / 1000),
    resolved,
    reply,
    tcpError,
    log,
    lease,
    mac: Array.from(stack.mac, (b) => b.toString(16).padStart(2, "0")).join(":"),
    dnsmasqLog: dnsmasq.stderr.split("\n").slice(-40).join("\n"),
    counters: {
      dhcpOutDiscovers: c.dhcpOutDiscovers, dhcpInOffers: c.dhcpInOffers, dhcpOutRequests: c.dhcpOutRequests,
      dhcpInAcks: c.dhcpInAcks, dhcpInNaks: c.dhcpInNaks, dhcpInMalformed: c.dhcpInMalformed,
      dhcpInBadOptions: c.dhcpInBadOptions, dhcpInNotOurs: c.dhcpInNotOurs, dnsOutQueries: c.dnsOutQueries,
      dnsInResponses: c.dnsInResponses, dnsInMalformed: c.dnsInMalformed, dnsInMismatch: c.dnsInMismatch,
      tcpActiveOpens: c.tcpActiveOpens, internalErrors: stack.internalErrors,
    },
    tap: tap.counters(),
  });
}, 45_000);
