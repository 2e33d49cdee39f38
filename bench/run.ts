/**
 * `npm run bench`: prints a table and writes bench/results.json. No assertions: figures only.
 * Sections: simulator goodput (buffer × loss × RTT), V8 bulk throughput, and, where their modules
 * are present, XS figures (compute, slots, allocation) and TAP throughput against the Linux kernel.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { goodputTable } from "./goodput.js";
import { v8Bulk } from "./v8.js";

export interface Row { name: string; value: number | string; unit: string }

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "bench", "results.json");
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };

function table(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  for (const r of rows) console.log(`  ${r.name.padEnd(w)}  ${String(r.value).padStart(14)}  ${r.unit}`);
}

async function optional(mod: string, fn: string, title: string, key: string): Promise<void> {
  try {
    const m = (await import(mod)) as Record<string, unknown>;
    const f = m[fn];
    if (typeof f !== "function") throw new Error(`${mod} has no ${fn}()`);
    const rows = (await (f as () => Promise<Row[]> | Row[])()) as Row[];
    results[key] = rows;
    table(title, rows);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    results[key] = { error: msg };
    console.log(`\n${title}\n  not measured: ${msg}`);
  }
}

async function main(): Promise<void> {
  console.log("Simulator goodput, bytes/s of virtual time (median of 3 seeds; 1500-byte MTU, no bandwidth limit)");
  const cells = goodputTable();
  results.goodput = cells;
  for (const rtt of [10, 100]) {
    console.log(`\n  RTT ${rtt} ms      loss 0%      loss 1%      loss 5%     loss 10%`);
    for (const buf of [1024, 4096, 32768]) {
      const row = cells.filter((c) => c.rttMs === rtt && c.bufferBytes === buf).map((c) => String(Math.round(c.bytesPerSec)).padStart(12));
      console.log(`  ${String(buf).padStart(6)} B  ${row.join(" ")}`);
    }
  }
  const cell = (b: number, l: number, r: number): number => cells.find((c) => c.bufferBytes === b && c.loss === l && c.rttMs === r)?.bytesPerSec ?? NaN;
  // Reference points: smoltcp's published netsim (32 KiB, 100 ms), the window/RTT ceiling and the
  // Mathis et al. bound for a standard (RFC 5681) sender, MSS/RTT * 1.22/sqrt(p).
  const ceiling = 32768 / 0.1;
  const mathis = (p: number): number => (1448 / 0.1) * 1.22 / Math.sqrt(p);
  const ref: Row[] = [
    { name: "32 KiB, 100 ms, 0%: ours", value: Math.round(cell(32768, 0, 100)), unit: `B/s (smoltcp 323000; window/RTT ceiling ${Math.round(ceiling)})` },
    { name: "32 KiB, 100 ms, 1%: ours", value: Math.round(cell(32768, 0.01, 100)), unit: `B/s (smoltcp 220000; target 440000; Mathis bound ${Math.round(mathis(0.01))})` },
    { name: "32 KiB, 100 ms, 5%: ours", value: Math.round(cell(32768, 0.05, 100)), unit: `B/s (smoltcp 77000; target 155000; Mathis bound ${Math.round(mathis(0.05))})` },
    { name: "32 KiB, 100 ms, 10%: ours", value: Math.round(cell(32768, 0.1, 100)), unit: `B/s (smoltcp 38000; Mathis bound ${Math.round(mathis(0.1))})` },
  ];
  results.goodputReference = ref;
  table("Against references", ref);

  const v8 = v8Bulk();
  results.v8 = v8;
  table("V8 bulk, two stacks in one process, no loss (throughput preset, 64 KiB windows)", [
    { name: "transferred", value: v8.bytes, unit: "bytes" },
    { name: "wall time", value: Math.round(v8.wallMs), unit: "ms" },
    { name: "throughput", value: v8.mbitPerSec.toFixed(1), unit: "Mbit/s" },
    { name: "segments (both ways)", value: v8.segments, unit: "" },
  ]);

  await optional("./xs.js", "xsRows", "XS engine (xsnap)", "xs");
  await optional("./tap.js", "benchTap", "TAP against the Linux kernel (inside a network namespace; needs root)", "tap");
  await optional("./fuzz.js", "fuzzRows", "Fuzzing (one campaign against a stack with live connections)", "fuzz");

  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`\nwrote ${out}`);
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
