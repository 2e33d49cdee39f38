/**
 * XS figures for `npm run bench` (bench/run.ts calls xsRows()), measured in real XS (xsnap-worker)
 * on the shared scenarios (test/scenarios), two stacks over the pure-JS link:
 *   - XS compute units per MiB of a one-way 4 MiB transfer (default preset: both stacks, the ECMA-419
 *     sockets, an app writing/reading one buffer without touching the bytes, the link);
 *   - the same transfer's wall time in V8 (same module, imported), and in XS on this host;
 *   - heap: a Stack per preset (slots × 16 B on a 32-bit MCU + ArrayBuffer chunks), one more pooled
 *     connection beyond its rings, one open connection, one TIME-WAIT record;
 *   - the allocation check: live-slot change over 10,000 steady-state segments (must be 0) and slots
 *     allocated per segment (bulk both ways, default preset).
 * Standalone: `node dist/bench/xs.js` prints the rows.
 */
import { fileURLToPath } from "node:url";
import { bundle, XsWorker } from "../test/helpers/xs.js";
import { scenarios } from "../test/scenarios/index.js";
import { memoryFigures, SCENARIO_ENTRY, xsCompute } from "../test/xs/figures.js";
import { slotCheck } from "../test/xs/steady.js";

export interface Row { name: string; value: number | string; unit: string }

const MIB = 1 << 20;
const TRANSFER = 4 * MIB;

/** Median wall time (ms) of the same one-way transfer in V8 (first run discarded as warm-up). */
function v8TransferMs(bytes: number, runs = 5): number {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    scenarios.setupCompute({ seed: 1, preset: "default", bytes, digest: false });
    const t0 = performance.now();
    const r = scenarios.runCompute() as { got: number; why: string };
    const ms = performance.now() - t0;
    if (r.got !== bytes || r.why !== "until") throw new Error(`V8 transfer incomplete: ${JSON.stringify(r)}`);
    if (i > 0) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** Live-slot change and allocation over `steps` steady-state steps (bulk both ways). */
async function steadySlots(steps: number): Promise<{ retained: number; allocated: number; perStep: number; segments: number; exact: boolean }> {
  const code = await bundle(SCENARIO_ENTRY);
  return XsWorker.with(code, async (w) => {
    const before = (await w.call<{ segsInA: number; segsInB: number }>("setupSteady", { seed: 1, verify: false, digest: false })).result;
    const c = await slotCheck(w, "scenarios.pump()", steps, { warmup: 100, chunk: 1000 });
    const after = (await w.call<{ segsInA: number; segsInB: number }>("steadyReport")).result;
    const segments = after.segsInA + after.segsInB - before.segsInA - before.segsInB;
    return { retained: c.retainedSlots, allocated: c.allocatedSlots, perStep: c.allocatedSlotsPerStep, segments, exact: c.exact };
  }, { requestTimeoutMs: 600_000 });
}

export async function xsRows(): Promise<Row[]> {
  const rows: Row[] = [];
  const c = await xsCompute(TRANSFER);
  const v8 = v8TransferMs(TRANSFER);
  rows.push({ name: "XS compute per MiB (one way, default preset)", value: Math.round(c.computePerMiB), unit: "metering units/MiB (both stacks + sockets)" });
  rows.push({ name: "same 4 MiB transfer, wall time in V8", value: v8.toFixed(1), unit: `ms (${((TRANSFER * 8) / (v8 * 1000)).toFixed(0)} Mbit/s)` });
  rows.push({ name: "same 4 MiB transfer, wall time in XS (this host)", value: c.xsWallMs.toFixed(0), unit: "ms" });
  const m = await memoryFigures();
  for (const s of m.stacks) {
    rows.push({ name: `Stack heap, ${s.preset}`, value: s.totalBytes, unit: `B (${s.slots} slots = ${s.slotBytes} B + ${s.chunkBytes} B chunks)` });
  }
  const p = m.perPooledConnection, o = m.perOpenConnection;
  rows.push({ name: "per pooled connection beyond its rings", value: p.slotBytes + p.chunkBytesBeyondRings, unit: `B (${p.slots} slots + ${p.chunkBytesBeyondRings} B chunks; rings ${p.ringBytes} B)` });
  rows.push({ name: "per open connection (sockets, both ends)", value: o.slotBytes, unit: `B (${o.slots} slots, ${o.perEndSlots} per end)` });
  rows.push({ name: "TIME-WAIT record", value: m.timeWaitRecord.chunkBytes, unit: `B (${m.timeWaitRecord.slots} slots)` });
  const s = await steadySlots(10_000);
  rows.push({ name: "live-slot change per 10,000 segments", value: s.retained, unit: `slots (must be 0; ${s.segments} segments received)` });
  rows.push({ name: "slots allocated per segment", value: s.exact ? s.allocated / s.segments : "inexact", unit: `slots (${s.allocated} over ${s.segments} segments)` });
  return rows;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  xsRows().then((rows) => {
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) console.log(`  ${r.name.padEnd(w)}  ${String(r.value).padStart(12)}  ${r.unit}`);
  }, (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
