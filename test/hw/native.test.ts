/**
 * The ESP32 C, checked on the host with gcc (no ESP-IDF, no board):
 * - every hw/esp32/*.c compiles with -Wall -Wextra -Werror against the real xs.h / xsmc.h shipped in
 *   @agoric/xsnap and the declaration-only ESP-IDF stand-ins in hw/esp32/stubs;
 * - the stand-ins really are declaration-only (an object file of all of them defines no symbol);
 * - the receive ring and its wake-up path (test/hw/ring_test.c) run natively with threads, plain -O2,
 *   under ThreadSanitizer, and under AddressSanitizer + UndefinedBehaviorSanitizer.
 * gcc missing is a failure, never a skip.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../helpers/xs.js";

const HW = path.join(REPO_ROOT, "hw/esp32");
const STUBS = path.join(HW, "stubs");
const XS_INCLUDES = path.join(REPO_ROOT, "node_modules/@agoric/xsnap/moddable/xs/includes");
const WARN = ["-std=gnu11", "-Wall", "-Wextra", "-Werror"];
const INCLUDES = ["-I", STUBS, "-I", XS_INCLUDES, "-I", HW];

function gcc(args: string[], what: string): void {
  const r = spawnSync("gcc", args, { encoding: "utf8" });
  if (r.error) assert.fail(`gcc could not be run (${r.error.message}): install gcc (apt-get install gcc)`);
  assert.equal(r.status, 0, `${what}: gcc ${args.join(" ")}\n${r.stdout}${r.stderr}`);
}

function cFiles(): string[] {
  return readdirSync(HW).filter((f) => f.endsWith(".c")).sort();
}

describe("hw/esp32 C on the host (gcc)", function () {
  this.timeout(300000);
  let dir: string;
  before(() => {
    const v = spawnSync("gcc", ["--version"], { encoding: "utf8" });
    if (v.error || v.status !== 0) assert.fail("gcc is required by the hw tests and was not found: apt-get install gcc");
    dir = mkdtempSync(path.join(tmpdir(), "xstcp-gcc-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("xs.h and xsmc.h come from @agoric/xsnap (the real XS headers)", () => {
    const files = readdirSync(XS_INCLUDES);
    assert.ok(files.includes("xs.h") && files.includes("xsmc.h"), `${XS_INCLUDES}: ${files.join(" ")}`);
  });

  for (const file of ["xstcp_ring.c", "xstcp_if.c", "xstcp_eth.c", "xstcp_wifi.c", "xstcp_xs.c"]) {
    it(`${file} compiles with -Wall -Wextra -Werror (as for the ESP32, and with -DESP32=1)`, () => {
      gcc([...WARN, ...INCLUDES, "-c", path.join(HW, file), "-o", path.join(dir, `${file}.o`)], file);
      gcc([...WARN, "-DESP32=1", ...INCLUDES, "-c", path.join(HW, file), "-o", path.join(dir, `${file}.esp.o`)], `${file} -DESP32=1`);
    });
  }

  it("every hw/esp32/*.c is among the files compiled above", () => {
    assert.deepEqual(cFiles(), ["xstcp_eth.c", "xstcp_if.c", "xstcp_ring.c", "xstcp_wifi.c", "xstcp_xs.c"]);
  });

  it("compiles for a chip without the EMAC too (CONFIG_ETH_USE_ESP32_EMAC unset: Ethernet reports 'not supported')", () => {
    const obj = path.join(dir, "noemac.o");
    gcc([...WARN, "-DXSTCP_STUB_NO_EMAC", ...INCLUDES, "-c", path.join(HW, "xstcp_eth.c"), "-o", obj], "xstcp_eth.c without EMAC");
    const nm = execFileSync("nm", ["--defined-only", obj], { encoding: "utf8" });
    assert.ok(/ T xstcp_eth_start\n/.test(nm) && !/esp_eth_mac_new_esp32/.test(execFileSync("nm", [obj], { encoding: "utf8" })),
      "the no-EMAC build defines the API and calls no EMAC function");
  });

  it("the ESP-IDF / Moddable stand-ins are declarations only: no function or object is defined", () => {
    const headers: string[] = [];
    const walk = (d: string, rel: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name), `${rel}${e.name}/`);
        else if (e.name.endsWith(".h")) headers.push(`${rel}${e.name}`);
      }
    };
    walk(STUBS, "");
    assert.ok(headers.length >= 15, headers.join(" "));
    const tu = path.join(dir, "all-stubs.c");
    // xsHost.h needs xsMachine: include xsmc.h first, as the drivers do.
    writeFileSync(tu, ["#include <stddef.h>", "#include <stdint.h>", '#include "xsmc.h"', ...headers.map((h) => `#include "${h}"`), ""].join("\n"));
    const obj = path.join(dir, "all-stubs.o");
    gcc([...WARN, ...INCLUDES, "-c", tu, "-o", obj], "all stubs");
    const nm = execFileSync("nm", ["--defined-only", obj], { encoding: "utf8" });
    assert.equal(nm.trim(), "", `the stand-ins define symbols:\n${nm}`);
  });

  const ringSources = [path.join(REPO_ROOT, "test/hw/ring_test.c"), path.join(HW, "xstcp_ring.c"), path.join(HW, "xstcp_if.c")];
  const ringFlags = [...WARN, "-DXSTCP_HOST_TEST", ...INCLUDES, ...ringSources, "-pthread"];

  function runRing(exe: string, frames: number, env: NodeJS.ProcessEnv = {}): string {
    let r = spawnSync(exe, [String(frames)], { encoding: "utf8", env: { ...process.env, ...env } });
    // ThreadSanitizer cannot start on kernels with high mmap randomization: retry without ASLR.
    if (r.status !== 0 && /unexpected memory mapping|FATAL: ThreadSanitizer/.test(r.stderr)) {
      r = spawnSync("setarch", [process.arch === "arm64" ? "aarch64" : "x86_64", "-R", exe, String(frames)], { encoding: "utf8", env: { ...process.env, ...env } });
    }
    assert.equal(r.status, 0, `${path.basename(exe)} failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /all ring checks passed/);
    return r.stdout;
  }

  it("ring + wake-up: unit checks and producer/consumer threads (no loss, no duplicate, no corruption, one wake-up outstanding)", () => {
    const exe = path.join(dir, "ring_test");
    gcc(["-O2", ...ringFlags, "-o", exe], "ring_test");
    const out = runRing(exe, 200000);
    for (const line of ["ok basics", "ok wrap", "ok refused queue", "ok stale wake-up", "ok spsc lossless", "ok spsc fast consumer",
      "ok spsc slow consumer", "ok two producers", "ok close under load"]) {
      assert.ok(out.includes(line), `missing "${line}" in:\n${out}`);
    }
  });

  it("ring + wake-up under ThreadSanitizer: no data race", () => {
    const exe = path.join(dir, "ring_test_tsan");
    gcc(["-O1", "-g", "-fsanitize=thread", ...ringFlags, "-o", exe], "ring_test (tsan)");
    runRing(exe, 30000, { TSAN_OPTIONS: "halt_on_error=1 exitcode=66" });
  });

  it("ring + wake-up under AddressSanitizer and UndefinedBehaviorSanitizer: no use after close, no overflow", () => {
    const exe = path.join(dir, "ring_test_asan");
    gcc(["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", ...ringFlags, "-o", exe], "ring_test (asan)");
    runRing(exe, 50000, { ASAN_OPTIONS: "detect_leaks=1" });
  });
});
