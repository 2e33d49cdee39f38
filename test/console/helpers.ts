/** Shared pieces of the console tests: a two-node simulation with a transfer, and the PC tool as a process. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { PcapWriter } from "../../host-sim/pcap.js";
import { SimNetwork } from "../../host-sim/simnet.js";
import type { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";
import { EV_ERROR, EV_READABLE, EV_WRITABLE, type Tcb } from "../../src/tcp/tcb.js";

/** Repository root (this file is test/console/helpers.ts or dist/test/console/helpers.js). */
export const REPO_ROOT = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = path.basename(path.resolve(here, "../..")) === "dist" ? "../../.." : "../..";
  return path.resolve(here, up);
})();
export const TOOL = path.join(REPO_ROOT, "dist/tools/xstcp.js");
/** Screens and other evidence the tests leave behind. */
export const ARTIFACTS = process.env.XSTCP_ARTIFACTS ?? path.join(REPO_ROOT, "dist/artifacts/console");

export const IP_A = 0xc0000201, IP_B = 0xc0000202;

/** Fail (never skip) when a program the tests need is missing. */
export function requireProgram(name: string, pkg: string): void {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${name} is required by the console tests: apt-get install -y --no-install-recommends ${pkg}`);
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), "xstcp-"));
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Poll `cond` every 10 ms; throw with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running tool process. */
export class Tool {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<ToolResult>;

  /** `rawStdout`: leave stdout alone (to pipe its bytes somewhere); `stdout` then stays empty. */
  constructor(args: string[], opts: { rawStdout?: boolean } = {}) {
    if (!existsSync(TOOL)) throw new Error(`${TOOL} is missing: run npm run build`);
    this.child = spawn(process.execPath, [TOOL, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    if (opts.rawStdout !== true) {
      this.child.stdout?.setEncoding("utf8");
      this.child.stdout?.on("data", (d: string) => { this.stdout += d; });
    }
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (d: string) => { this.stderr += d; });
    this.done = new Promise((resolve) => {
      this.child.on("close", (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  /** Wait for the exit, killing the process after `timeoutMs`. */
  async wait(timeoutMs = 20000): Promise<ToolResult> {
    const t = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      return await this.done;
    } finally {
      clearTimeout(t);
    }
  }
}

export async function runTool(args: string[], timeoutMs = 20000): Promise<ToolResult> {
  return new Tool(args).wait(timeoutMs);
}

export interface ScenarioOptions {
  seed: number;
  /** Options of the device (node A, the one with the console). */
  device?: StackOptions;
  /** One-way delay, ms. Default 5. */
  delayMs?: number;
  /** Record every frame on the link. */
  pcap?: PcapWriter;
}

/**
 * Node A ("the device", 192.0.2.1, listener on 8080) uploads to node B (192.0.2.2:80). B reads only while
 * `bReading` is true, so a test can hold the connection ESTABLISHED with data waiting; A closes after
 * sending everything when `closeWhenSent` is set.
 */
export class Scenario {
  readonly net: SimNetwork;
  readonly A: Stack;
  readonly B: Stack;
  data = new Uint8Array(0);
  sent = 0;
  received = 0;
  bReading = true;
  closeWhenSent = true;
  client: Tcb | null = null;
  server: Tcb | null = null;
  errors: string[] = [];

  constructor(o: ScenarioOptions) {
    this.net = new SimNetwork({ seed: o.seed, pcap: o.pcap });
    const na = this.net.addNode("a"), nb = this.net.addNode("b");
    this.A = new Stack({ address: IP_A, ...o.device }, na);
    this.B = new Stack({ address: IP_B }, nb);
    na.attach(this.A);
    nb.attach(this.B);
    this.net.setFaults("*", "*", { delayMs: o.delayMs ?? 5 });
    const sc = this;
    const serverOwner = {
      deliver(ev: number): void {
        const t = sc.server;
        if (t === null) return;
        if ((ev & EV_READABLE) !== 0 || ev === 0) sc.drain();
        if ((ev & EV_ERROR) !== 0) {
          sc.drain();
          if (t.rcvLen === 0) sc.B.tcp.close(t, sc.net.now, true);
        }
      },
    };
    this.B.tcp.listen({
      deliver(): void {
        const t = sc.B.tcp.accept(0);
        if (t !== null) { sc.server = t; t.owner = serverOwner; }
      },
    }, 80, 4);
    this.A.tcp.listen({ deliver(): void {} }, 8080, 2);
  }

  /** B reads what it can (when bReading). */
  drain(): void {
    const t = this.server;
    if (t === null || !this.bReading) return;
    const buf = new Uint8Array(4096);
    for (let n = this.B.tcp.read(t, buf, 0, buf.length, this.net.now); n > 0; n = this.B.tcp.read(t, buf, 0, buf.length, this.net.now)) {
      this.received += n;
    }
    if (t.error !== 0 && t.rcvLen === 0 && !t.orphan) this.B.tcp.close(t, this.net.now, true);
  }

  /** Let B read again (from inside the simulation, as an action). */
  resumeReading(): void {
    this.net.schedule(this.net.now, () => { this.bReading = true; this.drain(); });
  }

  /** A connects to B:80 at virtual time now + 1 and sends `bytes` bytes. */
  upload(bytes: number): void {
    this.data = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) this.data[i] = (i * 7 + 3) & 255;
    const sc = this;
    const owner = {
      deliver(ev: number): void {
        const t = sc.client;
        if (t === null) return;
        if ((ev & EV_WRITABLE) !== 0) sc.push();
        if ((ev & EV_ERROR) !== 0) { sc.errors.push(`client error ${t.error}`); sc.A.tcp.close(t, sc.net.now, true); }
      },
    };
    this.net.schedule(this.net.now + 1, () => {
      this.client = this.A.tcp.connect(owner, IP_B, 80, this.net.now);
      if (this.client === null) this.errors.push("connect: no Tcb");
    });
  }

  private push(): void {
    const t = this.client;
    if (t === null) return;
    while (this.sent < this.data.length) {
      const n = this.A.tcp.write(t, this.data, this.sent, this.data.length - this.sent, this.net.now, true);
      if (n === 0) break;
      this.sent += n;
    }
    if (this.sent === this.data.length && this.closeWhenSent && !t.finQueued) this.A.tcp.close(t, this.net.now, false);
  }

  /** The device's connection is gone from the Tcb pool (TIME-WAIT record or closed) and B got everything. */
  finished(): boolean {
    return this.received === this.data.length && this.data.length > 0 && this.A.tcp.tcbs.every((t) => t.state === 0) &&
      this.B.tcp.tcbs.every((t) => t.state === 0);
  }
}
