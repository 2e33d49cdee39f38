/**
 * DHCP client (RFC 2131) against a scripted server on the simulator: the happy path, the ARP check
 * and DECLINE, renewal (T1), rebinding (T2), expiry, NAK, retransmission backoff, release, and
 * hostile replies.
 */
import assert from "node:assert/strict";
import { seedFromEnv } from "../../host-sim/rng.js";
import { SimNetwork, type SimNode } from "../../host-sim/simnet.js";
import type { StackOptions } from "../../src/config.js";
import { DHCP_BOUND, DHCP_REBINDING, DHCP_RENEWING, DHCP_SELECTING, type DhcpEvent } from "../../src/dhcp/client.js";
import {
  DHCPACK, DHCPDECLINE, DHCPDISCOVER, DHCPOFFER, DHCPRELEASE, DHCPREQUEST, OPT_LEASE_TIME, OPT_SERVER_ID,
  OPT_SUBNET_MASK,
} from "../../src/dhcp/wire.js";
import { Stack } from "../../src/stack.js";
import { ipToString, parseIp } from "../../src/wire/bytes.js";
import { ARP_REQUEST } from "../../src/wire/arp.js";
import { arpFrame, BROADCAST_MAC, parseFrame, RawHost, udpFrame } from "../udp/raw.js";
import { buildReply, DhcpServer, type ServerOptions, u32 } from "./server.js";

interface Env {
  net: SimNetwork;
  node: SimNode;
  s: Stack;
  server: DhcpServer;
  events: { t: number; e: DhcpEvent; address: string }[];
  run(cond: () => boolean, maxMs?: number, what?: string): void;
}

function env(stack: StackOptions = {}, server: ServerOptions = {}, seed = seedFromEnv()): Env {
  const net = new SimNetwork({ seed });
  const node = net.addNode("client");
  const sn = net.addNode("dhcp");
  const s = new Stack({ dhcp: true, dhcpProbeMs: 500, ...stack }, node);
  node.attach(s);
  const srv = new DhcpServer(sn, server);
  sn.attach(srv);
  const events: Env["events"] = [];
  const d = s.dhcp;
  assert.ok(d !== null);
  d.onChange = function (e: DhcpEvent): void { events.push({ t: net.now, e, address: ipToString(s.address) }); };
  return {
    net, node, s, server: srv, events,
    run(cond, maxMs = 120_000, what = "condition"): void {
      const r = net.run({ until: cond, maxMs });
      assert.ok(cond(), `timed out waiting for ${what} (${r.reason} at ${r.timeMs} ms) [SEED=${seed}]`);
    },
  };
}

const bound = (e: Env) => (): boolean => e.s.dhcp!.state === DHCP_BOUND;
/** When the ACK of the last REQUEST arrived (the server answers at once, the link has no delay). */
const ackTime = (e: Env): number => e.server.of(DHCPREQUEST).at(-1)!.timeMs;

describe("dhcp client: acquiring a lease", () => {
  it("DISCOVER, OFFER, REQUEST, ACK: the stack gets address, mask, gateway and DNS; 'acquired' from poll()", () => {
    const e = env({}, { mask: "255.255.255.0", router: "192.0.2.254", dns: ["192.0.2.53", "192.0.2.54"] });
    assert.equal(e.s.address, 0);
    e.run(bound(e));
    const s = e.s;
    assert.equal(ipToString(s.address), "192.0.2.50");
    assert.equal(ipToString(s.netmask), "255.255.255.0");
    assert.equal(ipToString(s.gateway), "192.0.2.254");
    assert.deepEqual(s.dns.servers().map(ipToString), ["192.0.2.53", "192.0.2.54"]);
    assert.deepEqual(e.events.map((x) => [x.e, x.address]), [["acquired", "192.0.2.50"]]);
    const [disc] = e.server.of(DHCPDISCOVER);
    const [req] = e.server.of(DHCPREQUEST);
    assert.deepEqual([disc.src, disc.dst, disc.ciaddr], [0, 0xffffffff, 0]);
    assert.deepEqual([...disc.chaddr], [...s.mac]);
    // RFC 2131 §4.4.1 / Table 5: REQUEST in SELECTING: same xid, ciaddr 0, requested IP + server id.
    assert.deepEqual([req.xid, req.src, req.dst, req.ciaddr, ipToString(req.requested), ipToString(req.serverId)],
      [disc.xid, 0, 0xffffffff, 0, "192.0.2.50", "192.0.2.1"]);
    assert.ok(disc.raw.length >= 300, "BOOTP minimum size");
    const c = s.counters;
    assert.deepEqual([c.dhcpOutDiscovers, c.dhcpInOffers, c.dhcpOutRequests, c.dhcpInAcks, c.dhcpLeasesAcquired], [1, 1, 1, 1, 1]);
    assert.equal(s.internalErrors, 0);
  });

  it("probes the offered address by ARP (sender 0.0.0.0) before using it, then announces it", () => {
    const e = env({ dhcpProbeMs: 1000 });
    e.run(bound(e));
    e.net.run({ maxMs: 10 }); // the announcement reaches the server
    const ack = e.server.of(DHCPREQUEST)[0].timeMs;
    const arps = e.server.arpSeen.filter((a) => a.arpOp === ARP_REQUEST && a.tpa === parseIp("192.0.2.50"));
    const probes = arps.filter((a) => a.spa === 0);
    const announce = arps.filter((a) => a.spa === a.tpa);
    assert.equal(probes.length, 2);
    assert.equal(announce.length, 1);
    assert.ok(e.events[0].t - ack >= 1000, "bound only after dhcpProbeMs");
    assert.ok(announce[0] === arps[arps.length - 1]);
  });

  it("the offered address answers the probe: DECLINE, wait 10 s, start over, get another address", () => {
    const e = env();
    // Another host already uses .50 (it answers ARP for it).
    const squatter = new RawHost(e.net.addNode("squatter"), [parseIp("192.0.2.50")]);
    e.net.node("squatter").attach(squatter);
    e.run(bound(e));
    assert.equal(ipToString(e.s.address), "192.0.2.51");
    const [decline] = e.server.of(DHCPDECLINE);
    assert.ok(decline !== undefined);
    assert.equal(ipToString(decline.requested), "192.0.2.50");
    assert.equal(decline.serverId, e.server.serverIp);
    const discovers = e.server.of(DHCPDISCOVER);
    assert.equal(discovers.length, 2);
    assert.ok(discovers[1].timeMs - decline.timeMs >= 10_000, "RFC 2131 §3.1: at least 10 s after DECLINE");
    assert.equal(e.s.counters.dhcpConflicts, 1);
    assert.deepEqual(e.events.map((x) => x.e), ["acquired"]);
  });

  it("retransmits DISCOVER with exponential backoff 4, 8, 16, 32, 64, 64 s (±1 s)", () => {
    const e = env();
    e.server.silent = true;
    e.net.run({ maxMs: 200_000 });
    const t = e.server.of(DHCPDISCOVER).map((l) => l.timeMs);
    const gaps = t.slice(1).map((x, i) => x - t[i]);
    const want = [4000, 8000, 16000, 32000, 64000];
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(gaps[i] - want[i]) <= 1000, `gap ${i}: ${gaps[i]}`);
    assert.ok(gaps.slice(5).every((g) => Math.abs(g - 64000) <= 1000), `capped at 64 s: ${gaps}`);
    // secs counts from the start of the exchange.
    const secs = e.server.of(DHCPDISCOVER).map((l) => l.secs);
    assert.deepEqual(secs, t.map((x) => Math.floor((x - t[0]) / 1000)));
    assert.equal(e.s.dhcp!.state, DHCP_SELECTING);
    assert.equal(e.s.address, 0);
  });

  it("REQUEST unanswered: retried with backoff, then back to DISCOVER after 4 tries", () => {
    const e = env();
    e.server.ignoreRequests = 4;
    e.run(bound(e), 300_000);
    const reqs = e.server.of(DHCPREQUEST);
    assert.equal(reqs.length, 5);
    assert.equal(new Set(reqs.slice(0, 4).map((r) => r.xid)).size, 1, "one exchange, one xid");
    assert.notEqual(reqs[4].xid, reqs[0].xid, "a new exchange after giving up");
    assert.equal(e.server.count(DHCPDISCOVER), 2);
  });

  it("NAK while REQUESTING: back to DISCOVER with a new xid", () => {
    const e = env();
    e.server.nakRequests = true;
    e.run(() => e.server.count(DHCPDISCOVER) >= 2, 60_000, "second DISCOVER");
    e.server.nakRequests = false;
    e.run(bound(e));
    assert.ok(e.s.counters.dhcpInNaks >= 1);
    const d = e.server.of(DHCPDISCOVER);
    assert.notEqual(d[0].xid, d[1].xid);
    assert.deepEqual(e.events.map((x) => x.e), ["acquired"]);
  });

  it("config: dhcp with a static address is refused; without dhcp there is no client", () => {
    assert.throws(() => new Stack({ dhcp: true, address: "192.0.2.9" }, new RawHostDriver()), RangeError);
    assert.throws(() => new Stack({ dhcp: "yes" as unknown as boolean }, new RawHostDriver()), TypeError);
    assert.equal(new Stack({ address: "192.0.2.9" }, new RawHostDriver()).dhcp, null);
  });
});

describe("dhcp client: keeping the lease", () => {
  it("renews at T1 by unicast REQUEST (ciaddr set, no server id / requested IP); 'renewed'", () => {
    const e = env({}, { leaseS: 100 });
    e.run(bound(e));
    const t0 = ackTime(e);
    e.run(() => e.s.counters.dhcpLeasesRenewed >= 2, 300_000, "two renewals");
    const renewals = e.server.of(DHCPREQUEST).slice(1);
    const r = renewals[0];
    assert.equal(r.timeMs - t0, 50_000, "T1 = 0.5 * lease, from the ACK");
    assert.deepEqual([ipToString(r.src), ipToString(r.dst), ipToString(r.ciaddr), r.requested, r.serverId],
      ["192.0.2.50", "192.0.2.1", "192.0.2.50", 0, 0]);
    assert.deepEqual(e.events.map((x) => x.e), ["acquired", "renewed", "renewed"]);
    assert.equal(ipToString(e.s.address), "192.0.2.50");
    assert.equal(e.s.dhcp!.state, DHCP_BOUND);
  });

  it("server T1/T2 options are used when consistent", () => {
    const e = env({}, { leaseS: 1000, t1S: 100, t2S: 200 });
    e.run(bound(e));
    const t0 = ackTime(e);
    assert.equal(e.s.dhcp!.renewAt - t0, 100_000);
    assert.equal(e.s.dhcp!.rebindAt - t0, 200_000);
    assert.equal(e.s.dhcp!.leaseExpires - t0, 1_000_000);
    const f = env({}, { leaseS: 1000, t1S: 900, t2S: 800 });
    f.run(bound(f));
    const t1 = ackTime(f);
    assert.equal(f.s.dhcp!.renewAt - t1, 500_000, "inconsistent: defaults");
    assert.equal(f.s.dhcp!.rebindAt - t1, 875_000);
  });

  it("no answer in RENEWING: retries, then REBINDING by broadcast at T2; a server answers", () => {
    const e = env({ dhcpRetryMaxMs: 64000 }, { leaseS: 400 });
    e.run(bound(e));
    const t0 = ackTime(e);
    e.server.ignoreRenewals = true;
    e.run(() => e.s.dhcp!.state === DHCP_REBINDING, 400_000, "REBINDING");
    e.run(() => e.s.counters.dhcpLeasesRenewed >= 1, 400_000, "rebound");
    const reqs = e.server.of(DHCPREQUEST).slice(1);
    const unicast = reqs.filter((r) => r.dst !== 0xffffffff).map((r) => r.timeMs - t0);
    const bcast = reqs.filter((r) => r.dst === 0xffffffff);
    // T1 = 200 s, T2 = 350 s: retries at half the time left to T2, at least 60 s: 200, 275, 335; then T2.
    assert.deepEqual(unicast, [200_000, 275_000, 335_000]);
    assert.equal(bcast[0].timeMs - t0, 350_000);
    assert.equal(ipToString(bcast[0].ciaddr), "192.0.2.50");
    assert.equal(e.s.dhcp!.state, DHCP_BOUND);
    assert.deepEqual(e.events.map((x) => x.e), ["acquired", "renewed"]);
  });

  it("the server goes away: the lease expires, the address is removed ('lost'), DISCOVER again", () => {
    const e = env({}, { leaseS: 120 });
    e.run(bound(e));
    const t0 = ackTime(e);
    e.server.silent = true;
    e.run(() => e.events.length >= 2, 400_000, "lost");
    assert.deepEqual(e.events.map((x) => [x.e, x.address]), [["acquired", "192.0.2.50"], ["lost", "0.0.0.0"]]);
    assert.equal(e.events[1].t - t0, 120_000);
    assert.equal(e.s.address, 0);
    assert.equal(e.s.gateway, 0);
    assert.deepEqual(e.s.dns.servers(), []);
    assert.equal(e.s.counters.dhcpLeasesLost, 1);
    e.net.run({ maxMs: 1000 });
    assert.ok(e.server.of(DHCPDISCOVER).some((d) => d.timeMs >= t0 + 120_000));
    // The server comes back: a new lease.
    e.server.silent = false;
    e.run(bound(e), 200_000);
    assert.deepEqual(e.events.map((x) => x.e), ["acquired", "lost", "acquired"]);
  });

  it("NAK while RENEWING: the lease is lost at once", () => {
    const e = env({}, { leaseS: 100 });
    e.run(bound(e));
    e.server.nakRequests = true;
    e.run(() => e.events.length >= 2, 100_000, "lost");
    assert.equal(e.s.dhcp!.state === DHCP_RENEWING, false);
    assert.deepEqual(e.events.map((x) => x.e), ["acquired", "lost"]);
    assert.equal(e.s.address, 0);
  });

  it("release(): DHCPRELEASE to the server, the address goes, 'lost'; start() gets a new lease", () => {
    const e = env();
    e.run(bound(e));
    e.net.schedule(e.net.now + 10, () => e.s.dhcp!.release(e.net.now));
    e.net.run({ maxMs: 1000 });
    const [rel] = e.server.of(DHCPRELEASE);
    assert.deepEqual([ipToString(rel.ciaddr), ipToString(rel.dst), ipToString(rel.serverId)], ["192.0.2.50", "192.0.2.1", "192.0.2.1"]);
    assert.equal(e.s.address, 0);
    assert.equal(e.s.dhcp!.stateName, "STOPPED");
    e.net.run({ maxMs: 100_000 });
    assert.equal(e.server.count(DHCPDISCOVER), 1, "stopped: nothing sent");
    e.net.schedule(e.net.now, () => e.s.dhcp!.start(e.net.now));
    e.run(bound(e));
    assert.deepEqual(e.events.map((x) => x.e), ["acquired", "lost", "acquired"]);
  });
});

describe("dhcp client: hostile and broken servers", () => {
  it("wrong xid, wrong chaddr, wrong op, bad cookie, truncated, options past the end, wrong port: counted, ignored", () => {
    const e = env();
    let injected = false;
    e.server.extra = (req, srv) => {
      if (req.type !== DHCPDISCOVER || injected) return [];
      injected = true;
      const base = { type: DHCPOFFER, xid: req.xid, yiaddr: parseIp("192.0.2.99"), chaddr: req.chaddr, options: srv.leaseOptions(DHCPOFFER) };
      const frames: Uint8Array[] = [];
      const add = (m: Uint8Array, sport = 67): void => {
        frames.push(srv.frameFor({ ...base }, req));
        const f = frames[frames.length - 1];
        // Replace the payload: rebuild with the hostile bytes.
        frames[frames.length - 1] = rebuild(f, m, sport);
      };
      add(buildReply({ ...base, xid: (req.xid + 1) >>> 0 }, srv.serverIp));
      add(buildReply({ ...base, chaddr: new Uint8Array([2, 9, 9, 9, 9, 9]) }, srv.serverIp));
      add(buildReply({ ...base, op: 1 }, srv.serverIp));
      add(buildReply({ ...base, hlen: 16 }, srv.serverIp));
      add(buildReply({ ...base, cookie: 0x63825364 }, srv.serverIp));
      add(buildReply(base, srv.serverIp).slice(0, 200));
      add(buildReply(base, srv.serverIp).slice(0, 239));
      const past = buildReply(base, srv.serverIp);
      past[240 + 1] = 200; // the first option claims 200 bytes: past the end
      add(past.slice(0, 300));
      const badLen = buildReply({ ...base, options: [[53, new Uint8Array([2, 2])], ...base.options.slice(1)] }, srv.serverIp);
      add(badLen);
      add(buildReply(base, srv.serverIp), 6767);
      return frames;
    };
    e.run(bound(e));
    assert.equal(ipToString(e.s.address), "192.0.2.50", "only the real offer was taken");
    const c = e.s.counters;
    assert.equal(c.dhcpInNotOurs, 4);
    assert.equal(c.dhcpInMalformed, 4);
    assert.equal(c.dhcpInBadOptions, 1);
    assert.equal(c.dhcpInBadPort, 1);
    assert.equal(e.s.internalErrors, 0);
  });

  it("offers with impossible values are refused: yiaddr 0/broadcast/loopback, no server id, bad mask, lease 0", () => {
    const bad: [string, (o: Parameters<NonNullable<DhcpServer["mutate"]>>[0]) => void][] = [
      ["yiaddr 0", (r) => { r.yiaddr = 0; }],
      ["yiaddr broadcast", (r) => { r.yiaddr = 0xffffffff; }],
      ["yiaddr loopback", (r) => { r.yiaddr = parseIp("127.0.0.1"); }],
      ["yiaddr multicast", (r) => { r.yiaddr = parseIp("224.0.0.1"); }],
      ["no server id", (r) => { r.options = r.options.filter(([c]) => c !== OPT_SERVER_ID); }],
      ["non-contiguous mask", (r) => { r.options = r.options.map(([c, v]) => (c === OPT_SUBNET_MASK ? [c, u32(0xff00ff00)] : [c, v])); }],
      ["subnet broadcast address", (r) => { r.yiaddr = parseIp("192.0.2.255"); }],
      ["lease 0", (r) => { r.options = r.options.map(([c, v]) => (c === OPT_LEASE_TIME ? [c, u32(0)] : [c, v])); }],
    ];
    for (const [what, f] of bad) {
      const e = env();
      let n = 0;
      e.server.mutate = (r) => { if (r.type === DHCPOFFER && n++ === 0) f(r); return r; };
      e.run(bound(e), 120_000, what);
      assert.equal(e.s.counters.dhcpInBadOptions, 1, what);
      assert.equal(e.server.count(DHCPDISCOVER), 2, `${what}: ignored, DISCOVER retransmitted`);
      assert.equal(ipToString(e.s.address), "192.0.2.50");
    }
  });

  it("an ACK without a lease time is refused (RFC 2131 Table 3); an ACK from another server is ignored", () => {
    const e = env();
    let n = 0;
    e.server.mutate = (r) => {
      if (r.type !== DHCPACK) return r;
      n++;
      if (n === 1) r.options = r.options.filter(([c]) => c !== OPT_LEASE_TIME);
      if (n === 2) r.options = r.options.map(([c, v]) => (c === OPT_SERVER_ID ? [c, u32(parseIp("192.0.2.7"))] : [c, v]));
      return r;
    };
    e.run(bound(e));
    assert.equal(e.s.counters.dhcpInBadOptions, 1);
    assert.equal(e.s.counters.dhcpInUnexpected, 1);
    assert.equal(e.server.count(DHCPREQUEST), 3);
  });

  it("random mutations of the server's replies never throw and never bind a bad lease (SEED)", () => {
    const seed = seedFromEnv();
    for (let round = 0; round < 20; round++) {
      const e = env({}, {}, (seed + round) >>> 0);
      let k = 0;
      const rng = { x: (seed + round * 7919) >>> 0, next(): number { this.x = (this.x * 1103515245 + 12345) >>> 0; return this.x; } };
      e.server.extra = (req, srv) => {
        if (k++ > 30) return [];
        const r = { type: req.type === DHCPDISCOVER ? DHCPOFFER : DHCPACK, xid: req.xid, yiaddr: parseIp("192.0.2.60"), chaddr: req.chaddr, options: srv.leaseOptions(req.type === DHCPDISCOVER ? DHCPOFFER : DHCPACK) };
        const m = buildReply(r, srv.serverIp);
        for (let j = 0; j < 1 + (rng.next() % 8); j++) m[236 + (rng.next() % (m.length - 236))] = rng.next() & 0xff;
        const cut = rng.next() % 3 === 0 ? m.slice(0, 236 + (rng.next() % (m.length - 236))) : m;
        return [rebuild(srv.frameFor(r, req), cut, 67)];
      };
      e.net.run({ maxMs: 200_000 });
      assert.equal(e.s.internalErrors, 0, `${String(e.s.lastInternalError)} [SEED=${seed}]`);
      const a = e.s.address;
      if (a !== 0) {
        const top = a >>> 24;
        assert.ok(top !== 0 && top !== 127 && top < 224, `bound to ${ipToString(a)} [SEED=${seed}]`);
      }
    }
  });

  it("ARP conflict seen from a probing host (someone else probes the same address) also declines", () => {
    const e = env({ dhcpProbeMs: 2000 });
    e.server.extra = (req, srv) => {
      if (req.type !== DHCPREQUEST || srv.count(DHCPREQUEST) !== 1) return [];
      // Another client probes for .50 while we probe (after the ACK).
      srv.send(arpFrame(ARP_REQUEST, new Uint8Array([2, 7, 7, 7, 7, 7]), 0, BROADCAST_MAC, new Uint8Array(6), parseIp("192.0.2.50")), srv.now + 300);
      return [];
    };
    e.run(bound(e), 120_000);
    assert.equal(e.s.counters.dhcpConflicts, 1);
    assert.equal(e.server.count(DHCPDECLINE), 1);
    assert.equal(ipToString(e.s.address), "192.0.2.51");
  });
});

/** A minimal Driver for config checks. */
class RawHostDriver {
  readonly mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
  readonly mtu = 1500;
  transmit(): boolean { return true; }
  random(into: Uint8Array): void { into.fill(7); }
}

/** The frame f (Ethernet + IPv4 + UDP) with its UDP payload replaced by m and source port sport. */
function rebuild(f: Uint8Array, m: Uint8Array, sport: number): Uint8Array {
  const p = parseFrame(f);
  return udpFrame({ dstMac: p.dstMac, srcMac: p.srcMac, src: p.src, dst: p.dst, sport, dport: p.dport, data: m });
}
