/**
 * Built-in apps of `netsim`, written against the ECMA-419 classes exactly as Moddable code would be
 * (Listener + `new TCP({from})`, onReadable/onWritable/onError, `target`): echo (RFC 862), discard
 * (RFC 863), chargen (RFC 864), a small HTTP/1.0 server and client, and a bulk sender/receiver with
 * byte counts and SHA-256. They run on whatever stack the socket classes are given (sim or TAP).
 */
import { createHash, type Hash } from "node:crypto";
import type { Stack } from "../src/stack.js";
import { Listener } from "../src/socket/listener.js";
import { TCP } from "../src/socket/tcp.js";

/** Where sockets come from: a stack and its clock (the sockets' `stack`/`clock` options). */
export interface Env { stack: Stack; clock: () => number }

/** Deterministic payload: byte i of a stream is (i * 7 + (i >>> 8)) & 0xff. */
export function patternByte(i: number): number { return (i * 7 + (i >>> 8)) & 0xff; }
export function fillPattern(b: Uint8Array, offset: number): void {
  for (let k = 0; k < b.length; k++) b[k] = patternByte(offset + k);
}
/**
 * Write pattern bytes [sent, total) while the socket has room (`room` = its writable count), through
 * `chunk`. Returns the new `sent`.
 */
export function writePattern(s: TCP, room: number, chunk: Uint8Array, sent: number, total: number): number {
  while (sent < total && room > 0) {
    const n = Math.min(room, chunk.length, total - sent);
    const part = chunk.subarray(0, n);
    fillPattern(part, sent);
    room = s.write(part);
    sent += n;
  }
  return sent;
}

/** SHA-256 of the first `n` pattern bytes. */
export function patternSha256(n: number): string {
  const h = createHash("sha256");
  const b = new Uint8Array(65536);
  for (let off = 0; off < n; off += b.length) {
    fillPattern(b, off);
    h.update(b.subarray(0, Math.min(b.length, n - off)));
  }
  return h.digest("hex");
}

export interface ServerStats { accepted: number; bytesIn: number; bytesOut: number; closed: number; errors: number }
function newStats(): ServerStats { return { accepted: 0, bytesIn: 0, bytesOut: 0, closed: 0, errors: 0 }; }

/** A listener that adopts each connection with `handler(env)` callbacks. */
function serve(env: Env, port: number, make: (s: TCP | undefined) => void): Listener {
  return new Listener({
    port, stack: env.stack, clock: env.clock, backlog: 8,
    onReadable(this: Listener, requests: number): void {
      for (let i = 0; i < requests; i++) {
        const s = this.read();
        if (s === undefined) break;
        make(s);
      }
    },
  });
}

/**
 * RFC 862 echo: everything read is written back. Only as many bytes are read as the send buffer can
 * take now; the rest stays in the socket (so a peer's FIN is reported only once every byte has been
 * echoed) and is read on onWritable.
 */
export function echoServer(env: Env, port = 7): { listener: Listener; stats: ServerStats } {
  const stats = newStats();
  const empty = new Uint8Array(0);
  const listener = serve(env, port, (from) => {
    stats.accepted++;
    const flush = (s: TCP): void => {
      for (;;) {
        let room: number;
        try { room = s.write(empty); } catch { return; }
        if (room <= 0) return;
        const b = s.read(room) as ArrayBuffer | undefined;
        if (b === undefined) return;
        stats.bytesIn += b.byteLength;
        s.write(b);
        stats.bytesOut += b.byteLength;
      }
    };
    new TCP({
      from, stack: env.stack, clock: env.clock,
      onReadable(this: TCP): void { flush(this); },
      onWritable(this: TCP): void { flush(this); },
      onError(this: TCP): void { flush(this); stats.closed++; this.close(); },
    });
  });
  return { listener, stats };
}

/** RFC 863 discard: counts what arrives. */
export function discardServer(env: Env, port = 9, onDone?: (bytes: number, sha256: string) => void): { listener: Listener; stats: ServerStats } {
  const stats = newStats();
  const listener = serve(env, port, (from) => {
    stats.accepted++;
    let bytes = 0;
    const hash: Hash = createHash("sha256");
    const buf = new Uint8Array(8192);
    new TCP({
      from, stack: env.stack, clock: env.clock,
      onReadable(this: TCP): void {
        for (;;) {
          const n = this.read(buf) as number | undefined;
          if (!n) break;
          hash.update(buf.subarray(0, n));
          bytes += n;
          stats.bytesIn += n;
        }
      },
      onError(this: TCP): void {
        stats.closed++;
        this.close();
        if (onDone) onDone(bytes, hash.digest("hex"));
      },
    });
  });
  return { listener, stats };
}

/** RFC 864 chargen: writes a rotating line pattern for as long as the peer keeps the connection. */
export function chargenServer(env: Env, port = 19): { listener: Listener; stats: ServerStats } {
  const stats = newStats();
  const line = new Uint8Array(74);
  let rot = 0;
  const listener = serve(env, port, (from) => {
    stats.accepted++;
    new TCP({
      from, stack: env.stack, clock: env.clock,
      onWritable(this: TCP, room: number): void {
        while (room >= line.length) {
          for (let k = 0; k < 72; k++) line[k] = 32 + ((rot + k) % 95);
          line[72] = 13; line[73] = 10;
          rot = (rot + 1) % 95;
          room = this.write(line);
          stats.bytesOut += line.length;
        }
      },
      onReadable(this: TCP): void { this.read(); },
      onError(this: TCP): void { stats.closed++; this.close(); },
    });
  });
  return { listener, stats };
}

/**
 * HTTP/1.0 server: `GET /` -> "hello\n"; `GET /bytes/N` -> N pattern bytes; anything else 404.
 * One response per connection, then a graceful close (every byte delivered).
 */
export function httpServer(env: Env, port = 80): { listener: Listener; stats: ServerStats } {
  const stats = newStats();
  const listener = serve(env, port, (from) => {
    stats.accepted++;
    let head = "";
    let body = 0, sent = 0, total = -1;
    let hdr: Uint8Array | null = null;
    let closed = false;
    const chunk = new Uint8Array(4096);
    const pump = (s: TCP, room: number): void => {
      if (total < 0 || closed) return;
      if (hdr !== null) {
        if (room < hdr.length) return;
        room = s.write(hdr);
        stats.bytesOut += hdr.length;
        hdr = null;
      }
      const before = sent;
      sent = writePattern(s, room, chunk, sent, body);
      stats.bytesOut += sent - before;
      if (sent >= body) { closed = true; stats.closed++; s.close(); }
    };
    new TCP({
      from, stack: env.stack, clock: env.clock,
      onReadable(this: TCP): void {
        const b = this.read() as ArrayBuffer | undefined;
        if (b === undefined || total >= 0) return;
        stats.bytesIn += b.byteLength;
        head += new TextDecoder().decode(b);
        if (head.length > 8192) { closed = true; this.close(); return; }
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const m = /^GET (\S+) HTTP\/1\.[01]\r\n/.exec(head);
        let status = "200 OK", text: string | null = null;
        if (m === null) { status = "400 Bad Request"; text = "bad request\n"; }
        else if (m[1] === "/") text = "hello\n";
        else {
          const n = /^\/bytes\/(\d{1,10})$/.exec(m[1]);
          if (n !== null) body = Number(n[1]);
          else { status = "404 Not Found"; text = "not found\n"; }
        }
        const bodyBytes = text === null ? null : new TextEncoder().encode(text);
        if (bodyBytes !== null) body = bodyBytes.length;
        const h = new TextEncoder().encode(`HTTP/1.0 ${status}\r\nContent-Type: ${text === null ? "application/octet-stream" : "text/plain"}\r\nContent-Length: ${body}\r\nConnection: close\r\n\r\n`);
        hdr = bodyBytes === null ? h : concat(h, bodyBytes);
        if (bodyBytes !== null) { sent = body; }
        total = body;
        pump(this, this.write(new Uint8Array(0)));
      },
      onWritable(this: TCP, room: number): void { pump(this, room); },
      onError(this: TCP): void { if (!closed) { closed = true; stats.errors++; this.close(); } },
    });
  });
  return { listener, stats };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const r = new Uint8Array(a.length + b.length);
  r.set(a); r.set(b, a.length);
  return r;
}

export interface HttpResult { status: number; bytes: number; sha256: string; error?: string }

/** HTTP/1.0 GET; body bytes are hashed as they arrive. */
export function httpGet(env: Env, address: string, port: number, path: string, done: (r: HttpResult) => void): TCP {
  let asked = false;
  let head: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  let inBody = false;
  let status = 0, bytes = 0;
  const hash = createHash("sha256");
  let finished = false;
  const finish = (s: TCP): void => {
    if (finished) return;
    finished = true;
    s.close();
    done(inBody ? { status, bytes, sha256: hash.digest("hex") } : { status, bytes, sha256: "", error: "no response" });
  };
  return new TCP({
    address, port, stack: env.stack, clock: env.clock,
    onWritable(this: TCP): void {
      if (asked) return;
      asked = true;
      this.write(new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: ${address}\r\nUser-Agent: netsim\r\n\r\n`));
    },
    onReadable(this: TCP): void {
      for (;;) {
        const b = this.read() as ArrayBuffer | undefined;
        if (b === undefined) return;
        let u: Uint8Array = new Uint8Array(b);
        if (!inBody) {
          head = concat(head, u);
          let end = -1;
          for (let i = 0; i + 3 < head.length; i++) {
            if (head[i] === 13 && head[i + 1] === 10 && head[i + 2] === 13 && head[i + 3] === 10) { end = i; break; }
          }
          if (end < 0) { if (head.length > 16384) finish(this); continue; }
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(new TextDecoder("latin1").decode(head.subarray(0, end)));
          status = m === null ? 0 : Number(m[1]);
          inBody = true;
          u = head.subarray(end + 4);
        }
        hash.update(u);
        bytes += u.length;
      }
    },
    onError(this: TCP): void { finish(this); },
  });
}

export interface BulkProgress { sent: number; total: number }

/** Connect and send `total` pattern bytes, then close (graceful: every byte is delivered). */
export function bulkSend(env: Env, address: string, port: number, total: number,
  progress: (p: BulkProgress) => void, done: (err: boolean) => void): TCP {
  let sent = 0;
  let closed = false;
  const chunk = new Uint8Array(8192);
  return new TCP({
    address, port, stack: env.stack, clock: env.clock,
    onWritable(this: TCP, room: number): void {
      sent = writePattern(this, room, chunk, sent, total);
      progress({ sent, total });
      if (sent >= total && !closed) { closed = true; this.close(); done(false); }
    },
    onReadable(this: TCP): void { this.read(); },
    onError(this: TCP): void { if (!closed) { closed = true; this.close(); done(true); } },
  });
}
