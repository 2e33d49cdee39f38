/**
 * Sequence-number arithmetic, mod 2^32 (RFC 9293 §3.4). Values are uint32 numbers.
 * Comparisons use the signed 32-bit difference, valid while the two are less than 2^31 apart.
 */
/** a < b */
export function seqLt(a: number, b: number): boolean { return ((a - b) | 0) < 0; }
/** a <= b */
export function seqLe(a: number, b: number): boolean { return ((a - b) | 0) <= 0; }
/** a > b */
export function seqGt(a: number, b: number): boolean { return ((a - b) | 0) > 0; }
/** a >= b */
export function seqGe(a: number, b: number): boolean { return ((a - b) | 0) >= 0; }
/** a + n, wrapped to uint32. */
export function seqAdd(a: number, n: number): number { return (a + n) >>> 0; }
/** a - b as a signed distance (b + distance = a). */
export function seqDiff(a: number, b: number): number { return (a - b) | 0; }
/** lo <= x < hi, all mod 2^32. */
export function seqInRange(x: number, lo: number, hi: number): boolean { return seqLe(lo, x) && seqLt(x, hi); }
