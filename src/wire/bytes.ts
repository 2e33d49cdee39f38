/**
 * Big-endian ("network byte order", RFC 791 Appendix B) integer access, and
 * printing/parsing helpers for addresses. get/put never allocate.
 */

/** Reads an unsigned 16-bit big-endian integer at b[at]. */
export function get16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

/** Reads an unsigned 32-bit big-endian integer at b[at] (never negative). */
export function get32(b: Uint8Array, at: number): number {
  return b[at] * 2 ** 24 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

/** Writes the low 16 bits of v big-endian at b[at]. */
export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** Writes v (taken mod 2^32) big-endian at b[at]. */
export function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** "a.b.c.d" for a uint32 IPv4 address. Allocates: not for the hot path. */
export function ipToString(ip: number): string {
  ip = ip >>> 0;
  return (ip >>> 24) + "." + ((ip >>> 16) & 0xff) + "." + ((ip >>> 8) & 0xff) + "." + (ip & 0xff);
}

/** Parses a dotted quad "a.b.c.d" (each 0..255, decimal) to a uint32; -1 if malformed. */
export function parseIp(s: string): number {
  let ip = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      ip = ip * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 3) return -1;
      part = part * 10 + (c - 0x30);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return (ip * 256 + part) >>> 0;
}

const HEX = "0123456789abcdef";

/** "02:00:00:00:00:01" for the 6 bytes at b[at]. Allocates: not for the hot path. */
export function macToString(b: Uint8Array, at: number): string {
  let s = "";
  for (let i = 0; i < 6; i++) {
    const v = b[at + i];
    if (i > 0) s += ":";
    s += HEX[v >> 4] + HEX[v & 15];
  }
  return s;
}
