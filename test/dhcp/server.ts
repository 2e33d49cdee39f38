/**
 * A scripted DHCP server for the simulator (RFC 2131 server side, just enough): a pool of addresses,
 * OFFER/ACK/NAK, DECLINE and RELEASE handling, unicast replies to yiaddr/chaddr (broadcast for NAK).
 * Every received message is logged. Hostile behaviour comes from `mutate` (rewrite or replace the
 * reply bytes, or send extra frames) and the switches below.
 */
import type { SimNode } from "../../host-sim/simnet.js";
import { get32, parseIp } from "../../src/wire/bytes.js";
import {
  BOOTREPLY, CHADDR, CIADDR, COOKIE, DHCP_CLIENT_PORT, DHCP_FIXED_LEN, DHCP_OK, DHCP_SERVER_PORT, DHCPACK,
  DHCPDECLINE, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPRELEASE, DHCPREQUEST, DhcpOptions, FLAGS, HLEN, HTYPE,
  MAGIC_COOKIE, OP, OPT_DNS, OPT_END, OPT_LEASE_TIME, OPT_MSG_TYPE, OPT_ROUTER, OPT_SERVER_ID, OPT_SUBNET_MASK,
  OPT_T1, OPT_T2, parseDhcp, SECS, XID, YIADDR,
} from "../../src/dhcp/wire.js";
import { BROADCAST_MAC, type Datagram, RawHost, udpFrame, type Outgoing } from "../udp/raw.js";

export interface Logged {
  timeMs: number;
  type: number;
  xid: number;
  secs: number;
  ciaddr: number;
  requested: number;
  serverId: number;
  /** IP source/destination of the datagram. */
  src: number;
  dst: number;
  chaddr: Uint8Array;
  /** The raw BOOTP message. */
  raw: Uint8Array;
}

export interface ServerOptions {
  serverIp?: string;
  pool?: string[];
  mask?: string;
  router?: string | null;
  dns?: string[];
  leaseS?: number;
  t1S?: number;
  t2S?: number;
  /** Omit options from every reply (by code). */
  omit?: number[];
}

/** [code, value bytes] */
export type Option = [number, Uint8Array];

export interface Reply {
  type: number;
  xid: number;
  yiaddr: number;
  chaddr: Uint8Array;
  options: Option[];
  /** Override fields after building: a hostile server's tool. */
  op?: number;
  cookie?: number;
  hlen?: number;
}

const u32 = (v: number): Uint8Array => new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);

/** BOOTP reply bytes. */
export function buildReply(r: Reply, serverIp: number): Uint8Array {
  let len = DHCP_FIXED_LEN + 1;
  for (const [, v] of r.options) len += 2 + v.length;
  const m = new Uint8Array(Math.max(len, 300));
  m[OP] = r.op ?? BOOTREPLY;
  m[HTYPE] = 1;
  m[HLEN] = r.hlen ?? 6;
  m.set(u32(r.xid), XID);
  m.set(u32(r.yiaddr), YIADDR);
  m.set(u32(serverIp), 20);
  m.set(r.chaddr.subarray(0, 6), CHADDR);
  m.set(u32(r.cookie ?? MAGIC_COOKIE), COOKIE);
  let p = DHCP_FIXED_LEN;
  for (const [code, v] of r.options) { m[p] = code; m[p + 1] = v.length; m.set(v, p + 2); p += 2 + v.length; }
  m[p] = OPT_END;
  return m;
}

export class DhcpServer extends RawHost {
  readonly serverIp: number;
  pool: number[];
  mask: number;
  router: number;
  dns: number[];
  leaseS: number;
  t1S: number | undefined;
  t2S: number | undefined;
  omit: number[];
  readonly log: Logged[] = [];
  /** Address held per client MAC. */
  readonly leases = new Map<string, number>();
  /** Addresses declined by a client: never offered again. */
  readonly declined = new Set<number>();
  /** Drop every message (a dead server). */
  silent = false;
  /** Answer REQUESTs with NAK. */
  nakRequests = false;
  /** Ignore the next n REQUESTs. */
  ignoreRequests = 0;
  /** Ignore REQUESTs sent by unicast (renewals) only. */
  ignoreRenewals = false;
  /** Rewrite the reply (or return null to send nothing / extra frames via `extra`). */
  mutate: ((r: Reply, req: Logged) => Reply | null) | null = null;
  /** Raw frames to send before the reply (hostile injections). */
  extra: ((req: Logged, server: DhcpServer) => Uint8Array[]) | null = null;

  constructor(node: SimNode, o: ServerOptions = {}) {
    const ip = parseIp(o.serverIp ?? "192.0.2.1");
    super(node, [ip]);
    this.serverIp = ip;
    this.pool = (o.pool ?? ["192.0.2.50", "192.0.2.51", "192.0.2.52"]).map(parseIp);
    this.mask = parseIp(o.mask ?? "255.255.255.0");
    this.router = o.router === null ? 0 : parseIp(o.router ?? "192.0.2.1");
    this.dns = (o.dns ?? ["192.0.2.1"]).map(parseIp);
    this.leaseS = o.leaseS ?? 3600;
    this.t1S = o.t1S;
    this.t2S = o.t2S;
    this.omit = o.omit ?? [];
    this.onDatagram = (d) => this.handle(d);
  }

  /** Messages of `type` received. */
  count(type: number): number { return this.log.filter((l) => l.type === type).length; }
  of(type: number): Logged[] { return this.log.filter((l) => l.type === type); }

  private handle(d: Datagram): Outgoing[] {
    if (d.dport !== DHCP_SERVER_PORT) return [];
    const o = new DhcpOptions();
    if (parseDhcp(d.data, 0, d.data.length, o) !== DHCP_OK) return [];
    const m = d.data;
    const req: Logged = {
      timeMs: d.timeMs, type: o.msgType, xid: get32(m, XID), secs: (m[SECS] << 8) | m[SECS + 1], ciaddr: get32(m, CIADDR),
      requested: o.requestedIp < 0 ? 0 : o.requestedIp, serverId: o.serverId < 0 ? 0 : o.serverId,
      src: d.src, dst: d.dst, chaddr: m.slice(CHADDR, CHADDR + 6), raw: m,
    };
    this.log.push(req);
    if (this.silent) return [];
    const key = Array.from(req.chaddr).join(":");
    const out: Outgoing[] = [];
    if (this.extra !== null) for (const f of this.extra(req, this)) out.push({ frame: f });
    let reply: Reply | null = null;
    switch (req.type) {
      case DHCPDISCOVER: {
        const ip = this.leases.get(key) ?? this.pool.find((a) => !this.declined.has(a) && ![...this.leases.values()].includes(a));
        if (ip === undefined) return out;
        this.leases.set(key, ip);
        reply = { type: DHCPOFFER, xid: req.xid, yiaddr: ip, chaddr: req.chaddr, options: this.leaseOptions(DHCPOFFER) };
        break;
      }
      case DHCPREQUEST: {
        if (this.ignoreRequests > 0) { this.ignoreRequests--; return out; }
        if (this.ignoreRenewals && req.dst !== 0xffffffff) return out;
        if (req.serverId !== 0 && req.serverId !== this.serverIp) { this.leases.delete(key); return out; }
        const want = req.requested !== 0 ? req.requested : req.ciaddr;
        const held = this.leases.get(key);
        if (this.nakRequests || held === undefined || held !== want) {
          reply = { type: DHCPNAK, xid: req.xid, yiaddr: 0, chaddr: req.chaddr, options: [[OPT_SERVER_ID, u32(this.serverIp)]] };
        } else {
          reply = { type: DHCPACK, xid: req.xid, yiaddr: want, chaddr: req.chaddr, options: this.leaseOptions(DHCPACK) };
        }
        break;
      }
      case DHCPDECLINE:
        this.declined.add(req.requested);
        this.leases.delete(key);
        return out;
      case DHCPRELEASE:
        this.leases.delete(key);
        return out;
      default:
        return out;
    }
    if (this.mutate !== null) reply = this.mutate(reply, req);
    if (reply === null) return out;
    out.push({ frame: this.frameFor(reply, req) });
    return out;
  }

  /** Options of an OFFER/ACK (minus `omit`). */
  leaseOptions(type: number): Option[] {
    const o: Option[] = [[OPT_MSG_TYPE, new Uint8Array([type])], [OPT_SERVER_ID, u32(this.serverIp)],
      [OPT_LEASE_TIME, u32(this.leaseS)], [OPT_SUBNET_MASK, u32(this.mask)]];
    if (this.router !== 0) o.push([OPT_ROUTER, u32(this.router)]);
    if (this.dns.length > 0) { const v = new Uint8Array(4 * this.dns.length); this.dns.forEach((a, i) => v.set(u32(a), 4 * i)); o.push([OPT_DNS, v]); }
    if (this.t1S !== undefined) o.push([OPT_T1, u32(this.t1S)]);
    if (this.t2S !== undefined) o.push([OPT_T2, u32(this.t2S)]);
    return o.filter(([c]) => c === OPT_MSG_TYPE || !this.omit.includes(c));
  }

  /** The frame carrying `r`: NAK broadcast; OFFER/ACK unicast to ciaddr or yiaddr at chaddr (RFC 2131 §4.1). */
  frameFor(r: Reply, req: Logged): Uint8Array {
    const hasType = r.options.some(([c]) => c === OPT_MSG_TYPE);
    const msg = buildReply({ ...r, options: hasType ? r.options : [[OPT_MSG_TYPE, new Uint8Array([r.type])], ...r.options] }, this.serverIp);
    const bcast = r.type === DHCPNAK || ((req.raw[FLAGS] & 0x80) !== 0);
    const dst = bcast ? 0xffffffff : req.ciaddr !== 0 ? req.ciaddr : r.yiaddr;
    return udpFrame({
      dstMac: bcast ? BROADCAST_MAC : req.chaddr, srcMac: this.mac, src: this.serverIp, dst,
      sport: DHCP_SERVER_PORT, dport: DHCP_CLIENT_PORT, data: msg,
    });
  }
}

export { u32 };
