/**
 * ConsoleClient: one serial port (the real `serialport` package), the record decoder, and
 * request/reply matching: each command goes out as "#TAG command\n"; the reply is the T lines
 * between the device's "B TAG" and "E TAG" records. Errors come out as ToolError with a message
 * a person can act on (missing port, busy port, wrong baud rate, garbage on the line).
 */
import { existsSync, statSync } from "node:fs";
import { SerialPort } from "serialport";
import { ConsoleDecoder, type ConsoleEvent, type FrameRecord, type Hello } from "./decoder.js";

/** Exit codes of the CLI. */
export const EXIT_OK = 0, EXIT_FAIL = 1, EXIT_PORT = 2, EXIT_LINE = 3;

export class ToolError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(code: string, message: string, exitCode: number) {
    super(message);
    this.name = "ToolError";
    this.code = code;
    this.exitCode = exitCode;
  }
}

export interface Reply {
  readonly ok: boolean;
  /** The T lines. */
  readonly lines: string[];
  /** Text after "ok" / "err" in the E record. */
  readonly text: string;
  /** False when the B record was missing or lines were lost inside the reply. */
  readonly complete: boolean;
}

export interface ClientOptions {
  readonly path: string;
  readonly baudRate: number;
  /** Reply timeout, ms. */
  readonly timeoutMs: number;
}

interface Waiting {
  readonly cmd: string;
  readonly resolve: (r: Reply) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly atEnd: ((ok: boolean) => void) | undefined;
  lines: string[];
  begun: boolean;
  lostAtStart: number;
}

export class ConsoleClient {
  readonly path: string;
  readonly baudRate: number;
  readonly timeoutMs: number;
  readonly decoder: ConsoleDecoder;
  hello: Hello | null = null;
  onFrame: ((f: FrameRecord) => void) | null = null;
  onDrops: ((dropped: number, captured: number) => void) | null = null;
  onCorrupt: ((line: string, reason: string) => void) | null = null;
  /** Set when the port closes or fails underneath us. */
  failure: ToolError | null = null;
  readonly #port: SerialPort;
  readonly #waiting = new Map<number, Waiting>();
  #nextTag: number;
  #current = -1;
  #closed = false;

  private constructor(port: SerialPort, opts: ClientOptions) {
    this.#port = port;
    this.path = opts.path;
    this.baudRate = opts.baudRate;
    this.timeoutMs = opts.timeoutMs;
    this.#nextTag = 1 + (process.pid % 9000) * 100;
    this.decoder = new ConsoleDecoder((e) => this.#event(e));
    port.on("data", (d: Buffer) => this.decoder.push(d));
    port.on("error", (e: Error) => this.#fail(new ToolError("EIO", `serial port ${this.path}: ${e.message}`, EXIT_PORT)));
    port.on("close", () => {
      if (!this.#closed) this.#fail(new ToolError("EIO", `serial port ${this.path} closed (device unplugged?)`, EXIT_PORT));
    });
  }

  /** Open the port (exclusive), discard stale input. */
  static async open(opts: ClientOptions): Promise<ConsoleClient> {
    const { path, baudRate } = opts;
    if (!Number.isInteger(baudRate) || baudRate < 50 || baudRate > 12_000_000) {
      throw new ToolError("EUSAGE", `bad baud rate ${baudRate}`, EXIT_FAIL);
    }
    if (!existsSync(path)) {
      throw new ToolError("ENOPORT", `no such port: ${path} (run \`xstcp list\` to see the serial ports; for the simulator, start \`netsim --console ${path}\` first)`, EXIT_PORT);
    }
    if (statSync(path).isDirectory()) throw new ToolError("ENOPORT", `${path} is a directory, not a serial port`, EXIT_PORT);
    const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
    // Without an 'error' listener a failing close would crash the process (research/peers.md §5).
    const early = (): void => {};
    port.on("error", early);
    await new Promise<void>((resolve, reject) => {
      port.open((err) => (err ? reject(openError(path, err)) : resolve()));
    });
    await new Promise<void>((resolve) => port.flush(() => resolve()));
    port.off("error", early);
    return new ConsoleClient(port, opts);
  }

  /**
   * Send a command; resolves with its reply, or rejects with a ToolError saying what is wrong.
   * `atEnd` runs synchronously when the reply's E record is decoded, before any record after it.
   */
  command(cmd: string, timeoutMs = this.timeoutMs, atEnd?: (ok: boolean) => void): Promise<Reply> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.#closed) return Promise.reject(new ToolError("ECLOSED", "closed", EXIT_FAIL));
    if (/[\r\n]/.test(cmd)) return Promise.reject(new ToolError("EUSAGE", "a command is one line", EXIT_FAIL));
    const tag = this.#nextTag++;
    if (this.#nextTag > 999_999_999) this.#nextTag = 1;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(tag);
        reject(new ToolError("ETIMEDOUT", this.diagnose(`no reply to "${cmd}" within ${timeoutMs} ms`), EXIT_LINE));
      }, timeoutMs);
      this.#waiting.set(tag, { cmd, resolve, reject, timer, atEnd, lines: [], begun: false, lostAtStart: this.decoder.stats.lostLines });
      this.#port.write(`#${tag} ${cmd}\n`);
    });
  }

  /** Why nothing useful came back: the best guess from what the line carried. */
  diagnose(what: string): string {
    const s = this.decoder.stats;
    if (s.bytes === 0) {
      return `${what}: nothing at all came from ${this.path}. Is the device running with the xstcp console ` +
        `(or the simulator with --console ${this.path}), and is ${this.baudRate} its baud rate?`;
    }
    if (s.records === 0 && s.garbageBytes >= 8 && s.garbageBytes * 5 >= s.bytes) {
      return `${what}: ${s.bytes} bytes came from ${this.path} but ${s.garbageBytes} of them are not text. ` +
        `Wrong baud rate? This was ${this.baudRate}; try -b 460800 (Moddable debug builds) or -b 115200 (ESP-IDF console).`;
    }
    if (s.records === 0 && s.corrupt > 0) {
      return `${what}: ${s.corrupt} damaged records and no good one from ${this.path}: garbage on the line or a wrong baud rate (this was ${this.baudRate}).`;
    }
    if (s.records === 0) {
      const last = this.decoder.lastNoise.slice(0, 60);
      return `${what}: ${this.path} sends text but no xstcp records (last line: ${JSON.stringify(last)}). ` +
        "Is this the right port, and is the console running on the device?";
    }
    return `${what} (the device sent ${s.records} other records; ${s.corrupt} damaged)`;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new ToolError("ECLOSED", "closed", EXIT_FAIL));
    }
    this.#waiting.clear();
    if (!this.#port.isOpen) return;
    const port = this.#port;
    await new Promise<void>((resolve) => {
      // Bounded: a port that cannot drain (device gone) is closed anyway.
      const t = setTimeout(() => port.close(() => resolve()), 1000);
      port.drain(() => { clearTimeout(t); port.close(() => resolve()); });
    });
  }

  #fail(e: ToolError): void {
    if (this.failure !== null) return;
    this.failure = e;
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.#waiting.clear();
  }

  #event(e: ConsoleEvent): void {
    switch (e.kind) {
      case "hello":
        this.hello = e.hello;
        return;
      case "frame":
        if (this.onFrame !== null) this.onFrame(e.frame);
        return;
      case "drops":
        if (this.onDrops !== null) this.onDrops(e.dropped, e.captured);
        return;
      case "corrupt":
        if (this.onCorrupt !== null) this.onCorrupt(e.line, e.reason);
        return;
      case "begin": {
        const w = this.#waiting.get(e.tag);
        this.#current = w === undefined ? -1 : e.tag;
        if (w !== undefined) { w.begun = true; w.lines = []; w.lostAtStart = this.decoder.stats.lostLines; }
        return;
      }
      case "text": {
        const w = this.#waiting.get(this.#current);
        if (w !== undefined) w.lines.push(e.text);
        return;
      }
      case "end": {
        const w = this.#waiting.get(e.tag);
        if (this.#current === e.tag) this.#current = -1;
        if (w === undefined) return;
        this.#waiting.delete(e.tag);
        clearTimeout(w.timer);
        const complete = w.begun && this.decoder.stats.lostLines === w.lostAtStart;
        if (w.atEnd !== undefined) w.atEnd(e.ok);
        w.resolve({ ok: e.ok, lines: w.begun ? w.lines : [], text: e.text, complete });
        return;
      }
      default:
        return;
    }
  }
}

function openError(path: string, err: Error): ToolError {
  const m = err.message;
  if (/lock|Resource temporarily unavailable|EBUSY|busy/i.test(m)) {
    return new ToolError("EBUSY", `port busy: ${path} is open in another program (another xstcp, screen, minicom, ` +
      "idf.py monitor or serial2xsbug?). Close it and try again.", EXIT_PORT);
  }
  if (/No such file|ENOENT/i.test(m)) {
    return new ToolError("ENOPORT", `no such port: ${path} (run \`xstcp list\`)`, EXIT_PORT);
  }
  if (/Permission denied|EACCES/i.test(m)) {
    return new ToolError("EACCES", `permission denied opening ${path}: add your user to the dialout group (then log in again)`, EXIT_PORT);
  }
  if (/Inappropriate ioctl|ENOTTY/i.test(m)) {
    return new ToolError("ENOTTY", `${path} is not a serial port`, EXIT_PORT);
  }
  if (/baud/i.test(m)) {
    return new ToolError("EBAUD", `${path} refused the baud rate: ${m}`, EXIT_PORT);
  }
  return new ToolError("EOPEN", `cannot open ${path}: ${m}`, EXIT_PORT);
}
