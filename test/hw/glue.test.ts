/**
 * The ESP32 JS glue with its native layer replaced: settings (mc/config), the wrapping clock, the
 * Driver over a native interface, the platform loop and its one timer, and the whole board on the
 * simulator with the example's servers (test/hw/board-sim.ts), run in Node and in real XS (xsnap).
 */
import assert from "node:assert/strict";
import { builtinModules } from "node:module";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { boardSettings } from "../../hw/esp32/settings.js";
import {
  EspDriver, type NativeInterface, STAT_COUNT, STAT_TX_FRAMES, TX_DOWN, TX_ERROR, TX_NO_ROOM, TX_OK,
} from "../../hw/esp32/driver.js";
import { monotonic, PlatformLoop, type Scheduler } from "../../hw/esp32/loop.js";
import { liveSlotDelta, REPO_ROOT, XsWorker } from "../helpers/xs.js";

// ------------------------------------------------------------------ settings

describe("hw/esp32 settings (mc/config)", () => {
  it("defaults: WT32-ETH01 Ethernet, DHCP, minimal preset, 8 rx slots", () => {
    const s = boardSettings({});
    assert.equal(s.netif, "ethernet");
    assert.equal(s.dhcp, true);
    assert.equal(s.preset, "minimal");
    assert.equal(s.rxSlots, 8);
    assert.deepEqual({ ...s.ethernet }, { phyAddress: 1, phyReset: 16, mdc: 23, mdio: 18, clockMode: 0, clockGpio: 0 });
  });

  it("takes the strings mcconfig passes for command-line overrides (key=value)", () => {
    const s = boardSettings({ netif: "wifi", ssid: "Net", password: "pw", ip: "10.0.0.7", netmask: "255.0.0.0", gateway: "10.0.0.1",
      rxSlots: "16", ethPhyAddress: "-1", ethPhyReset: "-1", ethClock: "out", ethClockGpio: "17", preset: "default" });
    assert.equal(s.netif, "wifi");
    assert.equal(s.dhcp, false);
    assert.equal(s.address, "10.0.0.7");
    assert.equal(s.rxSlots, 16);
    assert.equal(s.preset, "default");
    assert.deepEqual({ ...s.ethernet }, { phyAddress: -1, phyReset: -1, mdc: 23, mdio: 18, clockMode: 1, clockGpio: 17 });
  });

  it("refuses bad values with the key in the message, before any hardware is touched", () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ netif: "ppp" }, /config\.netif/],
      [{ netif: "wifi" }, /config\.ssid/],
      [{ netif: "wifi", ssid: "x".repeat(33) }, /config\.ssid/],
      [{ netif: "wifi", ssid: "n", password: "p".repeat(64) }, /config\.password/],
      [{ ip: "10.0.0" }, /config\.ip/],
      [{ ip: "10.0.0.1", netmask: "255.0.255.0x" }, /config\.netmask/],
      [{ rxSlots: "6" }, /config\.rxSlots: 6 is not a power of two/],
      [{ rxSlots: 512 }, /config\.rxSlots/],
      [{ rxSlots: "eight" }, /config\.rxSlots/],
      [{ preset: "huge" }, /config\.preset/],
      [{ ethClock: "in", ethClockGpio: 17 }, /GPIO0 only/],
      [{ ethClock: "out", ethClockGpio: 0 }, /GPIO16 or GPIO17/],
      [{ ethMdc: 34 }, /config\.ethMdc/],
      [{ ethPhyAddress: 32 }, /config\.ethPhyAddress/],
    ];
    for (const [config, message] of bad) assert.throws(() => boardSettings(config), message, JSON.stringify(config));
  });
});

// ------------------------------------------------------------------ clock

describe("hw/esp32 monotonic clock over Time.ticks", () => {
  it("never goes back when the 32-bit tick count wraps (Time.ticks is an int32 on the ESP32)", () => {
    let raw = 2 ** 31 - 10; // int32 max - 9: about to turn negative
    const clock = monotonic(() => raw | 0);
    const t0 = clock();
    raw += 20;
    assert.equal(clock() - t0, 20);
    raw = 2 ** 32 - 5; // about to wrap to 0
    const t1 = clock();
    raw = 2 ** 32 + 7;
    assert.equal(clock() - t1, 12);
    assert.ok(clock() > t0);
  });
});

// ------------------------------------------------------------------ driver

class ScriptedNative implements NativeInterface {
  frames: Uint8Array[] = [];
  results: number[] = [];
  sent: number[] = [];
  link = true;
  closed = 0;
  receive(into: Uint8Array): number {
    const f = this.frames.shift();
    if (f === undefined) return 0;
    into.set(f);
    return f.length;
  }
  transmit(_frame: Uint8Array, length: number): number {
    this.sent.push(length);
    return this.results.shift() ?? TX_OK;
  }
  readMac(into: Uint8Array): void { into.set([0x24, 0x6f, 0x28, 1, 2, 3]); }
  linkUp(): boolean { return this.link; }
  stats(into: Uint32Array): void { into.fill(0); into[STAT_TX_FRAMES] = this.sent.length; }
  close(): void { this.closed++; }
}

describe("hw/esp32 EspDriver over a native interface", () => {
  it("reads the MAC once; transmit maps no-room / down / error to false and counts each", () => {
    const n = new ScriptedNative();
    const d = new EspDriver(n, (b) => b.fill(7));
    assert.deepEqual([...d.mac], [0x24, 0x6f, 0x28, 1, 2, 3]);
    assert.equal(d.mtu, 1500);
    n.results = [TX_OK, TX_NO_ROOM, TX_DOWN, TX_ERROR];
    const f = new Uint8Array(60);
    assert.deepEqual([d.transmit(f, 60), d.transmit(f, 60), d.transmit(f, 60), d.transmit(f, 60)], [true, false, false, false]);
    assert.deepEqual([d.txNoRoom, d.txDown, d.txErrors], [1, 1, 1]);
    const r = new Uint8Array(4);
    d.random(r);
    assert.deepEqual([...r], [7, 7, 7, 7]);
  });

  it("drain hands each waiting frame to input(), at most max per call, into one reused buffer", () => {
    const n = new ScriptedNative();
    const d = new EspDriver(n, () => undefined);
    for (let i = 0; i < 5; i++) n.frames.push(new Uint8Array(60).fill(i));
    const got: [Uint8Array, number, number, number][] = [];
    const sink = { input: (f: Uint8Array, len: number, now: number): void => { got.push([f, len, now, f[0]]); } };
    assert.equal(d.drain(sink, 42, 3), 3);
    assert.equal(d.drain(sink, 43, 3), 2);
    assert.equal(d.drain(sink, 44, 3), 0);
    assert.deepEqual(got.map((g) => [g[1], g[2], g[3]]), [[60, 42, 0], [60, 42, 1], [60, 42, 2], [60, 43, 3], [60, 43, 4]]);
    assert.ok(got.every((g) => g[0] === got[0][0]), "one buffer for every frame");
    assert.equal(d.rxFrames, 5);
  });

  it("close() closes the native side once; afterwards transmit is refused and drain returns 0", () => {
    const n = new ScriptedNative();
    const d = new EspDriver(n, () => undefined);
    d.transmit(new Uint8Array(60), 60);
    d.close();
    d.close();
    assert.equal(n.closed, 1);
    assert.equal(d.linkUp, false);
    assert.equal(d.transmit(new Uint8Array(60), 60), false);
    n.frames.push(new Uint8Array(60));
    assert.equal(d.drain({ input: () => assert.fail("no input after close") }, 0, 8), 0);
    assert.equal(d.stats()[STAT_TX_FRAMES], 1, "the last counters are kept");
    assert.equal(d.stats().length, STAT_COUNT);
  });
});

// ------------------------------------------------------------------ loop

class ManualScheduler implements Scheduler {
  arms: number[] = [];
  disarms = 0;
  arm(delayMs: number): void { this.arms.push(delayMs); }
  disarm(): void { this.disarms++; }
}

describe("hw/esp32 PlatformLoop", () => {
  function setup(deadlines: number[], opts = {}) {
    const n = new ScriptedNative();
    const d = new EspDriver(n, () => undefined);
    let now = 1000;
    const inputs: number[] = [];
    const polls: number[] = [];
    const stack = {
      input: (_f: Uint8Array, len: number, t: number): void => { inputs.push(len, t); },
      poll: (t: number): number => { polls.push(t); return deadlines.shift() ?? Infinity; },
    };
    const loop = new PlatformLoop(stack, d, () => now, opts);
    const s = new ManualScheduler();
    return { n, d, loop, s, inputs, polls, setNow: (t: number) => { now = t; } };
  }

  it("each turn drains, polls, and arms the one timer at the deadline (capped at maxSleepMs)", () => {
    const t = setup([1040.5, Infinity, 900], { maxSleepMs: 500 });
    t.loop.start(t.s);
    assert.deepEqual(t.s.arms, [41], "deadline 1040.5 at 1000: 41 ms (rounded up)");
    t.n.frames.push(new Uint8Array(60), new Uint8Array(70));
    t.loop.wake();
    assert.deepEqual(t.inputs, [60, 1000, 70, 1000]);
    assert.deepEqual(t.s.arms, [41, 500], "Infinity: sleep at most maxSleepMs (a lost wake-up costs at most that)");
    t.loop.fire();
    assert.deepEqual(t.s.arms, [41, 500, 0], "a deadline in the past: as soon as possible");
    assert.deepEqual([t.loop.wakes, t.loop.timers], [1, 1]);
  });

  it("a flood: drainMax frames per turn, then the timer is armed for now", () => {
    const t = setup([5000, 5000, 5000], { drainMax: 4 });
    for (let i = 0; i < 6; i++) t.n.frames.push(new Uint8Array(60));
    t.loop.start(t.s);
    assert.equal(t.inputs.length / 2, 4);
    assert.deepEqual(t.s.arms, [0]);
    t.loop.fire();
    assert.equal(t.inputs.length / 2, 6);
    assert.deepEqual(t.s.arms, [0, 1000], "capped by the default maxSleepMs");
  });

  it("reports link changes once each, and keeps running when a callback throws", () => {
    const seen: boolean[] = [];
    const t = setup([], { onLink: (up: boolean) => { seen.push(up); if (!up) throw new Error("app bug"); } });
    t.n.link = false;
    t.loop.start(t.s);
    t.n.link = true;
    t.loop.wake();
    t.loop.wake();
    t.n.link = false;
    t.loop.wake();
    assert.deepEqual(seen, [true, false]);
    assert.equal(t.loop.errors, 1);
    assert.equal(t.s.arms.length, 4, "re-armed after every turn, the failing one too");
  });

  it("request() (Stack.onWake) arms the timer for now, or repeats the running turn, never polls inside the caller", () => {
    let requestInsidePoll = (): void => undefined;
    const t = setup([5000, 5000, 5000, 5000]);
    const stack = t.loop.stack as { poll(now: number): number };
    const poll = stack.poll.bind(stack);
    let depth = 0;
    stack.poll = (now: number): number => {
      depth++;
      assert.equal(depth, 1, "poll is never re-entered");
      requestInsidePoll();
      const d = poll(now);
      depth--;
      return d;
    };
    t.loop.start(t.s);
    assert.equal(t.polls.length, 1);
    t.loop.request();
    assert.equal(t.polls.length, 1, "not polled inside request()");
    assert.deepEqual(t.s.arms, [1000, 0]);
    requestInsidePoll = (): void => { requestInsidePoll = () => undefined; t.loop.request(); };
    t.loop.fire();
    assert.equal(t.polls.length, 3, "a request during a turn runs one more turn after it");
    assert.equal(t.loop.requests, 1);
  });

  it("stop() disarms and ignores later wake-ups", () => {
    const t = setup([]);
    t.loop.start(t.s);
    t.loop.stop();
    t.loop.wake();
    t.loop.fire();
    assert.equal(t.s.arms.length, 1);
    assert.equal(t.s.disarms, 1);
  });
});

// ------------------------------------------------------------------ the board on the simulator

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** manifest.json's module map, as the glue's specifiers need it (from hw/esp32/manifest.json). */
function socketShims(): Record<string, string> {
  const m = JSON.parse(readFileSync(path.join(REPO_ROOT, "hw/esp32/manifest.json"), "utf8")) as { modules: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.modules)) if (k.startsWith("embedded:io/socket/")) out[k] = path.join(REPO_ROOT, "hw/esp32", `${v as string}.js`);
  return out;
}

async function bundleBoardSim(format: "esm" | "iife"): Promise<string> {
  const esbuild = await import("esbuild");
  const shims = socketShims();
  const result = await esbuild.build({
    entryPoints: [path.join(REPO_ROOT, "test/hw/fixtures/board-sim-entry.js")],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    format,
    ...(format === "iife" ? {
      globalName: "__xsEntry",
      footer: { js: "globalThis.scenarios = __xsEntry.scenarios;" },
    } : {}),
    target: "es2022",
    platform: "neutral",
    mainFields: ["module", "main"],
    logLevel: "silent",
    plugins: [{
      name: "moddable-module-map",
      setup(b) {
        b.onResolve({ filter: /^embedded:/ }, (a) => {
          const p = shims[a.path];
          return p !== undefined ? { path: p } : { errors: [{ text: `manifest maps no module "${a.path}"` }] };
        });
        b.onResolve({ filter: /^xs-tcpip\// }, (a) => {
          const base = path.join(REPO_ROOT, a.path.slice("xs-tcpip/".length));
          for (const ext of [".ts", ".js"]) if (existsSync(base + ext)) return { path: base + ext };
          return { errors: [{ text: `no module for "${a.path}"` }] };
        });
        b.onResolve({ filter: /.*/ }, (a) =>
          NODE_BUILTINS.has(a.path) ? { errors: [{ text: `Node built-in "${a.path}" in device code` }] } : undefined);
      },
    }],
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error("esbuild produced nothing");
  return out.text;
}

type Scenarios = { firstFlash(args: unknown): Record<string, unknown>; bringUp(args: unknown): Record<string, unknown> };

describe("hw/esp32 board on the simulator (fake native layer, example servers)", function () {
  this.timeout(300000);
  let scenarios: Scenarios;
  let iife: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "xstcp-hw-"));
    const file = path.join(dir, "board-sim.mjs");
    writeFileSync(file, await bundleBoardSim("esm"));
    scenarios = (await import(pathToFileURL(file).href)).scenarios as Scenarios;
    iife = await bundleBoardSim("iife");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const HELLO = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";

  function check(r: Record<string, unknown>, netif: string, address: string): void {
    assert.equal(r.nativeKind, netif);
    assert.equal(r.address, address);
    assert.equal(r.http, HELLO);
    assert.equal(r.echoOk, true, "echo: every byte back, in order");
    assert.deepEqual(r.burst, { dropped: 12, wakes: 1, seen: 8, queuedAfterBurst: true },
      "20 frames at once into 8 slots: 12 dropped and counted, one wake-up, 8 reach the stack");
    assert.equal(r.echoAfterRefusals, true, "TCP recovers from 'no room now'");
    assert.equal(r.txNoRoom, 3);
    assert.equal(r.downSeen, true);
    assert.equal(r.http2Ok, true, "serves again after a link flap");
    assert.equal(r.maxQueued, 1, "at most one wake-up outstanding");
    assert.equal(r.closed, true);
    assert.ok((r.closedDrops as number) >= 1, "frames after close() (ours, and the PC's retries) are dropped as closed");
    assert.equal(r.armedAfterClose, "disarmed", "the timer is disarmed at close");
    assert.equal(r.onWakeHooked, true, "Stack.onWake drives the loop");
    const w = r.appWrites as { connectMs: number; writeMs: number; requests: number };
    assert.ok(w.connectMs < 100 && w.writeMs < 100, `served at once, not at the next 1 s tick: ${JSON.stringify(w)}`);
    assert.equal(r.onWakeAfterClose, true);
    assert.equal(r.loopErrors, 0);
    assert.equal(r.internalErrors, 0);
    assert.deepEqual(r.links, [true, false, true]);
    const servers = r.servers as { http: number; echo: number; echoBytes: number };
    assert.equal(servers.http, 2);
    assert.equal(servers.echo, 2);
  }

  it("Ethernet + DHCP: link, lease, HTTP hello, echo, ring overflow, TX refusals, link flap, close", () => {
    const r = scenarios.firstFlash({ seed: 1, netif: "ethernet", dhcp: true, echoBytes: 20000 });
    check(r, "ethernet", "192.0.2.50");
    assert.deepEqual(r.nativeArgs, [1, 16, 23, 18, 0, 0], "PHY address / reset / MDC / MDIO / clock from mc/config");
    assert.deepEqual(r.addresses, ["192.0.2.50"]);
    assert.ok((r.logs as string[]).some((l) => l.startsWith("ethernet up: mac 02:00:00:00:00:01, dhcp, preset minimal")), String(r.logs));
  });

  it("Wi-Fi + static address: the same story over the station interface", () => {
    const r = scenarios.firstFlash({ seed: 2, netif: "wifi", dhcp: false, echoBytes: 20000 });
    check(r, "wifi", "192.0.2.50");
    assert.deepEqual(r.nativeArgs, ["TestNet", "secret123"]);
  });

  it("in real XS (xsnap): the same bundle gives the same result as in Node", async () => {
    const args = { seed: 3, netif: "ethernet", dhcp: true, echoBytes: 8000 };
    const inNode = scenarios.firstFlash(args);
    check(inNode, "ethernet", "192.0.2.50");
    const inXs = await XsWorker.with(iife, async (w) => (await w.call<Record<string, unknown>>("firstFlash", args)).result);
    assert.deepEqual(inXs, JSON.parse(JSON.stringify(inNode)));
  });

  it("XS heap: slots added by the bring-up (board, minimal stack, servers) fit manifest.json's creation.heap", async () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "manifest.json"), "utf8")) as { creation: { heap: { initial: number }; chunk: { initial: number } } };
    for (const netif of ["ethernet", "wifi"]) {
      const d = await XsWorker.with(iife, async (w) => liveSlotDelta(w, () => w.call("bringUp", { netif })));
      // On the device the module code is preloaded into flash; what is allocated at bring-up is RAM.
      // The delta also holds the simulator's own objects, so it over-counts a little.
      console.log(`      ${netif}: bring-up adds ${d.slots} live XS slots (~${d.mcu32} bytes at 16 B/slot on the ESP32); ` +
        `creation.heap.initial is ${manifest.creation.heap.initial} slots`);
      assert.ok(d.slots > 100, "the measurement saw the bring-up");
      assert.ok(d.slots < manifest.creation.heap.initial * 0.75, `${d.slots} slots leave too little of ${manifest.creation.heap.initial} for the app`);
    }
  });
});
