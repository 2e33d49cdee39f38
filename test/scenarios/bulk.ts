/**
 * The application used by the scenarios: one end of a byte stream over the ECMA-419 classes
 * (src/socket), written the Moddable way: callbacks are module-level functions that reach their state
 * through `this.target`, so nothing is made per callback. Writes are whole chunks from one buffer
 * (`write(buffer)` is all or nothing), reads go into one buffer (`read(buffer)`); with `verify` every
 * byte written is a known pattern and every byte read is checked against it and hashed (FNV-1a).
 * Pure ECMAScript.
 */
import { Listener } from "../../src/socket/listener.js";
import { TCP } from "../../src/socket/tcp.js";
import type { Stack } from "../../src/stack.js";
import { FNV_INIT } from "./link.js";

/** Bytes per write(). */
export const CHUNK = 1024;
/** Bytes per read(buffer). */
export const READ_BYTES = 2048;

/** Control modes of the allocation check (a working check must catch both). */
export const CONTROL_NONE = 0;
/** read() with no argument: a new ArrayBuffer per read (garbage per segment). */
export const CONTROL_GARBAGE = 1;
/** Keeps one small object per read (retained per segment). */
export const CONTROL_RETAIN = 2;

/** Byte `i` of the stream with salt `salt`. */
export function patternByte(i: number, salt: number): number {
  return ((i % 251) + ((i / 2048) | 0) * 17 + salt) & 0xff;
}

export interface EndOptions {
  /** Bytes to send; Infinity = endless. */
  send: number;
  /** Bytes expected from the peer (the active closer closes once it has them all); -1 = unknown. */
  expect: number;
  /** Close after everything is sent and expect bytes arrived (active close), or after EOF (passive). */
  close: "active" | "passive" | "never";
  /** Salt of the pattern this end sends; the peer verifies with the same salt. */
  salt: number;
  /** Salt of the pattern this end receives. */
  peerSalt: number;
  verify: boolean;
  control?: number;
  /** Start with reading held back (zero-window scenarios). */
  hold?: boolean;
}

export class BulkEnd {
  sock: TCP | null = null;
  readonly name: string;
  readonly o: EndOptions;
  readonly clock: () => number;
  // sending
  sent = 0;
  readonly chunk = new Uint8Array(CHUNK);
  readonly tail: Uint8Array | null;
  txDigest = FNV_INIT;
  // receiving
  readonly buf = new Uint8Array(READ_BYTES);
  got = 0;
  rxDigest = FNV_INIT;
  bad = 0;
  firstBad = -1;
  reading: boolean;
  /** false: onWritable writes nothing (the scenario releases the data later). */
  writing = true;
  reads = 0;
  // life
  connectedAt = -1;
  eofAt = -1;
  closedAt = -1;
  writableCalls = 0;
  readableCalls = 0;
  errorCalls = 0;
  closed = false;
  hoard: object[] | null;

  constructor(name: string, o: EndOptions, clock: () => number) {
    this.name = name;
    this.o = o;
    this.clock = clock;
    this.reading = o.hold !== true;
    const rest = o.send === Infinity ? 0 : o.send % CHUNK;
    this.tail = rest > 0 ? new Uint8Array(this.chunk.buffer, 0, rest) : null;
    this.hoard = o.control === CONTROL_RETAIN ? [] : null;
    if (!o.verify) for (let k = 0; k < CHUNK; k++) this.chunk[k] = patternByte(k, o.salt);
  }

  /** Socket options for this end (connect or adopt). */
  callbacks(): { target: BulkEnd; onReadable: typeof onReadable; onWritable: typeof onWritable; onError: typeof onError } {
    return { target: this, onReadable, onWritable, onError };
  }

  /** Write whole chunks while they fit. */
  pump(s: TCP, room: number): void {
    const o = this.o;
    if (!this.writing) return;
    while (!this.closed && this.sent < o.send) {
      const left = o.send - this.sent;
      const n = left < CHUNK ? left : CHUNK;
      if (room < n) break;
      const view = n === CHUNK ? this.chunk : (this.tail as Uint8Array);
      if (o.verify) {
        const c = this.chunk, base = this.sent, salt = o.salt;
        let h = this.txDigest;
        for (let k = 0; k < n; k++) {
          const v = patternByte(base + k, salt);
          c[k] = v;
          h = Math.imul(h ^ v, 0x01000193) >>> 0;
        }
        this.txDigest = h;
      }
      room = s.write(view);
      this.sent += n;
    }
    this.maybeClose(s);
  }

  /** Read everything available (unless held). */
  drain(s: TCP): void {
    if (!this.reading || this.closed) return;
    const o = this.o;
    for (;;) {
      let n: number;
      if (o.control === CONTROL_GARBAGE || o.control === CONTROL_RETAIN) {
        const ab = s.read(READ_BYTES) as ArrayBuffer | undefined;
        if (ab === undefined) break;
        const v = new Uint8Array(ab);
        n = v.length;
        for (let k = 0; k < n; k++) this.buf[k] = v[k];
        if (this.hoard !== null) this.hoard.push({ n });
      } else {
        const r = s.read(this.buf);
        if (r === undefined || r === 0) break;
        n = r;
      }
      this.reads++;
      if (o.verify) {
        const b = this.buf, base = this.got, salt = o.peerSalt;
        let h = this.rxDigest;
        for (let k = 0; k < n; k++) {
          const v = b[k];
          if (v !== patternByte(base + k, salt)) { if (this.firstBad < 0) this.firstBad = base + k; this.bad++; }
          h = Math.imul(h ^ v, 0x01000193) >>> 0;
        }
        this.rxDigest = h;
      }
      this.got += n;
    }
    this.maybeClose(s);
  }

  maybeClose(s: TCP): void {
    const o = this.o;
    if (this.closed || this.sent < o.send) return;
    if (o.close === "active" ? (o.expect >= 0 && this.got >= o.expect) : o.close === "passive" ? this.eofAt >= 0 : false) {
      this.closed = true;
      this.closedAt = this.clock();
      s.close();
    }
  }

  report(): Record<string, number | boolean> {
    return {
      sent: this.sent, got: this.got, bad: this.bad, firstBad: this.firstBad, txDigest: this.txDigest,
      rxDigest: this.rxDigest, reads: this.reads, connectedAt: this.connectedAt, eofAt: this.eofAt,
      closedAt: this.closedAt, writableCalls: this.writableCalls, readableCalls: this.readableCalls,
      errorCalls: this.errorCalls, closed: this.closed,
    };
  }
}

function onWritable(this: TCP, room: number): void {
  const e = this.target as BulkEnd;
  e.writableCalls++;
  if (e.connectedAt < 0) e.connectedAt = e.clock();
  e.pump(this, room);
}

function onReadable(this: TCP): void {
  const e = this.target as BulkEnd;
  e.readableCalls++;
  e.drain(this);
}

function onError(this: TCP): void {
  const e = this.target as BulkEnd;
  e.errorCalls++;
  if (e.eofAt < 0) e.eofAt = e.clock();
  // The connection is over (peer FIN after every byte was read, reset, timeout): close, as Moddable
  // apps do. A passive closer has written everything by then (the active side waited for it all).
  if (!e.closed) { e.closed = true; e.closedAt = e.clock(); this.close(); }
}

/** A listener that hands its connections, in order, to preallocated ends. */
export class Server {
  readonly ends: BulkEnd[];
  next = 0;
  refused = 0;
  readonly listener: Listener;
  constructor(stack: Stack, clock: () => number, port: number, ends: BulkEnd[]) {
    this.ends = ends;
    this.listener = new Listener({ port, stack, clock, backlog: 8, target: this, onReadable: onAccept });
  }
}

function onAccept(this: Listener, requests: number): void {
  const srv = this.target as Server;
  for (let i = 0; i < requests; i++) {
    const s = this.read();
    if (s === undefined) return;
    if (srv.next >= srv.ends.length) { srv.refused++; s.close(); continue; }
    const e = srv.ends[srv.next++];
    e.sock = new TCP({ from: s, ...e.callbacks() });
  }
}

/** Connect `end` from `stack` to address:port. */
export function connect(end: BulkEnd, stack: Stack, address: string, port: number): TCP {
  const s = new TCP({ address, port, stack, clock: end.clock, ...end.callbacks() });
  end.sock = s;
  return s;
}
