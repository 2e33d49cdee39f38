/** UDP (RFC 768). */
import { get16, put16 } from "./bytes.js";
import { finish, pseudo, sum } from "./checksum.js";
import { PROTO_UDP } from "./ipv4.js";

export const UDP_HLEN = 8;

const SPORT = 0, DPORT = 2, LEN = 4, CSUM = 6;

/** A view over one UDP datagram, re-aimed at each frame. */
export class UdpView {
  b: Uint8Array = new Uint8Array(0);
  at = 0;
  len = 0;

  /** True when len >= 8 and 8 <= Length field <= len (RFC 768). */
  aim(b: Uint8Array, at: number, len: number): boolean {
    this.b = b;
    this.at = at;
    this.len = len;
    if (len < UDP_HLEN) return false;
    const l = this.length();
    return l >= UDP_HLEN && l <= len;
  }
  srcPort(): number { return get16(this.b, this.at + SPORT); }
  dstPort(): number { return get16(this.b, this.at + DPORT); }
  /** The Length field: header + data, bytes. */
  length(): number { return get16(this.b, this.at + LEN); }
  checksum(): number { return get16(this.b, this.at + CSUM); }
  /**
   * Verifies the checksum over the Length-field bytes with the pseudo-header
   * (RFC 768); a transmitted 0 means "not computed" and is accepted.
   */
  checksumOk(src: number, dst: number): boolean {
    if (this.checksum() === 0) return true;
    const l = this.length();
    return finish(sum(this.b, this.at, l, pseudo(src, dst, PROTO_UDP, l))) === 0;
  }
  dataAt(): number { return this.at + UDP_HLEN; }
  /** Length field - 8. */
  dataLen(): number { return this.length() - UDP_HLEN; }
}

/** Writes a UDP header at b[at] with checksum 0 (RFC 768); returns 8. */
export function emitUdp(b: Uint8Array, at: number, srcPort: number, dstPort: number, dataLen: number): number {
  put16(b, at + SPORT, srcPort);
  put16(b, at + DPORT, dstPort);
  put16(b, at + LEN, UDP_HLEN + dataLen);
  put16(b, at + CSUM, 0);
  return UDP_HLEN;
}

/**
 * Computes and stores the checksum of the datagram b[at, at+len) with the
 * pseudo-header; a computed 0 is sent as 0xffff (RFC 768).
 */
export function fillUdpChecksum(b: Uint8Array, at: number, len: number, src: number, dst: number): void {
  put16(b, at + CSUM, 0);
  const c = finish(sum(b, at, len, pseudo(src, dst, PROTO_UDP, len)));
  put16(b, at + CSUM, c === 0 ? 0xffff : c);
}
