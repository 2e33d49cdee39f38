/**
 * Tokens: a command line split on spaces, kept as (start, length) pairs into the line's bytes.
 * Comparisons and number parsing read the bytes in place: nothing is allocated.
 */
import { charCodeAt } from "./line.js";

export const MAX_TOKENS = 12;

export class Tokens {
  b: Uint8Array = new Uint8Array(0);
  count = 0;
  readonly start = new Uint16Array(MAX_TOKENS);
  readonly len = new Uint16Array(MAX_TOKENS);
  /** More tokens than MAX_TOKENS were on the line. */
  tooMany = false;

  split(b: Uint8Array, at: number, len: number): void {
    this.b = b;
    this.count = 0;
    this.tooMany = false;
    let i = at;
    const end = at + len;
    while (i < end) {
      while (i < end && (b[i] === 0x20 || b[i] === 0x09)) i++;
      if (i >= end) break;
      const s = i;
      while (i < end && b[i] !== 0x20 && b[i] !== 0x09) i++;
      if (this.count === MAX_TOKENS) { this.tooMany = true; return; }
      this.start[this.count] = s;
      this.len[this.count] = i - s;
      this.count++;
    }
  }

  /** Token i equals `word` (ASCII, case-insensitive). */
  is(i: number, word: string): boolean {
    if (i >= this.count) return false;
    const s = this.start[i], n = this.len[i];
    for (let k = 0; ; k++) {
      const c = charCodeAt.call(word, k);
      if (c !== c) return k === n;
      if (k >= n || lower(this.b[s + k]) !== lower(c)) return false;
    }
  }

  /** Token i as a decimal integer in 0 .. max, or -1. */
  int(i: number, max: number): number {
    if (i >= this.count || this.len[i] > 10) return -1;
    let v = 0;
    const s = this.start[i];
    for (let k = 0; k < this.len[i]; k++) {
      const c = this.b[s + k];
      if (c < 0x30 || c > 0x39) return -1;
      v = v * 10 + (c - 0x30);
    }
    return v <= max ? v : -1;
  }

  /** Token i as a dotted-quad IPv4 address (uint32), or -1. */
  ip(i: number): number {
    if (i >= this.count) return -1;
    const s = this.start[i], e = s + this.len[i];
    let v = 0, part = 0, digits = 0, dots = 0;
    for (let k = s; k <= e; k++) {
      const c = k < e ? this.b[k] : 0x2e;
      if (c >= 0x30 && c <= 0x39) {
        part = part * 10 + (c - 0x30);
        if (++digits > 3 || part > 255) return -1;
      } else if (c === 0x2e) {
        if (digits === 0) return -1;
        v = v * 256 + part;
        part = 0; digits = 0; dots++;
      } else return -1;
    }
    return dots === 4 ? v : -1;
  }

  /** Does `name` start with token i (case-insensitive)? */
  prefixOf(i: number, name: string): boolean {
    if (i >= this.count) return false;
    const s = this.start[i];
    for (let k = 0; k < this.len[i]; k++) {
      const c = charCodeAt.call(name, k);
      if (c !== c || lower(this.b[s + k]) !== lower(c)) return false;
    }
    return true;
  }
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}
