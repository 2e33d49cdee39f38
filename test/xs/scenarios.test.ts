/**
 * The shared scenarios (test/scenarios: handshake, bulk both ways, zero window + persist, loss with
 * retransmission, graceful close, RST, steady bulk) run in V8 (imported) and in real XS (the same
 * module bundled), two stacks over the pure-JS link. The two engines' results must be equal byte for
 * byte: delivered bytes (counts + digests), the link's frame digests, every counter of both stacks.
 * The V8 results are also checked for what each scenario claims.
 */
import assert from "node:assert/strict";
import { bundle, liveWorkerCount, XsWorker } from "../helpers/xs.js";
import { scenarios, SHARED_RUNS } from "../scenarios/index.js";

type R = Record<string, unknown> & {
  client?: Record<string, number | boolean>;
  server?: Record<string, number | boolean>;
  A: { counters: Record<string, number>; inUse: Record<string, number>; internalErrors: number; callbackErrors: number };
  B: { counters: Record<string, number>; inUse: Record<string, number>; internalErrors: number; callbackErrors: number };
};

/** What each scenario must show (in V8; XS is then compared byte for byte). */
function checkClaims(name: string, r: R): void {
  assert.equal(r.A.internalErrors + r.B.internalErrors, 0, "internal errors");
  assert.equal(r.A.callbackErrors + r.B.callbackErrors, 0, "callback errors");
  const c = r.client as Record<string, number | boolean>, s = r.server as Record<string, number | boolean>;
  const delivered = (): void => {
    assert.equal(c.bad, 0, "client received wrong bytes");
    assert.equal(s.bad, 0, "server received wrong bytes");
    assert.equal(s.got, c.sent, "client → server byte count");
    assert.equal(c.got, s.sent, "server → client byte count");
    assert.equal(s.rxDigest, c.txDigest, "client → server digest");
    assert.equal(c.rxDigest, s.txDigest, "server → client digest");
  };
  const poolsFree = (): void => {
    for (const x of [r.A, r.B]) assert.deepEqual(x.inUse, { connections: 0, timeWait: 0, listeners: 0 }, "pools free at the end");
  };
  switch (name) {
    case "handshake":
      assert.equal(r.why, "until");
      assert.ok((c.connectedAt as number) > 0 && (s.connectedAt as number) > 0);
      assert.equal((r.tcbA as Record<string, unknown>).state, "ESTABLISHED");
      assert.equal((r.tcbB as Record<string, unknown>).state, "ESTABLISHED");
      assert.equal(r.A.counters.tcpActiveOpens, 1);
      assert.equal(r.B.counters.tcpPassiveOpens, 1);
      break;
    case "bulk":
    case "gracefulClose":
      assert.equal(r.why, "until");
      delivered();
      assert.ok((c.sent as number) > 0 && (s.sent as number) > 0, "data both ways");
      assert.deepEqual((r.atTimeWait as Record<string, unknown>).A, { connections: 0, timeWait: 1, listeners: 0 }, "A (active closer) in TIME-WAIT");
      assert.equal(c.errorCalls, 0, "the active closer closed before any onError");
      assert.equal(s.errorCalls, 1, "the passive closer saw EOF as onError, after its data");
      poolsFree();
      break;
    case "zeroWindow":
      assert.equal(r.why, "until");
      delivered();
      assert.ok(r.A.counters.tcpPersistProbes > 0, "zero-window probes sent");
      poolsFree();
      break;
    case "loss":
      assert.equal(r.why, "until");
      delivered();
      assert.ok(((r.link as Record<string, number>).abDropped + (r.link as Record<string, number>).baDropped) > 0, "frames dropped");
      assert.ok(r.A.counters.tcpRetransSegs > 0 && r.B.counters.tcpRetransSegs > 0, "retransmissions both ways");
      poolsFree();
      break;
    case "rst": {
      const refused = r.refused as Record<string, number>;
      assert.equal(refused.errorCalls, 1, "refused connect: onError");
      assert.equal(c.errorCalls, 1, "reset connection: onError");
      assert.ok(r.B.counters.tcpOutRsts >= 1, "the rebooted peer answered with RST");
      assert.equal(r.A.counters.tcpAttemptFails, 1, "refused connect counted");
      assert.equal(r.A.counters.tcpEstabResets, 1, "reset of an established connection counted");
      assert.ok(r.A.counters.tcpInRsts >= 2);
      poolsFree();
      break;
    }
    case "steadyRun":
      assert.equal(r.stalls, 0);
      assert.equal(c.bad, 0);
      assert.equal(s.bad, 0);
      assert.ok((s.got as number) > 100_000);
      break;
    default:
      assert.fail(`no claims for ${name}`);
  }
}

describe("shared scenarios: V8 and XS give identical results", function () {
  this.timeout(180_000);
  let code: string;
  let w: XsWorker;
  const runs = SHARED_RUNS.filter((r) => r.name !== "steadyRun")
    .concat([
      { name: "steadyRun", args: { seed: 9, frames: 500, lossAB: 0.02, lossBA: 0.02 } },
      { name: "steadyRun", args: { seed: 10, frames: 400, oneWay: true, holdMs: 300, readMs: 100, preset: "throughput" } },
    ]);

  before(async () => {
    code = await bundle("test/scenarios/index.ts");
    w = await XsWorker.start({ requestTimeoutMs: 120_000 });
    await w.load(code);
  });
  after(async () => {
    await w.close();
    assert.equal(liveWorkerCount(), 0);
  });

  for (const run of runs) {
    it(`${run.name} ${JSON.stringify(run.args)}`, async () => {
      const fn = (scenarios as unknown as Record<string, (a: unknown) => unknown>)[run.name];
      const inV8 = JSON.stringify(fn(run.args));
      checkClaims(run.name, JSON.parse(inV8) as R);
      const inXs = JSON.stringify((await w.call(run.name, run.args)).result);
      if (inXs !== inV8) {
        const a = JSON.parse(inV8) as unknown, b = JSON.parse(inXs) as unknown;
        const diffs: string[] = [];
        const walk = (x: unknown, y: unknown, p: string): void => {
          if (diffs.length > 20) return;
          if (x !== null && y !== null && typeof x === "object" && typeof y === "object") {
            const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
            for (const k of keys) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${p}.${k}`);
          } else if (x !== y) diffs.push(`${p}: V8 ${JSON.stringify(x)} XS ${JSON.stringify(y)}`);
        };
        walk(a, b, "");
        assert.fail(`XS differs from V8:\n${diffs.join("\n")}`);
      }
    });
  }

  it("one definition: the bundle XS runs is the module V8 imports (test/scenarios/index.ts)", () => {
    for (const name of Object.keys(scenarios)) assert.match(code, new RegExp(`\\b${name}\\b`));
    assert.doesNotMatch(code, /\brequire\(|\bimport\s*\(/);
  });
});
