/**
 * CRC-32/ISO-HDLC (the zlib / Ethernet CRC: reflected polynomial 0xEDB88320, init and xorout
 * 0xFFFFFFFF; check value of "123456789" is 0xCBF43926). Guards every console record line.
 * The table is made per instance (never at module scope: preloaded modules are frozen in flash).
 */
export class Crc32 {
  private readonly table = new Uint32Array(256);

  constructor() {
    const t = this.table;
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c >>> 0;
    }
  }

  /** CRC of b[at .. at+len). */
  of(b: Uint8Array, at: number, len: number): number {
    const t = this.table;
    let c = 0xffffffff;
    for (let i = at, end = at + len; i < end; i++) c = t[(c ^ b[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  /** CRC of the character codes of s (each taken modulo 256). */
  ofString(s: string): number {
    const t = this.table;
    let c = 0xffffffff;
    for (let i = 0; i < s.length; i++) c = t[(c ^ s.charCodeAt(i)) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }
}
