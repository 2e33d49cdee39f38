/**
 * DNS stub resolver (RFC 1035 §7, RFC 1123 §6.1.3): A-record queries over UDP to the servers DHCP gave
 * (else `config.dnsServers`), with retries, timeouts and a small cache that honours TTLs.
 *
 * - A fixed table of `dnsQueries` queries. Each query gets a random ID and its own random source port
 *   (RFC 5452 §9.2), bound only while it waits. An answer must come from a server we asked, from port
 *   53, carry our ID and repeat our question; anything else is counted and dropped.
 * - Retries: `dnsRetries` retransmissions, `dnsTimeoutMs` apart, each to the next server in turn;
 *   SERVFAIL/REFUSED/NOTIMP/FORMERR move on to the next server at once.
 * - CNAME chains inside one answer are followed (at most MAX_CNAMES); the TTL kept is the smallest
 *   along the chain, capped at `dnsMaxTtlS`; TTL 0 is not cached (RFC 1035 §3.2.1).
 * - Truncated answers (TC): used if they hold the address, else the query fails (no TCP fallback).
 * - Responses are parsed in place inside input(): nothing is allocated per message.
 *
 * API (for sockets, polling or with an owner):
 *   const h = stack.dns.resolve("board.test", owner, now);  // throws TypeError/RangeError on a bad name
 *   stack.dns.status(h)   // DNS_PENDING, DNS_OK or a DNS_ERR_* code (< 0)
 *   stack.dns.address(h)  // uint32 once DNS_OK
 *   stack.dns.release(h)  // free the slot (owners: done for you after dnsResolved returns)
 * An owner's dnsResolved(handle, status, address) runs from Stack.poll(), never inside resolve().
 */
import { arenaSize } from "../arena.js";
import type { StackConfig } from "../config.js";
import type { Counters } from "../counters.js";
import type { Stack } from "../stack.js";
import { UDP_DATA, type UdpReceiver } from "../udp/udp.js";
import { get16, get32, parseIp } from "../wire/bytes.js";
import {
  ANCOUNT, CLASS_IN, DNS_HLEN, DNS_NAME_MAX, DNS_PORT, dnsFlags, dnsId, dnsOpcode, dnsRcode, emitQuery, encodeName,
  F_QR, F_TC, NAME_BAD_POINTER, NAME_MALFORMED, NameCursor, namesEqual, OPCODE_QUERY, QDCOUNT, RCODE_NXDOMAIN, RCODE_OK,
  skipName, TYPE_A, TYPE_CNAME,
} from "./wire.js";

/** status() values. */
export const DNS_PENDING = 0;
export const DNS_OK = 1;
/** NXDOMAIN, or no A record for the name. */
export const DNS_ERR_NOT_FOUND = -1;
/** No answer after every retry. */
export const DNS_ERR_TIMEOUT = -2;
/** No server configured or given by DHCP. */
export const DNS_ERR_NO_SERVER = -3;
/** Every server answered with an error (SERVFAIL, REFUSED, ...). */
export const DNS_ERR_SERVER = -4;
/** Truncated answer without the address. */
export const DNS_ERR_TRUNCATED = -5;
/** The handle is not (or no longer) a query. */
export const DNS_ERR_HANDLE = -6;

/** Told when a query ends (from Stack.poll()). */
export interface DnsOwner {
  dnsResolved(handle: number, status: number, address: number): void;
}

/** Slot states. */
const FREE = 0;
const WAITING = 1;
const DONE = 2;

/** CNAME links followed inside one answer. */
const MAX_CNAMES = 8;
/** Resource records looked at in one answer section. */
const MAX_RRS = 64;
/** Slot bits in a handle (the rest is a generation count). */
const SLOT_BITS = 8;

/** Bytes reserved per stored name. */
const NAME_SLOT = 256;

/** parse() outcomes besides a status. */
const P_DROP = 100;
const P_NEXT_SERVER = 101;

export class DnsResolver implements UdpReceiver {
  readonly stack: Stack;
  readonly c: Counters;
  readonly cfg: StackConfig;

  // Query table.
  readonly n: number;
  readonly qState: Uint8Array;
  readonly qGen: Uint32Array;
  readonly qId: Uint16Array;
  readonly qSlot: Int16Array;
  readonly qNames: Uint8Array;
  readonly qNameLen: Uint16Array;
  readonly qTries: Uint8Array;
  /** Servers asked so far, one bit per index of the server list. */
  readonly qAsked: Uint8Array;
  readonly qDeadline: Float64Array;
  readonly qStatus: Int8Array;
  readonly qAddr: Uint32Array;
  readonly qOwner: (DnsOwner | null)[] = [];
  /** The result is waiting for its owner (delivered from poll()). */
  readonly qNotify: Uint8Array;

  // Cache.
  readonly cacheN: number;
  readonly cNames: Uint8Array;
  readonly cNameLen: Uint16Array;
  readonly cAddr: Uint32Array;
  readonly cExpires: Float64Array;

  // Servers given by DHCP (the config's are in cfg.dnsServers).
  readonly dhcpServers = new Uint32Array(3);
  dhcpServerCount = 0;

  /** Exceptions thrown by owners' dnsResolved (counted; the stack keeps running). */
  callbackErrors = 0;
  lastCallbackError: unknown = null;

  private readonly rnd = new Uint8Array(2);
  private readonly x = new NameCursor();
  private readonly y = new NameCursor();
  private work = false;
  /** Scratch result of parse(). */
  private ansAddr = 0;
  private ansTtl = 0;

  constructor(stack: Stack) {
    this.stack = stack;
    this.c = stack.counters;
    const cfg = (this.cfg = stack.config);
    const n = (this.n = cfg.dnsQueries);
    this.qState = new Uint8Array(n);
    this.qGen = new Uint32Array(n);
    this.qId = new Uint16Array(n);
    this.qSlot = new Int16Array(n).fill(-1);
    this.qNames = stack.arena.take(n * NAME_SLOT);
    this.qNameLen = new Uint16Array(n);
    this.qTries = new Uint8Array(n);
    this.qAsked = new Uint8Array(n);
    this.qDeadline = new Float64Array(n).fill(Infinity);
    this.qStatus = new Int8Array(n);
    this.qAddr = new Uint32Array(n);
    this.qNotify = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.qOwner.push(null);
    const m = (this.cacheN = cfg.dnsCacheEntries);
    this.cNames = stack.arena.take(m * NAME_SLOT);
    this.cNameLen = new Uint16Array(m);
    this.cAddr = new Uint32Array(m);
    this.cExpires = new Float64Array(m);
  }

  /** Arena bytes: one 256-byte name per query slot and per cache entry. */
  static arenaBytes(c: StackConfig): number {
    return arenaSize(c.dnsQueries * NAME_SLOT) + arenaSize(c.dnsCacheEntries * NAME_SLOT);
  }

  /** UDP slots the resolver may bind at once (one per query). */
  static udpSlots(c: StackConfig): number { return c.dnsQueries; }

  // ---------------------------------------------------------------- servers

  /** DHCP's servers (count 0: none; the config's are used). */
  setDhcpServers(list: Uint32Array, count: number): void {
    const n = Math.min(count, this.dhcpServers.length);
    for (let k = 0; k < n; k++) this.dhcpServers[k] = list[k];
    this.dhcpServerCount = n;
  }

  /** How many servers are in use now. */
  serverCount(): number {
    return this.dhcpServerCount > 0 ? this.dhcpServerCount : this.cfg.dnsServers.length;
  }

  /** Server i of the list in use. */
  server(i: number): number {
    return this.dhcpServerCount > 0 ? this.dhcpServers[i] : this.cfg.dnsServers[i];
  }

  /** The servers in use (a copy, for display). */
  servers(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.serverCount(); i++) out.push(this.server(i));
    return out;
  }

  // ---------------------------------------------------------------- API

  /**
   * Start resolving `name` (a host name, or a dotted quad which resolves to itself). Returns a handle.
   * Throws TypeError (not a string), RangeError (not a valid host name) or Error (every query slot
   * busy). The result comes later: status(handle), or owner.dnsResolved() from poll().
   */
  resolve(name: string, owner: DnsOwner | null, now: number): number {
    if (typeof name !== "string") throw new TypeError("host must be a string");
    const ip = parseIp(name);
    let s = -1;
    for (let i = 0; i < this.n; i++) if (this.qState[i] === FREE) { s = i; break; }
    if (s < 0) { this.c.dnsQueryTableFull++; throw new Error("DNS: too many queries in flight"); }
    const base = s * NAME_SLOT;
    let len = 0;
    if (ip < 0) {
      len = encodeName(name, this.qNames, base);
      if (len < 0) throw new RangeError("invalid host name");
    }
    this.qGen[s] = (this.qGen[s] + 1) & 0x7fffff;
    this.qOwner[s] = owner;
    this.qNameLen[s] = len;
    this.qTries[s] = 0;
    this.qAsked[s] = 0;
    const handle = this.qGen[s] * (1 << SLOT_BITS) + s;
    this.wake();
    if (ip >= 0) { this.finish(s, DNS_OK, ip); return handle; }
    const e = this.cacheFind(this.qNames, base, len, now);
    if (e >= 0) {
      this.c.dnsCacheHits++;
      this.finish(s, DNS_OK, this.cAddr[e]);
      return handle;
    }
    if (this.cacheN > 0) this.c.dnsCacheMisses++;
    if (this.serverCount() === 0) { this.finish(s, DNS_ERR_NO_SERVER, 0); return handle; }
    this.qState[s] = WAITING;
    this.stack.driver.random(this.rnd);
    this.qId[s] = (this.rnd[0] << 8) | this.rnd[1];
    this.qDeadline[s] = now; // sent from poll()
    this.work = true;
    return handle;
  }

  /** DNS_PENDING, DNS_OK or DNS_ERR_*. */
  status(handle: number): number {
    const s = this.slotOf(handle);
    if (s < 0) return DNS_ERR_HANDLE;
    return this.qState[s] === DONE ? this.qStatus[s] : DNS_PENDING;
  }

  /** The address (uint32) once status() is DNS_OK; 0 otherwise. */
  address(handle: number): number {
    const s = this.slotOf(handle);
    return s >= 0 && this.qState[s] === DONE && this.qStatus[s] === DNS_OK ? this.qAddr[s] : 0;
  }

  /** Forget the query (pending or done); its owner is not told. Twice is harmless. */
  release(handle: number): void {
    const s = this.slotOf(handle);
    if (s >= 0) this.free(s);
  }

  /** The cached address of `name` (uint32), or -1 when not cached / not a valid name. No query is sent. */
  lookupCached(name: string, now: number): number {
    if (typeof name !== "string") return -1;
    const ip = parseIp(name);
    if (ip >= 0) return ip;
    if (this.cacheN === 0 || this.n === 0) return -1;
    // The name is encoded into the name area of a free query slot (scratch; nothing else is touched).
    for (let s = 0; s < this.n; s++) {
      if (this.qState[s] !== FREE) continue;
      const len = encodeName(name, this.qNames, s * NAME_SLOT);
      if (len < 0) return -1;
      const e = this.cacheFind(this.qNames, s * NAME_SLOT, len, now);
      return e >= 0 ? this.cAddr[e] : -1;
    }
    return -1;
  }

  /** Queries in use (waiting or done and not yet released). */
  inUse(): number {
    let k = 0;
    for (let s = 0; s < this.n; s++) if (this.qState[s] !== FREE) k++;
    return k;
  }

  /** Drop every cache entry. */
  flushCache(): void {
    this.cNameLen.fill(0);
    this.cExpires.fill(0);
  }

  private slotOf(handle: number): number {
    if (typeof handle !== "number" || !Number.isInteger(handle) || handle < 0) return -1;
    const s = handle % (1 << SLOT_BITS);
    const gen = Math.floor(handle / (1 << SLOT_BITS));
    if (s >= this.n || this.qState[s] === FREE || this.qGen[s] !== gen) return -1;
    return s;
  }

  private free(s: number): void {
    const u = this.qSlot[s];
    if (u >= 0) { this.stack.udpLayer.close(u); this.qSlot[s] = -1; }
    this.qState[s] = FREE;
    this.qOwner[s] = null;
    this.qNotify[s] = 0;
    this.qDeadline[s] = Infinity;
  }

  /** Work became pending outside poll(): ask the platform to poll soon (Stack.onWake). */
  private wake(): void {
    const w = this.stack.onWake;
    if (w !== null) w();
  }

  /** The query ends with `status`; the owner hears it from poll(). */
  private finish(s: number, status: number, addr: number): void {
    const u = this.qSlot[s];
    if (u >= 0) { this.stack.udpLayer.close(u); this.qSlot[s] = -1; }
    this.qState[s] = DONE;
    this.qStatus[s] = status;
    this.qAddr[s] = addr >>> 0;
    this.qDeadline[s] = Infinity;
    this.qNotify[s] = 1;
    this.work = true;
  }

  // ---------------------------------------------------------------- poll

  /** Send due queries and retries, time out, tell owners. Returns the next deadline. */
  poll(now: number): number {
    let next = Infinity;
    if (!this.work) return next;
    this.work = false;
    for (let s = 0; s < this.n; s++) {
      const st = this.qState[s];
      if (st === WAITING) {
        if (this.qDeadline[s] <= now) this.attempt(s, now);
        if (this.qState[s] === WAITING) {
          this.work = true;
          if (this.qDeadline[s] < next) next = this.qDeadline[s];
        }
      }
      if (this.qState[s] === DONE && this.qNotify[s] !== 0) {
        const o = this.qOwner[s];
        if (o === null) { this.qNotify[s] = 0; continue; }
        const handle = this.qGen[s] * (1 << SLOT_BITS) + s;
        const status = this.qStatus[s], addr = this.qAddr[s];
        this.free(s);
        try {
          o.dnsResolved(handle, status, addr);
        } catch (e) {
          this.callbackErrors++;
          this.lastCallbackError = e;
        }
      }
    }
    // A callback may have started new queries: poll again at once.
    if (this.work) for (let s = 0; s < this.n; s++) if (this.qState[s] === WAITING && this.qDeadline[s] < next) next = this.qDeadline[s];
    for (let s = 0; s < this.n; s++) if (this.qNotify[s] !== 0 && this.qOwner[s] !== null) next = now;
    return next;
  }

  /** The next time poll() has work: a retry or a first send, or now for an owner still to be told. */
  deadline(now: number): number {
    let next = Infinity;
    if (!this.work) return next;
    for (let s = 0; s < this.n; s++) {
      if (this.qState[s] === WAITING && this.qDeadline[s] < next) next = this.qDeadline[s];
      else if (this.qNotify[s] !== 0 && this.qOwner[s] !== null) return now;
    }
    return next;
  }

  /** Send the query (again), or give up when every try is used. */
  private attempt(s: number, now: number): void {
    const tries = this.qTries[s];
    const nServers = this.serverCount();
    if (nServers === 0) { this.finish(s, DNS_ERR_NO_SERVER, 0); return; }
    if (tries > this.cfg.dnsRetries) {
      if (this.qStatus[s] === DNS_ERR_SERVER) { this.finish(s, DNS_ERR_SERVER, 0); return; }
      this.c.dnsTimeouts++;
      this.finish(s, DNS_ERR_TIMEOUT, 0);
      return;
    }
    const u = this.stack.udpLayer;
    if (this.qSlot[s] < 0) {
      const slot = u.openInternal(0, this, s);
      if (slot < 0) { this.qDeadline[s] = now + this.cfg.dnsTimeoutMs; this.qTries[s] = tries + 1; return; }
      this.qSlot[s] = slot;
    }
    const i = tries % nServers; // the first server first (RFC 1035 §7.2 leaves the order to us)
    const server = this.server(i);
    this.qAsked[s] |= 1 << i;
    this.qStatus[s] = DNS_PENDING;
    const len = emitQuery(this.stack.tx, UDP_DATA, this.qId[s], this.qNames, s * NAME_SLOT, this.qNameLen[s], TYPE_A);
    if (tries > 0) this.c.dnsRetransmits++;
    this.c.dnsOutQueries++;
    u.sendPrepared(u.port[this.qSlot[s]], server, DNS_PORT, len, now);
    this.qTries[s] = tries + 1;
    this.qDeadline[s] = now + this.cfg.dnsTimeoutMs;
  }

  // ---------------------------------------------------------------- input

  /** One datagram on a query's port (inside input()). */
  udpReceive(tag: number, b: Uint8Array, at: number, len: number, src: number, srcPort: number, _dst: number, now: number): void {
    const c = this.c;
    const s = tag;
    if (s < 0 || s >= this.n || this.qState[s] !== WAITING) { c.dnsInBadId++; return; }
    if (srcPort !== DNS_PORT || !this.askedServer(s, src)) { c.dnsInWrongSource++; return; }
    if (len < DNS_HLEN) { c.dnsInMalformed++; return; }
    if (dnsId(b, at) !== this.qId[s]) { c.dnsInBadId++; return; }
    const r = this.parse(s, b, at, len);
    if (r === P_DROP) return;
    c.dnsInResponses++;
    if (r === P_NEXT_SERVER) {
      // Try the next server now; remember that a server failed us (the final error if all do).
      this.qStatus[s] = DNS_ERR_SERVER;
      this.qDeadline[s] = now;
      this.work = true;
      if (this.qTries[s] > this.cfg.dnsRetries) this.finish(s, DNS_ERR_SERVER, 0);
      return;
    }
    if (r === DNS_OK) {
      this.cacheStore(s, now);
      this.finish(s, DNS_OK, this.ansAddr);
      return;
    }
    if (r === DNS_ERR_NOT_FOUND) c.dnsNotFound++;
    this.finish(s, r, 0);
  }

  private askedServer(s: number, src: number): boolean {
    const n = this.serverCount();
    for (let i = 0; i < n; i++) if ((this.qAsked[s] & (1 << i)) !== 0 && this.server(i) === src) return true;
    return false;
  }

  /**
   * Checks a response to query s and finds the address. Returns DNS_OK (ansAddr/ansTtl set), a final
   * DNS_ERR_*, P_NEXT_SERVER, or P_DROP (counted: not an answer to our question).
   */
  private parse(s: number, b: Uint8Array, at: number, len: number): number {
    const c = this.c;
    const end = at + len;
    const flags = dnsFlags(b, at);
    if ((flags & F_QR) === 0 || dnsOpcode(flags) !== OPCODE_QUERY || get16(b, at + QDCOUNT) !== 1) { c.dnsInMismatch++; return P_DROP; }
    // The question must be ours (RFC 5452 §9.1).
    const qBase = s * NAME_SLOT;
    this.x.aim(b, at, end, at + DNS_HLEN);
    this.y.aim(this.qNames, qBase, qBase + this.qNameLen[s], qBase);
    const eq = namesEqual(this.x, this.y);
    if (eq < 0) { this.countName(eq); return P_DROP; }
    const qEnd = skipName(b, at, at + DNS_HLEN, end);
    if (qEnd < 0 || qEnd + 4 > end) { c.dnsInMalformed++; return P_DROP; }
    if (eq === 0 || get16(b, qEnd) !== TYPE_A || get16(b, qEnd + 2) !== CLASS_IN) { c.dnsInMismatch++; return P_DROP; }
    const truncated = (flags & F_TC) !== 0;
    if (truncated) c.dnsInTruncated++;
    const rcode = dnsRcode(flags);
    if (rcode === RCODE_NXDOMAIN) return DNS_ERR_NOT_FOUND;
    if (rcode !== RCODE_OK) { c.dnsInServerErrors++; return P_NEXT_SERVER; }
    const r = this.findAddress(b, at, end, qEnd + 4, get16(b, at + ANCOUNT));
    if (r === DNS_OK) return DNS_OK;
    if (r === P_DROP) return P_DROP;
    return truncated ? DNS_ERR_TRUNCATED : DNS_ERR_NOT_FOUND;
  }

  /**
   * Walks the answer section (records from `first`) for an A record of the question name, following
   * CNAMEs. DNS_OK, DNS_ERR_NOT_FOUND, or P_DROP for a malformed record (counted).
   */
  private findAddress(b: Uint8Array, at: number, end: number, first: number, ancount: number): number {
    let name = at + DNS_HLEN; // the name we look for: the question's, then each CNAME target
    let ttl = this.cfg.dnsMaxTtlS;
    const n = ancount < MAX_RRS ? ancount : MAX_RRS;
    // First the whole section's structure: every record inside the message, every owner name (and
    // CNAME target) valid under the pointer rules. One bad record and the message is not trusted.
    let p = first;
    for (let k = 0; k < n; k++) {
      const e = this.nameCheck(b, at, end, p);
      if (e < 0) { this.countName(e); return P_DROP; }
      const nameEnd = skipName(b, at, p, end);
      if (nameEnd < 0 || nameEnd + 10 > end) { this.c.dnsInMalformed++; return P_DROP; }
      const rd = nameEnd + 10, rdLen = get16(b, nameEnd + 8);
      if (rd + rdLen > end) { this.c.dnsInMalformed++; return P_DROP; }
      if (get16(b, nameEnd) === TYPE_CNAME) {
        const t = this.nameCheck(b, at, rd + rdLen, rd);
        if (t < 0 || skipName(b, at, rd, end) !== rd + rdLen) { this.countName(t < 0 ? t : NAME_MALFORMED); return P_DROP; }
      }
      p = rd + rdLen;
    }
    for (let hop = 0; hop <= MAX_CNAMES; hop++) {
      let cname = -1;
      let p = first;
      for (let k = 0; k < n; k++) {
        const nameEnd = skipName(b, at, p, end);
        if (nameEnd < 0 || nameEnd + 10 > end) { this.c.dnsInMalformed++; return P_DROP; }
        const type = get16(b, nameEnd), cls = get16(b, nameEnd + 2);
        const rrTtl = get32(b, nameEnd + 4), rdLen = get16(b, nameEnd + 8);
        const rd = nameEnd + 10;
        if (rd + rdLen > end) { this.c.dnsInMalformed++; return P_DROP; }
        if (cls === CLASS_IN && (type === TYPE_A || type === TYPE_CNAME)) {
          this.x.aim(b, at, end, p);
          this.y.aim(b, at, end, name);
          const eq = namesEqual(this.x, this.y);
          if (eq < 0) { this.countName(eq); return P_DROP; }
          if (eq === 1) {
            // RFC 2181 §8: a TTL with the top bit set is treated as 0.
            const t = rrTtl > 0x7fffffff ? 0 : rrTtl;
            if (type === TYPE_A) {
              if (rdLen !== 4) { this.c.dnsInMalformed++; return P_DROP; }
              this.ansAddr = get32(b, rd);
              this.ansTtl = t < ttl ? t : ttl;
              return DNS_OK;
            }
            if (cname < 0) {
              cname = rd;
              if (t < ttl) ttl = t;
            }
          }
        }
        p = rd + rdLen;
      }
      if (cname < 0) return DNS_ERR_NOT_FOUND;
      name = cname;
    }
    return DNS_ERR_NOT_FOUND;
  }

  /** 0 when the name at b[p] reads to its end under the pointer rules, else a NAME_* error. */
  private nameCheck(b: Uint8Array, at: number, end: number, p: number): number {
    const x = this.x;
    x.aim(b, at, end, p);
    for (let guard = 0; guard < DNS_NAME_MAX; guard++) {
      const l = x.next();
      if (l <= 0) return l;
    }
    return NAME_MALFORMED;
  }

  private countName(err: number): void {
    if (err === NAME_BAD_POINTER) this.c.dnsInBadPointer++;
    else this.c.dnsInMalformed++;
  }

  // ---------------------------------------------------------------- cache

  private cacheFind(q: Uint8Array, at: number, len: number, now: number): number {
    const cn = this.cNames;
    for (let e = 0; e < this.cacheN; e++) {
      if (this.cNameLen[e] !== len || this.cExpires[e] <= now) continue;
      const base = e * NAME_SLOT;
      let k = 0;
      while (k < len && cn[base + k] === q[at + k]) k++;
      if (k === len) return e;
    }
    return -1;
  }

  /** Keep query s's answer (ansAddr for ansTtl s): a free or expired entry, else the soonest to expire. */
  private cacheStore(s: number, now: number): void {
    if (this.cacheN === 0 || this.ansTtl <= 0) return;
    const qBase = s * NAME_SLOT, len = this.qNameLen[s];
    if (len > DNS_NAME_MAX) return;
    let e = this.cacheFind(this.qNames, qBase, len, now);
    if (e < 0) {
      let soonest = Infinity;
      for (let i = 0; i < this.cacheN; i++) {
        if (this.cNameLen[i] === 0 || this.cExpires[i] <= now) { e = i; break; }
        if (this.cExpires[i] < soonest) { soonest = this.cExpires[i]; e = i; }
      }
      if (this.cNameLen[e] !== 0 && this.cExpires[e] > now) this.c.dnsCacheEvictions++;
    }
    const base = e * NAME_SLOT;
    for (let k = 0; k < len; k++) this.cNames[base + k] = this.qNames[qBase + k];
    this.cNameLen[e] = len;
    this.cAddr[e] = this.ansAddr;
    this.cExpires[e] = now + this.ansTtl * 1000;
  }
}
