/**
 * The console inside real XS (xsnap-worker): tracing allocates nothing per frame, in steady state,
 * whether the UART keeps up or not; command replies allocate nothing either.
 */
import assert from "node:assert/strict";
import { bundle, measureSteadyState, XsWorker, type SteadyStateReport } from "../helpers/xs.js";

const ENTRY = "test/console/fixtures/xs-console.ts";
const STEPS = 300;

function show(label: string, r: SteadyStateReport): void {
  console.log(`      ${label}: retained ${r.retainedSlots} slots, allocated ${r.allocatedSlotsPerStep} slots/step, compute ${r.computePerStep}/step`);
}

describe("console in XS: no allocation while tracing", function () {
  this.timeout(60000);
  let code: string;
  let w: XsWorker;

  before(async function () {
    code = await bundle(ENTRY);
  });
  beforeEach(async function () {
    w = await XsWorker.start();
    await w.load(code);
    const mode = (await w.call("setup")).result;
    assert.equal(mode, 1, "trace on");
  });
  afterEach(async function () {
    await w.close();
  });

  it("tracing: 3 frames per step captured, encoded and read out, 0 slots allocated per step", async function () {
    const r = await measureSteadyState(w, "scenarios.stepTrace()", STEPS);
    show("trace", r);
    const rep = (await w.call("report")).result as { lines: number; captured: number; dropped: number };
    assert.ok(rep.captured >= 3 * STEPS, JSON.stringify(rep));
    assert.equal(rep.dropped, 0);
    assert.equal(r.retainedSlots, 0);
    assert.equal(r.allocationExact, true);
    assert.equal(r.allocatedSlots, 0);
  });

  it("a UART slower than the traffic: frames dropped and counted, still 0 slots per step", async function () {
    const r = await measureSteadyState(w, "scenarios.stepSlowUart()", STEPS);
    show("slow UART", r);
    const rep = (await w.call("report")).result as { captured: number; dropped: number };
    assert.ok(rep.dropped > 0, JSON.stringify(rep));
    assert.equal(r.retainedSlots, 0);
    assert.equal(r.allocationExact, true);
    assert.equal(r.allocatedSlots, 0);
  });

  it("conns + stats + arp replies (a listener, a connection, an ARP entry): 0 slots per step too", async function () {
    const r = await measureSteadyState(w, "scenarios.stepCommands()", 50);
    show("commands", r);
    assert.equal(r.retainedSlots, 0);
    assert.equal(r.allocationExact, true);
    assert.equal(r.allocatedSlots, 0);
  });
});
