/**
 * Inside a fresh namespace: the real Stack (src/stack.ts) at 192.0.2.2 on tap0, the kernel at
 * 192.0.2.1 pings it. No static neighbour: ARP both ways is the stack's job.
 * argv: [count=3] [interval=0.2]
 *
 * The Stack is imported dynamically so this file compiles before src/stack.ts is committed.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TapDriver, type TapEndpoint } from "../../../host-sim/tap.js";
import { linkStats, netnsMain, nstat, report, setupNamespace, shAsync, tapUp } from "../../../host-sim/netns.js";
import type { Driver } from "../../../src/driver.js";

type StackLike = TapEndpoint & { counters?: object };
type StackCtor = new (config: object, driver: Driver) => StackLike;

netnsMain(async () => {
  const count = Number(process.argv[2] ?? 3);
  const interval = process.argv[3] ?? "0.2";
  const stackUrl = new URL("../../../src/stack.js", import.meta.url);
  if (!existsSync(fileURLToPath(stackUrl))) throw new Error(`no stack at ${fileURLToPath(stackUrl)}`);
  const { Stack } = (await import(stackUrl.href)) as { Stack: StackCtor };

  setupNamespace();
  const tap = new TapDriver({ name: "tap0" });
  const stack = new Stack({ address: "192.0.2.2", netmask: "255.255.255.0", gateway: "192.0.2.1" }, tap);
  tap.attach(stack);
  tapUp("tap0", "192.0.2.1/24");
  const ping = await shAsync(`ping -n -q -c ${count} -i ${interval} -W 1 192.0.2.2`, 5_000 + count * 1_500);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.stdout);
  const link = linkStats("tap0");
  const kernel = nstat("IcmpInEchoReps", "IcmpInCsumErrors", "IpInHdrErrors", "IcmpInErrors");
  const neigh = (await shAsync("ip neigh show dev tap0", 2_000)).stdout.trim();
  tap.close();
  report({
    transmitted: m ? Number(m[1]) : -1,
    received: m ? Number(m[2]) : -1,
    pingOutput: summary(ping.stdout + ping.stderr),
    neigh,
    kernel,
    link,
    tap: tap.counters(),
    stack: stack.counters ?? null,
  });
});

/** The last lines of ping's output (statistics), enough for an assertion message. */
function summary(out: string): string {
  return out.trim().split("\n").slice(-4).join("\n");
}
