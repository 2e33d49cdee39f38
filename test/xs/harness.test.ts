import assert from "node:assert/strict";
import {
  bundle,
  heapBytes,
  heapFigure,
  liveWorkerCount,
  measureSteadyState,
  runScenario,
  XsWorker,
  type SteadyStateReport,
} from "../helpers/xs.js";
import { scenarios as v8Scenarios } from "./fixtures/harness-entry.js";

const ENTRY = "test/xs/fixtures/harness-entry.ts";
const STEPS = 10_000;

function show(label: string, r: SteadyStateReport): void {
  console.log(
    `      ${label}: retained ${r.retainedSlots} slots, allocated ${r.allocatedSlotsPerStep} slots/step ` +
      `(${r.allocatedBytesPerStep.mcu32} B/step MCU-est.), compute ${r.computePerStep}/step`,
  );
}

describe("XS harness (xsnap-worker)", function () {
  let code: string;
  let w: XsWorker;

  before(async function () {
    code = await bundle(ENTRY);
  });

  beforeEach(async function () {
    w = await XsWorker.start();
    await w.load(code);
  });

  afterEach(async function () {
    await w.close();
  });

  after(function () {
    assert.equal(liveWorkerCount(), 0, "leaked xsnap-worker processes");
  });

  it("bundle: iife script for XS, cached, rejects Node built-ins", async function () {
    assert.equal(await bundle(ENTRY), code);
    assert.doesNotMatch(code, /\brequire\(|\bimport\s*\(/);
    await assert.rejects(bundle("test/xs/fixtures/bad-entry.ts"), /Node built-in "node:fs"/);
  });

  it("evaluate, call, errors, print and issueCommand", async function () {
    const { result, meter } = await w.evaluateJSON<number>("6 * 7");
    assert.equal(result, 42);
    for (const k of ["currentHeapCount", "compute", "allocate"] as const) assert.equal(typeof meter[k], "number");
    assert.deepEqual((await w.call("echo", { a: [1, "x"] })).result, { a: [1, "x"] });
    await assert.rejects(w.call("fail", { message: "nope" }), /RangeError: nope/);
    await assert.rejects(w.call("missing"), /no scenario "missing"/);
    await assert.rejects(w.evaluate("throw new TypeError('bad')"), /uncaught exception in XS: TypeError: bad/);
    await w.evaluate("console.log('hello', 1); issueCommand(new TextEncoder().encode('up').buffer)");
    assert.match(w.stdout, /hello 1/);
    assert.equal(Buffer.from(w.commands[0]!).toString(), "up");
    // the worker is still usable after errors
    assert.equal((await w.evaluateJSON<number>("1 + 1")).result, 2);
  });

  it("runScenario: one call, result + meter, worker closed", async function () {
    const before = liveWorkerCount();
    const { result, meter } = await runScenario<{ fnv: number }>(code, "checksum", { n: 1000, seed: 7 });
    assert.equal(typeof result.fnv, "number");
    assert.ok(meter.compute > 1000);
    assert.equal(liveWorkerCount(), before);
  });

  it("a closed worker rejects requests instead of hanging", async function () {
    await w.close();
    await assert.rejects(w.evaluate("1"), /not running/);
  });

  it("determinism: V8 and XS compute identical results", async function () {
    for (const args of [
      { n: 0, seed: 1 },
      { n: 1, seed: 0 },
      { n: 4096, seed: 0xdeadbeef },
      { n: 65537, seed: 12345 },
    ]) {
      const inV8 = JSON.parse(JSON.stringify(v8Scenarios.checksum(args)));
      const inXs = (await w.call("checksum", args)).result;
      assert.deepEqual(inXs, inV8, `checksum ${JSON.stringify(args)}`);
    }
  });

  describe("measureSteadyState", function () {
    beforeEach(async function () {
      await w.call("setup");
    });

    it("(a) a non-allocating step: 0 retained, 0 allocated over 10,000 steps", async function () {
      const r = await measureSteadyState(w, "scenarios.stepNoAlloc()", STEPS);
      show("no-alloc", r);
      assert.equal(r.retainedSlots, 0);
      assert.equal(r.allocatedSlots, 0);
      assert.equal(r.allocationExact, true);
      assert.equal(r.allocateGrowthBytes, 0);
      assert.ok(r.computePerStep > 0);
    });

    it("(b) control retaining one object per step: retained >= 10,000 slots", async function () {
      const r = await measureSteadyState(w, "scenarios.stepRetain()", STEPS);
      show("retain", r);
      assert.ok(r.retainedSlots >= STEPS, `retained ${r.retainedSlots}`);
      assert.ok(r.allocatedSlotsPerStep >= 1);
    });

    it("(c) control with a temporary object per step: 0 retained, but allocation per step seen", async function () {
      const r = await measureSteadyState(w, "scenarios.stepTemp()", STEPS);
      show("temp object", r);
      assert.equal(r.retainedSlots, 0);
      assert.ok(r.allocatedSlotsPerStep >= 1, `allocated ${r.allocatedSlotsPerStep}/step`);
      assert.equal(r.allocationExact, true);
    });

    it("(d) control with subarray() per step: caught as allocation", async function () {
      const r = await measureSteadyState(w, "scenarios.stepSubarray()", STEPS);
      show("subarray", r);
      assert.equal(r.retainedSlots, 0);
      assert.ok(r.allocatedSlotsPerStep >= 1);
    });

    it("(e) known blind spot: a new string per step lives in chunks only, no slots", async function () {
      const r = await measureSteadyState(w, "scenarios.stepString()", STEPS);
      show("string", r);
      assert.equal(r.retainedSlots, 0);
      assert.equal(r.allocatedSlots, 0); // documents the limitation; change if XS starts counting chunks
    });

    it("(f) ...but touching a property of a primitive string allocates a wrapper: caught", async function () {
      const r = await measureSteadyState(w, "scenarios.stepStringLength()", STEPS);
      show("string.length", r);
      assert.equal(r.retainedSlots, 0);
      assert.ok(r.allocatedSlotsPerStep >= 1);
    });

    it("resamples with fewer steps if an organic GC interrupts the measurement", async function () {
      // 200,000 temp objects x 3 slots exceed the 256 Ki-slot initial heap, forcing a GC.
      const r = await measureSteadyState(w, "scenarios.stepTemp()", 200_000, { warmup: 10 });
      show("temp object, 200k", r);
      assert.equal(r.retainedSlots, 0);
      assert.ok(r.allocationSampleSteps < 200_000);
      assert.equal(r.allocationExact, true);
      assert.equal(r.allocatedSlotsPerStep, 3);
    });
  });

  it("heap figures: host (32 B/slot) and MCU-equivalent (16 B/slot)", async function () {
    const f = await heapBytes(w);
    assert.equal(f.hostSlotBytes, f.slots * 32);
    assert.equal(f.mcuSlotBytes, f.slots * 16);
    assert.ok(f.hostReservedBytes > f.hostSlotBytes);
    assert.deepEqual(heapFigure(w.lastMeter!), f);
    console.log(`      live heap after load: ${f.slots} slots = ${f.hostSlotBytes} B host, ~${f.mcuSlotBytes} B MCU`);
  });
});
