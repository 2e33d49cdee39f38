/** IPv4 header (RFC 791 §3.1); header checksum per RFC 1071. Options are skipped. */
import { get16, get32, put16, put32 } from "./bytes.js";
import { finish, sum } from "./checksum.js";

export const IPV4_HLEN = 20;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

/** Results of Ipv4View.check. */
export const IP_OK = 0;
/** len < 20. */
export const IP_TOO_SHORT = 1;
/** Version field is not 4. */
export const IP_BAD_VERSION = 2;
/** IHL < 5, or the header runs past len. */
export const IP_BAD_HLEN = 3;
/** Total Length < header length, or > len. */
export const IP_BAD_TOTLEN = 4;
/** Header checksum does not verify. */
export const IP_BAD_CHECKSUM = 5;

const VIHL = 0, TOS = 1, TOTLEN = 2, ID = 4, FRAG = 6, TTL = 8, PROTO = 9, CSUM = 10, SRC = 12, DST = 16;
const DF = 0x4000, MF = 0x2000, OFFSET_MASK = 0x1fff;

/** A view over one IPv4 datagram, re-aimed at each frame. */
export class Ipv4View {
  b: Uint8Array = new Uint8Array(0);
  at = 0;
  len = 0;

  /**
   * Aims at b[at, at+len) and validates the header (RFC 791 §3.1, RFC 1122
   * §3.2.1.1-2): returns IP_OK or an IP_* error code. After IP_OK every getter
   * reads only inside the header.
   */
  check(b: Uint8Array, at: number, len: number): number {
    this.b = b;
    this.at = at;
    this.len = len;
    if (len < IPV4_HLEN) return IP_TOO_SHORT;
    if (b[at + VIHL] >> 4 !== 4) return IP_BAD_VERSION;
    const h = this.headerLen();
    if (h < IPV4_HLEN || h > len) return IP_BAD_HLEN;
    const t = this.totalLen();
    if (t < h || t > len) return IP_BAD_TOTLEN;
    if (finish(sum(b, at, h, 0)) !== 0) return IP_BAD_CHECKSUM;
    return IP_OK;
  }
  /** IHL * 4, bytes. */
  headerLen(): number { return (this.b[this.at + VIHL] & 15) << 2; }
  totalLen(): number { return get16(this.b, this.at + TOTLEN); }
  tos(): number { return this.b[this.at + TOS]; }
  id(): number { return get16(this.b, this.at + ID); }
  ttl(): number { return this.b[this.at + TTL]; }
  proto(): number { return this.b[this.at + PROTO]; }
  checksum(): number { return get16(this.b, this.at + CSUM); }
  src(): number { return get32(this.b, this.at + SRC); }
  dst(): number { return get32(this.b, this.at + DST); }
  /** More Fragments set or Fragment Offset non-zero (RFC 791 §3.2 "Fragmentation"). */
  isFragment(): boolean { return (get16(this.b, this.at + FRAG) & (MF | OFFSET_MASK)) !== 0; }
  dontFragment(): boolean { return (get16(this.b, this.at + FRAG) & DF) !== 0; }
  payloadAt(): number { return this.at + this.headerLen(); }
  /** totalLen - headerLen: trailing link-layer padding is not payload. */
  payloadLen(): number { return this.totalLen() - this.headerLen(); }
}

/**
 * Writes a 20-byte IPv4 header at b[at]: version 4, IHL 5, TOS 0, total length
 * 20+payloadLen, DF set, header checksum filled (RFC 791 §3.1). Returns 20.
 */
export function emitIpv4(
  b: Uint8Array, at: number, src: number, dst: number, proto: number,
  payloadLen: number, id: number, ttl: number,
): number {
  b[at + VIHL] = 0x45;
  b[at + TOS] = 0;
  put16(b, at + TOTLEN, IPV4_HLEN + payloadLen);
  put16(b, at + ID, id);
  put16(b, at + FRAG, DF);
  b[at + TTL] = ttl & 0xff;
  b[at + PROTO] = proto & 0xff;
  put16(b, at + CSUM, 0);
  put32(b, at + SRC, src);
  put32(b, at + DST, dst);
  put16(b, at + CSUM, finish(sum(b, at, IPV4_HLEN, 0)));
  return IPV4_HLEN;
}
