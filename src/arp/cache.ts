/**
 * ARP cache (RFC 826) with a bounded queue of frames waiting for resolution.
 *
 * Fixed size, made once. Entries: free, incomplete (request sent, frames may wait) or resolved
 * (expires after arpLifetimeMs, like smoltcp's neighbour cache). Requests for one address are sent at
 * most once per arpRetryMs; after arpMaxTries the waiting frames are dropped and counted. When the
 * cache is full, the resolved entry that expires soonest is evicted.
 */
import type { StackConfig } from "../config.js";
import type { Counters } from "../counters.js";

const FREE = 0, INCOMPLETE = 1, RESOLVED = 2;

export class ArpCache {
  readonly size: number;
  private readonly ip: Float64Array;
  readonly macs: Uint8Array;
  private readonly state: Uint8Array;
  private readonly expires: Float64Array;
  private readonly nextTry: Float64Array;
  /** Last time a frame was sent with (or queued for) this entry: live neighbours are not evicted. */
  private readonly lastUsed: Float64Array;
  private readonly tries: Uint8Array;

  /** Pending frames: fixed slots of `slotBytes`, each tagged with the next-hop address. */
  readonly pending: Uint8Array;
  readonly slotBytes: number;
  readonly pendingCount: number;
  private readonly pendingIp: Float64Array;
  private readonly pendingLen: Uint16Array;
  private readonly cfg: StackConfig;
  private readonly counters: Counters;

  constructor(cfg: StackConfig, counters: Counters, frameBytes: number, pendingStore: Uint8Array) {
    this.cfg = cfg;
    this.counters = counters;
    const n = cfg.arpEntries;
    this.size = n;
    this.ip = new Float64Array(n);
    this.macs = new Uint8Array(n * 6);
    this.state = new Uint8Array(n);
    this.expires = new Float64Array(n);
    this.nextTry = new Float64Array(n);
    this.lastUsed = new Float64Array(n);
    this.tries = new Uint8Array(n);
    this.slotBytes = frameBytes;
    this.pendingCount = cfg.arpPendingFrames;
    this.pending = pendingStore;
    this.pendingIp = new Float64Array(this.pendingCount).fill(-1);
    this.pendingLen = new Uint16Array(this.pendingCount);
  }

  /** Index of a resolved, unexpired entry for `ip`, or -1. Expired entries are freed here. */
  lookup(ip: number, now: number): number {
    for (let i = 0; i < this.size; i++) {
      if (this.state[i] === RESOLVED && this.ip[i] === ip) {
        if (now >= this.expires[i]) { this.state[i] = FREE; return -1; }
        this.lastUsed[i] = now;
        return i;
      }
    }
    return -1;
  }

  /** Index of any entry (resolved or incomplete) for ip, or -1. */
  private find(ip: number): number {
    for (let i = 0; i < this.size; i++) if (this.state[i] !== FREE && this.ip[i] === ip) return i;
    return -1;
  }

  /**
   * A slot for a new entry: a free one, else an expired one, else the resolved entry idle the longest
   * (unused for at least arpRetryMs), else the oldest incomplete one (its waiting frames are dropped),
   * else -1. A neighbour in use is never evicted, so traffic toward many unknown (e.g. spoofed)
   * addresses cannot push out a live peer.
   */
  private victim(now: number): number {
    let idle = -1, incomplete = -1;
    for (let i = 0; i < this.size; i++) {
      const st = this.state[i];
      if (st === FREE) return i;
      if (st === RESOLVED) {
        if (now >= this.expires[i]) return i;
        if (now - this.lastUsed[i] >= this.cfg.arpRetryMs && (idle < 0 || this.lastUsed[i] < this.lastUsed[idle])) idle = i;
      } else if (incomplete < 0 || this.lastUsed[i] < this.lastUsed[incomplete]) incomplete = i;
    }
    if (idle >= 0) return idle;
    if (incomplete >= 0) { this.dropPending(this.ip[incomplete]); return incomplete; }
    return -1;
  }

  private dropPending(ip: number): void {
    for (let s = 0; s < this.pendingCount; s++) {
      if (this.pendingIp[s] === ip) { this.pendingIp[s] = -1; this.counters.arpPendingDropped++; }
    }
  }

  /**
   * Learn `ip` → mac (at b[macAt..]). `create`: add an entry if none exists (the packet was for us);
   * otherwise only refresh an existing one (RFC 826 merge rule). Returns the entry index or -1.
   */
  learn(ip: number, b: Uint8Array, macAt: number, now: number, create: boolean): number {
    let i = this.find(ip);
    if (i < 0) {
      if (!create) return -1;
      i = this.victim(now);
      if (i < 0) { this.counters.arpCacheFull++; return -1; }
      this.ip[i] = ip;
    }
    this.lastUsed[i] = now;
    const m = i * 6;
    for (let k = 0; k < 6; k++) this.macs[m + k] = b[macAt + k];
    this.state[i] = RESOLVED;
    this.expires[i] = now + this.cfg.arpLifetimeMs;
    this.tries[i] = 0;
    return i;
  }

  /**
   * Start (or continue) resolving `ip`. Returns 1 when a request should be sent now (rate-limited to
   * one per arpRetryMs per address), 0 when resolution is under way, -1 when the cache cannot track
   * it (every slot holds a neighbour in use: counted, the frame should be dropped).
   */
  want(ip: number, now: number): number {
    let i = this.find(ip);
    if (i < 0) {
      i = this.victim(now);
      if (i < 0) { this.counters.arpCacheFull++; return -1; }
      this.ip[i] = ip;
      this.state[i] = INCOMPLETE;
      this.tries[i] = 1;
      this.nextTry[i] = now + this.cfg.arpRetryMs;
      this.lastUsed[i] = now;
      return 1;
    }
    if (this.state[i] !== INCOMPLETE || now < this.nextTry[i]) return 0;
    this.tries[i]++;
    this.nextTry[i] = now + this.cfg.arpRetryMs;
    return 1;
  }

  /** Copy frame[0..len) into a free pending slot for next hop `ip`. False (counted) if full. */
  enqueue(ip: number, frame: Uint8Array, len: number): boolean {
    if (len > this.slotBytes) return false;
    for (let s = 0; s < this.pendingCount; s++) {
      if (this.pendingIp[s] >= 0) continue;
      const base = s * this.slotBytes;
      for (let k = 0; k < len; k++) this.pending[base + k] = frame[k];
      this.pendingIp[s] = ip;
      this.pendingLen[s] = len;
      return true;
    }
    this.counters.arpPendingFull++;
    return false;
  }

  /** Pending slot waiting for `ip` (first one), or -1. */
  pendingFor(ip: number): number {
    for (let s = 0; s < this.pendingCount; s++) if (this.pendingIp[s] === ip) return s;
    return -1;
  }
  pendingLength(s: number): number { return this.pendingLen[s]; }
  releasePending(s: number): void { this.pendingIp[s] = -1; }

  /**
   * Timers: for each incomplete entry whose retry time has come, either report it for a new request
   * (returns its ip through `out`) or, after arpMaxTries, drop its frames and free it.
   * Returns the ip to request now, or -1 when there is none; call repeatedly until -1.
   */
  due(now: number): number {
    for (let i = 0; i < this.size; i++) {
      if (this.state[i] !== INCOMPLETE || now < this.nextTry[i]) continue;
      if (this.tries[i] >= this.cfg.arpMaxTries) {
        this.dropPending(this.ip[i]);
        this.state[i] = FREE;
        continue;
      }
      this.tries[i]++;
      this.nextTry[i] = now + this.cfg.arpRetryMs;
      return this.ip[i];
    }
    return -1;
  }

  /** Earliest retry time of an incomplete entry, or Infinity. */
  deadline(): number {
    let d = Infinity;
    for (let i = 0; i < this.size; i++) if (this.state[i] === INCOMPLETE && this.nextTry[i] < d) d = this.nextTry[i];
    return d;
  }

  /** For the console: entries as (ip, mac index, state, expires). */
  entryIp(i: number): number { return this.ip[i]; }
  entryState(i: number): "free" | "incomplete" | "resolved" {
    return this.state[i] === FREE ? "free" : this.state[i] === INCOMPLETE ? "incomplete" : "resolved";
  }
  entryExpires(i: number): number { return this.expires[i]; }
  /** Pending slots in use (0 when everything has been sent or dropped). */
  pendingInUse(): number {
    let n = 0;
    for (let s = 0; s < this.pendingCount; s++) if (this.pendingIp[s] >= 0) n++;
    return n;
  }
}
