/**
 * Allocation proof in real XS (DESIGN.md §4): after warm-up, 10,000 steady-state steps of a bulk
 * transfer both ways (each step delivers at least one segment: data and ACKs both ways, with the app's
 * socket read(buffer)/write(buffer) in the callbacks) leave XS's live slot count unchanged and allocate
 * no slot at all. The same check must fail for a control app that allocates per segment (read() with no
 * buffer: a new ArrayBuffer per read) and for one that keeps an object per segment, so the check is
 * known to bite. Shorter runs cover the other per-segment paths: loss (retransmission, SACK, out of
 * order), one-way data with pure/delayed ACKs, zero windows with persist probes, ARP refresh,
 * window scaling, and no options at all.
 */
import assert from "node:assert/strict";
import { bundle, XsWorker } from "../helpers/xs.js";
import { CONTROL_GARBAGE, CONTROL_RETAIN } from "../scenarios/bulk.js";
import { assertNoSlots, describeCheck, slotCheck, type SlotCheck } from "./steady.js";

const ENTRY = "test/scenarios/index.ts";
const STEPS = 10_000;

interface Run { check: SlotCheck; before: Report; after: Report }
interface Report { paths: Record<string, number>; frames: number; stalls: number; segsInA: number; segsInB: number; internalErrors: number; callbackErrors: number;
  client: { got: number; sent: number; bad: number }; server: { got: number; sent: number; bad: number } }

async function steady(args: Record<string, unknown>, steps: number): Promise<Run> {
  const code = await bundle(ENTRY);
  return XsWorker.with(code, async (w) => {
    const before = (await w.call<Report>("setupSteady", { digest: false, verify: false, ...args })).result;
    const check = await slotCheck(w, "scenarios.pump()", steps, { warmup: 100, chunk: 1000 });
    const after = (await w.call<Report>("steadyReport")).result;
    return { check, before, after };
  }, { requestTimeoutMs: 300_000 });
}

/** Path counters gained during the measured steps. */
function paths(r: Run): Record<string, number> {
  const d: Record<string, number> = {};
  for (const k of Object.keys(r.after.paths)) d[k] = (r.after.paths[k] ?? 0) - (r.before.paths[k] ?? 0);
  return d;
}

function show(label: string, r: Run): void {
  const segs = r.after.segsInA + r.after.segsInB - r.before.segsInA - r.before.segsInB;
  const p = Object.entries(paths(r)).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`      ${label}: ${describeCheck(r.check)}; ${segs} segments received, ` +
    `${r.after.client.got - r.before.client.got} + ${r.after.server.got - r.before.server.got} bytes read${p ? `; ${p}` : ""}`);
}

/** Every step delivered a frame; `segShare` of them at least were TCP segments (the rest ARP). */
function assertWorked(r: Run, steps: number, segShare = 1): void {
  assert.equal(r.after.stalls, 0, "the link never went idle");
  assert.equal(r.after.internalErrors + r.after.callbackErrors, 0);
  assert.ok(r.after.frames - r.before.frames >= steps, "at least one frame delivered per step");
  const segs = r.after.segsInA + r.after.segsInB - r.before.segsInA - r.before.segsInB;
  assert.ok(segs >= steps * segShare, `only ${segs} segments in ${steps} steps`);
}

describe("XS allocation proof: no slot per segment in steady state", function () {
  this.timeout(300_000);

  it(`bulk both ways, ${STEPS} steps (≥ ${STEPS} segments): live slots unchanged, 0 allocated; the control apps fail the same check`, async () => {
    // The proof and its control run in two workers at once.
    const [main, garbage] = await Promise.all([
      steady({ seed: 1 }, STEPS),
      steady({ seed: 1, control: CONTROL_GARBAGE }, STEPS),
    ]);
    show("stack + sockets + app", main);
    show("control: read() per segment", garbage);
    assertWorked(main, STEPS);
    assert.ok(main.after.client.got - main.before.client.got > 0 && main.after.server.got - main.before.server.got > 0, "data read both ways");
    assertNoSlots(main.check, "steady bulk");
    assert.equal(main.check.retainedSlots, 0);
    assert.equal(main.check.allocatedSlots, 0);

    assertWorked(garbage, STEPS);
    assert.throws(() => assertNoSlots(garbage.check, "control"), /allocated|GC/);
    assert.ok(garbage.check.allocatedSlotsPerStep >= 1 || !garbage.check.exact);
  });

  it("control keeping one object per read: the live slot count grows, the check fails", async () => {
    const r = await steady({ seed: 1, control: CONTROL_RETAIN }, 1000);
    show("control: kept per segment", r);
    assert.throws(() => assertNoSlots(r.check, "control"), /live slots changed/);
    assert.ok(r.check.retainedSlots > 0);
  });

  // [label, args, path counters that must have moved during the measured steps]
  const variants: [string, Record<string, unknown>, string[]][] = [
    ["loss 2% both ways (retransmission, SACK, out of order)", { seed: 2, lossAB: 0.02, lossBA: 0.02, stack: { mss: 536 } },
      ["retrans", "fastRetrans", "outOfOrder"]],
    ["one way: pure and delayed ACKs; zero windows and persist probes; ARP refresh every second",
      { seed: 3, oneWay: true, holdMs: 800, readMs: 100, stack: { mss: 536, arpLifetimeMs: 1000 } },
      ["persistProbes", "delayedAcks", "arpRequests"]],
    ["throughput preset (window scaling), loss 1%", { seed: 4, preset: "throughput", lossAB: 0.01, stack: { mss: 536 } }, ["retrans"]],
    ["minimal preset, no timestamps, no SACK, loss 3%",
      { seed: 5, preset: "minimal", lossAB: 0.03, lossBA: 0.03, stack: { sack: false, timestamps: false, mss: 536 } }, ["retrans"]],
  ];
  for (const [label, args, moved] of variants) {
    it(`${label}: 1,000 steps, nothing kept, nothing allocated`, async () => {
      const r = await steady(args, 1000);
      show(label, r);
      assertWorked(r, 1000, 0.9);
      const d = paths(r);
      for (const k of moved) assert.ok((d[k] ?? 0) > 0, `path not exercised: ${k}`);
      assertNoSlots(r.check, label);
    });
  }
});
