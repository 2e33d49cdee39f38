// XS test harness: bundle a TS entry with esbuild and run it inside a real XS engine
// (the `xsnap-worker` binary that @agoric/xsnap builds from Moddable's XS sources).
//
// We spawn the binary ourselves and speak its netstring protocol on fds 3/4, so the mocha
// process is never locked down by SES/@endo/init.
//
// Protocol (see node_modules/@agoric/xsnap/xsnap-native/xsnap/sources/xsnap-worker.c):
//   to worker   `e<code>`   indirect eval of <code>                      (one "crank")
//               `?<bytes>`  globalThis.handleCommand(ArrayBuffer)         (one "crank")
//               `/<bytes>`  reply to a worker-side issueCommand() call
//   from worker `.<meter JSON>\x01<reply>`  ok; reply = completion value if it is an ArrayBuffer
//               `!<message>`                uncaught exception
//               `?<bytes>`                  issueCommand(ArrayBuffer) from JS, wants a `/` reply
//
// Meter record, sent after every crank:
//   currentHeapCount  XS `the->currentHeapCount`: slots in use. Incremented on every slot
//                     allocation and reset to the live count by each GC, so right after gc()
//                     it is the live-slot count, and between GCs it also counts garbage slots.
//   compute           metering index of this crank (reset per crank): ~ bytecodes executed
//                     plus property get/set/define/delete and stack pushes. Deterministic.
//   allocate          XS `allocatedSpace`: cumulative bytes XS got from the OS for slot
//                     blocks (n x 32 B here) and chunk blocks. Grows only when XS grows its
//                     heap (starts ~42 MB: 32 MiB chunks + 256 Ki slots); never per object.
//   timestamps        wall-clock seconds (epoch) at receive/send points of the crank.
// Chunk (byte-storage) usage is NOT reported by xsnap-worker.
import { spawn, type ChildProcess } from "node:child_process";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file is test/helpers/xs.ts or dist/test/helpers/xs.js). */
export const REPO_ROOT = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = path.basename(path.resolve(here, "../..")) === "dist" ? "../../.." : "../..";
  return path.resolve(here, up);
})();

export const XSNAP_WORKER_BIN = path.join(
  REPO_ROOT,
  "node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker",
);

/** Size of one XS slot on this 64-bit host (sizeof(txSlot), confirmed from `allocate`). */
export const HOST_SLOT_BYTES = 32;
/** Size of one XS slot on a 32-bit MCU such as the ESP32. */
export const MCU_SLOT_BYTES = 16;

export interface XsMeter {
  currentHeapCount: number;
  compute: number;
  allocate: number;
  timestamps: number[];
  /** Any further fields a newer xsnap may report. */
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Bundling

const bundleCache = new Map<string, Promise<string>>();
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Bundle `entry` (path relative to the repo root, or absolute; .ts or .js) into one classic
 * script for XS: iife, es2022, platform neutral, no Node shims. If the entry module exports
 * `scenarios`, the bundle assigns it to `globalThis.scenarios` (unless the module already
 * did). Importing any Node built-in fails the build. Cached per entry within a process.
 */
export function bundle(entry: string): Promise<string> {
  const abs = path.resolve(REPO_ROOT, entry);
  let p = bundleCache.get(abs);
  if (!p) {
    p = doBundle(abs);
    bundleCache.set(abs, p);
    p.catch(() => bundleCache.delete(abs));
  }
  return p;
}

async function doBundle(abs: string): Promise<string> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [abs],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    format: "iife",
    globalName: "__xsEntry",
    target: "es2022",
    platform: "neutral",
    mainFields: ["module", "main"],
    sourcemap: false,
    minify: false,
    logLevel: "silent",
    footer: {
      js:
        "if (typeof __xsEntry === 'object' && __xsEntry !== null && 'scenarios' in __xsEntry" +
        " && globalThis.scenarios === undefined) globalThis.scenarios = __xsEntry.scenarios;",
    },
    plugins: [
      {
        name: "no-node-builtins",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (NODE_BUILTINS.has(args.path)) {
              return {
                errors: [
                  {
                    text:
                      `XS bundle must not import Node built-in "${args.path}" ` +
                      `(imported from ${path.relative(REPO_ROOT, args.importer)})`,
                  },
                ],
              };
            }
            return undefined;
          });
        },
      },
    ],
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced no output for ${abs}`);
  return out.text;
}

// ---------------------------------------------------------------------------------------------
// Worker

/**
 * Installed into every worker before user code. `handleCommand` is called by the worker for
 * each `?` message. Opcode byte: 'g' gc(); 'r' run the registered step N times (uint32 LE in
 * bytes 1..4); 'j' JSON request {name,args} -> calls globalThis.scenarios[name](args).
 * The 'g'/'r' paths allocate a constant number of slots per crank (calibrated away).
 * (No WeakRef GC probe: xsnap's organic GC treats WeakRefs as strong, by design.)
 */
const PRELUDE = String.raw`
(function () {
  const g = globalThis;
  if (g.__xsh) return;
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const h = { step: undefined };
  const run = function (n) { const f = h.step; for (let i = 0; i < n; i++) f(); };
  if (typeof g.console === "undefined") {
    const log = function (...a) { print(a.map((x) => typeof x === "string" ? x : JSON.stringify(x)).join(" ")); };
    g.console = { log: log, info: log, warn: log, error: log, debug: log };
  }
  const ok = function (v) { return enc.encode(JSON.stringify({ ok: true, value: v === undefined ? null : v })).buffer; };
  const fail = function (e) {
    return enc.encode(JSON.stringify({ ok: false, error: String(e), stack: (e && e.stack) ? String(e.stack) : "" })).buffer;
  };
  g.handleCommand = function (ab) {
    const u = new Uint8Array(ab);
    const op = u[0];
    if (op === 0x72) { run(u[1] + u[2] * 0x100 + u[3] * 0x10000 + u[4] * 0x1000000); return undefined; }
    if (op === 0x67) { gc(); return undefined; }
    if (op === 0x6a) {
      try {
        const req = JSON.parse(dec.decode(u.subarray(1)));
        const sc = g.scenarios;
        if (!sc || typeof sc[req.name] !== "function") throw new Error("no scenario " + JSON.stringify(req.name) + " in globalThis.scenarios");
        return ok(sc[req.name](req.args));
      } catch (e) { return fail(e); }
    }
    throw new Error("xs harness: bad opcode " + op);
  };
  g.__xsh = h;
})();
`;

export interface XsWorkerOptions {
  /** Crank compute limit (xsnap `-l`); 0/undefined = unlimited. */
  meteringLimit?: number;
  /** Kill the worker if one request gets no reply in this many ms (hang guard, not a timing test). */
  requestTimeoutMs?: number;
  /** Handler for `issueCommand(ArrayBuffer)` called by code in XS. Default: record + reply empty. */
  onCommand?: (msg: Uint8Array) => Uint8Array | string | void;
  /** Echo the worker's stdout (print/console.log) to this process's stdout. */
  echo?: boolean;
}

export interface CrankResult {
  reply: Uint8Array;
  meter: XsMeter;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const cp of live) {
    try {
      cp.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
});

/** Number of xsnap-worker processes started by this process that are still running. */
export function liveWorkerCount(): number {
  return live.size;
}

type Pending = { resolve: (m: Buffer) => void; reject: (e: Error) => void };

export class XsWorker {
  /** Everything the worker printed (print(), console.log via the prelude). */
  stdout = "";
  stderr = "";
  /** Messages received through issueCommand() when no onCommand handler is set. */
  readonly commands: Uint8Array[] = [];
  /** Meter of the most recent crank. */
  lastMeter: XsMeter | undefined;
  /** ms from spawn to the first reply (worker ready). */
  startupMs = 0;

  private readonly cp: ChildProcess;
  private rx: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private exited = false;
  private exitInfo = "";
  private readonly exitPromise: Promise<void>;
  private readonly opts: XsWorkerOptions;

  private constructor(opts: XsWorkerOptions) {
    this.opts = opts;
    const args = ["xs-test"];
    if (opts.meteringLimit) args.push("-l", String(opts.meteringLimit));
    this.cp = spawn(XSNAP_WORKER_BIN, args, {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    });
    live.add(this.cp);
    this.exitPromise = new Promise((resolve) => {
      this.cp.once("exit", (code, signal) => {
        this.exited = true;
        this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        live.delete(this.cp);
        this.pending?.reject(this.error(`xsnap-worker exited (${this.exitInfo})`));
        this.pending = undefined;
        resolve();
      });
      this.cp.once("error", (e) => {
        this.exited = true;
        this.exitInfo = String(e);
        live.delete(this.cp);
        this.pending?.reject(this.error(`xsnap-worker failed: ${e.message}`));
        this.pending = undefined;
        resolve();
      });
    });
    this.cp.stdout!.on("data", (d: Buffer) => {
      this.stdout += d.toString();
      if (opts.echo) process.stdout.write(d);
    });
    this.cp.stderr!.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    const fromWorker = this.cp.stdio[4] as NodeJS.ReadableStream;
    fromWorker.on("data", (d: Buffer) => this.onData(d));
    (this.cp.stdio[3] as NodeJS.WritableStream).on("error", () => {
      /* EPIPE after exit: reported through the exit handler */
    });
  }

  /** Spawn a worker, install the harness prelude, and wait until it answers. */
  static async start(opts: XsWorkerOptions = {}): Promise<XsWorker> {
    const t0 = performance.now();
    const w = new XsWorker(opts);
    try {
      await w.evaluate(PRELUDE);
    } catch (e) {
      await w.close();
      throw e;
    }
    w.startupMs = performance.now() - t0;
    return w;
  }

  /** Start a worker with `bundleCode` loaded; always closed after `fn`, even if it throws. */
  static async with<T>(
    bundleCode: string | undefined,
    fn: (w: XsWorker) => Promise<T>,
    opts: XsWorkerOptions = {},
  ): Promise<T> {
    const w = await XsWorker.start(opts);
    try {
      if (bundleCode !== undefined) await w.load(bundleCode);
      return await fn(w);
    } finally {
      await w.close();
    }
  }

  /** Evaluate a bundle (or any script). */
  async load(bundleCode: string): Promise<XsMeter> {
    return (await this.evaluate(bundleCode)).meter;
  }

  /** Indirect eval of `code`. reply = completion value's bytes if it is an ArrayBuffer. */
  evaluate(code: string): Promise<CrankResult> {
    return this.crank(Buffer.concat([Buffer.from("e"), Buffer.from(code, "utf8")]));
  }

  /** Evaluate a JS expression and return its JSON value (undefined -> null). */
  async evaluateJSON<T = unknown>(expr: string): Promise<{ result: T; meter: XsMeter }> {
    const { reply, meter } = await this.evaluate(
      `(function(){ const v = (${expr}); return new TextEncoder().encode(JSON.stringify(v === undefined ? null : v)).buffer; })()`,
    );
    return { result: JSON.parse(Buffer.from(reply).toString("utf8")) as T, meter };
  }

  /** Send raw bytes to globalThis.handleCommand (the harness prelude's dispatcher). */
  command(bytes: Uint8Array): Promise<CrankResult> {
    return this.crank(Buffer.concat([Buffer.from("?"), Buffer.from(bytes)]));
  }

  /** Call globalThis.scenarios[name](args) in XS; result is JSON round-tripped. */
  async call<T = unknown>(name: string, args?: unknown): Promise<{ result: T; meter: XsMeter }> {
    const body = Buffer.from("j" + JSON.stringify({ name, args: args === undefined ? null : args }), "utf8");
    const { reply, meter } = await this.command(body);
    const r = JSON.parse(Buffer.from(reply).toString("utf8")) as
      | { ok: true; value: T }
      | { ok: false; error: string; stack: string };
    if (!r.ok) throw this.error(`scenario ${name} threw in XS: ${r.error}${r.stack ? "\n" + r.stack : ""}`);
    return { result: r.value, meter };
  }

  /** Force a full GC; the returned meter's currentHeapCount is the live-slot count. */
  async gc(): Promise<XsMeter> {
    return (await this.command(Uint8Array.of(0x67))).meter;
  }

  /** Register the per-step function used by measureSteadyState (`stepCode` is a function body). */
  async setStep(stepCode: string): Promise<void> {
    await this.evaluate(`globalThis.__xsh.step = function () { ${stepCode}\n};`);
  }

  /** Run the registered step n times in one crank. */
  async runSteps(n: number): Promise<XsMeter> {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`bad step count ${n}`);
    const b = Uint8Array.of(0x72, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
    return (await this.command(b)).meter;
  }

  /** Kill the worker (idempotent). */
  async close(): Promise<void> {
    if (!this.exited) {
      try {
        this.cp.kill("SIGKILL");
      } catch {
        /* gone */
      }
    }
    await this.exitPromise;
  }

  private crank(msg: Buffer): Promise<CrankResult> {
    const next = this.queue.then(() => this.roundTrip(msg));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async roundTrip(msg: Buffer): Promise<CrankResult> {
    if (this.exited) throw this.error(`xsnap-worker is not running (${this.exitInfo})`);
    const timeoutMs = this.opts.requestTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<Buffer>((resolve, reject) => {
      this.pending = { resolve, reject };
      timer = setTimeout(() => {
        reject(this.error(`no reply from xsnap-worker within ${timeoutMs} ms; killed`));
        this.pending = undefined;
        void this.close();
      }, timeoutMs);
      this.send(msg);
    }).finally(() => clearTimeout(timer));
    const kind = reply[0];
    if (kind === 0x21 /* ! */) {
      throw this.error(`uncaught exception in XS: ${reply.subarray(1).toString("utf8")}`);
    }
    if (kind !== 0x2e /* . */) throw this.error(`xsnap protocol error: reply kind ${kind}`);
    const sep = reply.indexOf(1, 1);
    if (sep < 0) throw this.error("xsnap protocol error: reply without meter");
    const meter = JSON.parse(reply.subarray(1, sep).toString("utf8")) as XsMeter;
    this.lastMeter = meter;
    return { reply: new Uint8Array(reply.subarray(sep + 1)), meter };
  }

  private send(payload: Buffer): void {
    const w = this.cp.stdio[3] as NodeJS.WritableStream;
    w.write(Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(",")]));
  }

  private onData(d: Buffer): void {
    this.rx = this.rx.length ? Buffer.concat([this.rx, d]) : d;
    for (;;) {
      const colon = this.rx.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.rx.subarray(0, colon).toString("latin1"));
      if (!Number.isInteger(len)) {
        this.pending?.reject(this.error("xsnap protocol error: bad netstring length"));
        this.pending = undefined;
        void this.close();
        return;
      }
      if (this.rx.length < colon + 1 + len + 1) return;
      const msg = this.rx.subarray(colon + 1, colon + 1 + len);
      this.rx = this.rx.subarray(colon + 2 + len);
      if (msg[0] === 0x3f /* ? */) {
        this.answerIssueCommand(new Uint8Array(msg.subarray(1)));
      } else {
        const p = this.pending;
        this.pending = undefined;
        p?.resolve(Buffer.from(msg));
      }
    }
  }

  private answerIssueCommand(body: Uint8Array): void {
    let out: Uint8Array | string | void = undefined;
    try {
      if (this.opts.onCommand) out = this.opts.onCommand(body);
      else this.commands.push(body);
    } catch (e) {
      this.stderr += `onCommand threw: ${String(e)}\n`;
    }
    const bytes = out === undefined ? Buffer.alloc(0) : Buffer.from(out as Uint8Array | string);
    this.send(Buffer.concat([Buffer.from("/"), bytes]));
  }

  private error(message: string): Error {
    const tail = (s: string) => (s.length > 2000 ? "…" + s.slice(-2000) : s);
    let m = message;
    if (this.stderr) m += `\n--- xsnap stderr ---\n${tail(this.stderr)}`;
    if (this.stdout) m += `\n--- xsnap stdout ---\n${tail(this.stdout)}`;
    return new Error(m);
  }
}

// ---------------------------------------------------------------------------------------------
// One-call scenario runner

/**
 * Start a worker, load `bundleCode`, call `globalThis.scenarios[name](args)`, close the worker.
 * `meter` is the meter of the call's crank (compute of the call, slots in use after it).
 */
export async function runScenario<T = unknown>(
  bundleCode: string,
  name: string,
  args?: unknown,
  opts: XsWorkerOptions = {},
): Promise<{ result: T; meter: XsMeter; stdout: string }> {
  return XsWorker.with(
    bundleCode,
    async (w) => {
      const r = await w.call<T>(name, args);
      return { ...r, stdout: w.stdout };
    },
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// Allocation check

export interface SteadyStateReport {
  steps: number;
  warmup: number;
  /** Live slots after GC before / after the measured run. */
  liveBefore: number;
  liveAfter: number;
  /** Live slots gained over `steps` steps (leaks / retained state). 0 = steady. */
  retainedSlots: number;
  /** Slots allocated (garbage + retained) over `allocationSampleSteps` steps, with no GC. */
  allocatedSlots: number;
  /** allocatedSlots / allocationSampleSteps. 0 means the step allocates no slots at all. */
  allocatedSlotsPerStep: number;
  /** Steps over which allocatedSlots was measured (fewer than `steps` if GC could interfere). */
  allocationSampleSteps: number;
  /** False if no sample passed the no-GC consistency checks (then allocatedSlots is unreliable). */
  allocationExact: boolean;
  /** Compute (metering units) per step, excluding the constant crank overhead. */
  computePerStep: number;
  /** Growth of the XS `allocate` meter (bytes XS took from the OS) over the measurement. */
  allocateGrowthBytes: number;
  /** Estimates of retained / per-step allocation in bytes (slots only, no chunk data). */
  retainedBytes: { host64: number; mcu32: number };
  allocatedBytesPerStep: { host64: number; mcu32: number };
}

/**
 * xsnap-worker starts with 256 Ki slots. Between two GCs currentHeapCount only grows, and an
 * organic GC can only run once the free list is empty; samples that stay below half the
 * initial heap are taken as GC-free.
 */
const SAFE_SLOT_COUNT = 128 * 1024;

/**
 * Steady-state allocation check. `stepCode` is a function body run once per step (it may
 * refer to globals the loaded bundle set up, e.g. `scenarios.pump()`).
 *
 * 1. warm-up steps, gc; 2. gc -> live L0; 3. an empty run crank to calibrate the per-crank
 * overhead; 4. gc -> L1; 5. run `steps` steps; 6. gc -> L2.
 * retainedSlots = (L2 - L1) - (L1 - L0)   (leaks / growth of live state).
 * Transient allocation: between GCs currentHeapCount counts every slot allocated, so
 * count(after n steps) - count(after gc) - crank overhead = slots allocated by n steps, if
 * no organic GC ran meanwhile. xsnap hides organic GCs from JS (WeakRefs stay strong), so the
 * allocation is sampled with n = 1, 2, 4, ... steps (each from a fresh gc) and n stops
 * growing before the count could approach SAFE_SLOT_COUNT (assumes a step's allocation does
 * not jump by > 2x between n and 2n steps). allocationSampleSteps says which n was used.
 * All measurement cranks go through handleCommand: every `e` (eval) crank keeps ~1 slot alive.
 *
 * Caveat: only slots are counted. Data that lives only in chunks (the bytes of strings
 * made by concatenation, ArrayBuffer storage, BigInt digits) is not visible, but the slots of
 * every object, array, closure, ArrayBuffer, typed array/view (subarray: 4 slots) are.
 */
export async function measureSteadyState(
  worker: XsWorker,
  stepCode: string,
  steps: number,
  opts: { warmup?: number } = {},
): Promise<SteadyStateReport> {
  const warmup = opts.warmup ?? Math.max(1, Math.min(1000, steps));
  await worker.setStep(stepCode);
  await worker.runSteps(warmup);
  await worker.gc();

  const g0 = await worker.gc();
  const r0 = await worker.runSteps(0);
  const g1 = await worker.gc();
  const crankSlots = r0.currentHeapCount - g0.currentHeapCount;
  const rN = await worker.runSteps(steps);
  const g2 = await worker.gc();
  const retainedSlots =
    g2.currentHeapCount - g1.currentHeapCount - (g1.currentHeapCount - g0.currentHeapCount);

  const sample = async (n: number): Promise<{ a: number; top: number }> => {
    const g = await worker.gc();
    const r = await worker.runSteps(n);
    return { a: r.currentHeapCount - g.currentHeapCount - crankSlots, top: r.currentHeapCount };
  };
  // Ascending doubling: run(n) is trusted GC-free if run(n/2) was and its allocation,
  // doubled, stays below SAFE_SLOT_COUNT (an organic GC needs the whole free list, ~256 Ki).
  let n = 0;
  let cur = { a: 0, top: 0 };
  let exact = steps === 0;
  if (steps > 0) {
    n = 1;
    cur = await sample(1);
    exact = cur.a >= 0 && cur.top < SAFE_SLOT_COUNT;
    while (exact && n < steps) {
      const next = Math.min(steps, n * 2);
      if (cur.top + (cur.a * (next - n)) / n >= SAFE_SLOT_COUNT) break;
      const s = await sample(next);
      if (s.a < cur.a || s.top >= SAFE_SLOT_COUNT) break;
      n = next;
      cur = s;
    }
  }
  await worker.gc();

  const perStep = n > 0 ? cur.a / n : 0;
  return {
    steps,
    warmup,
    liveBefore: g1.currentHeapCount,
    liveAfter: g2.currentHeapCount,
    retainedSlots,
    allocatedSlots: cur.a,
    allocatedSlotsPerStep: perStep,
    allocationSampleSteps: n,
    allocationExact: exact,
    computePerStep: steps > 0 ? (rN.compute - r0.compute) / steps : 0,
    allocateGrowthBytes: g2.allocate - g0.allocate,
    retainedBytes: { host64: retainedSlots * HOST_SLOT_BYTES, mcu32: retainedSlots * MCU_SLOT_BYTES },
    allocatedBytesPerStep: { host64: perStep * HOST_SLOT_BYTES, mcu32: perStep * MCU_SLOT_BYTES },
  };
}

// ---------------------------------------------------------------------------------------------
// Heap figures

export interface HeapFigure {
  /** currentHeapCount from the meter (live slots if taken right after gc()). */
  slots: number;
  /** slots x 32 B: bytes on this 64-bit host. */
  hostSlotBytes: number;
  /** slots x 16 B: MCU-equivalent estimate for 32-bit XS (ESP32). */
  mcuSlotBytes: number;
  /** XS `allocate` meter: bytes reserved from the OS for slot + chunk blocks (host, cumulative). */
  hostReservedBytes: number;
  /** Not reported by xsnap-worker: chunk (ArrayBuffer/string data) bytes in use. */
  chunkBytes: null;
}

export function heapFigure(meter: XsMeter): HeapFigure {
  return {
    slots: meter.currentHeapCount,
    hostSlotBytes: meter.currentHeapCount * HOST_SLOT_BYTES,
    mcuSlotBytes: meter.currentHeapCount * MCU_SLOT_BYTES,
    hostReservedBytes: meter.allocate,
    chunkBytes: null,
  };
}

/** Force a GC and return the live-heap figure of the worker. */
export async function heapBytes(worker: XsWorker): Promise<HeapFigure> {
  return heapFigure(await worker.gc());
}

/** Slot bytes added by `fn` (live, after GC), e.g. heap per connection: run setup in fn. */
export async function liveSlotDelta(
  worker: XsWorker,
  fn: () => Promise<unknown>,
): Promise<{ slots: number; host64: number; mcu32: number }> {
  const before = await worker.gc();
  await fn();
  const after = await worker.gc();
  const slots = after.currentHeapCount - before.currentHeapCount;
  return { slots, host64: slots * HOST_SLOT_BYTES, mcu32: slots * MCU_SLOT_BYTES };
}
