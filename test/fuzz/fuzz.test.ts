/**
 * Bounded fuzz campaign for CI (issue item 1): ≥ 100,000 random and mutated frames into a stack with
 * live connections in several states and a concurrent byte-exact transfer. SEED=n replays one run;
 * FUZZ_FRAMES=n changes the size. The seed is printed on failure. The long run: npm run fuzz.
 */
import assert from "node:assert/strict";
import { runCampaign } from "./campaign-core.js";

const seed = process.env.SEED !== undefined ? Number(process.env.SEED) : 0x5eed;
const frames = Number(process.env.FUZZ_FRAMES ?? 500_000);

describe("fuzz: random and mutated frames into a stack with live connections", function () {
  this.timeout(180000);
  it(`${frames} frames (SEED=${seed}): no exception, transfer byte-exact, counters balance, pools full`, () => {
    const r = runCampaign({ seed, frames });
    const summary = `SEED=${seed} frames=${r.frames} corpus=${r.corpus} during-transfer=${r.duringTransfer} ` +
      `transfer=${r.transferMs} ms wall=${r.wallMs} ms`;
    assert.ok(r.frames >= frames, `only ${r.frames} frames injected`);
    assert.deepEqual(r.problems, [], `fuzz campaign failed; replay with SEED=${seed}\n${summary}\nkinds ${JSON.stringify(r.kinds)}`);
    assert.ok(r.duringTransfer >= frames / 2, `the transfer ended too early: only ${r.duringTransfer} frames arrived during it (${summary})`);
    assert.ok((r.counters.tcpInSegs ?? 0) > frames / 10, "few frames reached TCP");
    console.log(`      ${summary}`);
  });
});
