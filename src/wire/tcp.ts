/**
 * TCP header (RFC 9293 §3.1) and options: MSS (RFC 9293 §3.2), window scale and
 * timestamps (RFC 7323), SACK (RFC 2018).
 */
import { get16, get32, put16, put32 } from "./bytes.js";
import { finish, pseudo, sum } from "./checksum.js";
import { PROTO_TCP } from "./ipv4.js";

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

export const TCP_HLEN = 20;
/** Largest TCP header: data offset 15 words (RFC 9293 §3.1). */
export const TCP_MAX_HLEN = 60;

export const OPT_EOL = 0;
export const OPT_NOP = 1;
export const OPT_MSS = 2;
export const OPT_WSCALE = 3;
export const OPT_SACK_PERMITTED = 4;
export const OPT_SACK = 5;
export const OPT_TIMESTAMPS = 8;

/** Largest shift count, RFC 7323 §2.3. */
export const WSCALE_MAX = 14;
/** Most SACK blocks one segment carries (RFC 2018 §3: 40 bytes of options). */
export const SACK_MAX = 4;

const SPORT = 0, DPORT = 2, SEQ = 4, ACKN = 8, OFF = 12, FLAGS = 13, WND = 14, CSUM = 16, URP = 18;

/** Parsed TCP options: numbers only, allocated once and reused. */
export class TcpOptions {
  /** MSS (RFC 9293 §3.7.1), -1 = absent. */
  mss = -1;
  /** Window scale shift (RFC 7323 §2), clamped to 14; -1 = absent. */
  wscale = -1;
  /** SACK-permitted seen (RFC 2018 §2). */
  sackOk = false;
  /** Timestamps option present (RFC 7323 §3). */
  hasTs = false;
  tsVal = 0;
  tsEcr = 0;
  /** Number of SACK blocks in sack (0..4). */
  sackCount = 0;
  /** SACK blocks: left0, right0, left1, right1, ... (RFC 2018 §3). */
  readonly sack: Uint32Array = new Uint32Array(2 * SACK_MAX);

  /** Resets to "no options". */
  clear(): void {
    this.mss = -1;
    this.wscale = -1;
    this.sackOk = false;
    this.hasTs = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
  }
}

/** A view over one TCP segment, re-aimed at each frame. */
export class TcpView {
  b: Uint8Array = new Uint8Array(0);
  at = 0;
  len = 0;

  /** True when len >= 20 and 20 <= Data Offset * 4 <= len: getters stay inside b[at, at+len). */
  aim(b: Uint8Array, at: number, len: number): boolean {
    this.b = b;
    this.at = at;
    this.len = len;
    if (len < TCP_HLEN) return false;
    const h = this.headerLen();
    return h >= TCP_HLEN && h <= len;
  }
  srcPort(): number { return get16(this.b, this.at + SPORT); }
  dstPort(): number { return get16(this.b, this.at + DPORT); }
  seq(): number { return get32(this.b, this.at + SEQ); }
  ack(): number { return get32(this.b, this.at + ACKN); }
  /** Data Offset * 4, bytes. */
  headerLen(): number { return (this.b[this.at + OFF] >> 4) << 2; }
  /** Control bits CWR..FIN (RFC 9293 §3.1, RFC 3168 §23.2). */
  flags(): number { return this.b[this.at + FLAGS]; }
  has(flag: number): boolean { return (this.b[this.at + FLAGS] & flag) !== 0; }
  window(): number { return get16(this.b, this.at + WND); }
  checksum(): number { return get16(this.b, this.at + CSUM); }
  urgent(): number { return get16(this.b, this.at + URP); }
  dataAt(): number { return this.at + this.headerLen(); }
  dataLen(): number { return this.len - this.headerLen(); }
  /** Checksum over b[at, at+len) with the IPv4 pseudo-header (RFC 9293 §3.1). */
  checksumOk(src: number, dst: number): boolean {
    return finish(sum(this.b, this.at, this.len, pseudo(src, dst, PROTO_TCP, this.len))) === 0;
  }

  /**
   * Parses the options into out (after out.clear()). RFC 9293 §3.1/§3.2: EOL ends
   * the list, NOP is one byte, every other kind has a length byte >= 2 that must
   * stay inside the header (else false: malformed). Known kinds with a wrong
   * length and unknown kinds are skipped (RFC 9293 §3.2 MUST-6, MUST-7). SACK
   * blocks beyond 4 are ignored.
   */
  options(out: TcpOptions): boolean {
    out.clear();
    const b = this.b;
    const end = this.at + this.headerLen();
    let i = this.at + TCP_HLEN;
    while (i < end) {
      const kind = b[i];
      if (kind === OPT_EOL) break;
      if (kind === OPT_NOP) { i++; continue; }
      if (i + 1 >= end) return false;
      const l = b[i + 1];
      if (l < 2 || i + l > end) return false;
      switch (kind) {
        case OPT_MSS:
          if (l === 4) out.mss = get16(b, i + 2);
          break;
        case OPT_WSCALE:
          if (l === 3) out.wscale = b[i + 2] > WSCALE_MAX ? WSCALE_MAX : b[i + 2]; // RFC 7323 §2.3
          break;
        case OPT_SACK_PERMITTED:
          if (l === 2) out.sackOk = true;
          break;
        case OPT_TIMESTAMPS:
          if (l === 10) {
            out.hasTs = true;
            out.tsVal = get32(b, i + 2);
            out.tsEcr = get32(b, i + 6);
          }
          break;
        case OPT_SACK:
          // RFC 2018 §3: length 2 + 8n.
          if (l >= 10 && ((l - 2) & 7) === 0) {
            for (let j = i + 2; j < i + l && out.sackCount < SACK_MAX; j += 8) {
              out.sack[2 * out.sackCount] = get32(b, j);
              out.sack[2 * out.sackCount + 1] = get32(b, j + 4);
              out.sackCount++;
            }
          }
          break;
        default:
          break;
      }
      i += l;
    }
    return true;
  }
}

/**
 * Writes the 20-byte fixed header at b[at] (RFC 9293 §3.1): data offset
 * (20+optLen)/4 (optLen a multiple of 4, <= 40), checksum 0, urgent 0. Returns 20.
 */
export function emitTcp(
  b: Uint8Array, at: number, srcPort: number, dstPort: number,
  seq: number, ack: number, flags: number, window: number, optLen: number,
): number {
  put16(b, at + SPORT, srcPort);
  put16(b, at + DPORT, dstPort);
  put32(b, at + SEQ, seq);
  put32(b, at + ACKN, ack);
  b[at + OFF] = ((TCP_HLEN + optLen) >> 2) << 4;
  b[at + FLAGS] = flags & 0xff;
  put16(b, at + WND, window);
  put16(b, at + CSUM, 0);
  put16(b, at + URP, 0);
  return TCP_HLEN;
}

/** SACK blocks that fit next to the other non-SYN options (40 bytes in all). */
function sackBlocks(o: TcpOptions): number {
  const max = o.hasTs ? 3 : SACK_MAX;
  const n = o.sackCount;
  return n <= 0 ? 0 : n > max ? max : n;
}

/** Length emitTcpOptions(b, at, o, syn) would write (a multiple of 4, <= 40). */
export function tcpOptionsLen(o: TcpOptions, syn: boolean): number {
  if (syn) {
    return (o.mss >= 0 ? 4 : 0) + (o.hasTs ? 12 : o.sackOk ? 4 : 0) + (o.wscale >= 0 ? 4 : 0);
  }
  const n = sackBlocks(o);
  return (o.hasTs ? 12 : 0) + (n > 0 ? 4 + 8 * n : 0);
}

function putTs(b: Uint8Array, i: number, o: TcpOptions): void {
  b[i] = OPT_TIMESTAMPS;
  b[i + 1] = 10;
  put32(b, i + 2, o.tsVal);
  put32(b, i + 6, o.tsEcr);
}

/**
 * Writes options at b[at] in the Linux layouts; returns their length (a multiple
 * of 4). SYN: MSS; SACK-permitted + timestamps as 4,2,8,10 (or NOP,NOP,TS or
 * NOP,NOP,SACK-permitted); NOP, window scale. Otherwise: NOP,NOP,TS then
 * NOP,NOP,SACK with up to 4 blocks (3 with timestamps).
 */
export function emitTcpOptions(b: Uint8Array, at: number, o: TcpOptions, syn: boolean): number {
  let i = at;
  if (syn) {
    if (o.mss >= 0) {
      b[i] = OPT_MSS; b[i + 1] = 4; put16(b, i + 2, o.mss); i += 4; // RFC 9293 §3.7.1
    }
    if (o.sackOk && o.hasTs) {
      b[i] = OPT_SACK_PERMITTED; b[i + 1] = 2; putTs(b, i + 2, o); i += 12; // RFC 2018 §2, RFC 7323 §3
    } else if (o.hasTs) {
      b[i] = OPT_NOP; b[i + 1] = OPT_NOP; putTs(b, i + 2, o); i += 12;
    } else if (o.sackOk) {
      b[i] = OPT_NOP; b[i + 1] = OPT_NOP; b[i + 2] = OPT_SACK_PERMITTED; b[i + 3] = 2; i += 4;
    }
    if (o.wscale >= 0) {
      b[i] = OPT_NOP; b[i + 1] = OPT_WSCALE; b[i + 2] = 3; // RFC 7323 §2.2
      b[i + 3] = o.wscale > WSCALE_MAX ? WSCALE_MAX : o.wscale;
      i += 4;
    }
    return i - at;
  }
  if (o.hasTs) {
    b[i] = OPT_NOP; b[i + 1] = OPT_NOP; putTs(b, i + 2, o); i += 12; // RFC 7323 Appendix A
  }
  const n = sackBlocks(o);
  if (n > 0) {
    b[i] = OPT_NOP; b[i + 1] = OPT_NOP; b[i + 2] = OPT_SACK; b[i + 3] = 2 + 8 * n; // RFC 2018 §3
    i += 4;
    for (let k = 0; k < n; k++) {
      put32(b, i, o.sack[2 * k]);
      put32(b, i + 4, o.sack[2 * k + 1]);
      i += 8;
    }
  }
  return i - at;
}

/** Computes and stores the checksum of the segment b[at, at+len) with the pseudo-header (RFC 9293 §3.1). */
export function fillTcpChecksum(b: Uint8Array, at: number, len: number, src: number, dst: number): void {
  put16(b, at + CSUM, 0);
  put16(b, at + CSUM, finish(sum(b, at, len, pseudo(src, dst, PROTO_TCP, len))));
}
