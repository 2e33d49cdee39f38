/**
 * Console: the device side of serial-console debugging (DESIGN.md §9). Pure: no Node, no timers,
 * no console.log, and nothing allocated after construction, while tracing or otherwise.
 *
 * The platform moves bytes; the console never blocks:
 *   - `input(b, at, len)`: bytes received from the PC (command lines, CR or LF terminated).
 *   - `read(dst, at, max)`: up to `max` bytes to send now (call with what the UART can take;
 *     a line may be split over calls). Returns 0 when there is nothing to send.
 * Frames reach the trace ring through the stack's `onTransmit` / `onReceive` hooks (`attach()`),
 * stamped with `clock()` (the platform's monotonic ms; the simulator's virtual clock).
 * When the UART is slower than the traffic, the oldest frames not yet sent are overwritten and
 * counted (D records, `trace` status); the stack never waits.
 *
 * Commands: help, conns, stats [PREFIX|reset], arp, trace [on|keep|off|dump] [FILTER], info.
 * Output format: framing.ts.
 */
import type { Stack } from "../stack.js";
import { CLOSED } from "../tcp/tcb.js";
import { counterNames } from "../counters.js";
import { Crc32 } from "./crc32.js";
import { DIR_IN, DIR_OUT, P_ANY, P_ARP, P_ICMP, P_IP, P_TCP, P_UDP, TraceFilter } from "./filter.js";
import { arpLine, connLine, counterLine, HELP, listenerLine, timeWaitLine } from "./format.js";
import {
  FLAG_REFUSED, FLAG_TX, FRAME_HEADER, frameLineBytes, KIND_BEGIN, KIND_DROPS, KIND_END, KIND_FRAME, KIND_HELLO,
  KIND_TEXT, VERSION,
} from "./framing.js";
import { LineWriter } from "./line.js";
import { Tokens } from "./tokens.js";
import { TraceRing } from "./trace.js";

export interface ConsoleOptions {
  /** Monotonic clock in ms for trace timestamps and expiry times. */
  readonly clock: () => number;
  /** Bytes of command input buffered while a reply is being sent. Default 256. */
  readonly inputBytes?: number;
  /** Longest text line, bytes. Default 400. */
  readonly textLineBytes?: number;
}

/** Trace modes. */
export const TRACE_OFF = 0, TRACE_STREAM = 1, TRACE_KEEP = 2, TRACE_DRAIN = 3;

// Replies being produced.
const R_NONE = 0, R_HELP = 1, R_CONNS = 2, R_STATS = 3, R_ARP = 4, R_TRACE = 5, R_INFO = 6, R_ERR = 7, R_OK = 8;
// Reply phases.
const PH_BEGIN = 0, PH_ROWS = 1, PH_END = 2;

const CMD_BYTES = 128;

export class Console {
  readonly stack: Stack;
  readonly ring: TraceRing;
  readonly filter = new TraceFilter();
  /** TRACE_OFF, TRACE_STREAM, TRACE_KEEP or TRACE_DRAIN. */
  mode = TRACE_OFF;
  /** Record lines produced. */
  lines = 0;
  /** Command bytes dropped because the input buffer was full. */
  inputDropped = 0;
  /** Commands executed. */
  commands = 0;

  private readonly clock: () => number;
  private readonly crc = new Crc32();
  private readonly w: LineWriter;
  private readonly hdr = new Uint8Array(FRAME_HEADER);
  /** The base64 triple that joins the 16-byte record header and the frame bytes. */
  private readonly bridge = new Uint8Array(3);
  private readonly names: readonly string[];
  private readonly values: Record<string, number>;
  private readonly tokens = new Tokens();
  private readonly pendingFilter = new TraceFilter();

  // Output: the line being handed out.
  private lineLen = 0;
  private lineOff = 0;
  private seq = 0;
  private helloDue = true;
  private reportedDrops = 0;

  // Input: bytes not yet executed.
  private readonly inBuf: Uint8Array;
  private inLen = 0;
  /** Discarding the rest of an over-long line. */
  private skipping = false;
  private readonly cmd = new Uint8Array(CMD_BYTES);
  private cmdLen = 0;

  // Reply in progress.
  private reply = R_NONE;
  private phase = PH_BEGIN;
  private row = 0;
  private tag = 0;
  private errText = "";
  private okText = "";
  /** Token index of a `stats PREFIX` argument, or -1. */
  private statsPrefix = -1;

  private readonly onTx = (b: Uint8Array, at: number, len: number, ok: boolean): void => {
    this.capture(b, at, len, ok ? FLAG_TX : FLAG_TX | FLAG_REFUSED);
  };
  private readonly onRx = (b: Uint8Array, at: number, len: number): void => {
    this.capture(b, at, len, 0);
  };

  constructor(stack: Stack, options: ConsoleOptions) {
    if (options === null || typeof options !== "object" || typeof options.clock !== "function") {
      throw new TypeError("Console: options.clock must be a function returning ms");
    }
    this.stack = stack;
    this.clock = options.clock;
    const cfg = stack.config;
    this.ring = new TraceRing(cfg.traceFrames, cfg.traceFrames > 0 ? cfg.traceSnapBytes : 0);
    const text = options.textLineBytes ?? 400;
    const inBytes = options.inputBytes ?? 256;
    if (!Number.isInteger(text) || text < 80 || text > 4096) throw new RangeError("Console: textLineBytes outside 80..4096");
    if (!Number.isInteger(inBytes) || inBytes < 16 || inBytes > 4096) throw new RangeError("Console: inputBytes outside 16..4096");
    this.w = new LineWriter(Math.max(text, frameLineBytes(this.ring.snap)));
    this.inBuf = new Uint8Array(inBytes);
    this.names = counterNames(stack.counters);
    this.values = stack.counters as unknown as Record<string, number>;
  }

  /** Hook the stack's frame observers. Throws if someone else holds them. */
  attach(): void {
    const s = this.stack;
    if ((s.onTransmit !== null && s.onTransmit !== this.onTx) || (s.onReceive !== null && s.onReceive !== this.onRx)) {
      throw new Error("Console: stack.onTransmit / onReceive are already in use");
    }
    s.onTransmit = this.onTx;
    s.onReceive = this.onRx;
  }

  detach(): void {
    const s = this.stack;
    if (s.onTransmit === this.onTx) s.onTransmit = null;
    if (s.onReceive === this.onRx) s.onReceive = null;
  }

  /** Frames not yet sent. */
  get unsent(): number {
    return this.mode === TRACE_STREAM || this.mode === TRACE_DRAIN ? this.ring.count : 0;
  }

  /** Is there output waiting (a line, a reply, frames, a drop notice)? */
  pending(): boolean {
    return this.lineOff < this.lineLen || this.helloDue || this.reply !== R_NONE || this.hasCommand() ||
      this.unsent > 0 || this.ring.dropped !== this.reportedDrops;
  }

  // ---------------------------------------------------------------- frames

  private capture(b: Uint8Array, at: number, len: number, flags: number): void {
    const m = this.mode;
    if (m !== TRACE_STREAM && m !== TRACE_KEEP) return;
    if (!(len > 0)) return;
    if (at + len > b.length) len = b.length - at;
    if (!this.filter.match(b, at, len, (flags & FLAG_TX) !== 0)) return;
    this.ring.push(b, at, len, flags, this.clock(), m === TRACE_STREAM);
  }

  // ---------------------------------------------------------------- input

  /** Bytes from the PC. Lines end with CR or LF; backspace and DEL edit; other control bytes are ignored. */
  input(b: Uint8Array, at: number, len: number): void {
    for (let i = at, end = at + len; i < end; i++) {
      const c = b[i];
      if (c === 0x0d || c === 0x0a) {
        if (this.skipping) { this.skipping = false; continue; }
        if (this.inLen === 0 || this.inBuf[this.inLen - 1] === 0x0a) continue; // empty line
        if (this.inLen >= this.inBuf.length) { this.inputDropped++; continue; }
        this.inBuf[this.inLen++] = 0x0a;
        continue;
      }
      if (this.skipping) { this.inputDropped++; continue; }
      if (c === 0x08 || c === 0x7f) {
        if (this.inLen > 0 && this.inBuf[this.inLen - 1] !== 0x0a) this.inLen--;
        continue;
      }
      if (c < 0x20 || c > 0x7e) continue;
      // Keep one byte for the line end; a line that cannot fit is discarded whole.
      if (this.inLen + 1 >= this.inBuf.length || this.currentLineLength() >= CMD_BYTES) {
        this.dropCurrentLine();
        this.inputDropped++;
        this.skipping = true;
        continue;
      }
      this.inBuf[this.inLen++] = c;
    }
  }

  private currentLineLength(): number {
    let n = 0;
    for (let i = this.inLen - 1; i >= 0 && this.inBuf[i] !== 0x0a; i--) n++;
    return n;
  }

  private dropCurrentLine(): void {
    while (this.inLen > 0 && this.inBuf[this.inLen - 1] !== 0x0a) this.inLen--;
  }

  private hasCommand(): boolean {
    for (let i = 0; i < this.inLen; i++) if (this.inBuf[i] === 0x0a) return true;
    return false;
  }

  /** Move the first complete line into `cmd`; false if there is none. */
  private takeCommand(): boolean {
    let nl = -1;
    for (let i = 0; i < this.inLen; i++) if (this.inBuf[i] === 0x0a) { nl = i; break; }
    if (nl < 0) return false;
    const n = nl < CMD_BYTES ? nl : CMD_BYTES;
    for (let k = 0; k < n; k++) this.cmd[k] = this.inBuf[k];
    this.cmdLen = n;
    this.inBuf.copyWithin(0, nl + 1, this.inLen);
    this.inLen -= nl + 1;
    return true;
  }

  // ---------------------------------------------------------------- output

  /** Up to `max` bytes of output into dst[at..]; returns the count (0: nothing to send now). */
  read(dst: Uint8Array, at: number, max: number): number {
    let n = 0;
    const b = this.w.buf;
    while (n < max) {
      if (this.lineOff >= this.lineLen) {
        if (!this.nextLine()) break;
      }
      let k = this.lineLen - this.lineOff;
      if (k > max - n) k = max - n;
      for (let i = 0; i < k; i++) dst[at + n + i] = b[this.lineOff + i];
      this.lineOff += k;
      n += k;
    }
    return n;
  }

  /** Produce the next line into w; false when there is nothing to say. */
  private nextLine(): boolean {
    const w = this.w;
    if (this.helloDue) {
      this.helloDue = false;
      this.hello();
    } else if (this.reply !== R_NONE) {
      this.replyLine();
    } else if (this.takeCommand()) {
      this.execute();
      this.replyLine();
    } else if (this.ring.dropped !== this.reportedDrops) {
      this.reportedDrops = this.ring.dropped;
      w.begin(KIND_DROPS, this.seq).str("dropped:").dec(this.ring.dropped).str(" captured:").dec(this.ring.captured);
    } else if (this.unsent > 0) {
      this.frameLine();
    } else {
      if (this.mode === TRACE_DRAIN) this.mode = TRACE_OFF;
      return false;
    }
    this.lineLen = w.end(this.crc);
    this.lineOff = 0;
    this.seq = (this.seq + 1) & 0xffff;
    this.lines++;
    return true;
  }

  private hello(): void {
    const s = this.stack;
    this.w.begin(KIND_HELLO, this.seq).str("xstcp ").dec(VERSION).str(" mac:").mac(s.mac, 0).str(" ip:").ip(s.address)
      .str(" trace:").dec(this.ring.slots).ch(0x78).dec(this.ring.snap);
  }

  private frameLine(): void {
    const r = this.ring;
    const s = r.oldest();
    const h = this.hdr;
    const num = r.number(s), wire = r.wireLength(s);
    const totalUs = Math.round(r.time(s) * 1000);
    let sec = Math.floor(totalUs / 1e6);
    let usec = totalUs - sec * 1e6;
    if (sec < 0) { sec = 0; usec = 0; }
    h[0] = VERSION;
    h[1] = r.flags(s);
    put32(h, 2, num);
    put32(h, 6, sec);
    put32(h, 10, usec);
    h[14] = (wire >>> 8) & 255;
    h[15] = wire & 255;
    // base64 of header + frame as one byte string, without copying the frame (see base64Two).
    this.w.begin(KIND_FRAME, this.seq);
    this.base64Two(h, 0, FRAME_HEADER, r.store, r.offset(s), r.capturedLength(s));
    r.shift();
  }

  /** base64 of a[aAt..aAt+aLen) followed by b[bAt..bAt+bLen), as one byte string. */
  private base64Two(a: Uint8Array, aAt: number, aLen: number, b: Uint8Array, bAt: number, bLen: number): void {
    const w = this.w;
    // Whole triples of `a`, then a triple bridging a and b, then the rest of b.
    const aWhole = aLen - (aLen % 3);
    w.base64(a, aAt, aWhole);
    const carry = aLen - aWhole;
    if (carry === 0) { w.base64(b, bAt, bLen); return; }
    const t = this.bridge;
    let k = 0;
    for (; k < carry; k++) t[k] = a[aAt + aWhole + k];
    let taken = 0;
    while (k < 3 && taken < bLen) t[k++] = b[bAt + taken++];
    w.base64(t, 0, k);
    if (k === 3) w.base64(b, bAt + taken, bLen - taken);
  }
  // ---------------------------------------------------------------- commands

  private execute(): void {
    this.commands++;
    const tk = this.tokens;
    tk.split(this.cmd, 0, this.cmdLen);
    let first = 0;
    this.tag = 0;
    if (tk.count > 0 && this.cmd[tk.start[0]] === 0x23) {
      // "#N" tag
      const s = tk.start[0];
      let v = 0, ok = tk.len[0] > 1 && tk.len[0] <= 10;
      for (let k = 1; ok && k < tk.len[0]; k++) {
        const c = this.cmd[s + k];
        if (c < 0x30 || c > 0x39) ok = false; else v = v * 10 + (c - 0x30);
      }
      if (ok) { this.tag = v; first = 1; }
    }
    this.phase = PH_BEGIN;
    this.row = 0;
    this.okText = "";
    this.statsPrefix = -1;
    if (tk.tooMany) return this.fail("too many words");
    if (tk.count <= first) return this.fail("empty command");
    if (tk.is(first, "help") || tk.is(first, "?")) { this.reply = R_HELP; return; }
    if (tk.is(first, "conns") || tk.is(first, "ss")) { this.reply = R_CONNS; return; }
    if (tk.is(first, "arp")) { this.reply = R_ARP; return; }
    if (tk.is(first, "info")) { this.reply = R_INFO; return; }
    if (tk.is(first, "stats")) {
      if (tk.is(first + 1, "reset")) {
        this.stack.counters.reset();
        this.reply = R_OK;
        this.okText = "counters reset";
        return;
      }
      if (tk.count > first + 2) return this.fail("usage: stats [PREFIX|reset]");
      this.statsPrefix = tk.count > first + 1 ? first + 1 : -1;
      this.reply = R_STATS;
      return;
    }
    if (tk.is(first, "trace")) return this.traceCommand(first + 1);
    this.fail("unknown command (try help)");
  }

  private fail(text: string): void {
    this.reply = R_ERR;
    this.errText = text;
  }

  private traceCommand(a: number): void {
    const tk = this.tokens;
    if (tk.count <= a) { this.reply = R_TRACE; return; }
    if (tk.is(a, "on") || tk.is(a, "keep")) {
      if (this.ring.slots === 0) return this.fail("tracing unavailable: config.traceFrames is 0");
      if (!this.parseFilter(a + 1)) return;
      this.filter.copyFrom(this.pendingFilter);
      this.ring.clear();
      this.reportedDrops = 0;
      this.mode = tk.is(a, "on") ? TRACE_STREAM : TRACE_KEEP;
      this.reply = R_TRACE;
      return;
    }
    if (tk.count > a + 1) return this.fail("usage: trace [on|keep [FILTER]|off|dump]");
    if (tk.is(a, "off")) {
      this.mode = this.mode === TRACE_STREAM || this.mode === TRACE_DRAIN ? TRACE_DRAIN : TRACE_OFF;
      if (this.mode === TRACE_DRAIN && this.ring.count === 0) this.mode = TRACE_OFF;
      this.reply = R_TRACE;
      return;
    }
    if (tk.is(a, "dump")) {
      this.mode = this.ring.count > 0 ? TRACE_DRAIN : TRACE_OFF;
      this.reply = R_TRACE;
      return;
    }
    this.fail("usage: trace [on|keep [FILTER]|off|dump]");
  }

  /** Parse FILTER tokens from index i into pendingFilter; on error, fail() and return false. */
  private parseFilter(i: number): boolean {
    const tk = this.tokens, f = this.pendingFilter;
    f.clear();
    while (i < tk.count) {
      if (tk.is(i, "arp")) f.proto = P_ARP;
      else if (tk.is(i, "ip")) f.proto = P_IP;
      else if (tk.is(i, "icmp")) f.proto = P_ICMP;
      else if (tk.is(i, "tcp")) f.proto = P_TCP;
      else if (tk.is(i, "udp")) f.proto = P_UDP;
      else if (tk.is(i, "in")) f.dir = DIR_IN;
      else if (tk.is(i, "out")) f.dir = DIR_OUT;
      else if (tk.is(i, "port")) {
        const p = tk.int(++i, 65535);
        if (p < 0) { this.fail("filter: port needs a number 0..65535"); return false; }
        f.port = p;
      } else if (tk.is(i, "host")) {
        const h = tk.ip(++i);
        if (h < 0) { this.fail("filter: host needs an IPv4 address"); return false; }
        f.host = h;
      } else { this.fail("filter: expected arp ip icmp tcp udp, port N, host IP, in, out"); return false; }
      i++;
    }
    return true;
  }

  /** Write the next line of the current reply into w (a reply always ends with E). */
  private replyLine(): void {
    const w = this.w;
    if (this.phase === PH_BEGIN) {
      this.phase = PH_ROWS;
      w.begin(KIND_BEGIN, this.seq).dec(this.tag).ch(0x20).bytes(this.cmd, 0, this.cmdLen);
      return;
    }
    if (this.phase === PH_ROWS && this.rowLine()) return;
    this.phase = PH_END;
    w.begin(KIND_END, this.seq).dec(this.tag);
    if (this.reply === R_ERR) w.str(" err ").str(this.errText);
    else {
      w.str(" ok");
      if (this.okText !== "") w.ch(0x20).str(this.okText);
      if (this.reply === R_TRACE) { w.ch(0x20); this.traceDetails(); }
    }
    this.reply = R_NONE;
  }

  /** The next row of the reply, if any (true: a line was written). */
  private rowLine(): boolean {
    const w = this.w, s = this.stack, tcp = s.tcp;
    switch (this.reply) {
      case R_HELP:
        if (this.row >= HELP.length) return false;
        w.begin(KIND_TEXT, this.seq).str(HELP[this.row++]);
        return true;
      case R_INFO:
        if (this.row++ > 0) return false;
        this.hello();
        return true;
      case R_TRACE:
        if (this.row++ > 0) return false;
        w.begin(KIND_TEXT, this.seq).str("trace ");
        this.traceDetails();
        return true;
      case R_STATS:
        while (this.row < this.names.length) {
          const name = this.names[this.row++];
          if (this.statsPrefix >= 0 && !this.tokens.prefixOf(this.statsPrefix, name)) continue;
          w.begin(KIND_TEXT, this.seq);
          counterLine(w, name, this.values[name]);
          return true;
        }
        return false;
      case R_ARP:
        while (this.row < s.arp.size) {
          w.begin(KIND_TEXT, this.seq);
          if (arpLine(w, s.arp, this.row++, this.clock())) return true;
        }
        return false;
      case R_CONNS: {
        const nl = tcp.lPort.length, nc = tcp.tcbs.length, nw = tcp.twCount;
        while (this.row < nl + nc + nw) {
          const r = this.row++;
          if (r < nl) {
            if (tcp.lOwner[r] === null) continue;
            w.begin(KIND_TEXT, this.seq);
            listenerLine(w, s, tcp, r);
            return true;
          }
          if (r < nl + nc) {
            const t = tcp.tcbs[r - nl];
            if (t.state === CLOSED) continue;
            w.begin(KIND_TEXT, this.seq);
            connLine(w, t);
            return true;
          }
          const i = r - nl - nc;
          if ((tcp.twFlags[i] & 1) === 0) continue;
          w.begin(KIND_TEXT, this.seq);
          timeWaitLine(w, s, tcp, i, this.clock());
          return true;
        }
        return false;
      }
      default:
        return false;
    }
  }

  private traceDetails(): void {
    const w = this.w, r = this.ring, f = this.filter;
    const m = this.mode;
    w.str(m === TRACE_STREAM ? "mode:on" : m === TRACE_KEEP ? "mode:keep" : m === TRACE_DRAIN ? "mode:draining" : "mode:off");
    w.str(" ring:").dec(r.slots).ch(0x78).dec(r.snap);
    w.str(" captured:").dec(r.captured).str(" dropped:").dec(r.dropped).str(" held:").dec(r.count);
    w.str(" filter:");
    if (f.isEmpty()) { w.str("all"); return; }
    let sep = false;
    if (f.proto !== P_ANY) {
      w.str(f.proto === P_ARP ? "arp" : f.proto === P_IP ? "ip" : f.proto === P_ICMP ? "icmp" : f.proto === P_TCP ? "tcp" : "udp");
      sep = true;
    }
    if (f.port >= 0) { if (sep) w.ch(0x2c); w.str("port=").dec(f.port); sep = true; }
    if (f.host >= 0) { if (sep) w.ch(0x2c); w.str("host=").ip(f.host); sep = true; }
    if (f.dir !== 0) { if (sep) w.ch(0x2c); w.str(f.dir === DIR_IN ? "in" : "out"); }
  }
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = Math.floor(v / 16777216) & 255;
  b[at + 1] = (v >>> 16) & 255;
  b[at + 2] = (v >>> 8) & 255;
  b[at + 3] = v & 255;
}
