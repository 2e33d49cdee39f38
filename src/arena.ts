/**
 * Arena: all byte storage of a Stack is carved out of one ArrayBuffer made at creation (DESIGN.md §4).
 * Never made at module scope: a preloaded module's buffers are frozen in flash on the device.
 */
export class Arena {
  readonly buffer: ArrayBuffer;
  /** A view of the whole arena: copies between two parts of it use copyWithin (no allocation). */
  readonly all: Uint8Array;
  private used = 0;
  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
    this.all = new Uint8Array(this.buffer);
  }

  /** Copy n bytes from `src` at s to `dst` at d; both views must lie in this arena. */
  copy(dst: Uint8Array, d: number, src: Uint8Array, s: number, n: number): void {
    const from = src.byteOffset + s;
    this.all.copyWithin(dst.byteOffset + d, from, from + n);
  }
  /** A view of the next `n` bytes (8-byte aligned). Throws if the plan was wrong (a bug, not input). */
  take(n: number): Uint8Array {
    const at = this.used;
    const end = at + ((n + 7) & ~7);
    if (end > this.buffer.byteLength) throw new RangeError(`arena exhausted: ${end} > ${this.buffer.byteLength}`);
    this.used = end;
    return new Uint8Array(this.buffer, at, n);
  }
  get bytesUsed(): number { return this.used; }
}

/** Bytes `take(n)` consumes. */
export function arenaSize(n: number): number {
  return (n + 7) & ~7;
}
