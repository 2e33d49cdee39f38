/**
 * In real XS (xsnap-worker): the UDP receive path and a whole DNS resolution allocate nothing per
 * datagram (DESIGN.md §4): live slots unchanged and no slot allocated over 10,000 steps.
 */
import assert from "node:assert/strict";
import { bundle, measureSteadyState, XsWorker } from "../helpers/xs.js";
import { scenarios as v8 } from "./xs-entry.js";

const ENTRY = "test/udp/xs-entry.ts";
const STEPS = 10_000;

describe("udp/dns in XS: no allocation per datagram", function () {
  this.timeout(120_000);

  it("V8 first: the fixture does what it claims", () => {
    v8.setupUdp();
    for (let i = 0; i < 10; i++) v8.stepUdp();
    assert.deepEqual(v8.result(), { ok: 10, internalErrors: 0, frames: 0 });
    v8.setupDns();
    for (let i = 0; i < 10; i++) v8.stepDns();
    assert.deepEqual(v8.result(), { ok: 10, internalErrors: 0, frames: 10 });
  });

  async function measure(setup: string, step: string): Promise<{ retained: number; perStep: number; allocated: number; ok: number }> {
    const code = await bundle(ENTRY);
    return XsWorker.with(code, async (w) => {
      await w.call(setup);
      const r = await measureSteadyState(w, `scenarios.${step}()`, STEPS);
      const res = (await w.call<{ ok: number; internalErrors: number }>("result")).result;
      console.log(`      ${step}: retained ${r.retainedSlots} slots, allocated ${r.allocatedSlotsPerStep} slots/step, compute ${Math.round(r.computePerStep)}/step`);
      assert.equal(res.internalErrors, 0);
      assert.equal(r.allocationExact, true);
      return { retained: r.retainedSlots, perStep: r.allocatedSlotsPerStep, allocated: r.allocatedSlots, ok: res.ok };
    });
  }

  it("UDP datagram in, queued, delivered, taken: 0 slots retained, 0 allocated per step", async () => {
    const r = await measure("setupUdp", "stepUdp");
    assert.ok(r.ok >= STEPS);
    assert.equal(r.retained, 0);
    assert.equal(r.allocated, 0);
  });

  it("DNS: query out, answer in, parsed, released: nothing allocated beyond reading the name string", async () => {
    // XS allocates a wrapper each time a primitive string is read (name.length, name.charCodeAt):
    // resolve(name) costs that, once per query. Everything after it must add nothing.
    const full = await measure("setupDns", "stepDns");
    const names = await measure("setupDns", "stepResolveOnly");
    assert.ok(full.ok >= STEPS, `only ${full.ok} resolutions succeeded`);
    assert.equal(full.retained, 0);
    assert.equal(full.perStep, names.perStep, "the query, the answer and its parsing allocate nothing");
  });
});
