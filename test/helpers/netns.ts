/**
 * Test-side helpers for TAP tests in a network namespace (host-sim/netns.ts does the work).
 *
 *   before(function () { requireNetns(this); });
 *
 * Without REQUIRE_ALL=1 a machine that cannot run them (not root, no /dev/net/tun, no unshare, addon
 * not built) skips with the reason; with REQUIRE_ALL=1 (CI) the test FAILS with that reason.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { netnsAvailable, parseReport, requireAll, runInNetns, type NetnsOptions, type NetnsResult } from "../../host-sim/netns.js";

/** build/Release/tap.node, from dist/test/helpers/. */
export const ADDON_PATH = fileURLToPath(new URL("../../../build/Release/tap.node", import.meta.url));

export function requireNetns(ctx: Mocha.Context): void {
  let reason = "";
  const a = netnsAvailable();
  if (!a.ok) reason = a.reason;
  else if (!existsSync(ADDON_PATH)) reason = `TAP addon not built: ${ADDON_PATH} missing (run npm install)`;
  if (!reason) return;
  if (requireAll()) throw new Error(`REQUIRE_ALL=1: TAP test cannot run: ${reason}`);
  ctx.skip();
}

/** Absolute path of a compiled namespace script under dist/test/tap/scripts/. */
export function tapScript(name: string): string {
  return fileURLToPath(new URL(`../tap/scripts/${name}.js`, import.meta.url));
}

/** Runs a script in a fresh namespace; throws with its stderr unless it exited 0; returns its report. */
export async function runScript<T = Record<string, unknown>>(
  name: string,
  args: string[] = [],
  opts: Partial<NetnsOptions> = {},
): Promise<{ report: T; result: NetnsResult }> {
  const result = await runInNetns(tapScript(name), args, { timeoutMs: 30_000, ...opts });
  if (result.code !== 0) {
    throw new Error(
      `${name} in netns failed: code ${result.code} signal ${result.signal}${result.timedOut ? " (timed out)" : ""}\n` +
        `--- stderr ---\n${result.stderr}\n--- stdout ---\n${result.stdout.slice(-4000)}`,
    );
  }
  const report = parseReport<T>(result.stdout);
  if (report === undefined) throw new Error(`${name} reported nothing\n${result.stdout}\n${result.stderr}`);
  return { report, result };
}
