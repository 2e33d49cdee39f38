/**
 * The long fuzz campaign (npm run fuzz): node dist/test/fuzz/campaign.js [--frames N] [--seed S] [--runs R]
 * Runs R campaigns (seeds S, S+1, ...) of N frames each (see campaign-core.ts) and prints a summary
 * with every seed; exits 1 when any run found a problem. Default: 1,000,000 frames, a random seed.
 */
import { runCampaign } from "./campaign-core.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const frames = Number(arg("--frames") ?? 1_000_000);
const runs = Number(arg("--runs") ?? 1);
const seed0 = Number(arg("--seed") ?? process.env.SEED ?? ((Date.now() ^ (process.pid << 16)) >>> 0));
if (!Number.isInteger(frames) || frames <= 0 || !Number.isInteger(seed0) || !Number.isInteger(runs) || runs <= 0) {
  console.error("usage: campaign.js [--frames N] [--seed S] [--runs R]");
  process.exit(2);
}
let failed = 0;
for (let k = 0; k < runs; k++) {
  const seed = (seed0 + k) >>> 0;
  console.log(`fuzz: seed ${seed}, ${frames} frames`);
  const r = runCampaign({ seed, frames, progress: frames >= 200_000 ? 100_000 : 0 });
  const c = r.counters;
  console.log(`  frames ${r.frames} (${r.duringTransfer} during the transfer, corpus ${r.corpus} captured segments), ` +
    `transfer done at ${r.transferMs} ms virtual, ${r.wallMs} ms wall`);
  console.log(`  kinds ${JSON.stringify(r.kinds)}`);
  console.log(`  B: linkIn ${c.linkInFrames ?? 0}, ipInReceives ${c.ipInReceives ?? 0}, ipInHdrErrors ${c.ipInHdrErrors ?? 0}, ` +
    `tcpInSegs ${c.tcpInSegs ?? 0}, tcpInErrs ${c.tcpInErrs ?? 0}, challenge ACKs ${c.tcpChallengeAcks ?? 0} sent / ` +
    `${c.tcpChallengeAcksSuppressed ?? 0} suppressed, RSTs accepted ${c.tcpInRsts ?? 0}`);
  if (r.problems.length > 0) {
    failed++;
    console.log(`  FAILED (replay: node dist/test/fuzz/campaign.js --frames ${frames} --seed ${seed}):`);
    for (const p of r.problems) console.log(`    ${p}`);
  } else console.log("  ok: no exception, transfer byte-exact and closed, counters balance, pools full");
}
console.log(`fuzz: ${runs - failed}/${runs} runs ok (seeds ${seed0}..${(seed0 + runs - 1) >>> 0}, ${frames} frames each)`);
process.exit(failed > 0 ? 1 : 0);
