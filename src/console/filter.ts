/**
 * TraceFilter: which frames the trace ring keeps. Every term given must match (AND):
 *   arp | ip | icmp | tcp | udp   protocol
 *   port N                         TCP or UDP source or destination port
 *   host A.B.C.D                   IPv4 source or destination (or ARP sender/target)
 *   in | out                       direction (received / transmitted by us)
 * Reads the frame's bytes in place; allocates nothing.
 */
export const P_ANY = 0, P_ARP = 1, P_IP = 2, P_ICMP = 3, P_TCP = 4, P_UDP = 5;
export const DIR_ANY = 0, DIR_IN = 1, DIR_OUT = 2;

export class TraceFilter {
  proto = P_ANY;
  /** -1 = any. */
  port = -1;
  /** uint32, or -1 = any. */
  host = -1;
  dir = DIR_ANY;

  clear(): void {
    this.proto = P_ANY; this.port = -1; this.host = -1; this.dir = DIR_ANY;
  }

  isEmpty(): boolean {
    return this.proto === P_ANY && this.port < 0 && this.host < 0 && this.dir === DIR_ANY;
  }

  copyFrom(f: TraceFilter): void {
    this.proto = f.proto; this.port = f.port; this.host = f.host; this.dir = f.dir;
  }

  match(b: Uint8Array, at: number, len: number, tx: boolean): boolean {
    if (this.dir === DIR_IN && tx) return false;
    if (this.dir === DIR_OUT && !tx) return false;
    if (this.proto === P_ANY && this.port < 0 && this.host < 0) return true;
    if (len < 14) return false;
    const type = (b[at + 12] << 8) | b[at + 13];
    if (type === 0x0806) {
      if (this.proto !== P_ANY && this.proto !== P_ARP) return false;
      if (this.port >= 0) return false;
      if (this.host >= 0) {
        if (len < 14 + 28) return false;
        return u32(b, at + 14 + 14) === this.host || u32(b, at + 14 + 24) === this.host;
      }
      return true;
    }
    if (type !== 0x0800 || len < 14 + 20) return false;
    const ip = at + 14;
    const proto = b[ip + 9];
    if (this.proto === P_ARP) return false;
    if (this.proto === P_ICMP && proto !== 1) return false;
    if (this.proto === P_TCP && proto !== 6) return false;
    if (this.proto === P_UDP && proto !== 17) return false;
    if (this.host >= 0 && u32(b, ip + 12) !== this.host && u32(b, ip + 16) !== this.host) return false;
    if (this.port >= 0) {
      if (proto !== 6 && proto !== 17) return false;
      const l4 = ip + (b[ip] & 15) * 4;
      if (l4 + 4 > at + len) return false;
      const sp = (b[l4] << 8) | b[l4 + 1], dp = (b[l4 + 2] << 8) | b[l4 + 3];
      if (sp !== this.port && dp !== this.port) return false;
    }
    return true;
  }
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
