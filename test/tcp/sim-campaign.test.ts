/**
 * Seeded simulator campaign (issue 4): two stacks through SimNetwork with loss (up to 20%),
 * duplication, reordering, corruption and delay. For every seed: every byte written in both directions
 * is delivered exactly and in order, both ends close cleanly and reach CLOSED, every pool is full again.
 * SEEDS=n runs more seeds; SEED=s replays one.
 */
import assert from "node:assert/strict";
import { Rng } from "../../host-sim/rng.js";
import { runBulk } from "../helpers/bulk.js";

const seeds: number[] = [];
if (process.env.SEED !== undefined) seeds.push(Number(process.env.SEED));
else {
  const n = Number(process.env.SEEDS ?? 200);
  const base = Number(process.env.SEED_BASE ?? 1);
  for (let i = 0; i < n; i++) seeds.push(base + i);
}

function scenario(seed: number): Parameters<typeof runBulk>[0] {
  const r = new Rng(seed);
  const loss = r.next() * 0.2;
  return {
    seed,
    up: 1 + r.int(60000),
    down: r.int(40000),
    faults: {
      loss,
      duplicate: r.next() * 0.05,
      reorder: r.next() * 0.1,
      corrupt: r.next() * 0.02,
      delayMs: 1 + r.int(50),
      jitterMs: r.int(10),
    },
    readChunk: 1 + r.int(3000),
    stack: r.chance(0.5) ? {} : { timestamps: r.chance(0.5), sack: r.chance(0.5), preset: r.chance(0.3) ? "minimal" : "default" },
  };
}

describe("TCP over a faulty simulated link: byte-exact both ways, clean close, pools full", function () {
  this.timeout(600000);
  it(`${seeds.length} seeds (SEED=${seeds.length === 1 ? seeds[0] : `${seeds[0]}..${seeds[seeds.length - 1]}`})`, () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const sc = scenario(seed);
      const r = runBulk(sc);
      const problems: string[] = [];
      if (!r.upOk) problems.push(`client->server got ${r.upGot}/${sc.up}`);
      if (!r.downOk) problems.push(`server->client got ${r.downGot}/${sc.down}`);
      if (!r.clientClosed || !r.serverClosed) problems.push(`not closed (client ${r.clientClosed}, server ${r.serverClosed})`);
      const ua = r.A.tcp.inUse(), ub = r.B.tcp.inUse();
      if (ua.connections + ub.connections + ua.timeWait + ub.timeWait + ua.listeners + ub.listeners !== 0)
        problems.push(`pools not full: A ${JSON.stringify(ua)} B ${JSON.stringify(ub)}`);
      if (r.A.arp.pendingInUse() + r.B.arp.pendingInUse() !== 0) problems.push("ARP pending slots in use");
      if (r.A.internalErrors + r.B.internalErrors !== 0) problems.push(`internal error: ${String(r.A.lastInternalError ?? r.B.lastInternalError)}`);
      if (problems.length > 0) failures.push(`SEED=${seed}: ${problems.join("; ")} (faults ${JSON.stringify(sc.faults)}, reason ${r.reason} at ${Math.round(r.timeMs)} ms)`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${seeds.length} seeds failed; replay one with SEED=n npm test`);
  });
});
