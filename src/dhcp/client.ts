/**
 * DHCP client (RFC 2131 §4.4, options RFC 2132): gets the stack's address, netmask, gateway and DNS
 * servers when the config says `dhcp: true`.
 *
 *   INIT -> SELECTING -(OFFER)-> REQUESTING -(ACK)-> PROBING -> BOUND -(T1)-> RENEWING -(T2)-> REBINDING
 *   NAK in REQUESTING/RENEWING/REBINDING, or the lease running out -> INIT.
 *   An ARP reply for the offered address while PROBING (RFC 2131 §4.4.1, RFC 5227) -> DECLINE, INIT
 *   again after 10 s (§3.1 step 5).
 *
 * - Retransmission (§4.1): dhcpRetryMs doubling to dhcpRetryMaxMs, randomized by up to ±1 s (a quarter
 *   of the timeout when that is smaller). REQUESTING gives up after 4 tries and starts over.
 *   RENEWING/REBINDING retry at half the time left to T2 / expiry, at least 60 s (§4.4.5).
 * - Messages are parsed in place inside input() (UdpReceiver); what to send is decided there and sent
 *   from poll(). Events for the application ("acquired", "renewed", "lost") run from poll() only.
 * - Not done: INIT-REBOOT (remembering a lease across restarts), DHCPINFORM, the initial 1-10 s
 *   random wait of §4.4.1, defending the address after binding (RFC 5227 §2.4).
 */
import type { Counters } from "../counters.js";
import type { Stack } from "../stack.js";
import { UDP_DATA, type UdpReceiver } from "../udp/udp.js";
import {
  BOOTREPLY, chaddrIs, DHCP_CLIENT_PORT, DHCP_MIN_LEN, DHCP_OK, DHCP_SERVER_PORT, DHCPACK, DHCPDECLINE,
  DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPRELEASE, DHCPREQUEST, DhcpOptions, dhcpXid, dhcpYiaddr, emitDhcpHeader,
  HLEN, HTYPE, HTYPE_ETHERNET, OP, OPT_CLIENT_ID, OPT_END, OPT_MAX_SIZE, OPT_MSG_TYPE, OPT_PARAM_LIST,
  OPT_REQUESTED_IP, OPT_SERVER_ID, parseDhcp, putOption16, putOption32, putOption8, DHCP_BAD_OPTION,
  OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE_TIME, OPT_T1, OPT_T2,
} from "./wire.js";

/** Client states (RFC 2131 Figure 5), plus PROBING (the ARP check) and STOPPED (after release()). */
export const DHCP_INIT = 0;
export const DHCP_SELECTING = 1;
export const DHCP_REQUESTING = 2;
export const DHCP_PROBING = 3;
export const DHCP_BOUND = 4;
export const DHCP_RENEWING = 5;
export const DHCP_REBINDING = 6;
export const DHCP_STOPPED = 7;

const STATE_NAMES = ["INIT", "SELECTING", "REQUESTING", "PROBING", "BOUND", "RENEWING", "REBINDING", "STOPPED"] as const;
export type DhcpStateName = typeof STATE_NAMES[number];

/** What the application hears, from Stack.poll(). */
export type DhcpEvent = "acquired" | "renewed" | "lost";
export type DhcpCallback = (this: DhcpClient, event: DhcpEvent) => void;

const EV_LOST = 1;
const EV_ACQUIRED = 2;
const EV_RENEWED = 4;

/** What poll() must send next. */
const TX_NONE = 0;
const TX_DISCOVER = 1;
const TX_REQUEST = 2;
const TX_DECLINE = 3;

/** REQUEST tries in REQUESTING before starting over (4 s + 8 s + 16 s + 32 s with the defaults). */
const MAX_REQUESTS = 4;
/** §3.1 step 5: wait at least 10 s after a DECLINE. */
const DECLINE_WAIT_MS = 10000;
/** §4.4.5: renewal/rebinding retransmissions no closer than 60 s. */
const RENEW_MIN_RETRY_MS = 60000;
/** Probes sent during dhcpProbeMs. */
const PROBES = 2;
/** Infinite lease (RFC 2131 §3.3). */
const INFINITE = 0xffffffff;

/** Option 55: subnet mask, router, DNS, lease time, T1, T2. */
const PARAMS = [OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE_TIME, OPT_T1, OPT_T2];

export class DhcpClient implements UdpReceiver {
  readonly stack: Stack;
  readonly c: Counters;
  /** Called from Stack.poll() when the lease is acquired, renewed or lost; null = nobody listens. */
  onChange: DhcpCallback | null = null;
  /** Exceptions thrown by onChange (counted; the stack keeps running). */
  callbackErrors = 0;
  lastCallbackError: unknown = null;

  #state = DHCP_INIT;
  #slot: number;
  #xid = 0;
  #started = 0;
  /** Next action (send, retransmit, state change), absolute ms. */
  #deadline = 0;
  #rto = 0;
  #tries = 0;
  #tx = TX_NONE;
  #events = 0;
  /** The last time seen (input, poll, commands): the deadline while something is owed. */
  #now = 0;
  readonly #rnd = new Uint8Array(4);
  readonly #opts = new DhcpOptions();

  // The offer / lease.
  #offered = 0;
  #server = 0;
  #mask = 0;
  #router = 0;
  readonly #dns = new Uint32Array(3);
  #dnsCount = 0;
  #t1At = Infinity;
  #t2At = Infinity;
  #expiresAt = Infinity;
  #probeStart = 0;
  #probes = 0;

  constructor(stack: Stack) {
    this.stack = stack;
    this.c = stack.counters;
    const s = stack.udpLayer.openInternal(DHCP_CLIENT_PORT, this, 0);
    if (s < 0) throw new Error("DHCP: port 68 unavailable");
    this.#slot = s;
  }

  // ---------------------------------------------------------------- getters

  get state(): number { return this.#state; }
  get stateName(): DhcpStateName { return STATE_NAMES[this.#state]; }
  /** True while the stack's address comes from a valid lease. */
  get bound(): boolean { return this.#state === DHCP_BOUND || this.#state === DHCP_RENEWING || this.#state === DHCP_REBINDING; }
  /** The server (its identifier, option 54) that gave the lease; 0 = none. */
  get server(): number { return this.#server; }
  /** When the lease ends, absolute ms (Infinity: none, or an infinite lease). */
  get leaseExpires(): number { return this.bound ? this.#expiresAt : Infinity; }
  get renewAt(): number { return this.bound ? this.#t1At : Infinity; }
  get rebindAt(): number { return this.bound ? this.#t2At : Infinity; }
  /** DNS servers of the lease (a copy: for display, not the hot path). */
  get dnsServers(): number[] { return Array.from(this.#dns.subarray(0, this.#dnsCount)); }
  /** When poll() next has work (absolute ms; Infinity: none). */
  get deadline(): number { return this.#tx !== TX_NONE || this.#events !== 0 ? this.#now : this.#deadline; }
  /** The UDP slot of port 68. */
  get slot(): number { return this.#slot; }

  // ---------------------------------------------------------------- commands

  /** Give the lease back (DHCPRELEASE, RFC 2131 §4.4.6) and stop; start() begins again. */
  release(now: number): void {
    this.#now = now;
    if (this.bound) {
      const n = this.build(DHCPRELEASE, this.stack.address, 0, this.#server, now);
      this.c.dhcpOutReleases++;
      this.stack.udpLayer.sendPrepared(DHCP_CLIENT_PORT, this.#server, DHCP_SERVER_PORT, n, now);
      this.lose();
    }
    this.#state = DHCP_STOPPED;
    this.#tx = TX_NONE;
    this.#deadline = now; // poll() delivers "lost", then has nothing to do
    this.wake();
  }

  /** Start over from INIT (after release(), or to force a new lease). */
  start(now: number): void {
    this.#now = now;
    if (this.bound) this.lose();
    this.restart(now);
    this.wake();
  }

  // ---------------------------------------------------------------- input

  /** One datagram on port 68 (inside input(): decide, never send, never call the application). */
  udpReceive(_tag: number, b: Uint8Array, at: number, len: number, src: number, srcPort: number, _dst: number, now: number): void {
    const c = this.c;
    this.#now = now;
    if (srcPort !== DHCP_SERVER_PORT) { c.dhcpInBadPort++; return; }
    if (len < 236 || b[at + OP] !== BOOTREPLY) { if (len < 236) c.dhcpInMalformed++; else c.dhcpInNotOurs++; return; }
    if (b[at + HTYPE] !== HTYPE_ETHERNET || b[at + HLEN] !== 6 || dhcpXid(b, at) !== this.#xid ||
        !chaddrIs(b, at, this.stack.mac)) { c.dhcpInNotOurs++; return; }
    const o = this.#opts;
    const r = parseDhcp(b, at, len, o);
    if (r !== DHCP_OK) { if (r === DHCP_BAD_OPTION) c.dhcpInBadOptions++; else c.dhcpInMalformed++; return; }
    const type = o.msgType;
    if (type === DHCPOFFER) c.dhcpInOffers++;
    else if (type === DHCPACK) c.dhcpInAcks++;
    else if (type === DHCPNAK) c.dhcpInNaks++;
    else if (type < 0) { c.dhcpInMalformed++; return; }
    const st = this.#state;
    if (st === DHCP_SELECTING && type === DHCPOFFER) this.offer(b, at, now);
    else if ((st === DHCP_REQUESTING || st === DHCP_RENEWING || st === DHCP_REBINDING) && type === DHCPACK) this.ack(b, at, src, now);
    else if ((st === DHCP_REQUESTING || st === DHCP_RENEWING || st === DHCP_REBINDING) && type === DHCPNAK) this.nak(now);
    else c.dhcpInUnexpected++;
  }

  /** SELECTING + a valid OFFER: take it (the first one, as lwIP does) and REQUEST it. */
  private offer(b: Uint8Array, at: number, now: number): void {
    const o = this.#opts;
    const yi = dhcpYiaddr(b, at);
    if (!usableAddress(yi) || o.serverId <= 0 || !this.leaseOptionsOk(yi)) { this.c.dhcpInBadOptions++; return; }
    this.#offered = yi;
    this.#server = o.serverId;
    this.#state = DHCP_REQUESTING;
    this.#tries = 0;
    this.#rto = this.stack.config.dhcpRetryMs;
    this.#tx = TX_REQUEST;
    this.#deadline = now;
  }

  /** Mask, lease and T1/T2 of the message in #opts make sense for `addr`. */
  private leaseOptionsOk(addr: number): boolean {
    const o = this.#opts;
    if (o.subnetMask >= 0) {
      const inv = (~o.subnetMask) >>> 0;
      const host = (addr & inv) >>> 0;
      if (((inv + 1) & inv) !== 0 || o.subnetMask === 0 || inv === 0 || host === inv || host === 0) return false;
    }
    if (o.leaseTime === 0) return false;
    return true;
  }

  private ack(b: Uint8Array, at: number, src: number, now: number): void {
    const o = this.#opts;
    const st = this.#state;
    // In REQUESTING and RENEWING only the server we chose (or asked) may answer.
    const from = o.serverId > 0 ? o.serverId : src;
    if (st !== DHCP_REBINDING && from !== this.#server) { this.c.dhcpInUnexpected++; return; }
    const yi = dhcpYiaddr(b, at);
    // The lease time is required in an ACK to a REQUEST (RFC 2131 Table 3).
    if (!usableAddress(yi) || o.leaseTime < 0 || !this.leaseOptionsOk(yi)) { this.c.dhcpInBadOptions++; return; }
    if (st === DHCP_REBINDING && o.serverId > 0) this.#server = o.serverId;
    this.#offered = yi;
    this.#mask = o.subnetMask >= 0 ? o.subnetMask : classfulMask(yi);
    this.#router = o.router > 0 && usableAddress(o.router) ? o.router : 0;
    this.#dnsCount = 0;
    for (let k = 0; k < o.dnsCount && this.#dnsCount < this.#dns.length; k++) {
      if (usableAddress(o.dns[k])) this.#dns[this.#dnsCount++] = o.dns[k];
    }
    this.setTimes(now);
    if (st === DHCP_REQUESTING) {
      this.#tx = TX_NONE;
      if (this.stack.config.dhcpProbeMs > 0) {
        this.#state = DHCP_PROBING;
        this.#probeStart = now;
        this.#probes = 0;
        this.#deadline = now;
      } else this.bind();
      return;
    }
    // RENEWING / REBINDING: the lease goes on (or moves to a new address).
    if (yi !== this.stack.address) { this.lose(); this.bind(); return; }
    this.apply();
    this.#state = DHCP_BOUND;
    this.#tx = TX_NONE;
    this.#deadline = this.#t1At;
    this.c.dhcpLeasesRenewed++;
    this.#events |= EV_RENEWED;
  }

  /** T1, T2 and expiry from #opts (RFC 2131 §4.4.5: defaults 0.5 and 0.875 of the lease). */
  private setTimes(now: number): void {
    const o = this.#opts;
    const lease = o.leaseTime;
    if (lease === INFINITE) { this.#t1At = this.#t2At = this.#expiresAt = Infinity; return; }
    let t1 = lease * 500, t2 = lease * 875;
    // Server values only when they keep T1 < T2 < lease.
    const s1 = o.t1 >= 0 ? o.t1 * 1000 : t1, s2 = o.t2 >= 0 ? o.t2 * 1000 : t2;
    if (s1 < s2 && s2 < lease * 1000) { t1 = s1; t2 = s2; }
    else if (o.t2 < 0 && s1 < t2) t1 = s1;
    else if (o.t1 < 0 && t1 < s2 && s2 < lease * 1000) t2 = s2;
    this.#t1At = now + t1;
    this.#t2At = now + t2;
    this.#expiresAt = now + lease * 1000;
  }

  private nak(now: number): void {
    if (this.#state !== DHCP_REBINDING && this.#opts.serverId > 0 && this.#opts.serverId !== this.#server) {
      this.c.dhcpInUnexpected++;
      return;
    }
    if (this.bound) this.lose();
    this.restart(now);
  }

  /** Called by the stack for every ARP packet (inside input()). */
  arpSeen(op: number, spa: number, tpa: number, now: number): void {
    if (this.#state !== DHCP_PROBING) return;
    this.#now = now;
    const a = this.#offered;
    // Someone has the address, or is probing for it too (RFC 5227 §2.1.1).
    if (spa === a || (op === 1 && spa === 0 && tpa === a)) {
      this.c.dhcpConflicts++;
      this.#tx = TX_DECLINE;
      this.#deadline = now;
    }
  }

  // ---------------------------------------------------------------- poll

  /** Timers, sends, events. Returns the next deadline. */
  poll(now: number): number {
    this.#now = now;
    // Something owed (a REQUEST after an OFFER, a DECLINE) goes first; else the timer may act.
    if (this.#tx === TX_NONE && now >= this.#deadline) this.due(now);
    if (this.#tx !== TX_NONE) this.transmit(now);
    const ev = this.#events;
    if (ev !== 0) {
      this.#events = 0;
      if ((ev & EV_LOST) !== 0) this.tell("lost");
      if ((ev & EV_ACQUIRED) !== 0) this.tell("acquired");
      if ((ev & EV_RENEWED) !== 0) this.tell("renewed");
    }
    return this.#deadline;
  }

  /** Call onChange; an exception in application code is counted, not propagated. */
  private tell(ev: DhcpEvent): void {
    const f = this.onChange;
    if (f === null) return;
    try {
      f.call(this, ev);
    } catch (e) {
      this.callbackErrors++;
      this.lastCallbackError = e;
    }
  }

  /** Work became pending outside poll(): ask the platform to poll soon (Stack.onWake). */
  private wake(): void {
    const w = this.stack.onWake;
    if (w !== null) w();
  }

  /** The deadline came: retransmit or change state. */
  private due(now: number): void {
    switch (this.#state) {
      case DHCP_INIT:
        this.newXid(now);
        this.#state = DHCP_SELECTING;
        this.#rto = this.stack.config.dhcpRetryMs;
        this.#tx = TX_DISCOVER;
        break;
      case DHCP_SELECTING:
        this.c.dhcpRetransmits++;
        this.backoff();
        this.#tx = TX_DISCOVER;
        break;
      case DHCP_REQUESTING:
        if (this.#tries >= MAX_REQUESTS) { this.restart(now); return; }
        this.c.dhcpRetransmits++;
        this.backoff();
        this.#tx = TX_REQUEST;
        break;
      case DHCP_PROBING: {
        const probeMs = this.stack.config.dhcpProbeMs;
        if (this.#probes < PROBES) {
          this.stack.arpProbe(this.#offered);
          this.#probes++;
          this.#deadline = this.#probeStart + (probeMs * this.#probes) / PROBES;
        } else this.bind();
        break;
      }
      case DHCP_BOUND:
        this.newXid(now);
        this.#state = DHCP_RENEWING;
        this.#tx = TX_REQUEST;
        break;
      case DHCP_RENEWING:
        if (now >= this.#t2At) { this.newXid(now); this.#state = DHCP_REBINDING; }
        else this.c.dhcpRetransmits++;
        this.#tx = TX_REQUEST;
        break;
      case DHCP_REBINDING:
        if (now >= this.#expiresAt) { this.lose(); this.restart(now); return; }
        this.c.dhcpRetransmits++;
        this.#tx = TX_REQUEST;
        break;
      default:
        this.#deadline = Infinity;
        break;
    }
  }

  /** Send what is owed and set the retransmission deadline. */
  private transmit(now: number): void {
    const what = this.#tx;
    this.#tx = TX_NONE;
    const u = this.stack.udpLayer;
    const st = this.#state;
    if (what === TX_DECLINE) {
      const n = this.build(DHCPDECLINE, 0, this.#offered, this.#server, now);
      this.c.dhcpOutDeclines++;
      u.sendPrepared(DHCP_CLIENT_PORT, 0xffffffff, DHCP_SERVER_PORT, n, now, 0);
      this.restart(now + DECLINE_WAIT_MS);
      return;
    }
    if (what === TX_DISCOVER) {
      const n = this.build(DHCPDISCOVER, 0, 0, 0, now);
      this.c.dhcpOutDiscovers++;
      u.sendPrepared(DHCP_CLIENT_PORT, 0xffffffff, DHCP_SERVER_PORT, n, now, 0);
      this.#deadline = now + this.jitter(this.#rto);
      return;
    }
    this.c.dhcpOutRequests++;
    if (st === DHCP_REQUESTING) {
      const n = this.build(DHCPREQUEST, 0, this.#offered, this.#server, now);
      u.sendPrepared(DHCP_CLIENT_PORT, 0xffffffff, DHCP_SERVER_PORT, n, now, 0);
      this.#tries++;
      this.#deadline = now + this.jitter(this.#rto);
    } else if (st === DHCP_RENEWING) {
      const n = this.build(DHCPREQUEST, this.stack.address, 0, 0, now);
      u.sendPrepared(DHCP_CLIENT_PORT, this.#server, DHCP_SERVER_PORT, n, now);
      this.#deadline = this.renewRetry(now, this.#t2At);
    } else if (st === DHCP_REBINDING) {
      const n = this.build(DHCPREQUEST, this.stack.address, 0, 0, now);
      u.sendPrepared(DHCP_CLIENT_PORT, 0xffffffff, DHCP_SERVER_PORT, n, now);
      this.#deadline = this.renewRetry(now, this.#expiresAt);
    }
  }

  /** §4.4.5: half the time left to `until`, at least 60 s (or dhcpRetryMaxMs if smaller), never past it. */
  private renewRetry(now: number, until: number): number {
    const floor = Math.min(RENEW_MIN_RETRY_MS, this.stack.config.dhcpRetryMaxMs);
    const t = now + Math.max((until - now) / 2, floor);
    return t < until ? t : until;
  }

  /** Build a client message of `type` at tx[UDP_DATA..]; returns its length. */
  private build(type: number, ciaddr: number, requested: number, server: number, now: number): number {
    const t = this.stack.tx;
    const at = UDP_DATA;
    const secs = Math.min(65535, Math.floor((now - this.#started) / 1000));
    let p = emitDhcpHeader(t, at, this.#xid, type === DHCPDECLINE || type === DHCPRELEASE ? 0 : secs, ciaddr, this.stack.mac);
    p = putOption8(t, p, OPT_MSG_TYPE, type);
    // Client identifier: hardware type 1 + MAC (RFC 2132 §9.14).
    t[p] = OPT_CLIENT_ID; t[p + 1] = 7; t[p + 2] = HTYPE_ETHERNET;
    for (let k = 0; k < 6; k++) t[p + 3 + k] = this.stack.mac[k];
    p += 9;
    if (requested !== 0) p = putOption32(t, p, OPT_REQUESTED_IP, requested);
    if (server !== 0) p = putOption32(t, p, OPT_SERVER_ID, server);
    if (type === DHCPDISCOVER || type === DHCPREQUEST) {
      t[p] = OPT_PARAM_LIST; t[p + 1] = PARAMS.length;
      for (let k = 0; k < PARAMS.length; k++) t[p + 2 + k] = PARAMS[k];
      p += 2 + PARAMS.length;
      p = putOption16(t, p, OPT_MAX_SIZE, Math.min(this.stack.mtu, 1500));
    }
    t[p++] = OPT_END;
    while (p < at + DHCP_MIN_LEN) t[p++] = 0;
    return p - at;
  }

  // ---------------------------------------------------------------- state changes

  /** Use the lease: set the stack's address, mask, gateway, DNS servers. */
  private bind(): void {
    this.#state = DHCP_BOUND;
    this.#tx = TX_NONE;
    this.apply();
    this.#deadline = this.#t1At;
    this.c.dhcpLeasesAcquired++;
    this.#events |= EV_ACQUIRED;
    // Announce the address (RFC 5227 §2.3): an ARP request with sender = target = our address.
    this.stack.arpProbe(this.#offered);
  }

  private apply(): void {
    const s = this.stack;
    s.address = this.#offered;
    s.netmask = this.#mask;
    s.gateway = this.#router;
    s.dns.setDhcpServers(this.#dns, this.#dnsCount);
  }

  /** The lease is gone: no address. */
  private lose(): void {
    const s = this.stack;
    s.address = 0;
    s.netmask = s.config.netmask;
    s.gateway = 0;
    s.dns.setDhcpServers(this.#dns, 0);
    this.#t1At = this.#t2At = this.#expiresAt = Infinity;
    this.c.dhcpLeasesLost++;
    this.#events |= EV_LOST;
  }

  /** Back to INIT; the next DISCOVER goes out at `at`. */
  private restart(at: number): void {
    this.#state = DHCP_INIT;
    this.#tx = TX_NONE;
    this.#offered = 0;
    this.#server = 0;
    this.#xid = 0;
    this.#deadline = at;
  }

  private newXid(now: number): void {
    this.stack.driver.random(this.#rnd);
    const r = this.#rnd;
    this.#xid = (r[0] * 2 ** 24 + ((r[1] << 16) | (r[2] << 8) | r[3])) >>> 0;
    if (this.#xid === 0) this.#xid = 1;
    this.#started = now;
  }

  private backoff(): void {
    const max = this.stack.config.dhcpRetryMaxMs;
    this.#rto = this.#rto * 2 > max ? max : this.#rto * 2;
  }

  /** `ms` randomized by ±min(1000, ms / 4) (RFC 2131 §4.1). */
  private jitter(ms: number): number {
    this.stack.driver.random(this.#rnd);
    const span = Math.min(1000, ms / 4);
    const u = ((this.#rnd[0] << 8) | this.#rnd[1]) / 65535; // 0..1
    return ms + (u * 2 - 1) * span;
  }
}

/** A unicast address a host can have: not 0/8, loopback, multicast, class E or broadcast. */
function usableAddress(a: number): boolean {
  const top = a >>> 24;
  return top !== 0 && top !== 127 && top < 224;
}

/** RFC 791 class mask for a lease without option 1. */
function classfulMask(a: number): number {
  const top = a >>> 24;
  if (top < 128) return 0xff000000;
  if (top < 192) return 0xffff0000;
  return 0xffffff00;
}
