/**
 * The SACK scoreboard of the sending side (RFC 2018 received blocks, RFC 6675 loss recovery).
 *
 * A fixed array of SACKed ranges [start, end) above SND.UNA, kept sorted and merged. When it is full,
 * the range farthest from SND.UNA is forgotten (its bytes may be resent: graceful degradation toward
 * NewReno, never a wrong answer). D-SACK blocks (RFC 2883: below the cumulative ACK, or inside the
 * second block) are recognised and not counted as new information.
 */
import { seqDiff, seqGe, seqGt, seqLe, seqLt } from "./seq.js";
import type { Tcb } from "./tcb.js";

/** Ranges kept per connection. */
export const SB_MAX = 6;
/** RFC 6675 DupThresh. */
export const DUP_THRESH = 3;

/**
 * Merge the SACK blocks of the current segment (`blocks[0..2n)`, uint32 pairs) into t's scoreboard.
 * Returns the number of newly SACKed bytes (0 for a D-SACK or old information).
 */
export function sackUpdate(t: Tcb, blocks: Uint32Array, n: number, ack: number): number {
  const before = t.sackedBytes;
  for (let i = 0; i < n; i++) {
    let l = blocks[2 * i], r = blocks[2 * i + 1];
    if (!seqLt(l, r)) continue;
    // RFC 2883 D-SACK: first block at or below the cumulative ACK, or inside the second block.
    if (i === 0 && (seqLe(r, ack) || (n > 1 && seqGe(l, blocks[2]) && seqLe(r, blocks[3])))) { t.dsacks++; continue; }
    if (seqLe(r, t.sndUna) || seqGt(l, t.sndMax)) continue; // outside what is outstanding
    if (seqLt(l, t.sndUna)) l = t.sndUna;
    if (seqGt(r, t.sndMax)) r = t.sndMax;
    insert(t, l, r);
  }
  recount(t);
  return t.sackedBytes - before;
}

function insert(t: Tcb, l: number, r: number): void {
  const sb = t.sb;
  // Absorb every range that overlaps or touches [l, r).
  for (let i = 0; i < t.sbCount;) {
    const a = sb[2 * i], b = sb[2 * i + 1];
    if (seqLe(a, r) && seqLe(l, b)) {
      if (seqLt(a, l)) l = a;
      if (seqGt(b, r)) r = b;
      remove(t, i);
    } else i++;
  }
  // Insert sorted by start.
  let at = 0;
  while (at < t.sbCount && seqLt(sb[2 * at], l)) at++;
  if (t.sbCount === SB_MAX) {
    if (at === SB_MAX) { t.sbOverflows++; return; } // farther than everything kept: forget it
    t.sbCount--; // forget the farthest range
    t.sbOverflows++;
  }
  for (let k = t.sbCount; k > at; k--) { sb[2 * k] = sb[2 * k - 2]; sb[2 * k + 1] = sb[2 * k - 1]; }
  sb[2 * at] = l; sb[2 * at + 1] = r;
  t.sbCount++;
}

function remove(t: Tcb, i: number): void {
  const sb = t.sb;
  for (let k = i; k < t.sbCount - 1; k++) { sb[2 * k] = sb[2 * k + 2]; sb[2 * k + 1] = sb[2 * k + 3]; }
  t.sbCount--;
}

function recount(t: Tcb): void {
  let n = 0;
  for (let i = 0; i < t.sbCount; i++) n += seqDiff(t.sb[2 * i + 1], t.sb[2 * i]);
  t.sackedBytes = n;
}

/** SND.UNA advanced: drop what is now cumulatively acknowledged. */
export function sackAdvance(t: Tcb): void {
  const sb = t.sb;
  for (let i = 0; i < t.sbCount;) {
    if (seqLe(sb[2 * i + 1], t.sndUna)) { remove(t, i); continue; }
    if (seqLt(sb[2 * i], t.sndUna)) sb[2 * i] = t.sndUna;
    i++;
  }
  recount(t);
}

export function sackClear(t: Tcb): void {
  t.sbCount = 0;
  t.sackedBytes = 0;
}

/** Bytes SACKed at or above `seq`. */
function sackedAbove(t: Tcb, seq: number): number {
  let n = 0;
  for (let i = 0; i < t.sbCount; i++) {
    const a = t.sb[2 * i], b = t.sb[2 * i + 1];
    if (seqLe(b, seq)) continue;
    n += seqDiff(b, seqGt(a, seq) ? a : seq);
  }
  return n;
}

/**
 * RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges above seq, or more than
 * (DupThresh - 1) * SMSS bytes SACKed above it.
 */
export function isLost(t: Tcb, seq: number, smss: number): boolean {
  let ranges = 0;
  for (let i = 0; i < t.sbCount; i++) if (seqGt(t.sb[2 * i + 1], seq)) ranges++;
  return ranges >= DUP_THRESH || sackedAbove(t, seq) > (DUP_THRESH - 1) * smss;
}

/** Is seq inside a SACKed range? Returns the end of that range, or -1. */
function sackedEnd(t: Tcb, seq: number): number {
  for (let i = 0; i < t.sbCount; i++) {
    if (seqLe(t.sb[2 * i], seq) && seqLt(seq, t.sb[2 * i + 1])) return t.sb[2 * i + 1];
  }
  return -1;
}

/** Start of the first SACKed range above seq, or sndMax. */
function nextSacked(t: Tcb, seq: number): number {
  for (let i = 0; i < t.sbCount; i++) if (seqGt(t.sb[2 * i], seq)) return t.sb[2 * i];
  return t.sndMax;
}

/**
 * RFC 6675 §4 pipe: outstanding bytes that are neither SACKed nor lost, plus the retransmitted
 * ones (below HighRxt) still outstanding.
 */
export function pipe(t: Tcb, smss: number): number {
  let p = 0;
  let seq = t.sndUna;
  for (let guard = 0; guard < 4 * SB_MAX + 4 && seqLt(seq, t.sndMax); guard++) {
    const e = sackedEnd(t, seq);
    if (e !== -1) { seq = e; continue; }
    const hole = nextSacked(t, seq);
    // The hole [seq, hole): the part below HighRxt was retransmitted (counts once);
    // the rest counts unless it is lost.
    const h = seqDiff(hole, seq);
    const rx = seqGt(t.highRxt, seq) ? Math.min(seqDiff(t.highRxt, seq), h) : 0;
    p += rx;
    if (h > rx && !isLost(t, seqAddN(seq, rx), smss)) p += h - rx;
    seq = hole;
  }
  return p;
}

function seqAddN(a: number, n: number): number { return (a + n) >>> 0; }

/**
 * RFC 6675 NextSeg() rule 1: the first byte of a lost, not yet retransmitted hole, at or above
 * HighRxt. Returns -1 if there is none; `out[0]` receives the hole's end (the next SACKed byte).
 */
export function nextLostHole(t: Tcb, smss: number, out: Float64Array): number {
  let seq = seqGt(t.highRxt, t.sndUna) ? t.highRxt : t.sndUna;
  for (let guard = 0; guard < 4 * SB_MAX + 4 && seqLt(seq, t.sndMax); guard++) {
    const e = sackedEnd(t, seq);
    if (e !== -1) { seq = e; continue; }
    if (!isLost(t, seq, smss)) return -1;
    out[0] = nextSacked(t, seq);
    return seq;
  }
  return -1;
}
