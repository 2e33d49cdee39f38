/**
 * TraceRing: the most recent frames, with timestamps, in fixed memory made once:
 * `slots` (config.traceFrames) x `snap` (config.traceSnapBytes) bytes plus a few numbers per slot.
 *
 * `push` copies a frame in (at most `snap` bytes). When every slot holds a frame not yet taken
 * (the UART is slower than the traffic), the oldest is overwritten and counted in `dropped`:
 * the stack is never held up by the console. Frame numbers keep counting across drops, so the
 * reader sees a gap exactly where frames were lost.
 */
export class TraceRing {
  readonly slots: number;
  readonly snap: number;
  readonly store: Uint8Array;
  private readonly capLen: Uint16Array;
  private readonly wireLen: Uint16Array;
  private readonly flagsOf: Uint8Array;
  private readonly timeOf: Float64Array;
  private readonly numOf: Float64Array;
  /** Index of the oldest frame held. */
  private head = 0;
  /** Frames held. */
  count = 0;
  /** Frames pushed since clear() (the next frame number). */
  captured = 0;
  /** Frames overwritten before they were taken. */
  dropped = 0;

  constructor(slots: number, snap: number) {
    this.slots = slots;
    this.snap = snap;
    this.store = new Uint8Array(slots * snap);
    this.capLen = new Uint16Array(slots);
    this.wireLen = new Uint16Array(slots);
    this.flagsOf = new Uint8Array(slots);
    this.timeOf = new Float64Array(slots);
    this.numOf = new Float64Array(slots);
  }

  clear(): void {
    this.head = 0; this.count = 0; this.captured = 0; this.dropped = 0;
  }

  /**
   * Copy b[at .. at+len) in. `countDrop`: an overwritten frame counts as dropped (streaming);
   * otherwise the ring simply keeps the most recent frames.
   */
  push(b: Uint8Array, at: number, len: number, flags: number, now: number, countDrop: boolean): void {
    if (this.slots === 0) return;
    if (!(len > 0)) len = 0;
    if (len > 0xffff) len = 0xffff;
    if (this.count === this.slots) {
      this.head = this.head + 1 === this.slots ? 0 : this.head + 1;
      this.count--;
      if (countDrop) this.dropped++;
    }
    let s = this.head + this.count;
    if (s >= this.slots) s -= this.slots;
    const cap = len < this.snap ? len : this.snap;
    const base = s * this.snap;
    const store = this.store;
    for (let k = 0; k < cap; k++) store[base + k] = b[at + k];
    this.capLen[s] = cap;
    this.wireLen[s] = len;
    this.flagsOf[s] = cap < len ? flags | 4 : flags;
    this.timeOf[s] = now;
    this.numOf[s] = this.captured;
    this.captured++;
    this.count++;
  }

  /** Slot of the oldest frame, or -1 when empty. */
  oldest(): number {
    return this.count === 0 ? -1 : this.head;
  }

  /** Forget the oldest frame (after it has been taken). */
  shift(): void {
    if (this.count === 0) return;
    this.head = this.head + 1 === this.slots ? 0 : this.head + 1;
    this.count--;
  }

  capturedLength(s: number): number { return this.capLen[s]; }
  wireLength(s: number): number { return this.wireLen[s]; }
  flags(s: number): number { return this.flagsOf[s]; }
  time(s: number): number { return this.timeOf[s]; }
  number(s: number): number { return this.numOf[s]; }
  offset(s: number): number { return s * this.snap; }
}
