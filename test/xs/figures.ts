/**
 * XS memory and compute figures, measured in real XS (xsnap-worker) on the shared scenarios
 * (test/scenarios). Used by test/xs/memory.test.ts (sanity assertions, printed table) and bench/xs.ts.
 *
 * Slots: live slots after GC (the harness's currentHeapCount), × 16 B on a 32-bit MCU (ESP32).
 * Chunks: xsnap does not report chunk use, so ArrayBuffer storage is counted from the object graph
 * (test/scenarios/memory.ts chunkEstimate: byteLength rounded up to 4 + 8 B header per buffer).
 */
import { bundle, MCU_SLOT_BYTES, XsWorker } from "../helpers/xs.js";

export const SCENARIO_ENTRY = "test/scenarios/index.ts";
export const PRESETS = ["minimal", "default", "throughput"] as const;

interface Chunks { buffers: number; bytes: number; chunkBytes: number; arenaBytes: number }

export interface StackFigure {
  preset: string;
  slots: number;
  slotBytes: number;
  chunkBytes: number;
  arenaBytes: number;
  /** slotBytes + chunkBytes: the XS heap a Stack of this preset takes on the device. */
  totalBytes: number;
}

export interface MemoryFigures {
  stacks: StackFigure[];
  /** One more Tcb in the pool (maxConnections + 1), beyond its send/receive rings. */
  perPooledConnection: { slots: number; slotBytes: number; chunkBytesBeyondRings: number; ringBytes: number };
  /** An open connection: the client socket on A plus the accepted socket on B (both ends), default preset. */
  perOpenConnection: { slots: number; slotBytes: number; perEndSlots: number };
  /** One TIME-WAIT record (timeWaitEntries + 1). */
  timeWaitRecord: { slots: number; chunkBytes: number };
}

async function stackDelta(w: XsWorker, options: Record<string, unknown>, noopSlots: number): Promise<{ slots: number; chunks: Chunks }> {
  await w.call("dropStack");
  const before = await w.gc();
  const { result } = await w.call<Chunks>("holdStack", { options });
  const after = await w.gc();
  await w.call("dropStack");
  return { slots: after.currentHeapCount - before.currentHeapCount - noopSlots, chunks: result };
}

/** Live slots a `noop` call leaves (the harness's own per-call cost, usually 0). */
async function noopSlots(w: XsWorker): Promise<number> {
  const b = await w.gc();
  await w.call("noop");
  const a = await w.gc();
  return a.currentHeapCount - b.currentHeapCount;
}

export async function memoryFigures(): Promise<MemoryFigures> {
  const code = await bundle(SCENARIO_ENTRY);
  return XsWorker.with(code, async (w) => {
    await w.call("prepareDriver");
    // Warm-up: the first Stack runs module code paths once (lazy property tables and such).
    await stackDelta(w, { preset: "default" }, 0);
    const noop = await noopSlots(w);
    const stacks: StackFigure[] = [];
    for (const preset of PRESETS) {
      const d = await stackDelta(w, { preset }, noop);
      const slotBytes = d.slots * MCU_SLOT_BYTES;
      stacks.push({
        preset, slots: d.slots, slotBytes, chunkBytes: d.chunks.chunkBytes, arenaBytes: d.chunks.arenaBytes,
        totalBytes: slotBytes + d.chunks.chunkBytes,
      });
    }
    const c8 = await stackDelta(w, { preset: "default", maxConnections: 8 }, noop);
    const c9 = await stackDelta(w, { preset: "default", maxConnections: 9 }, noop);
    const ring = 5840 * 2; // default preset send + receive buffers (8-byte aligned already)
    const tw1 = await stackDelta(w, { preset: "default", timeWaitEntries: 1 }, noop);
    const tw1001 = await stackDelta(w, { preset: "default", timeWaitEntries: 1001 }, noop);

    await w.call("setupConnections", { preset: "default" });
    const n = 4;
    const before = await w.gc();
    const { result } = await w.call<{ up: number }>("openConnections", { n });
    const after = await w.gc();
    if (result.up !== n) throw new Error(`only ${result.up} of ${n} connections came up`);
    const open = (after.currentHeapCount - before.currentHeapCount - noop) / n;
    return {
      stacks,
      perPooledConnection: {
        slots: c9.slots - c8.slots, slotBytes: (c9.slots - c8.slots) * MCU_SLOT_BYTES,
        chunkBytesBeyondRings: c9.chunks.chunkBytes - c8.chunks.chunkBytes - ring, ringBytes: ring,
      },
      perOpenConnection: { slots: open, slotBytes: open * MCU_SLOT_BYTES, perEndSlots: open / 2 },
      timeWaitRecord: {
        slots: (tw1001.slots - tw1.slots) / 1000,
        chunkBytes: (tw1001.chunks.chunkBytes - tw1.chunks.chunkBytes) / 1000,
      },
    };
  }, { requestTimeoutMs: 120_000 });
}

export interface ComputeFigure {
  bytes: number;
  /** XS metering units for the whole transfer (both stacks, the sockets, the app, the link). */
  compute: number;
  computePerMiB: number;
  frames: number;
  /** Wall time of the XS crank (host, informative). */
  xsWallMs: number;
}

/** One-way transfer of `bytes` A → B over the default preset in XS; compute of the transfer only. */
export async function xsCompute(bytes: number, preset = "default"): Promise<ComputeFigure> {
  const code = await bundle(SCENARIO_ENTRY);
  return XsWorker.with(code, async (w) => {
    await w.call("setupCompute", { seed: 1, preset, bytes, digest: false });
    const t0 = performance.now();
    const { result, meter } = await w.call<{ got: number; bad: number; why: string; frames: number }>("runCompute");
    const xsWallMs = performance.now() - t0;
    if (result.got !== bytes || result.why !== "until") throw new Error(`transfer incomplete: ${JSON.stringify(result)}`);
    return { bytes, compute: meter.compute, computePerMiB: (meter.compute * 1048576) / bytes, frames: result.frames, xsWallMs };
  }, { requestTimeoutMs: 600_000 });
}
