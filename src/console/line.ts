/**
 * LineWriter: builds one record line in a fixed byte buffer, with no allocation: ASCII text,
 * decimal and hex numbers, IPv4 addresses, MACs, base64. A write past the end sets `overflow`
 * and is cut (the caller ends the line anyway; text lines are shortened, never split).
 */
import type { Crc32 } from "./crc32.js";
import { LINE_SUFFIX } from "./framing.js";

export class LineWriter {
  readonly buf: Uint8Array;
  len = 0;
  overflow = false;
  /** Room kept at the end for the CRC and CR LF. */
  private readonly limit: number;
  private readonly digits = new Uint8Array(24);

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.limit = size - LINE_SUFFIX;
  }

  /** Start a record: "@xt K ssss ". */
  begin(kind: number, seq: number): this {
    this.len = 0;
    this.overflow = false;
    this.ch(0x40).ch(0x78).ch(0x74).ch(0x20).ch(kind).ch(0x20).hex(seq & 0xffff, 4).ch(0x20);
    return this;
  }


  /** End a record: " crc\r\n". Returns the line length. */
  end(crc: Crc32): number {
    const b = this.buf;
    b[this.len++] = 0x20;
    const c = crc.of(b, 0, this.len);
    for (let k = 7; k >= 0; k--) b[this.len++] = hexDigit((c >>> (k * 4)) & 15);
    b[this.len++] = 0x0d;
    b[this.len++] = 0x0a;
    return this.len;
  }

  /** One byte; control and non-ASCII bytes become '?'. */
  ch(c: number): this {
    if (this.len >= this.limit) { this.overflow = true; return this; }
    this.buf[this.len++] = c >= 0x20 && c <= 0x7e ? c : 0x3f;
    return this;
  }

  /** ASCII text. Reads characters through charCodeAt.call and stops at NaN: in XS, `s.length` or
   *  `s.charCodeAt()` on a primitive string allocates a wrapper object; this allocates nothing. */
  str(s: string): this {
    for (let i = 0; ; i++) {
      const c = charCodeAt.call(s, i);
      if (c !== c) return this;
      this.ch(c);
    }
  }

  /** Spaces up to column `col` (at least one). */
  padTo(col: number): this {
    this.ch(0x20);
    while (this.len < col && !this.overflow) this.ch(0x20);
    return this;
  }

  /** A number in decimal: integers exactly, others rounded to an integer (NaN -> "nan"). */
  dec(n: number): this {
    if (n !== n) return this.str("nan");
    if (n === Infinity) return this.str("inf");
    if (n === -Infinity) return this.str("-inf");
    n = Math.round(n);
    if (n < 0) { this.ch(0x2d); n = -n; }
    const d = this.digits;
    let k = 0;
    do {
      const q = Math.floor(n / 10);
      d[k++] = 0x30 + (n - q * 10);
      n = q;
    } while (n > 0 && k < d.length);
    while (k > 0) this.ch(d[--k]);
    return this;
  }

  /** A non-negative number with one decimal (RTTs in ms). */
  dec1(n: number): this {
    if (!(n >= 0) || n === Infinity) return this.dec(n);
    const tenths = Math.round(n * 10);
    const whole = Math.floor(tenths / 10);
    return this.dec(whole).ch(0x2e).ch(0x30 + (tenths - whole * 10));
  }

  /** `n` (uint32) as exactly `digits` lowercase hex digits. */
  hex(n: number, digits: number): this {
    for (let k = digits - 1; k >= 0; k--) this.ch(hexDigit(Math.floor(n / 2 ** (k * 4)) & 15));
    return this;
  }

  /** A uint32 IPv4 address as a dotted quad. */
  ip(a: number): this {
    a = a >>> 0;
    return this.dec(a >>> 24).ch(0x2e).dec((a >>> 16) & 255).ch(0x2e).dec((a >>> 8) & 255).ch(0x2e).dec(a & 255);
  }

  /** b[at .. at+6) as aa:bb:cc:dd:ee:ff. */
  mac(b: Uint8Array, at: number): this {
    for (let k = 0; k < 6; k++) {
      if (k > 0) this.ch(0x3a);
      this.hex(b[at + k], 2);
    }
    return this;
  }

  /** Raw bytes (already printable) from another buffer. */
  bytes(b: Uint8Array, at: number, len: number): this {
    for (let k = 0; k < len; k++) this.ch(b[at + k]);
    return this;
  }

  /** Standard base64 (RFC 4648 §4, padded) of src[at .. at+len). All or nothing. */
  base64(src: Uint8Array, at: number, len: number): this {
    const need = 4 * Math.ceil(len / 3);
    if (this.len + need > this.limit) { this.overflow = true; return this; }
    const b = this.buf;
    let o = this.len;
    let i = at;
    const end = at + len;
    for (; i + 3 <= end; i += 3) {
      const v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
      b[o++] = b64(v >>> 18); b[o++] = b64((v >>> 12) & 63); b[o++] = b64((v >>> 6) & 63); b[o++] = b64(v & 63);
    }
    const rest = end - i;
    if (rest === 1) {
      const v = src[i] << 16;
      b[o++] = b64(v >>> 18); b[o++] = b64((v >>> 12) & 63); b[o++] = 0x3d; b[o++] = 0x3d;
    } else if (rest === 2) {
      const v = (src[i] << 16) | (src[i + 1] << 8);
      b[o++] = b64(v >>> 18); b[o++] = b64((v >>> 12) & 63); b[o++] = b64((v >>> 6) & 63); b[o++] = 0x3d;
    }
    this.len = o;
    return this;
  }
}

/** String.prototype.charCodeAt, called with .call() so that XS does not box the string. */
export const charCodeAt: (this: string, i: number) => number = String.prototype.charCodeAt;

export function hexDigit(v: number): number {
  return v < 10 ? 0x30 + v : 0x57 + v;
}

/** Base64 alphabet (RFC 4648 §4) by arithmetic: no table. */
function b64(v: number): number {
  return v < 26 ? 0x41 + v : v < 52 ? 0x47 + v : v < 62 ? v - 4 : v === 62 ? 0x2b : 0x2f;
}
