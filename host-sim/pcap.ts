/**
 * Classic libpcap capture files (DESIGN.md §7): what Wireshark and tshark read.
 *
 * File = 24-byte global header, then per frame a 16-byte record header and the bytes.
 * Written little-endian (magic a1b2c3d4 stored as d4 c3 b2 a1), version 2.4, microsecond timestamps,
 * LINKTYPE_ETHERNET. Timestamps come from the caller's clock (virtual ms in the simulator).
 */
import { readFileSync, writeFileSync } from "node:fs";

export const PCAP_MAGIC = 0xa1b2c3d4;
/** Same format with nanosecond timestamps; only read, never written. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_DEFAULT_SNAPLEN = 65535;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

export class PcapWriter {
  /** Frames longer than this are truncated in the file (orig_len keeps the real length). */
  readonly snaplen: number;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #count = 0;

  constructor(opts: { snaplen?: number } = {}) {
    this.snaplen = opts.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1) throw new RangeError("bad snaplen");
    const h = new Uint8Array(GLOBAL_HEADER);
    const v = new DataView(h.buffer);
    v.setUint32(0, PCAP_MAGIC, true);
    v.setUint16(4, 2, true); // version_major
    v.setUint16(6, 4, true); // version_minor
    v.setInt32(8, 0, true); // thiszone
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.#push(h);
  }

  /** Frames recorded so far. */
  get count(): number {
    return this.#count;
  }

  /** Append `frame[0 .. length)` stamped `timeMs` (ms since the epoch of the capture's clock, >= 0). */
  record(frame: Uint8Array, length: number, timeMs: number): void {
    if (!Number.isInteger(length) || length < 0 || length > frame.length) {
      throw new RangeError(`bad length ${length} for a ${frame.length}-byte buffer`);
    }
    if (!(timeMs >= 0)) throw new RangeError(`pcap timestamps must be >= 0 ms, got ${timeMs}`);
    const totalUs = Math.round(timeMs * 1000);
    const sec = Math.floor(totalUs / 1e6);
    if (sec > 0xffffffff) throw new RangeError(`timestamp ${timeMs} ms does not fit in pcap`);
    const usec = totalUs - sec * 1e6;
    const incl = Math.min(length, this.snaplen);
    const r = new Uint8Array(RECORD_HEADER + incl);
    const v = new DataView(r.buffer);
    v.setUint32(0, sec, true);
    v.setUint32(4, usec, true);
    v.setUint32(8, incl, true);
    v.setUint32(12, length, true);
    r.set(frame.subarray(0, incl), RECORD_HEADER);
    this.#push(r);
    this.#count++;
  }

  /** The whole file so far, as one new buffer. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.#chunks = [out]; // keep one chunk: later calls are cheap
    return out.slice();
  }

  writeFile(path: string): void {
    writeFileSync(path, this.bytes());
  }

  #push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }
}

export interface PcapRecord {
  /** Timestamp in ms (microsecond or nanosecond resolution from the file). */
  readonly timeMs: number;
  /** The captured bytes (incl_len of them). */
  readonly frame: Uint8Array;
  /** The frame's length on the wire (orig_len), >= frame.length. */
  readonly originalLength: number;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snaplen: number;
  readonly records: PcapRecord[];
}

/** Parse a classic pcap file (either byte order, µs or ns timestamps). Throws on malformed input. */
export function parsePcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < GLOBAL_HEADER) throw new RangeError("pcap: shorter than the global header");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  let nano: boolean;
  const magicLe = v.getUint32(0, true);
  const magicBe = v.getUint32(0, false);
  if (magicLe === PCAP_MAGIC || magicLe === PCAP_MAGIC_NS) {
    le = true;
    nano = magicLe === PCAP_MAGIC_NS;
  } else if (magicBe === PCAP_MAGIC || magicBe === PCAP_MAGIC_NS) {
    le = false;
    nano = magicBe === PCAP_MAGIC_NS;
  } else {
    throw new RangeError(`pcap: bad magic 0x${magicLe.toString(16)}`);
  }
  const snaplen = v.getUint32(16, le);
  const linkType = v.getUint32(20, le);
  const records: PcapRecord[] = [];
  let at = GLOBAL_HEADER;
  while (at < bytes.length) {
    if (at + RECORD_HEADER > bytes.length) throw new RangeError(`pcap: truncated record header at ${at}`);
    const sec = v.getUint32(at, le);
    const frac = v.getUint32(at + 4, le);
    const incl = v.getUint32(at + 8, le);
    const orig = v.getUint32(at + 12, le);
    at += RECORD_HEADER;
    if (at + incl > bytes.length) throw new RangeError(`pcap: truncated record data at ${at}`);
    const timeMs = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    records.push({ timeMs, frame: bytes.slice(at, at + incl), originalLength: orig });
    at += incl;
  }
  return { linkType, snaplen, records };
}

/** The records of a pcap held in memory. */
export function readPcap(bytes: Uint8Array): PcapRecord[] {
  return parsePcap(bytes).records;
}

/** The records of a pcap file on disk. */
export function readPcapFile(path: string): PcapRecord[] {
  return readPcap(new Uint8Array(readFileSync(path)));
}
