/** One fuzz campaign for `npm run bench`: frames per second and what the stack did with them. */
import { runCampaign } from "../test/fuzz/campaign-core.js";
import type { Row } from "./run.js";

export function fuzzRows(): Row[] {
  const r = runCampaign({ seed: 1, frames: 500_000 });
  const c = r.counters;
  return [
    { name: "frames injected", value: r.frames, unit: `(seed ${r.seed}; problems: ${r.problems.length})` },
    { name: "frames per second", value: Math.round(r.frames / (r.wallMs / 1000)), unit: "frames/s (V8, incl. the concurrent transfer)" },
    { name: "challenge ACKs sent", value: c.tcpChallengeAcks ?? 0, unit: "" },
    { name: "challenge ACKs suppressed", value: c.tcpChallengeAcksSuppressed ?? 0, unit: "(rate limit)" },
  ];
}
