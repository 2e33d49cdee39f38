/**
 * RFC 6528 initial sequence numbers: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4-microsecond timer, F a keyed pseudo-random function. F here is HalfSipHash-2-4 (32-bit words,
 * no BigInt), keyed with 64 bits from driver.random at stack creation. Also used for SYN cookies.
 */
function rotl(x: number, b: number): number { return ((x << b) | (x >>> (32 - b))) >>> 0; }

/** Keyed 32-bit hash of three 32-bit words. Allocation-free. */
export class KeyedHash {
  private k0: number;
  private k1: number;
  private v0 = 0; private v1 = 0; private v2 = 0; private v3 = 0;
  constructor(seed: Uint8Array) {
    if (seed.length < 8) throw new RangeError("KeyedHash: need 8 seed bytes");
    this.k0 = ((seed[0] << 24) | (seed[1] << 16) | (seed[2] << 8) | seed[3]) >>> 0;
    this.k1 = ((seed[4] << 24) | (seed[5] << 16) | (seed[6] << 8) | seed[7]) >>> 0;
  }
  private round(): void {
    this.v0 = (this.v0 + this.v1) >>> 0; this.v1 = rotl(this.v1, 5); this.v1 = (this.v1 ^ this.v0) >>> 0; this.v0 = rotl(this.v0, 16);
    this.v2 = (this.v2 + this.v3) >>> 0; this.v3 = rotl(this.v3, 8); this.v3 = (this.v3 ^ this.v2) >>> 0;
    this.v0 = (this.v0 + this.v3) >>> 0; this.v3 = rotl(this.v3, 7); this.v3 = (this.v3 ^ this.v0) >>> 0;
    this.v2 = (this.v2 + this.v1) >>> 0; this.v1 = rotl(this.v1, 13); this.v1 = (this.v1 ^ this.v2) >>> 0; this.v2 = rotl(this.v2, 16);
  }
  private word(m: number): void {
    this.v3 = (this.v3 ^ m) >>> 0; this.round(); this.round(); this.v0 = (this.v0 ^ m) >>> 0;
  }
  hash(a: number, b: number, c: number): number {
    this.v0 = this.k0; this.v1 = this.k1;
    this.v2 = (0x6c796765 ^ this.k0) >>> 0; this.v3 = (0x74656462 ^ this.k1) >>> 0;
    this.word(a >>> 0); this.word(b >>> 0); this.word(c >>> 0);
    const fin = (12 << 24) >>> 0;
    this.v3 = (this.v3 ^ fin) >>> 0; this.round(); this.round(); this.v0 = (this.v0 ^ fin) >>> 0;
    this.v2 = (this.v2 ^ 0xff) >>> 0;
    this.round(); this.round(); this.round(); this.round();
    return (this.v1 ^ this.v3) >>> 0;
  }
}

/** RFC 6528 ISN for a 4-tuple at time `now` (ms). */
export function makeIsn(h: KeyedHash, localIp: number, remoteIp: number, localPort: number, remotePort: number, now: number): number {
  const m = Math.floor(now * 250) % 4294967296; // 4 µs ticks
  return (m + h.hash(localIp, remoteIp, ((localPort << 16) | remotePort) >>> 0)) >>> 0;
}
