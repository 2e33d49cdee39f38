/**
 * DNS messages (RFC 1035 §4): the header, encoding a query name, and walking names that may use
 * compression pointers (§4.1.4) safely.
 *
 * Safety rules for names in received messages (what makes hostile input harmless):
 * - every byte read is inside [msg, end);
 * - a pointer must point strictly backwards (before the pointer itself) and past the 12-byte header;
 * - the decoded name is at most 255 bytes (§2.3.4) and follows at most MAX_POINTERS pointers;
 * - label types 01 and 10 (§4.1.4: reserved; RFC 6891 extended labels) are refused.
 * Backward-only pointers plus the length cap make every walk finite: a loop must go through labels
 * (the length cap stops it) or through pointers alone (they only go down).
 */
import { get16, put16 } from "../wire/bytes.js";

export const DNS_PORT = 53;
export const DNS_HLEN = 12;
/** Longest encoded name (RFC 1035 §2.3.4). */
export const DNS_NAME_MAX = 255;
/** Classic UDP message limit without EDNS (RFC 1035 §2.3.4); larger answers are still parsed in place. */
export const DNS_UDP_MAX = 512;

// Header (§4.1.1).
export const ID = 0, FLAGS = 2, QDCOUNT = 4, ANCOUNT = 6, NSCOUNT = 8, ARCOUNT = 10;
export const F_QR = 0x8000;
export const F_AA = 0x0400;
export const F_TC = 0x0200;
export const F_RD = 0x0100;
export const F_RA = 0x0080;
export const OPCODE_QUERY = 0;
export const RCODE_OK = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

export const TYPE_A = 1;
export const TYPE_NS = 2;
export const TYPE_CNAME = 5;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

/** Pointers one name may follow. */
export const MAX_POINTERS = 32;

/** Name walk results (negative). */
export const NAME_MALFORMED = -1;
export const NAME_BAD_POINTER = -2;

export function dnsId(b: Uint8Array, at: number): number { return get16(b, at + ID); }
export function dnsFlags(b: Uint8Array, at: number): number { return get16(b, at + FLAGS); }
export function dnsRcode(flags: number): number { return flags & 15; }
export function dnsOpcode(flags: number): number { return (flags >> 11) & 15; }

/**
 * Encodes `name` ("example.com" or "example.com.") as a lowercase QNAME at b[at..]; returns its
 * length (including the final zero byte), or -1 when the name is not a valid host name: labels of
 * 1..63 letters, digits, '-' or '_', at most 255 bytes encoded. Allocates nothing.
 */
export function encodeName(name: string, b: Uint8Array, at: number): number {
  const n = name.length;
  const last = n > 0 && name.charCodeAt(n - 1) === 0x2e ? n - 1 : n;
  if (last === 0 || last + 2 > DNS_NAME_MAX) return -1;
  let lenAt = at;
  let p = at + 1;
  let labelLen = 0;
  for (let i = 0; i < last; i++) {
    let ch = name.charCodeAt(i);
    if (ch === 0x2e) {
      if (labelLen === 0) return -1;
      b[lenAt] = labelLen;
      lenAt = p++;
      labelLen = 0;
      continue;
    }
    if (ch >= 0x41 && ch <= 0x5a) ch += 0x20;
    const ok = (ch >= 0x61 && ch <= 0x7a) || (ch >= 0x30 && ch <= 0x39) || ch === 0x2d || ch === 0x5f;
    if (!ok || labelLen === 63) return -1;
    b[p++] = ch;
    labelLen++;
  }
  if (labelLen === 0) return -1;
  b[lenAt] = labelLen;
  b[p++] = 0;
  return p - at;
}

/**
 * Writes a standard query (RD set, one question, QTYPE `qtype`, QCLASS IN) for the encoded name
 * q[qAt .. qAt+qLen) at b[at..]; returns the message length.
 */
export function emitQuery(b: Uint8Array, at: number, id: number, q: Uint8Array, qAt: number, qLen: number, qtype: number): number {
  put16(b, at + ID, id);
  put16(b, at + FLAGS, F_RD);
  put16(b, at + QDCOUNT, 1);
  put16(b, at + ANCOUNT, 0);
  put16(b, at + NSCOUNT, 0);
  put16(b, at + ARCOUNT, 0);
  let p = at + DNS_HLEN;
  for (let k = 0; k < qLen; k++) b[p++] = q[qAt + k];
  put16(b, p, qtype);
  put16(b, p + 2, CLASS_IN);
  return p + 4 - at;
}

/**
 * Offset just after the name at b[p] in the message b[msg .. end) (a pointer ends the name), or
 * NAME_MALFORMED. Pointers are not followed here; NameCursor checks them when a name is read.
 */
export function skipName(b: Uint8Array, msg: number, p: number, end: number): number {
  void msg;
  let total = 0;
  for (;;) {
    if (p >= end) return NAME_MALFORMED;
    const l = b[p];
    if ((l & 0xc0) === 0xc0) return p + 2 <= end ? p + 2 : NAME_MALFORMED;
    if ((l & 0xc0) !== 0) return NAME_MALFORMED;
    if (l === 0) return p + 1;
    total += l + 1;
    if (total + 1 > DNS_NAME_MAX) return NAME_MALFORMED;
    p += l + 1;
  }
}

/**
 * Reads a name label by label, following compression pointers under the rules above. Made once and
 * re-aimed: no allocation per name.
 */
export class NameCursor {
  b: Uint8Array = new Uint8Array(0);
  /** Start of the message (pointer offsets are relative to it) and its end. */
  msg = 0;
  end = 0;
  p = 0;
  /** After next() > 0: the label's bytes are b[labelAt .. labelAt + length). */
  labelAt = 0;
  private total = 0;
  private hops = 0;

  aim(b: Uint8Array, msg: number, end: number, p: number): void {
    this.b = b; this.msg = msg; this.end = end; this.p = p;
    this.total = 0; this.hops = 0; this.labelAt = 0;
  }

  /** The next label's length (1..63), 0 at the end of the name, or NAME_MALFORMED / NAME_BAD_POINTER. */
  next(): number {
    const b = this.b;
    for (;;) {
      const p = this.p;
      if (p >= this.end) return NAME_MALFORMED;
      const l = b[p];
      if ((l & 0xc0) === 0xc0) {
        if (p + 2 > this.end) return NAME_MALFORMED;
        const target = this.msg + (((l & 0x3f) << 8) | b[p + 1]);
        if (target >= p || target < this.msg + DNS_HLEN || ++this.hops > MAX_POINTERS) return NAME_BAD_POINTER;
        this.p = target;
        continue;
      }
      if ((l & 0xc0) !== 0) return NAME_MALFORMED;
      if (l === 0) {
        this.total += 1;
        return 0;
      }
      this.total += l + 1;
      if (this.total + 1 > DNS_NAME_MAX || p + 1 + l > this.end) return NAME_MALFORMED;
      this.labelAt = p + 1;
      this.p = p + 1 + l;
      return l;
    }
  }
}

/** ASCII lowercase of one byte. */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/**
 * Compares the names under two cursors (aimed by the caller), case-insensitively (RFC 4343).
 * Returns 1 equal, 0 different, or the first NAME_* error met.
 */
export function namesEqual(x: NameCursor, y: NameCursor): number {
  for (let guard = 0; guard < DNS_NAME_MAX; guard++) {
    const a = x.next();
    if (a < 0) return a;
    const c = y.next();
    if (c < 0) return c;
    if (a !== c) return 0;
    if (a === 0) return 1;
    const xb = x.b, yb = y.b, xa = x.labelAt, ya = y.labelAt;
    for (let k = 0; k < a; k++) if (lower(xb[xa + k]) !== lower(yb[ya + k])) return 0;
  }
  return NAME_MALFORMED;
}
