/**
 * Memory probes for the XS figures (test/xs/memory.test.ts, bench/xs.ts). The harness measures live
 * slots around each call (gc before and after); these functions make or drop the objects measured and
 * estimate the chunk bytes (ArrayBuffer storage), which xsnap does not report: every distinct
 * ArrayBuffer reachable from the object through own properties, at XS's 32-bit chunk cost
 * (byteLength rounded up to 4, plus an 8-byte chunk header; xsMemory.c fxAdjustChunkSize).
 * Pure ECMAScript.
 */
import type { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";
import { BulkEnd, connect, Server } from "./bulk.js";
import { ADDR_B, Lane, LinkDriver, Pair } from "./link.js";
import { PORT } from "./scenarios.js";

/** Chunk bytes of one ArrayBuffer of n bytes in 32-bit XS. */
export function chunkCost(n: number): number {
  return ((n + 3) & ~3) + 8;
}

/** Distinct ArrayBuffers reachable from root through own data properties (not through `exclude`). */
export function chunkEstimate(root: object, exclude: readonly object[]): { buffers: number; bytes: number; chunkBytes: number } {
  const seen = new Set<object>(exclude);
  const buffers = new Set<ArrayBufferLike>();
  const todo: object[] = [root];
  while (todo.length > 0) {
    const o = todo.pop() as object;
    if (seen.has(o)) continue;
    seen.add(o);
    if (ArrayBuffer.isView(o)) { buffers.add(o.buffer); continue; }
    if (o instanceof ArrayBuffer) { buffers.add(o); continue; }
    if (typeof o === "function") continue;
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d === undefined || !("value" in d)) continue;
      const v: unknown = d.value;
      if (v !== null && typeof v === "object") todo.push(v);
    }
  }
  let bytes = 0, chunkBytes = 0;
  for (const b of buffers) { bytes += b.byteLength; chunkBytes += chunkCost(b.byteLength); }
  return { buffers: buffers.size, bytes, chunkBytes };
}

let driver: LinkDriver | null = null;
let held: Stack | null = null;

/** Make the driver a probed Stack will use (outside the measured call). */
export function prepareDriver(): null {
  const lane = new Lane({ delayMs: 1, bitsPerMs: 10_000, slots: 1, loss: 0, seed: 1, frameBytes: 1514 });
  driver = new LinkDriver(new Uint8Array([2, 0, 0, 0, 0, 9]), lane, 7);
  return null;
}

/** Make and keep one Stack; returns its chunk estimate. Measured: the live slots this call adds. */
export function holdStack(a: { options: StackOptions }): { buffers: number; bytes: number; chunkBytes: number; arenaBytes: number } {
  const d = driver as LinkDriver;
  held = new Stack({ address: "192.0.2.9", ...a.options }, d);
  const est = chunkEstimate(held, [d]);
  return { ...est, arenaBytes: held.arena.buffer.byteLength };
}

export function dropStack(): null {
  held = null;
  return null;
}

/** A call that makes nothing (calibrates the harness's own per-call slots). */
export function noop(): null {
  return null;
}

// ----------------------------------------------------------------------------- open connections

interface Conns { p: Pair; srv: Server; ends: BulkEnd[]; opened: number }
let conns: Conns | null = null;

/** Two stacks (maxConnections 8) and a listener with 8 ends; one warm-up connection opened and closed. */
export function setupConnections(a: { preset?: "minimal" | "default" | "throughput" }): { [k: string]: number } {
  const p = new Pair({ seed: 5, stack: { preset: a.preset ?? "default", timeWaitMs: 1000 } });
  const ends: BulkEnd[] = [];
  const make = (name: string): BulkEnd =>
    new BulkEnd(name, { send: 0, expect: -1, close: "never", salt: 0, peerSalt: 0, verify: false }, p.clock);
  for (let i = 0; i < 16; i++) ends.push(make(`s${i}`));
  const clients: BulkEnd[] = [];
  for (let i = 0; i < 16; i++) clients.push(make(`c${i}`));
  const srv = new Server(p.B, p.clock, PORT, ends);
  conns = { p, srv, ends: clients, opened: 0 };
  // Warm-up: one connection opened, closed and gone (ARP resolved, code paths run once).
  openConnections({ n: 1 });
  const c = clients[0], s = ends[0];
  if (c.sock !== null) c.sock.close();
  c.closed = true;
  p.runUntil(() => s.closed, 100_000);
  p.runUntil(null, 100_000);
  return { now: p.now };
}

/** Open n more connections (client socket on A, accepted socket on B) and run until both ends are writable. */
export function openConnections(a: { n: number }): { [k: string]: number } {
  const c = conns as Conns;
  const p = c.p;
  const first = c.opened;
  for (let i = 0; i < a.n; i++) connect(c.ends[c.opened++], p.A, ADDR_B, PORT);
  const srvEnds = c.srv.ends;
  p.runUntil(() => {
    for (let i = first; i < c.opened; i++) if (c.ends[i].connectedAt < 0 || srvEnds[i].connectedAt < 0) return false;
    return true;
  }, 100_000);
  // Quiesce: delayed ACKs and other timers that are about to fire.
  p.runUntil(() => p.deadlineA === Infinity && p.deadlineB === Infinity, 100_000);
  let up = 0;
  for (let i = first; i < c.opened; i++) if (c.ends[i].connectedAt >= 0 && srvEnds[i].connectedAt >= 0) up++;
  return { up, now: p.now };
}
