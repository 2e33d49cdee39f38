/**
 * An iperf3-compatible TCP test endpoint on the ECMA-419 classes: enough of iperf3's control protocol
 * (esnet/iperf, iperf_api.c / iperf_server_api.c / iperf_client_api.c) to run a TCP test against the
 * real `iperf3` 3.x in either role, one or more streams, either direction (-R).
 *
 * Control connection (TCP, port 5201): the client sends a 37-byte cookie (36 characters + NUL); then
 * the server drives with one signed state byte at a time:
 *   PARAM_EXCHANGE(9)   client -> 4-byte big-endian length + JSON parameters ({"tcp":true,"time":2,...})
 *   CREATE_STREAMS(10)  client opens `parallel` data connections to the same port, each sends the cookie
 *   TEST_START(1), TEST_RUNNING(2)  the sender (client, or server with "reverse") sends, the other counts
 *   client -> TEST_END(4) when its timer ends
 *   EXCHANGE_RESULTS(13) client -> results JSON, server -> results JSON (length-prefixed, as above)
 *   DISPLAY_RESULTS(14) client -> IPERF_DONE(16), then both close.
 * Errors: ACCESS_DENIED(-1); SERVER_ERROR(-2) followed by two 4-byte ints (i_errno, errno).
 * Stream ids are 1, 3, 4, 5, ... in connection order (iperf_add_stream). Data bytes are not checked
 * (iperf3 sends random bytes); byte counts are.
 */
import { performance } from "node:perf_hooks";
import type { Env } from "./apps.js";
import { Listener } from "../src/socket/listener.js";
import { TCP } from "../src/socket/tcp.js";

export const TEST_START = 1;
export const TEST_RUNNING = 2;
export const TEST_END = 4;
export const PARAM_EXCHANGE = 9;
export const CREATE_STREAMS = 10;
export const SERVER_TERMINATE = 11;
export const CLIENT_TERMINATE = 12;
export const EXCHANGE_RESULTS = 13;
export const DISPLAY_RESULTS = 14;
export const IPERF_DONE = 16;
export const ACCESS_DENIED = -1;
export const SERVER_ERROR = -2;
export const COOKIE_SIZE = 37;
export const DEFAULT_BLOCK = 131072;

/** Bytes received on a connection, consumed in exact amounts. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }
  take(n: number): Uint8Array | null {
    if (this.length < n) return null;
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.length -= n;
    return out;
  }
}

/** Writes that did not fit wait here until onWritable. */
class Outbox {
  private pending: Uint8Array[] = [];
  constructor(private readonly sock: () => TCP | null) {}
  send(b: Uint8Array): void {
    this.pending.push(b);
    this.flush();
  }
  flush(): void {
    const s = this.sock();
    if (s === null) return;
    while (this.pending.length > 0) {
      const b = this.pending[0]!;
      let room: number;
      try { room = s.write(new Uint8Array(0)); } catch { return; }
      if (room <= 0) return;
      const part = b.subarray(0, Math.min(room, b.length));
      try { s.write(part); } catch { return; }
      if (part.length === b.length) this.pending.shift();
      else this.pending[0] = b.subarray(part.length);
    }
  }
  get empty(): boolean { return this.pending.length === 0; }
}

function stateByte(v: number): Uint8Array { return Uint8Array.of(v & 0xff); }
function signed(b: number): number { return b > 127 ? b - 256 : b; }

function jsonMessage(obj: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(obj));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, 4);
  return out;
}

function makeCookie(): Uint8Array {
  const chars = "abcdefghijklmnopqrstuvwxyz234567";
  const c = new Uint8Array(COOKIE_SIZE);
  for (let i = 0; i < COOKIE_SIZE - 1; i++) c[i] = chars.charCodeAt(Math.floor(Math.random() * chars.length));
  c[COOKIE_SIZE - 1] = 0;
  return c;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function readAll(s: TCP, q: ByteQueue): void {
  for (;;) {
    const b = s.read() as ArrayBuffer | undefined;
    if (b === undefined) return;
    q.push(new Uint8Array(b));
  }
}

/** Stream id of the n-th stream (from 0), as iperf_add_stream numbers them. */
function streamId(n: number): number { return n === 0 ? 1 : n + 2; }

/** A buffer of data for the sending side (content is not checked by iperf3). */
const SEND_BLOCK = (() => { const b = new Uint8Array(16384); for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 3) & 0xff; return b; })();

/** Write as much as fits; returns bytes written. */
function pump(s: TCP, limit = Infinity): number {
  let n = 0;
  let room: number;
  try { room = s.write(new Uint8Array(0)); } catch { return 0; }
  while (room > 0 && n < limit) {
    const k = Math.min(room, SEND_BLOCK.length, limit - n);
    try { room = s.write(SEND_BLOCK.subarray(0, k)); } catch { break; }
    n += k;
  }
  return n;
}

function resultsJson(sender: boolean, retransmits: number, streams: { id: number; bytes: number }[], seconds: number): unknown {
  return {
    cpu_util_total: 0, cpu_util_user: 0, cpu_util_system: 0,
    sender_has_retransmits: sender ? 1 : -1,
    streams: streams.map((s, i) => ({
      id: s.id, bytes: s.bytes, retransmits: sender ? (i === 0 ? retransmits : 0) : -1,
      jitter: 0, errors: 0, packets: 0, start_time: 0, end_time: seconds,
    })),
  };
}

function sumStreamBytes(results: unknown): number {
  const streams = (results as { streams?: { bytes?: number }[] } | null)?.streams;
  return Array.isArray(streams) ? streams.reduce((s, x) => s + (typeof x.bytes === "number" ? x.bytes : 0), 0) : -1;
}

// ------------------------------------------------------------------------------------------------
// Server

export interface Iperf3TestRecord {
  client: string;
  reverse: boolean;
  streams: number;
  /** Bytes this side received (forward) or sent (reverse), over all streams. */
  bytes: number;
  seconds: number;
  mbps: number;
  /** What the client said it sent (forward) or received (reverse). */
  clientBytes: number;
  state: "params" | "create" | "running" | "results" | "display" | "done" | "failed";
  error?: string;
  params: Record<string, unknown>;
}

export interface Iperf3ServerStats {
  tests: Iperf3TestRecord[];
  /** Connections turned away (busy, bad cookie, unsupported test). */
  denied: number;
}

interface ServerTest {
  rec: Iperf3TestRecord;
  cookie: Uint8Array;
  ctrl: TCP;
  out: Outbox;
  q: ByteQueue;
  expect: "state" | "params-len" | "params" | "results-len" | "results";
  jsonLen: number;
  parallel: number;
  streams: { sock: TCP; id: number; bytes: number; closed: boolean }[];
  t0: number;
  rtx0: number;
}

/** iperf3 server (`iperf3 -s`): one test at a time, TCP only. */
export function iperf3Server(env: Env, port = 5201): { listener: Listener; stats: Iperf3ServerStats } {
  const stats: Iperf3ServerStats = { tests: [], denied: 0 };
  let test: ServerTest | null = null;
  const buf = new Uint8Array(65536);
  const now = (): number => performance.now();
  const wake = (): void => { env.stack.onWake?.(); };

  const endStreams = (t: ServerTest): void => {
    for (const s of t.streams) if (!s.closed) { s.closed = true; s.sock.close(); }
  };
  const fail = (t: ServerTest, error: string): void => {
    if (t.rec.state === "done" || t.rec.state === "failed") return;
    t.rec.state = "failed";
    t.rec.error = error;
    endStreams(t);
    t.ctrl.close();
    if (test === t) test = null;
  };
  const finishRun = (t: ServerTest): void => {
    t.rec.seconds = (now() - t.t0) / 1000;
    t.rec.bytes = t.streams.reduce((s, x) => s + x.bytes, 0);
    t.rec.mbps = t.rec.seconds > 0 ? Math.round((t.rec.bytes * 8) / t.rec.seconds / 1e4) / 100 : 0;
  };

  const onControl = (t: ServerTest): void => {
    for (;;) {
      if (t.rec.state === "done" || t.rec.state === "failed") return;
      if (t.expect === "params-len" || t.expect === "results-len") {
        const b = t.q.take(4);
        if (b === null) return;
        t.jsonLen = new DataView(b.buffer).getUint32(0, false);
        if (t.jsonLen > 65536) { fail(t, `JSON length ${t.jsonLen}`); return; }
        t.expect = t.expect === "params-len" ? "params" : "results";
        continue;
      }
      if (t.expect === "params" || t.expect === "results") {
        const b = t.q.take(t.jsonLen);
        if (b === null) return;
        let j: Record<string, unknown>;
        try { j = JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>; } catch { fail(t, "bad JSON"); return; }
        if (t.expect === "params") {
          t.rec.params = j;
          if (j.udp === true || j.sctp === true || j.bidirectional === true) {
            t.out.send(stateByte(ACCESS_DENIED));
            stats.denied++;
            fail(t, `unsupported test ${JSON.stringify(j)}`);
            return;
          }
          t.rec.reverse = j.reverse === true || j.reverse === 1;
          t.parallel = typeof j.parallel === "number" && j.parallel >= 1 ? j.parallel : 1;
          t.rec.streams = t.parallel;
          t.rec.state = "create";
          t.expect = "state";
          t.out.send(stateByte(CREATE_STREAMS));
        } else {
          t.rec.clientBytes = sumStreamBytes(j);
          const rtx = env.stack.counters.tcpRetransSegs - t.rtx0;
          t.out.send(jsonMessage(resultsJson(t.rec.reverse, rtx, t.streams.map((s) => ({ id: s.id, bytes: s.bytes })), t.rec.seconds)));
          t.out.send(stateByte(DISPLAY_RESULTS));
          t.rec.state = "display";
          t.expect = "state";
        }
        continue;
      }
      const b = t.q.take(1);
      if (b === null) return;
      const st = signed(b[0]!);
      if (st === TEST_END && t.rec.state === "running") {
        finishRun(t);
        endStreams(t);
        t.rec.state = "results";
        t.out.send(stateByte(EXCHANGE_RESULTS));
        t.expect = "results-len";
      } else if (st === IPERF_DONE && t.rec.state === "display") {
        t.rec.state = "done";
        t.ctrl.close();
        if (test === t) test = null;
        return;
      } else if (st === CLIENT_TERMINATE) {
        if (t.rec.state === "running") finishRun(t);
        fail(t, "client terminated");
        return;
      } else {
        fail(t, `unexpected state ${st} from the client in ${t.rec.state}`);
        return;
      }
    }
  };

  const startRunning = (t: ServerTest): void => {
    t.rec.state = "running";
    t.t0 = now();
    t.rtx0 = env.stack.counters.tcpRetransSegs;
    t.out.send(stateByte(TEST_START));
    t.out.send(stateByte(TEST_RUNNING));
    if (t.rec.reverse) for (const s of t.streams) s.bytes += pump(s.sock);
    wake();
  };

  const listener = new Listener({
    port, stack: env.stack, clock: env.clock, backlog: 8,
    onReadable(this: Listener, n: number): void {
      for (let i = 0; i < n; i++) {
        const from = this.read();
        if (from === undefined) break;
        const peer = `${from.remoteAddress}:${from.remotePort}`;
        // Until the cookie is in, the role is unknown.
        let role: "pending" | "ctrl" | "data" | "denied" = "pending";
        const cookie = new Uint8Array(COOKIE_SIZE);
        let have = 0;
        let myTest: ServerTest | null = null;
        let stream: ServerTest["streams"][number] | null = null;
        const sock: TCP = new TCP({
          from, stack: env.stack, clock: env.clock,
          onReadable(this: TCP): void {
            if (role === "pending") {
              while (have < COOKIE_SIZE) {
                const b = this.read(COOKIE_SIZE - have) as ArrayBuffer | undefined;
                if (b === undefined) return;
                cookie.set(new Uint8Array(b), have);
                have += b.byteLength;
              }
              if (test === null) {
                role = "ctrl";
                const t: ServerTest = {
                  rec: { client: peer, reverse: false, streams: 0, bytes: 0, seconds: 0, mbps: 0, clientBytes: -1, state: "params", params: {} },
                  cookie: cookie.slice(), ctrl: sock, out: new Outbox(() => sock), q: new ByteQueue(),
                  expect: "params-len", jsonLen: 0, parallel: 1, streams: [], t0: 0, rtx0: 0,
                };
                test = myTest = t;
                stats.tests.push(t.rec);
                t.out.send(stateByte(PARAM_EXCHANGE));
              } else if (test.rec.state === "create" && sameBytes(cookie, test.cookie) && test.streams.length < test.parallel) {
                role = "data";
                myTest = test;
                stream = { sock, id: streamId(test.streams.length), bytes: 0, closed: false };
                test.streams.push(stream);
                if (test.streams.length === test.parallel) startRunning(test);
              } else {
                role = "denied";
                stats.denied++;
                try { this.write(stateByte(ACCESS_DENIED)); } catch { /* closing anyway */ }
                this.close();
                return;
              }
            }
            if (role === "ctrl" && myTest !== null) {
              readAll(this, myTest.q);
              onControl(myTest);
            } else if (role === "data" && stream !== null && myTest !== null) {
              for (;;) {
                const k = this.read(buf) as number | undefined;
                if (!k) break;
                if (!myTest.rec.reverse && myTest.rec.state === "running") stream.bytes += k;
              }
            }
          },
          onWritable(this: TCP): void {
            if (role === "ctrl" && myTest !== null) myTest.out.flush();
            else if (role === "data" && stream !== null && myTest !== null && myTest.rec.reverse &&
              myTest.rec.state === "running" && !stream.closed) stream.bytes += pump(this);
          },
          onError(this: TCP): void {
            if (role === "ctrl" && myTest !== null) {
              if (myTest.rec.state !== "done") fail(myTest, `control connection ended in ${myTest.rec.state}`);
            } else if (role === "data" && stream !== null) {
              if (!stream.closed) { stream.closed = true; this.close(); }
            } else this.close();
          },
        });
      }
    },
  });
  return { listener, stats };
}

// ------------------------------------------------------------------------------------------------
// Client

export interface Iperf3ClientOptions {
  /** Test length, s (iperf3 -t). */
  seconds: number;
  /** The server sends (iperf3 -R). */
  reverse?: boolean;
  /** Streams (iperf3 -P). */
  parallel?: number;
  /** Block size announced (iperf3 -l; default 128 KiB). */
  blockSize?: number;
  /** Called with each count of data bytes moved (progress). */
  onBytes?: (n: number) => void;
  /** Longest wait for the last ACKs before TEST_END, ms (default 3000). */
  drainMs?: number;
}

export interface Iperf3ClientResult {
  /** Data bytes we sent (forward: all acknowledged before TEST_END). */
  sentBytes: number;
  /** Data bytes we received (reverse). */
  receivedBytes: number;
  /** What the server reported it received (forward) or sent (reverse), all streams. */
  serverBytes: number;
  /** From TEST_RUNNING to the last ACK (forward) / to TEST_END (reverse). */
  seconds: number;
  mbps: number;
  /** Our retransmitted segments during the test (stack counter). */
  retransmits: number;
  serverResults: unknown;
  error?: string;
}

/** iperf3 client (`iperf3 -c ADDRESS -p PORT -t SECONDS [-R] [-P N]`), TCP. */
export function iperf3Client(env: Env, address: string, port: number, opts: Iperf3ClientOptions,
  done: (r: Iperf3ClientResult) => void): { cancel(): void } {
  const reverse = opts.reverse === true;
  const parallel = opts.parallel ?? 1;
  const cookie = makeCookie();
  const q = new ByteQueue();
  const r: Iperf3ClientResult = { sentBytes: 0, receivedBytes: 0, serverBytes: -1, seconds: 0, mbps: 0, retransmits: 0, serverResults: null };
  let phase: "cookie" | "params" | "create" | "running" | "draining" | "ended" | "results" | "display" | "finished" = "cookie";
  let expect: "state" | "errno" | "results-len" | "results" = "state";
  let jsonLen = 0;
  let t0 = 0, rtx0 = 0;
  let timer: NodeJS.Timeout | undefined;
  const now = (): number => performance.now();
  const wake = (): void => { env.stack.onWake?.(); };
  const streams: { sock: TCP; id: number; bytes: number; cookieSent: boolean; closed: boolean }[] = [];
  const buf = new Uint8Array(65536);
  const sendBuf = env.stack.config.sendBufBytes;

  const finish = (error?: string): void => {
    if (phase === "finished") return;
    phase = "finished";
    if (timer) clearTimeout(timer);
    if (error !== undefined) r.error = error;
    for (const s of streams) if (!s.closed) { s.closed = true; s.sock.close(); }
    ctrl.close();
    wake();
    done(r);
  };

  const endTest = (): void => {
    if (phase !== "running") return;
    r.retransmits = env.stack.counters.tcpRetransSegs - rtx0;
    if (reverse) {
      r.seconds = (now() - t0) / 1000;
      phase = "ended";
      out.send(stateByte(TEST_END));
      wake();
      return;
    }
    // Forward: no more writes; TEST_END once every byte is acknowledged, so the server's count is exact.
    phase = "draining";
    const limit = now() + (opts.drainMs ?? 3000);
    const check = (): void => {
      if (phase !== "draining") return;
      const idle = streams.every((s) => {
        try { return s.closed || s.sock.write(new Uint8Array(0)) >= sendBuf; } catch { return true; }
      });
      if (idle || now() > limit) {
        r.seconds = (now() - t0) / 1000;
        r.retransmits = env.stack.counters.tcpRetransSegs - rtx0;
        phase = "ended";
        out.send(stateByte(TEST_END));
        wake();
      } else timer = setTimeout(check, 2);
    };
    check();
  };

  const onState = (st: number): void => {
    if (st === PARAM_EXCHANGE && phase === "cookie") {
      phase = "params";
      const p: Record<string, unknown> = {
        tcp: true, omit: 0, time: opts.seconds, num: 0, blockcount: 0, parallel,
        len: opts.blockSize ?? DEFAULT_BLOCK, pacing_timer: 1000, client_version: "3.12",
      };
      if (reverse) p.reverse = true;
      out.send(jsonMessage(p));
    } else if (st === CREATE_STREAMS && phase === "params") {
      phase = "create";
      for (let i = 0; i < parallel; i++) openStream(i);
      wake();
    } else if (st === TEST_START && phase === "create") {
      // Streams are up; TEST_RUNNING follows.
    } else if (st === TEST_RUNNING && phase === "create") {
      phase = "running";
      t0 = now();
      rtx0 = env.stack.counters.tcpRetransSegs;
      if (!reverse) for (const s of streams) moved(s, pump(s.sock));
      timer = setTimeout(endTest, opts.seconds * 1000);
      wake();
    } else if (st === EXCHANGE_RESULTS && (phase === "ended" || phase === "draining")) {
      phase = "results";
      const mine = streams.map((s) => ({ id: s.id, bytes: s.bytes }));
      out.send(jsonMessage(resultsJson(!reverse, r.retransmits, mine, r.seconds)));
      expect = "results-len";
    } else if (st === DISPLAY_RESULTS && phase === "display") {
      out.send(stateByte(IPERF_DONE));
      r.sentBytes = reverse ? 0 : streams.reduce((s, x) => s + x.bytes, 0);
      r.receivedBytes = reverse ? streams.reduce((s, x) => s + x.bytes, 0) : 0;
      r.mbps = r.seconds > 0 ? Math.round(((reverse ? r.receivedBytes : r.sentBytes) * 8) / r.seconds / 1e4) / 100 : 0;
      finish();
    } else if (st === ACCESS_DENIED) {
      finish("server denied access (busy?)");
    } else if (st === SERVER_ERROR) {
      expect = "errno";
    } else if (st === SERVER_TERMINATE) {
      finish("server terminated");
    } else {
      finish(`unexpected state ${st} in ${phase}`);
    }
  };

  const onControl = (): void => {
    while (phase !== "finished") {
      if (expect === "errno") {
        const b = q.take(8);
        if (b === null) return;
        const v = new DataView(b.buffer);
        finish(`server error: i_errno ${v.getInt32(0, false)}, errno ${v.getInt32(4, false)}`);
        return;
      }
      if (expect === "results-len") {
        const b = q.take(4);
        if (b === null) return;
        jsonLen = new DataView(b.buffer).getUint32(0, false);
        if (jsonLen > 1 << 20) { finish(`results JSON length ${jsonLen}`); return; }
        expect = "results";
        continue;
      }
      if (expect === "results") {
        const b = q.take(jsonLen);
        if (b === null) return;
        try { r.serverResults = JSON.parse(new TextDecoder().decode(b)); } catch { finish("bad results JSON"); return; }
        r.serverBytes = sumStreamBytes(r.serverResults);
        phase = "display";
        expect = "state";
        continue;
      }
      const b = q.take(1);
      if (b === null) return;
      onState(signed(b[0]!));
    }
  };

  const moved = (s: { bytes: number }, n: number): void => {
    if (n <= 0) return;
    s.bytes += n;
    opts.onBytes?.(n);
  };

  const openStream = (i: number): void => {
    const s = { sock: null as unknown as TCP, id: streamId(i), bytes: 0, cookieSent: false, closed: false };
    s.sock = new TCP({
      address, port, stack: env.stack, clock: env.clock,
      onWritable(this: TCP): void {
        if (!s.cookieSent) {
          s.cookieSent = true;
          this.write(cookie);
        }
        if (phase === "running" && !reverse && !s.closed) moved(s, pump(this));
      },
      onReadable(this: TCP): void {
        for (;;) {
          const k = this.read(buf) as number | undefined;
          if (!k) break;
          if (reverse && (phase === "running" || phase === "ended")) moved(s, k);
        }
      },
      onError(this: TCP): void {
        if (!s.closed) { s.closed = true; this.close(); }
        if (phase === "create" || (phase === "running" && !reverse)) finish(`data stream ${s.id} ended in ${phase}`);
      },
    });
    streams.push(s);
  };

  let cookieSent = false;
  const ctrl: TCP = new TCP({
    address, port, stack: env.stack, clock: env.clock,
    onWritable(this: TCP): void {
      if (!cookieSent) { cookieSent = true; out.send(cookie); }
      else out.flush();
    },
    onReadable(this: TCP): void {
      readAll(this, q);
      onControl();
    },
    onError(this: TCP): void {
      readAll(this, q);
      onControl();
      finish(`control connection ended in ${phase}`);
    },
  });
  const out = new Outbox(() => (phase === "finished" ? null : ctrl));
  wake();
  return { cancel: () => finish("cancelled") };
}
