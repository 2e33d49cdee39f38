/** ICMP for IPv4 (RFC 792): echo and error messages. */
import { get16, put16, put32 } from "./bytes.js";
import { finish, sum } from "./checksum.js";

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_HLEN = 8;

const TYPE = 0, CODE = 1, CSUM = 2, ID = 4, SEQ = 6, REST = 4;

/** A view over one ICMP message, re-aimed at each frame. */
export class IcmpView {
  b: Uint8Array = new Uint8Array(0);
  at = 0;
  len = 0;

  /** True when len >= 8. */
  aim(b: Uint8Array, at: number, len: number): boolean {
    this.b = b;
    this.at = at;
    this.len = len;
    return len >= ICMP_HLEN;
  }
  type(): number { return this.b[this.at + TYPE]; }
  code(): number { return this.b[this.at + CODE]; }
  checksum(): number { return get16(this.b, this.at + CSUM); }
  /** Echo identifier (RFC 792 "Echo or Echo Reply Message"). */
  id(): number { return get16(this.b, this.at + ID); }
  /** Echo sequence number. */
  seq(): number { return get16(this.b, this.at + SEQ); }
  /** Checksum over the whole message b[at, at+len) (RFC 792). */
  checksumOk(): boolean { return finish(sum(this.b, this.at, this.len, 0)) === 0; }
  dataAt(): number { return this.at + ICMP_HLEN; }
  dataLen(): number { return this.len - ICMP_HLEN; }
}

/**
 * Writes an echo / echo reply header at b[at] (RFC 792) for the dataLen bytes
 * already at b[at+8..], and fills the checksum. Returns 8+dataLen.
 */
export function emitIcmpEcho(b: Uint8Array, at: number, type: number, id: number, seq: number, dataLen: number): number {
  b[at + TYPE] = type;
  b[at + CODE] = 0;
  put16(b, at + CSUM, 0);
  put16(b, at + ID, id);
  put16(b, at + SEQ, seq);
  const n = ICMP_HLEN + dataLen;
  put16(b, at + CSUM, finish(sum(b, at, n, 0)));
  return n;
}

/**
 * Writes an error header (destination unreachable, time exceeded; RFC 792) at
 * b[at] with the 32-bit "unused"/"next-hop MTU" field rest32, for the original
 * IP header + 8 bytes (origLen bytes) already at b[at+8..]. Fills the checksum;
 * returns 8+origLen.
 */
export function emitIcmpError(b: Uint8Array, at: number, type: number, code: number, rest32: number, origLen: number): number {
  b[at + TYPE] = type;
  b[at + CODE] = code;
  put16(b, at + CSUM, 0);
  put32(b, at + REST, rest32);
  const n = ICMP_HLEN + origLen;
  put16(b, at + CSUM, finish(sum(b, at, n, 0)));
  return n;
}
