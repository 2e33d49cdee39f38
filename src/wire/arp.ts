/** ARP for Ethernet/IPv4 (RFC 826): the 28-byte packet. */
import { get16, get32, put16, put32 } from "./bytes.js";

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

// RFC 826 "Packet format" with hrd = 1 (Ethernet), pro = 0x0800 (IPv4).
const HTYPE = 0, PTYPE = 2, HLEN = 4, PLEN = 5, OP = 6, SHA = 8, SPA = 14, THA = 18, TPA = 24;

/** A view over one ARP packet, re-aimed at each frame. */
export class ArpView {
  b: Uint8Array = new Uint8Array(0);
  at = 0;
  len = 0;

  /** True when len >= 28 and hrd=1, pro=0x0800, hln=6, pln=4 (RFC 826). */
  aim(b: Uint8Array, at: number, len: number): boolean {
    this.b = b;
    this.at = at;
    this.len = len;
    if (len < ARP_LEN) return false;
    return get16(b, at + HTYPE) === 1 && get16(b, at + PTYPE) === 0x0800 &&
      b[at + HLEN] === 6 && b[at + PLEN] === 4;
  }
  op(): number { return get16(this.b, this.at + OP); }
  shaAt(): number { return this.at + SHA; }
  spa(): number { return get32(this.b, this.at + SPA); }
  thaAt(): number { return this.at + THA; }
  tpa(): number { return get32(this.b, this.at + TPA); }
}

/** Writes an Ethernet/IPv4 ARP packet at b[at] (RFC 826); returns 28. */
export function emitArp(
  b: Uint8Array, at: number, op: number,
  sha: Uint8Array, shaAt: number, spa: number,
  tha: Uint8Array, thaAt: number, tpa: number,
): number {
  put16(b, at + HTYPE, 1);
  put16(b, at + PTYPE, 0x0800);
  b[at + HLEN] = 6;
  b[at + PLEN] = 4;
  put16(b, at + OP, op);
  for (let i = 0; i < 6; i++) {
    b[at + SHA + i] = sha[shaAt + i];
    b[at + THA + i] = tha[thaAt + i];
  }
  put32(b, at + SPA, spa);
  put32(b, at + TPA, tpa);
  return ARP_LEN;
}
