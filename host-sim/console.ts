/**
 * The simulator as a device (DESIGN.md §9): a simulated node's console on a pseudo-terminal, so the
 * PC tool (tools/xstcp.ts) works against the simulator exactly as against a board.
 *
 *   const sc = await SimConsole.open(stack, { path: "/tmp/node-a", clock: () => net.now });
 *   await runRealtime(net, { consoles: [sc], until: () => done });   // or sc.service() after each step
 *   // meanwhile: xstcp watch -p /tmp/node-a
 *   await sc.close();
 *
 * socat makes the pseudo-terminal (`socat STDIO pty,raw,echo=0,link=PATH`): the PC end is PATH, the
 * device end is socat's stdin/stdout. We keep the terminal open ourselves so socat survives the PC
 * tool closing and reopening it. The emulated UART is driven by the virtual clock: `baudRate` / 10
 * bytes per virtual second; when the console has more to say, its trace ring drops frames (counted),
 * as on a board. Optional realism: xsbug `<log>` framing (Moddable debug builds), other console
 * output mixed in, and a baud-rate check: when the PC opens the terminal at another speed than
 * `baudRate`, both directions turn to garbage, as on a real UART.
 */
import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { closeSync, constants, existsSync, lstatSync, openSync, unlinkSync } from "node:fs";
import { Console } from "../src/console/console.js";
import type { Stack } from "../src/stack.js";
import { Rng } from "./rng.js";
import type { SimNetwork } from "./simnet.js";

export interface SimConsoleOptions {
  /** Path of the PC end (a symlink to /dev/pts/N). An existing symlink there is replaced. */
  readonly path: string;
  /** The virtual clock, ms (e.g. () => net.now). */
  readonly clock: () => number;
  /** Emulated UART speed, baud (10 bits per byte). Default 460800 (Moddable debug builds). Infinity: no limit. */
  readonly baudRate?: number;
  /** Garble both directions while the PC's terminal speed differs from baudRate. Default true. */
  readonly checkBaud?: boolean;
  /** Wrap every line as an xsbug `<log>` message, like trace() in a Moddable debug build. Default false. */
  readonly xsbug?: boolean;
  /** Probability, per line, of other console output mixed in before it. Default 0. */
  readonly noise?: number;
  /** Seed of the noise and garbling. Default 1. */
  readonly seed?: number;
  /** Bytes the UART driver buffers (largest burst after a quiet spell). Default 4096. */
  readonly uartBufferBytes?: number;
  /** Virtual ms between log lines the "app" prints on its own (0: none). Default 0. */
  readonly chatterMs?: number;
}

export interface SimConsoleStats {
  /** Bytes written towards the PC (framing and noise included). */
  bytesOut: number;
  bytesIn: number;
  /** Console lines sent. */
  lines: number;
  /** Lines of other output mixed in. */
  noiseLines: number;
  /** Bytes garbled because of a baud-rate mismatch. */
  garbledBytes: number;
  /** Bytes thrown away because nobody read the PC end (the terminal and socat were full). */
  discardedBytes: number;
  /** Records deliberately corrupted (corruptNextFrame). */
  corrupted: number;
}

/** How much output may wait in socat's pipe before the line counts as "nobody listening". */
const PIPE_LIMIT = 256 * 1024;

const IDF_NOISE = [
  "I (%) wifi:new:<1,0>, old:<1,0>, ap:<255,255>, sta:<1,0>, prof:1",
  "W (%) phy_init: saving new calibration data because of checksum failure, mode(0)",
  "I (%) esp_netif_handlers: sta ip: 192.168.1.23, mask: 255.255.255.0, gw: 192.168.1.1",
  "E (%) task_wdt: Task watchdog got triggered <IDLE0> & more",
  "progress: 50% [#####     ]",
  "ets Jun  8 2016 00:22:57 rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)",
];

export class SimConsole {
  readonly console: Console;
  readonly path: string;
  readonly stats: SimConsoleStats = {
    bytesOut: 0, bytesIn: 0, lines: 0, noiseLines: 0, garbledBytes: 0, discardedBytes: 0, corrupted: 0,
  };
  /** The PC side's terminal speed as last read (stty), or 0 before the first check. */
  peerBaud = 0;
  readonly #opts: Required<Omit<SimConsoleOptions, "path" | "clock">>;
  readonly #clock: () => number;
  readonly #socat: ChildProcessWithoutNullStreams;
  readonly #hold: number;
  readonly #rng: Rng;
  readonly #buf = new Uint8Array(65536);
  #budget = 0;
  #last: number;
  #partial = "";
  #corruptNext = 0;
  #baudGeneration = 0;
  #baudTimer: NodeJS.Timeout | null = null;
  #closed = false;
  #nextChatter = 0;

  private constructor(stack: Stack, opts: SimConsoleOptions, socat: ChildProcessWithoutNullStreams, hold: number) {
    this.path = opts.path;
    this.#clock = opts.clock;
    this.#opts = {
      baudRate: opts.baudRate ?? 460800,
      checkBaud: opts.checkBaud ?? true,
      xsbug: opts.xsbug ?? false,
      noise: opts.noise ?? 0,
      seed: opts.seed ?? 1,
      uartBufferBytes: opts.uartBufferBytes ?? 4096,
      chatterMs: opts.chatterMs ?? 0,
    };
    this.#nextChatter = opts.clock() + this.#opts.chatterMs;
    this.#socat = socat;
    this.#hold = hold;
    this.#rng = new Rng(this.#opts.seed);
    this.#last = opts.clock();
    this.console = new Console(stack, { clock: opts.clock });
    this.console.attach();
    socat.stdout.on("data", (d: Buffer) => this.#fromPc(d));
    if (this.#opts.checkBaud) {
      this.#checkBaudSync();
      this.#baudTimer = setInterval(() => this.#checkBaudAsync(), 500);
      this.#baudTimer.unref();
    }
  }

  /** Make the pseudo-terminal at opts.path and attach a Console to `stack`. */
  static async open(stack: Stack, opts: SimConsoleOptions): Promise<SimConsole> {
    const baud = opts.baudRate ?? 460800;
    if (!(baud > 0)) throw new RangeError("SimConsole: baudRate must be > 0");
    const path = opts.path;
    if (typeof path !== "string" || path === "") throw new TypeError("SimConsole: path is required");
    if (existsSync(path) || isSymlink(path)) {
      if (!isSymlink(path)) throw new Error(`SimConsole: ${path} exists and is not a symlink; not replacing it`);
      unlinkSync(path);
    }
    const socat = spawn("socat", ["-d", "-d", "-b", "65536", "STDIO", `pty,raw,echo=0,link=${path}`], { stdio: "pipe" });
    let err = "";
    socat.stderr.setEncoding("utf8");
    socat.stderr.on("data", (d: string) => { if (err.length < 65536) err += d; });
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string): void => { clearInterval(iv); clearTimeout(to); reject(new Error(why)); };
      socat.once("error", (e: NodeJS.ErrnoException) => {
        fail(e.code === "ENOENT" ? "SimConsole: socat is not installed (apt-get install socat)" : `SimConsole: socat: ${e.message}`);
      });
      socat.once("exit", (code) => fail(`SimConsole: socat exited (${code}): ${err.trim()}`));
      const iv = setInterval(() => {
        if (err.includes("starting data transfer loop")) { clearInterval(iv); clearTimeout(to); resolve(); }
      }, 5);
      const to = setTimeout(() => fail(`SimConsole: socat did not start: ${err.trim()}`), 5000);
    });
    socat.removeAllListeners("exit");
    socat.removeAllListeners("error");
    socat.on("error", () => {});
    socat.stdin.on("error", () => {});
    // Keep the terminal open so that socat does not see a hang-up when the PC tool closes it.
    const hold = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    return new SimConsole(stack, opts, socat, hold);
  }

  /** Does the PC's terminal speed differ from the emulated UART's? */
  get mismatched(): boolean {
    return this.#opts.checkBaud && this.peerBaud > 0 && this.peerBaud !== this.#opts.baudRate;
  }

  /** Move bytes for the virtual time elapsed: at most baudRate/10 bytes per virtual second. */
  service(): void {
    if (this.#closed) return;
    const now = this.#clock();
    const dt = now - this.#last;
    this.#last = now;
    const baud = this.#opts.baudRate;
    const cap = this.#opts.uartBufferBytes;
    if (baud === Infinity) this.#budget = this.#buf.length;
    else if (dt > 0) this.#budget = Math.min(cap, this.#budget + (dt * baud) / 10000);
    while (this.#budget >= 1) {
      const n = this.console.read(this.#buf, 0, Math.min(this.#buf.length, Math.floor(this.#budget)));
      if (n === 0) break;
      this.#budget -= n;
      this.#lines(Buffer.from(this.#buf.buffer, 0, n).toString("latin1"));
    }
    if (baud === Infinity) this.#budget = 0;
    const every = this.#opts.chatterMs;
    if (every > 0 && now >= this.#nextChatter) {
      this.#nextChatter = now + every;
      const text = `I (${Math.floor(now)}) app: free heap ${40000 + this.#rng.int(2000)}`;
      this.stats.noiseLines++;
      this.#write(Buffer.from(this.#opts.xsbug ? xsbugLog(text, true) : text + "\r\n", "latin1"));
    }
  }

  /** Corrupt the next `n` frame records on their way out (one character changed, CRC left as is). */
  corruptNextFrame(n = 1): void {
    this.#corruptNext += n;
  }

  /** Write raw bytes to the PC (e.g. garbage on the line). */
  injectRaw(bytes: Uint8Array): void {
    this.#write(Buffer.from(bytes));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#baudTimer !== null) clearInterval(this.#baudTimer);
    this.console.detach();
    const s = this.#socat;
    const exited = new Promise<void>((r) => {
      if (s.exitCode !== null || s.signalCode !== null) r();
      else s.once("exit", () => r());
    });
    s.stdin.end();
    s.kill("SIGTERM");
    await exited;
    closeSync(this.#hold);
    if (isSymlink(this.path)) {
      try { unlinkSync(this.path); } catch { /* socat removed it */ }
    }
  }

  // ---------------------------------------------------------------- output

  #lines(text: string): void {
    text = this.#partial + text;
    let at = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", at)) {
      this.#line(text.slice(at, nl + 1));
      at = nl + 1;
    }
    this.#partial = text.slice(at);
  }

  /** One console line (with its CR LF) on its way to the PC. */
  #line(line: string): void {
    this.stats.lines++;
    if (this.#corruptNext > 0 && line.startsWith("@xt F ")) {
      this.#corruptNext--;
      this.stats.corrupted++;
      const k = 20;
      const c = line[k] === "A" ? "B" : "A";
      line = line.slice(0, k) + c + line.slice(k + 1);
    }
    let out = "";
    const rng = this.#rng;
    const noise = this.#opts.noise;
    if (noise > 0 && rng.chance(noise)) out += this.#noise();
    if (this.#opts.xsbug) {
      const body = line.replace(/\r?\n$/, "");
      // Long lines sometimes arrive as two messages (the decoder joins log text).
      if (body.length > 200 && rng.chance(0.25)) {
        const cut = 1 + rng.int(body.length - 1);
        out += xsbugLog(body.slice(0, cut), false) + xsbugLog(body.slice(cut), true);
      } else {
        out += xsbugLog(body, true);
      }
      if (noise > 0 && rng.chance(noise / 4)) out += "\r\n<?xs.3ffb2c10?>\r\n<xsbug><instruments><instrument name=\"Chunk used\" value=\" / \"/></instruments></xsbug>\r\n";
    } else {
      out += line;
    }
    this.#write(Buffer.from(out, "latin1"));
  }

  /** Other console output: a whole line, or a fragment that the next record follows on the same line. */
  #noise(): string {
    const rng = this.#rng;
    this.stats.noiseLines++;
    const text = IDF_NOISE[rng.int(IDF_NOISE.length)].replace("%", String(Math.floor(this.#clock())));
    const fragment = rng.chance(0.3);
    if (!this.#opts.xsbug) return fragment ? text + " " : text + "\r\n";
    // In a debug build, app trace() output is xsbug too; boot messages are plain text.
    if (rng.chance(0.2)) return "\r\n" + text + "\r\n";
    return xsbugLog(text + (fragment ? " " : ""), !fragment);
  }

  #write(b: Buffer): void {
    if (this.mismatched) b = this.#garble(b);
    const s = this.#socat;
    if (s.stdin.writableLength > PIPE_LIMIT) {
      this.stats.discardedBytes += b.length;
      return;
    }
    this.stats.bytesOut += b.length;
    s.stdin.write(b);
  }

  /** What a UART at another speed makes of bytes: mostly non-text, about one byte in two lost. */
  #garble(b: Buffer): Buffer {
    const rng = this.#rng;
    const out = Buffer.alloc(b.length);
    let n = 0;
    for (let i = 0; i < b.length; i++) {
      if (rng.chance(0.5)) continue;
      out[n++] = rng.chance(0.9) ? 0x80 | rng.int(128) : rng.int(32);
    }
    this.stats.garbledBytes += b.length;
    return out.subarray(0, n);
  }

  // ---------------------------------------------------------------- input

  #fromPc(d: Buffer): void {
    if (this.#closed) return;
    this.stats.bytesIn += d.length;
    // Commands are rare: read the PC's terminal speed for each one (a tool may have just opened it).
    if (this.#opts.checkBaud) this.#checkBaudSync();
    if (this.mismatched) {
      this.stats.garbledBytes += d.length;
      d = this.#garble(d);
    }
    this.console.input(d, 0, d.length);
  }

  #checkBaudSync(): void {
    this.#baudGeneration++;
    try {
      this.peerBaud = Number(execFileSync("stty", ["-F", this.path, "speed"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()) || 0;
    } catch {
      // the terminal is gone (closing)
    }
  }

  #checkBaudAsync(): void {
    if (this.#closed) return;
    const generation = ++this.#baudGeneration;
    execFile("stty", ["-F", this.path, "speed"], { encoding: "utf8" }, (err, out) => {
      // A newer (synchronous) reading wins over this one.
      if (err === null && !this.#closed && generation === this.#baudGeneration) this.peerBaud = Number(out.trim()) || 0;
    });
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** One xsbug log message, as a Moddable debug build sends trace() text (XML-escaped). */
export function xsbugLog(text: string, newline: boolean): string {
  const esc = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  return `\r\n<?xs.3ffb2c10?>\r\n<xsbug><log>${esc}${newline ? "&#10;" : ""}</log></xsbug>\r\n`;
}

export interface RealtimeOptions {
  /** Consoles to service after every slice. */
  readonly consoles: readonly SimConsole[];
  /** Virtual ms per real ms. Default 1. */
  readonly speed?: number;
  /** Real ms between slices. Default 5. */
  readonly sliceMs?: number;
  /** Stop when this returns true (checked between slices and inside the simulation). */
  readonly until?: () => boolean;
  readonly signal?: AbortSignal;
}

/**
 * Run the simulation paced to the wall clock (`speed` virtual ms per real ms), servicing the consoles
 * between slices so serial I/O and other Node work can run. Resolves when `until` or `signal` says so.
 */
export async function runRealtime(net: SimNetwork, opts: RealtimeOptions): Promise<void> {
  const speed = opts.speed ?? 1;
  const slice = opts.sliceMs ?? 5;
  if (!(speed > 0)) throw new RangeError("runRealtime: speed must be > 0");
  const until = opts.until ?? ((): boolean => false);
  const t0 = performance.now(), v0 = net.now;
  for (;;) {
    if (until() || opts.signal?.aborted === true) return;
    const target = v0 + (performance.now() - t0) * speed;
    if (target > net.now) net.runFor(target - net.now, { until });
    for (const c of opts.consoles) c.service();
    await new Promise((r) => setTimeout(r, slice));
  }
}
