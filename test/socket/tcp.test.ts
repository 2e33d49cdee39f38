/** embedded:io/socket/tcp (ECMA-419 3rd edition) over two simulated stacks. */
import assert from "node:assert/strict";
import { Listener } from "../../src/socket/listener.js";
import { TCP } from "../../src/socket/tcp.js";
import { CLOSE_WAIT, ERR_ABORTED, ESTABLISHED, SYN_SENT } from "../../src/tcp/tcb.js";
import {
  ADDR_A, ADDR_B, api, assertPoolsEmpty, byteAt, cb, closeAll, connectPair, type Env, makeEnv, ownedTcbs, pattern,
  resetViolations, runUntil,
} from "./helpers.js";

describe("socket/tcp", () => {
  let env: Env;
  beforeEach(() => { resetViolations(); env = makeEnv(7); });
  afterEach(function () {
    if (this.currentTest?.state === "passed") assertPoolsEmpty(env);
  });

  it("connect: onWritable first, with the whole send buffer; remoteAddress/remotePort", () => {
    const log: string[] = [];
    const p = connectPair(env, {
      onReadable: cb(() => { log.push("readable"); }),
      onWritable: cb(function (this: TCP, n: number) { log.push(`writable ${n}`); }),
      onError: cb(() => { log.push("error"); }),
    });
    assert.deepEqual(log, [`writable ${env.A.config.sendBufBytes}`]);
    assert.equal(p.client.remoteAddress, ADDR_B);
    assert.equal(p.client.remotePort, 80);
    assert.equal(p.server.remoteAddress, ADDR_A);
    assert.ok((p.server.remotePort ?? 0) >= 49152);
    closeAll(p.client, p.server, p.listener);
  });

  it("no callback from the constructor or a method; callbacks get this = instance", () => {
    let thisOk = true;
    let calls = 0;
    const p = connectPair(env, {
      onWritable: cb(function (this: TCP) { calls++; if (!(this instanceof TCP)) thisOk = false; }),
    }, {
      onReadable: cb(function (this: TCP) { calls++; if (!(this instanceof TCP)) thisOk = false; api(() => this.read()); }),
    });
    const before = calls;
    api(() => p.client.write(pattern(0, 100)));
    assert.equal(calls, before, "write() called back synchronously");
    runUntil(env, () => calls > before);
    assert.ok(thisOk);
    closeAll(p.client, p.server, p.listener);
  });

  it("write returns the writable count; all or nothing: a write that does not fit throws and writes nothing", () => {
    // The peer never reads: its window fills, then our send ring.
    const p = connectPair(env);
    const size = env.A.config.sendBufBytes;
    const r1 = api(() => p.client.write(pattern(0, 1000)));
    assert.equal(r1, size - 1000);
    runUntil(env, () => env.B.tcp.tcbs.some((t) => t.rcvLen === 1000));
    // Fill: the peer's receive buffer is as big as our send buffer; write until it no longer fits.
    let sent = 1000;
    const chunk = 700;
    for (let round = 0; round < 50; round++) {
      let room = 0;
      for (;;) {
        try { room = api(() => p.client.write(pattern(sent, chunk))); sent += chunk; } catch (e) {
          assert.ok(e instanceof Error);
          assert.equal(e.message, "would block");
          break;
        }
        if (room < chunk) break;
      }
      env.net.runFor(2000);
    }
    const t = ownedTcbs(env.A)[0];
    const queued = t.sndLen;
    const space = t.sndSpace();
    assert.ok(space < chunk, `send ring should be nearly full, space ${space}`);
    assert.throws(() => api(() => p.client.write(new Uint8Array(space + 1))), { name: "Error", message: "would block" });
    assert.equal(t.sndLen, queued, "a refused write queued bytes");
    if (space > 0) assert.equal(api(() => p.client.write(new Uint8Array(space).fill(0))), 0);
    // Now the peer reads everything: byte-exact.
    const total = sent + space;
    const got = new Uint8Array(total);
    let n = 0;
    const buf = new Uint8Array(1500);
    runUntil(env, () => {
      for (;;) {
        const k = api(() => p.server.read(buf));
        if (k === undefined) break;
        got.set(buf.subarray(0, k), n);
        n += k;
      }
      return n === total;
    }, 60000, "all bytes");
    for (let i = 0; i < sent; i++) if (got[i] !== byteAt(i)) assert.fail(`byte ${i} differs`);
    closeAll(p.client, p.server, p.listener);
  });

  it("read(), read(n) clamps, read(buffer) returns the count, undefined when empty", () => {
    let readable = -1;
    const p = connectPair(env, {}, { onReadable: cb((n: number) => { readable = n; }) });
    api(() => p.client.write(pattern(0, 10)));
    runUntil(env, () => readable === 10);
    const s = p.server;
    const a = api(() => s.read(4));
    assert.ok(a instanceof ArrayBuffer);
    assert.deepEqual(new Uint8Array(a), pattern(0, 4));
    const b = api(() => s.read(100)) as ArrayBuffer;
    assert.equal(b.byteLength, 6, "read(n) clamps to what is available");
    assert.deepEqual(new Uint8Array(b), pattern(4, 6));
    assert.equal(api(() => s.read()), undefined);
    assert.equal(api(() => s.read(5)), undefined);
    assert.equal(api(() => s.read(new Uint8Array(8))), undefined);

    readable = -1;
    api(() => p.client.write(pattern(10, 20)));
    runUntil(env, () => readable === 20);
    const dst = new ArrayBuffer(8);
    assert.equal(api(() => s.read(dst)), 8);
    assert.deepEqual(new Uint8Array(dst), pattern(10, 8));
    const dv = new DataView(new ArrayBuffer(16), 4, 5);
    assert.equal(api(() => s.read(dv)), 5);
    assert.deepEqual(new Uint8Array(dv.buffer, 4, 5), pattern(18, 5));
    const u16 = new Uint16Array(2);
    assert.equal(api(() => s.read(u16)), 4);
    assert.deepEqual(new Uint8Array(u16.buffer), pattern(23, 4));
    const rest = api(() => s.read()) as ArrayBuffer;
    assert.deepEqual(new Uint8Array(rest), pattern(27, 3));
    for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => api(() => s.read(bad)), RangeError);
    assert.throws(() => api(() => s.read("x" as unknown as number)), TypeError);
    closeAll(p.client, p.server, p.listener);
  });

  it("number format: read() returns one byte, write(byte); format is settable and checked", () => {
    let readable = -1;
    const p = connectPair(env, { format: "number" }, { onReadable: cb((n: number) => { readable = n; }) });
    assert.equal(p.client.format, "number");
    assert.equal(api(() => p.client.write(0x41)), env.A.config.sendBufBytes - 1);
    api(() => p.client.write(0x42));
    assert.throws(() => api(() => p.client.write(256)), RangeError);
    assert.throws(() => api(() => p.client.write(new Uint8Array(1))), TypeError);
    runUntil(env, () => readable === 2);
    const s = p.server;
    assert.equal(s.format, "buffer");
    assert.throws(() => { s.format = "text" as "buffer"; }, RangeError);
    assert.equal(s.format, "buffer", "a bad format changes nothing");
    s.format = "number";
    assert.equal(api(() => s.read()), 0x41);
    assert.equal(api(() => s.read()), 0x42);
    assert.equal(api(() => s.read()), undefined);
    s.format = "buffer";
    p.client.format = "buffer";
    api(() => p.client.write(new Uint8Array([1, 2, 3])));
    runUntil(env, () => readable === 3);
    assert.deepEqual(new Uint8Array(api(() => s.read()) as ArrayBuffer), new Uint8Array([1, 2, 3]));
    closeAll(p.client, p.server, p.listener);
  });

  it("onReadable(bytes) gives the total readable, once per arrival", () => {
    const seen: number[] = [];
    const p = connectPair(env, { noDelay: true }, { onReadable: cb((n: number) => { seen.push(n); }) });
    api(() => p.client.write(pattern(0, 5)));
    runUntil(env, () => seen.length === 1);
    api(() => p.client.write(pattern(5, 7)));
    runUntil(env, () => seen.length === 2);
    env.net.runFor(1000);
    assert.deepEqual(seen, [5, 12]);
    api(() => p.server.read(3));
    api(() => p.client.write(pattern(12, 1)));
    runUntil(env, () => seen.length === 3);
    assert.deepEqual(seen, [5, 12, 10]);
    closeAll(p.client, p.server, p.listener);
  });

  it("write options: more:true holds data for the next segment; byteLength is checked", () => {
    let readable = 0;
    const p = connectPair(env, {}, { onReadable: cb((n: number) => { readable = n; }) });
    api(() => p.client.write(pattern(0, 10), { more: true, byteLength: 20 }));
    api(() => p.client.write(pattern(10, 10), { more: false }));
    runUntil(env, () => readable === 20);
    assert.throws(() => api(() => p.client.write(pattern(0, 10), { byteLength: 5 })), RangeError);
    assert.throws(() => api(() => p.client.write(pattern(0, 10), { byteLength: -1 })), RangeError);
    assert.throws(() => api(() => p.client.write(pattern(0, 10), { more: 1 as unknown as boolean })), TypeError);
    assert.throws(() => api(() => p.client.write("abc" as unknown as Uint8Array)), TypeError);
    // Every buffer type.
    const ab = pattern(20, 4).slice().buffer;
    api(() => p.client.write(ab));
    api(() => p.client.write(new DataView(pattern(24, 6).buffer, 2, 4)));
    api(() => p.client.write(new Int8Array(pattern(28, 2).buffer)));
    runUntil(env, () => readable === 30);
    const got = new Uint8Array(api(() => p.server.read()) as ArrayBuffer);
    assert.deepEqual(got.subarray(20, 24), pattern(20, 4));
    assert.deepEqual(got.subarray(24, 28), pattern(26, 4));
    assert.deepEqual(got.subarray(28, 30), pattern(28, 2));
    closeAll(p.client, p.server, p.listener);
  });

  it("peer FIN with nothing unread: onError", () => {
    let errors = 0;
    const p = connectPair(env, { onError: cb(() => { errors++; }) });
    closeAll(p.server);
    runUntil(env, () => errors === 1);
    env.net.runFor(1000);
    assert.equal(errors, 1, "onError fires once");
    closeAll(p.client, p.listener);
  });

  it("peer FIN while data is unread: onReadable now, onError only after the app drains (from the next poll)", () => {
    const log: string[] = [];
    const p = connectPair(env, {
      onReadable: cb((n: number) => { log.push(`readable ${n}`); }),
      onError: cb(() => { log.push("error"); }),
    });
    api(() => p.server.write(pattern(0, 100)));
    closeAll(p.server); // FIN follows the data
    runUntil(env, () => ownedTcbs(env.A)[0]?.state === CLOSE_WAIT);
    env.net.runFor(2000);
    assert.deepEqual(log, ["readable 100"], "onError must wait for the data to be read");
    api(() => p.client.read(60));
    env.net.runFor(2000);
    assert.deepEqual(log, ["readable 100"]);
    let drainedAt = -1;
    env.net.schedule(env.net.now + 10, () => {
      api(() => p.client.read());
      drainedAt = log.length;
      assert.deepEqual(log, ["readable 100"], "no callback inside read()");
    });
    runUntil(env, () => log.length === 2);
    assert.equal(drainedAt, 1);
    assert.deepEqual(log, ["readable 100", "error"]);
    // After a clean FIN the socket may still write (CLOSE-WAIT) until it closes.
    closeAll(p.client, p.listener);
  });

  it("peer FIN, data drained inside onReadable: onError follows", () => {
    const log: string[] = [];
    const p = connectPair(env, {
      onReadable: cb(function (this: TCP, n: number) { log.push(`readable ${n}`); api(() => this.read()); }),
      onError: cb(() => { log.push("error"); }),
    });
    api(() => p.server.write(pattern(0, 50)));
    closeAll(p.server);
    runUntil(env, () => log.includes("error"));
    assert.deepEqual(log, ["readable 50", "error"]);
    closeAll(p.client, p.listener);
  });

  it("reset by the peer: onError (after unread data is read)", () => {
    const log: string[] = [];
    const p = connectPair(env, {
      onReadable: cb((n: number) => { log.push(`readable ${n}`); }),
      onError: cb(() => { log.push("error"); }),
    });
    api(() => p.server.write(pattern(0, 30)));
    runUntil(env, () => log.length === 1);
    const bt = ownedTcbs(env.B).find((t) => t.state === ESTABLISHED);
    assert.ok(bt);
    env.B.tcp.abort(bt, ERR_ABORTED, env.net.now); // sends RST
    env.net.runFor(1000);
    assert.deepEqual(log, ["readable 30"]);
    env.net.schedule(env.net.now, () => { api(() => p.client.read()); });
    runUntil(env, () => log.length === 2);
    assert.deepEqual(log, ["readable 30", "error"]);
    assert.throws(() => api(() => p.client.write(new Uint8Array(1))), { message: "disconnected" });
    closeAll(p.client, p.server, p.listener);
  });

  it("refused: connecting to a port with no listener gives onError, never onWritable", () => {
    const log: string[] = [];
    const c = api(() => new TCP({
      ...env.a, address: ADDR_B, port: 9,
      onWritable: cb(() => { log.push("writable"); }),
      onError: cb(() => { log.push("error"); }),
    }));
    assert.throws(() => api(() => c.write(new Uint8Array(1))), { message: "not ready" });
    runUntil(env, () => log.length > 0);
    env.net.runFor(1000);
    assert.deepEqual(log, ["error"]);
    closeAll(c);
  });

  it("close() delivers every byte written before it, then FIN", () => {
    let total = 0, errored = false;
    const got: number[] = [];
    const p = connectPair(env, {}, {
      onReadable: cb(function (this: TCP) {
        const b = new Uint8Array(api(() => this.read()) as ArrayBuffer);
        for (let i = 0; i < b.length; i++) got.push(b[i]);
        total += b.length;
      }),
      onError: cb(() => { errored = true; }),
    });
    const size = env.A.config.sendBufBytes;
    assert.equal(api(() => p.client.write(pattern(0, size))), 0);
    closeAll(p.client);
    runUntil(env, () => errored, 60000, "FIN");
    assert.equal(total, size);
    for (let i = 0; i < size; i++) if (got[i] !== byteAt(i)) assert.fail(`byte ${i}`);
    closeAll(p.server, p.listener);
  });

  it("close twice is fine; other methods throw after close; no callback after close", () => {
    let calls = 0;
    const p = connectPair(env, {
      onReadable: cb(() => { calls++; }), onWritable: cb(() => { calls++; }), onError: cb(() => { calls++; }),
    });
    const before = calls;
    api(() => p.server.write(pattern(0, 100)));
    closeAll(p.client);
    closeAll(p.client);
    assert.throws(() => api(() => p.client.read()), { name: "Error", message: "closed" });
    assert.throws(() => api(() => p.client.write(new Uint8Array(1))), { name: "Error" });
    assert.throws(() => { p.client.format = "number"; }, Error);
    assert.equal(p.client.remoteAddress, undefined);
    env.net.runFor(5000);
    api(() => { try { p.server.write(pattern(0, 10)); } catch { /* the peer may be gone */ } });
    env.net.runFor(5000);
    assert.equal(calls, before, "a callback ran after close()");
    closeAll(p.server, p.listener);
  });

  it("close() inside a callback stops the rest of the delivery", () => {
    const log: string[] = [];
    const p = connectPair(env, {
      onReadable: cb(function (this: TCP) { log.push("readable"); api(() => this.close()); }),
      onError: cb(() => { log.push("error"); }),
    });
    api(() => p.server.write(pattern(0, 10)));
    closeAll(p.server); // data + FIN in one poll
    runUntil(env, () => log.length > 0);
    env.net.runFor(2000);
    assert.deepEqual(log, ["readable"]);
    closeAll(p.listener);
  });

  it("target is copied; options are not mutated; unknown keys and io are ignored", () => {
    const target = { name: "t" };
    const opts = Object.freeze({ ...env.a, address: ADDR_B, port: 9, target, io: TCP, extra: 1, onError: cb(() => {}) });
    const c = api(() => new TCP(opts));
    assert.equal(c.target, target);
    const d = api(() => new TCP({ ...env.a, address: ADDR_B, port: 9 }));
    assert.ok(!("target" in d) || d.target === undefined);
    env.net.runFor(2000);
    closeAll(c, d);
  });

  it("option checks: TypeError / RangeError, before anything is allocated", () => {
    const ok = { ...env.a, address: ADDR_B, port: 80 };
    const cases: [unknown, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, RegExp?][] = [
      [undefined, TypeError],
      [{ ...ok, port: 0 }, RangeError, /invalid port/],
      [{ ...ok, port: 65536 }, RangeError, /invalid port/],
      [{ ...ok, port: 1.5 }, RangeError, /invalid port/],
      [{ ...ok, port: "80" }, TypeError],
      [{ ...ok, port: undefined }, TypeError],
      [{ ...ok, address: "192.0.2" }, RangeError, /invalid address/],
      [{ ...ok, address: 3 }, TypeError],
      [{ ...ok, address: undefined }, TypeError, /address or host required/],
      [{ ...ok, address: undefined, host: "bad..name" }, RangeError],
      [{ ...ok, address: undefined, host: 7 }, TypeError, /invalid host/],
      [{ ...ok, onReadable: 1 }, TypeError],
      [{ ...ok, onWritable: "f" }, TypeError],
      [{ ...ok, onError: {} }, TypeError],
      [{ ...ok, format: "text" }, RangeError, /invalid format/],
      [{ ...ok, noDelay: 1 }, TypeError],
      [{ ...ok, nodelay: "yes" }, TypeError],
      [{ ...ok, keepAlive: 0 }, RangeError],
      [{ ...ok, keepAlive: 2.5 }, RangeError],
      [{ ...ok, keepAlive: "1" }, TypeError],
      [{ ...ok, from: {} }, TypeError],
      [{ ...ok, stack: {} }, TypeError],
      [{ ...ok, clock: 5 }, TypeError],
    ];
    for (let i = 0; i < cases.length; i++) {
      const [o, E, msg] = cases[i];
      assert.throws(() => api(() => new TCP(o as ConstructorParameters<typeof TCP>[0])), (e: unknown) => {
        assert.ok(e instanceof E, `case ${i}: ${String(e)}`);
        if (E === Error) assert.equal((e as Error).constructor, Error, `case ${i}`);
        if (msg) assert.match((e as Error).message, msg);
        return true;
      });
    }
    // null callbacks are "absent".
    const c = api(() => new TCP({ ...ok, port: 9, onReadable: null, onWritable: null, onError: null }));
    closeAll(c);
    env.net.runFor(2000);
    assert.equal(env.A.tcp.inUse().connections, 0, "a failed constructor left a connection");
  });

  it("noDelay and nodelay both reach the Tcb; keepAlive arms the timer", () => {
    const c1 = api(() => new TCP({ ...env.a, address: ADDR_B, port: 9, noDelay: true }));
    const c2 = api(() => new TCP({ ...env.a, address: ADDR_B, port: 9, nodelay: true }));
    const c3 = api(() => new TCP({ ...env.a, address: ADDR_B, port: 9 }));
    const c4 = api(() => new TCP({ ...env.a, address: ADDR_B, port: 9, keepAlive: 5000 }));
    const ts = env.A.tcp.tcbs.filter((t) => t.state === SYN_SENT);
    assert.equal(ts.length, 4);
    assert.deepEqual(ts.map((t) => t.noDelay), [true, true, false, false]);
    assert.deepEqual(ts.map((t) => t.keepAliveMs), [0, 0, 0, 5000]);
    env.net.runFor(2000);
    closeAll(c1, c2, c3, c4);
  });

  it("keepAlive: an idle connection to a silent peer gets keepalive probes", () => {
    const p = connectPair(env, { keepAlive: 1000, nodelay: true });
    const t = ownedTcbs(env.A).find((x) => x.localPort !== 80);
    assert.ok(t);
    assert.equal(t.keepAliveMs, 1000);
    const sent = env.A.counters.tcpOutSegs;
    env.net.runFor(3500);
    assert.ok(env.A.counters.tcpOutSegs > sent, "no keepalive sent");
    closeAll(p.client, p.server, p.listener);
  });

  it("backpressure: a writer that writes only in onWritable moves exactly 1 MB", () => {
    const TOTAL = 1 << 20;
    let sent = 0, received = 0, bad = -1, errored = false;
    const chunk = new Uint8Array(1024);
    const rbuf = new Uint8Array(2048);
    let server: TCP | undefined;
    const writer = function (this: TCP, n: number): void {
      while (sent < TOTAL && n > 0) {
        const k = Math.min(n, chunk.length, TOTAL - sent);
        for (let i = 0; i < k; i++) chunk[i] = byteAt(sent + i);
        n = api(() => this.write(k === chunk.length ? chunk : chunk.subarray(0, k)));
        sent += k;
      }
      if (sent === TOTAL) api(() => this.close());
    };
    const listener = api(() => new Listener({
      ...env.b, port: 8080,
      onReadable: cb(function (this: Listener) {
        server = api(() => new TCP({
          from: this.read() as TCP,
          onReadable: cb(function (this: TCP) {
            for (;;) {
              const k = api(() => this.read(rbuf));
              if (k === undefined) break;
              for (let i = 0; i < k; i++) if (rbuf[i] !== byteAt(received + i) && bad < 0) bad = received + i;
              received += k;
            }
          }),
          onError: cb(() => { errored = true; }),
        }));
      }),
    }));
    api(() => new TCP({ ...env.a, address: ADDR_B, port: 8080, onWritable: cb(writer) }));
    runUntil(env, () => errored, 600_000, "1 MB");
    assert.equal(sent, TOTAL);
    assert.equal(received, TOTAL);
    assert.equal(bad, -1, `byte ${bad} differs`);
    closeAll(server, listener);
  });
});
