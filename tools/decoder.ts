/**
 * Decoder of the console's record lines (src/console/framing.ts) from a raw serial byte stream.
 *
 * Tolerates anything else on the line: other console text (before a record on the same line too),
 * Moddable xsbug framing in debug builds (`<?xs.HHHHHHHH?>` then `<xsbug><log>text&#10;</log></xsbug>`,
 * XML entities decoded, log text joined across messages), other xsbug elements (ignored), and
 * bytes that are not text at all (counted: a wrong baud rate looks like that). A record whose CRC
 * or content does not check is skipped and counted; a gap in line numbers is counted as lost.
 */
import { Crc32 } from "../src/console/crc32.js";
import {
  FLAG_REFUSED, FLAG_TRUNCATED, FLAG_TX, FRAME_HEADER, KIND_BEGIN, KIND_DROPS, KIND_END, KIND_FRAME, KIND_HELLO,
  KIND_TEXT, MARKER, VERSION,
} from "../src/console/framing.js";

export interface FrameRecord {
  /** Frame number since `trace on` (gaps: frames the device dropped, or records lost on the line). */
  readonly number: number;
  /** Sent by the device (false: received). */
  readonly tx: boolean;
  /** The driver refused it (tx only). */
  readonly refused: boolean;
  readonly truncated: boolean;
  readonly sec: number;
  readonly usec: number;
  /** Length on the wire (the bytes below may be fewer: traceSnapBytes). */
  readonly wireLength: number;
  readonly data: Uint8Array;
}

export interface Hello {
  readonly version: number;
  readonly mac: string;
  readonly ip: string;
  readonly traceFrames: number;
  readonly snap: number;
}

export type ConsoleEvent =
  | { readonly kind: "hello"; readonly seq: number; readonly hello: Hello; readonly text: string }
  | { readonly kind: "begin"; readonly seq: number; readonly tag: number; readonly command: string }
  | { readonly kind: "text"; readonly seq: number; readonly text: string }
  | { readonly kind: "end"; readonly seq: number; readonly tag: number; readonly ok: boolean; readonly text: string }
  | { readonly kind: "frame"; readonly seq: number; readonly frame: FrameRecord }
  | { readonly kind: "drops"; readonly seq: number; readonly dropped: number; readonly captured: number }
  | { readonly kind: "noise"; readonly line: string }
  | { readonly kind: "corrupt"; readonly line: string; readonly reason: string };

export interface DecoderStats {
  /** Bytes pushed. */
  bytes: number;
  /** Records that checked. */
  records: number;
  /** Lines that looked like records but failed the CRC or the format. */
  corrupt: number;
  /** Other text lines (console output, logs). */
  noiseLines: number;
  /** xsbug messages seen. */
  xsbugMessages: number;
  /** Records missing according to the line numbers. */
  lostLines: number;
  /** Bytes outside xsbug framing that are neither printable ASCII nor CR/LF/TAB. */
  garbageBytes: number;
}

/** Longest line kept; longer input is cut into pieces (each then fails as a record, if it was one). */
const MAX_LINE = 1 << 16;
/** Longest xsbug message kept. */
const MAX_XSBUG = 1 << 20;

const PI_OPEN = "<?xs";
const XSBUG_OPEN = "<xsbug>";
const XSBUG_CLOSE = "</xsbug>";

const enum St { Text, Tag, Pi, Xsbug }

const RECORD = /^@xt ([A-Z]) ([0-9a-f]{4}) (.*) ([0-9a-f]{8})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class ConsoleDecoder {
  readonly stats: DecoderStats = { bytes: 0, records: 0, corrupt: 0, noiseLines: 0, xsbugMessages: 0, lostLines: 0, garbageBytes: 0 };
  /** The last noise line seen (for error messages). */
  lastNoise = "";
  readonly #emit: (e: ConsoleEvent) => void;
  readonly #crc = new Crc32();
  #st = St.Text;
  /** Plain text line being assembled (latin1: one char per byte). */
  #plain = "";
  /** Log text line being assembled (from xsbug <log> elements). */
  #log = "";
  /** Possible start of xsbug markup, while deciding. */
  #tag = "";
  #xml = "";
  #lastSeq = -1;

  constructor(emit: (e: ConsoleEvent) => void) {
    this.#emit = emit;
  }

  push(chunk: Uint8Array): void {
    this.stats.bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) this.#byte(chunk[i]);
  }

  /** Flush partial lines (end of input). */
  end(): void {
    if (this.#tag.length > 0) { this.#plainText(this.#tag); this.#tag = ""; }
    if (this.#plain.length > 0) { this.#line(this.#plain); this.#plain = ""; }
    if (this.#log.length > 0) { this.#line(this.#log); this.#log = ""; }
    this.#st = St.Text;
  }

  #byte(c: number): void {
    switch (this.#st) {
      case St.Text:
        if (c === 0x3c) { this.#st = St.Tag; this.#tag = "<"; return; }
        this.#plainByte(c);
        return;
      case St.Tag: {
        const t = this.#tag + String.fromCharCode(c);
        if (t === PI_OPEN) { this.#st = St.Pi; this.#tag = ""; this.#xml = ""; return; }
        if (t === XSBUG_OPEN) { this.#st = St.Xsbug; this.#tag = ""; this.#xml = ""; return; }
        if (PI_OPEN.startsWith(t) || XSBUG_OPEN.startsWith(t)) { this.#tag = t; return; }
        // Not markup: the bytes were text.
        this.#st = St.Text;
        const pending = this.#tag;
        this.#tag = "";
        for (let k = 0; k < pending.length; k++) this.#plainByte(pending.charCodeAt(k));
        this.#byte(c);
        return;
      }
      case St.Pi:
        this.#xml += String.fromCharCode(c);
        if (this.#xml.endsWith("?>") || this.#xml.length > 256) { this.#st = St.Text; this.#xml = ""; }
        return;
      case St.Xsbug:
        this.#xml += String.fromCharCode(c);
        if (c === 0x3e && this.#xml.endsWith(XSBUG_CLOSE)) {
          this.stats.xsbugMessages++;
          this.#xsbug(this.#xml.slice(0, -XSBUG_CLOSE.length));
          this.#st = St.Text;
          this.#xml = "";
        } else if (this.#xml.length > MAX_XSBUG) {
          this.#st = St.Text;
          this.#xml = "";
        }
        return;
    }
  }

  #plainByte(c: number): void {
    if (c === 0x0a || c === 0x0d) {
      if (this.#plain.length > 0) this.#line(this.#plain);
      this.#plain = "";
      return;
    }
    if ((c < 0x20 && c !== 0x09) || c >= 0x7f) this.stats.garbageBytes++;
    this.#plain += String.fromCharCode(c);
    if (this.#plain.length >= MAX_LINE) { this.#line(this.#plain); this.#plain = ""; }
  }

  #plainText(s: string): void {
    for (let k = 0; k < s.length; k++) this.#plainByte(s.charCodeAt(k));
  }

  /** The content of one <xsbug> message: take the text of its <log> elements. */
  #xsbug(body: string): void {
    const re = /<log(?:\s[^>]*)?>([\s\S]*?)<\/log>/g;
    for (let m = re.exec(body); m !== null; m = re.exec(body)) {
      const text = decodeEntities(m[1]);
      for (let k = 0; k < text.length; k++) {
        const ch = text.charCodeAt(k);
        if (ch === 0x0a || ch === 0x0d) {
          if (this.#log.length > 0) this.#line(this.#log);
          this.#log = "";
        } else {
          this.#log += text[k];
          if (this.#log.length >= MAX_LINE) { this.#line(this.#log); this.#log = ""; }
        }
      }
    }
  }

  /** One complete line of text: records in it, or noise. */
  #line(line: string): void {
    let at = line.indexOf(MARKER + " ");
    if (at < 0) {
      this.stats.noiseLines++;
      this.lastNoise = line;
      this.#emit({ kind: "noise", line });
      return;
    }
    if (at > 0) {
      const before = line.slice(0, at);
      this.stats.noiseLines++;
      this.lastNoise = before;
      this.#emit({ kind: "noise", line: before });
    }
    while (at >= 0) {
      const next = line.indexOf(MARKER + " ", at + 1);
      // A record runs to the next marker or the end of the line; if that fails, try to the end
      // (a text body could itself contain the marker).
      const candidate = (next < 0 ? line.slice(at) : line.slice(at, next)).trimEnd();
      if (this.#record(candidate)) { at = next; continue; }
      if (next >= 0 && this.#record(line.slice(at).trimEnd())) return;
      this.#corrupt(candidate, this.#why(candidate));
      at = next;
    }
  }

  #why(s: string): string {
    const m = RECORD.exec(s);
    if (m === null) return "malformed record line";
    const want = this.#crc.ofString(s.slice(0, s.length - 8));
    if (want !== parseInt(m[4], 16)) return "CRC mismatch";
    return "bad record content";
  }

  #corrupt(line: string, reason: string): void {
    this.stats.corrupt++;
    this.#emit({ kind: "corrupt", line, reason });
  }

  /** Check and deliver one record; false if it does not check. */
  #record(s: string): boolean {
    const m = RECORD.exec(s);
    if (m === null) return false;
    if (this.#crc.ofString(s.slice(0, s.length - 8)) !== parseInt(m[4], 16)) return false;
    const kind = m[1].charCodeAt(0);
    const seq = parseInt(m[2], 16);
    const body = m[3];
    let ev: ConsoleEvent | null = null;
    switch (kind) {
      case KIND_HELLO: {
        const h = parseHello(body);
        if (h === null) return false;
        ev = { kind: "hello", seq, hello: h, text: body };
        break;
      }
      case KIND_BEGIN: {
        const b = /^(\d+) ?(.*)$/.exec(body);
        if (b === null) return false;
        ev = { kind: "begin", seq, tag: Number(b[1]), command: b[2] };
        break;
      }
      case KIND_TEXT:
        ev = { kind: "text", seq, text: body };
        break;
      case KIND_END: {
        const e = /^(\d+) (ok|err)(?: (.*))?$/.exec(body);
        if (e === null) return false;
        ev = { kind: "end", seq, tag: Number(e[1]), ok: e[2] === "ok", text: e[3] ?? "" };
        break;
      }
      case KIND_DROPS: {
        const d = /^dropped:(\d+) captured:(\d+)$/.exec(body);
        if (d === null) return false;
        ev = { kind: "drops", seq, dropped: Number(d[1]), captured: Number(d[2]) };
        break;
      }
      case KIND_FRAME: {
        const f = parseFrame(body);
        if (f === null) return false;
        ev = { kind: "frame", seq, frame: f };
        break;
      }
      default:
        return false;
    }
    // Line numbers: a hello with seq 0 is a (re)start; otherwise a gap is lost lines.
    if (this.#lastSeq >= 0 && !(kind === KIND_HELLO && seq === 0)) {
      const gap = (seq - this.#lastSeq - 1) & 0xffff;
      if (gap < 0x8000) this.stats.lostLines += gap;
    }
    this.#lastSeq = seq;
    this.stats.records++;
    this.#emit(ev);
    return true;
  }
}

function parseHello(body: string): Hello | null {
  const m = /^xstcp (\d+) mac:([0-9a-f:]{17}) ip:([\d.]+) trace:(\d+)x(\d+)$/.exec(body);
  if (m === null) return null;
  return { version: Number(m[1]), mac: m[2], ip: m[3], traceFrames: Number(m[4]), snap: Number(m[5]) };
}

/** Decode the base64 body of an F record; null if it is not a valid frame record. */
export function parseFrame(body: string): FrameRecord | null {
  if (body.length % 4 !== 0 || !BASE64.test(body)) return null;
  const b = new Uint8Array(Buffer.from(body, "base64"));
  if (b.length < FRAME_HEADER || b[0] !== VERSION) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = b[1];
  const wireLength = v.getUint16(14);
  const data = b.slice(FRAME_HEADER);
  const usec = v.getUint32(10);
  if (data.length > wireLength || usec >= 1e6) return null;
  if ((flags & FLAG_TRUNCATED) !== 0 ? data.length >= wireLength : data.length !== wireLength) return null;
  return {
    number: v.getUint32(2),
    tx: (flags & FLAG_TX) !== 0,
    refused: (flags & FLAG_REFUSED) !== 0,
    truncated: (flags & FLAG_TRUNCATED) !== 0,
    sec: v.getUint32(6),
    usec,
    wireLength,
    data,
  };
}

/** XML character references and the five predefined entities; unknown ones are kept as text. */
export function decodeEntities(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (all: string, e: string): string => {
    if (e[0] === "#") {
      const n = e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : all;
    }
    switch (e) {
      case "lt": return "<";
      case "gt": return ">";
      case "amp": return "&";
      case "quot": return "\"";
      default: return "'";
    }
  });
}
