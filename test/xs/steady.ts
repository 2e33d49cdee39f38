/**
 * The allocation check used by test/xs/allocation.test.ts and bench/xs.ts, built on the XS harness
 * (test/helpers/xs.ts) with the same accounting as its measureSteadyState, but sampling every step once:
 * the measured steps run in fixed chunks, each chunk from a fresh GC, so no step is run twice (a step of
 * the bulk scenario moves ~1.4 KB through both stacks and costs milliseconds in XS).
 *
 *   warm-up; gc → L0; empty run crank (its slots = per-crank overhead); gc → L1;
 *   for each chunk: run `chunk` steps → count C; allocated += C − (count after the gc before it) − overhead; gc
 *   retainedSlots = L_last − L1 − chunks × (L1 − L0)      (live slots gained over all steps)
 *
 * Between two GCs XS's currentHeapCount only grows, and an organic GC needs the free list empty
 * (xsnap starts with 256 Ki slots): a chunk whose count stays below 128 Ki slots ran without one, so its
 * allocation is exact. `exact` is false otherwise (a chunk allocated too much to be counted).
 */
import type { XsMeter, XsWorker } from "../helpers/xs.js";

const SAFE_SLOT_COUNT = 128 * 1024;

export interface SlotCheck {
  steps: number;
  warmup: number;
  /** Live slots (after GC) before and after the measured steps. */
  liveBefore: number;
  liveAfter: number;
  /** Live slots gained over the measured steps: 0 = nothing kept per step. */
  retainedSlots: number;
  /** Slots allocated by the measured steps (garbage + kept): 0 = nothing made per step. */
  allocatedSlots: number;
  allocatedSlotsPerStep: number;
  /** Every chunk stayed below the GC-free bound, so allocatedSlots is exact. */
  exact: boolean;
  /** XS compute (metering units) per step. */
  computePerStep: number;
}

export async function slotCheck(w: XsWorker, stepCode: string, steps: number, opts: { warmup?: number; chunk?: number } = {}): Promise<SlotCheck> {
  const warmup = opts.warmup ?? 200;
  const chunk = opts.chunk ?? 1000;
  await w.setStep(stepCode);
  await w.runSteps(warmup);
  await w.gc();
  const g0 = await w.gc();
  const r0 = await w.runSteps(0);
  const g1 = await w.gc();
  const crank = r0.currentHeapCount - g0.currentHeapCount;
  const perPair = g1.currentHeapCount - g0.currentHeapCount;
  let g: XsMeter = g1;
  let allocated = 0, compute = 0, chunks = 0, exact = true;
  for (let done = 0; done < steps; done += chunk) {
    const n = Math.min(chunk, steps - done);
    const r = await w.runSteps(n);
    const a = r.currentHeapCount - g.currentHeapCount - crank;
    if (a < 0 || r.currentHeapCount >= SAFE_SLOT_COUNT) exact = false;
    allocated += a;
    compute += r.compute - r0.compute;
    chunks++;
    g = await w.gc();
  }
  const retained = g.currentHeapCount - g1.currentHeapCount - chunks * perPair;
  return {
    steps, warmup, liveBefore: g1.currentHeapCount, liveAfter: g.currentHeapCount, retainedSlots: retained,
    allocatedSlots: allocated, allocatedSlotsPerStep: steps > 0 ? allocated / steps : 0, exact,
    computePerStep: steps > 0 ? compute / steps : 0,
  };
}

/** The check itself: throws unless the steps kept nothing and allocated nothing (exactly counted). */
export function assertNoSlots(r: SlotCheck, what: string): void {
  const problems: string[] = [];
  if (r.retainedSlots !== 0) problems.push(`live slots changed by ${r.retainedSlots}`);
  if (!r.exact) problems.push("allocation too large to count without a GC");
  if (r.allocatedSlots !== 0) problems.push(`${r.allocatedSlots} slots allocated (${r.allocatedSlotsPerStep.toFixed(2)} per step)`);
  if (problems.length > 0) throw new Error(`${what}: ${problems.join("; ")} over ${r.steps} steps`);
}

export function describeCheck(r: SlotCheck): string {
  return `live ${r.liveBefore} -> ${r.liveAfter} (retained ${r.retainedSlots}), allocated ${r.allocatedSlots} slots ` +
    `(${r.allocatedSlotsPerStep.toFixed(3)}/step${r.exact ? "" : ", inexact"}), compute ${Math.round(r.computePerStep)}/step`;
}
