/** Ethernet II framing (IEEE 802.3 / RFC 894): dst(6) src(6) type(2) payload. */
import { get16, put16 } from "./bytes.js";

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

const DST = 0, SRC = 6, TYPE = 12;

/** A view over one Ethernet II frame, re-aimed at each frame. */
export class EthView {
  b: Uint8Array = new Uint8Array(0);
  at = 0;
  len = 0;

  /** Aims at b[at, at+len); true when it holds a full header (len >= 14). */
  aim(b: Uint8Array, at: number, len: number): boolean {
    this.b = b;
    this.at = at;
    this.len = len;
    return len >= ETH_HLEN;
  }
  /** EtherType (RFC 894). */
  type(): number { return get16(this.b, this.at + TYPE); }
  /** Destination ff:ff:ff:ff:ff:ff. */
  isBroadcast(): boolean {
    const b = this.b, a = this.at;
    return (b[a] & b[a + 1] & b[a + 2] & b[a + 3] & b[a + 4] & b[a + 5]) === 0xff;
  }
  /** Destination group bit set (includes broadcast). */
  isMulticast(): boolean { return (this.b[this.at + DST] & 1) !== 0; }
  /** Destination equals the 6 bytes mac[macAt..]. */
  dstIs(mac: Uint8Array, macAt: number): boolean {
    const b = this.b, a = this.at + DST;
    for (let i = 0; i < 6; i++) if (b[a + i] !== mac[macAt + i]) return false;
    return true;
  }
  dstAt(): number { return this.at + DST; }
  srcAt(): number { return this.at + SRC; }
  payloadAt(): number { return this.at + ETH_HLEN; }
  payloadLen(): number { return this.len - ETH_HLEN; }
}

/** Writes an Ethernet II header at b[at]; returns 14. */
export function emitEth(
  b: Uint8Array, at: number, dst: Uint8Array, dstAt: number,
  src: Uint8Array, srcAt: number, type: number,
): number {
  for (let i = 0; i < 6; i++) {
    b[at + DST + i] = dst[dstAt + i];
    b[at + SRC + i] = src[srcAt + i];
  }
  put16(b, at + TYPE, type);
  return ETH_HLEN;
}
