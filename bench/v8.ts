/**
 * Bulk throughput of two stacks in one Node process, no loss and no delay (wall clock, Mbit/s):
 * what the TypeScript core costs per byte in V8.
 */
import { runBulk } from "../test/helpers/bulk.js";

export interface V8Bulk { bytes: number; wallMs: number; mbitPerSec: number; segments: number }

export function v8Bulk(bytes = 64 << 20): V8Bulk {
  const t0 = performance.now();
  const r = runBulk({ seed: 1, up: bytes, down: 0, faults: {}, readChunk: 65536, stack: { preset: "throughput" } });
  const wallMs = performance.now() - t0;
  if (!r.upOk) throw new Error("v8 bulk transfer failed");
  return { bytes, wallMs, mbitPerSec: (bytes * 8) / (wallMs / 1000) / 1e6, segments: r.A.counters.tcpOutSegs + r.B.counters.tcpOutSegs };
}
