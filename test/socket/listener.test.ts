/** embedded:io/socket/listener (ECMA-419 3rd edition) over two simulated stacks. */
import assert from "node:assert/strict";
import { Listener } from "../../src/socket/listener.js";
import { TCP } from "../../src/socket/tcp.js";
import {
  ADDR_A, ADDR_B, api, assertPoolsEmpty, cb, closeAll, type Env, makeEnv, pattern, resetViolations, runUntil,
} from "./helpers.js";

describe("socket/listener", () => {
  let env: Env;
  beforeEach(() => { resetViolations(); env = makeEnv(11); });
  afterEach(function () {
    if (this.currentTest?.state === "passed") assertPoolsEmpty(env);
  });

  it("port 0 picks a port; read() is undefined with nothing pending; onReadable(requests) counts", () => {
    const counts: number[] = [];
    const l = api(() => new Listener({ ...env.b, onReadable: cb((n: number) => { counts.push(n); }) }));
    assert.ok(l.port >= 49152 && l.port <= 65535, `port ${l.port}`);
    assert.equal(api(() => l.read()), undefined);
    const c1 = api(() => new TCP({ ...env.a, address: ADDR_B, port: l.port }));
    runUntil(env, () => counts.length === 1);
    const c2 = api(() => new TCP({ ...env.a, address: ADDR_B, port: l.port }));
    runUntil(env, () => counts.length === 2);
    assert.deepEqual(counts, [1, 2]);
    const s1 = api(() => l.read());
    const s2 = api(() => l.read());
    assert.ok(s1 instanceof TCP && s2 instanceof TCP);
    assert.equal(api(() => l.read()), undefined);
    assert.equal(s1.remoteAddress, ADDR_A);
    closeAll(c1, c2, s1, s2, l);
  });

  it("backlog: only `backlog` connections wait; the rest are accepted after reads", () => {
    let last = 0;
    const l = api(() => new Listener({ ...env.b, port: 7000, backlog: 2, onReadable: cb((n: number) => { last = n; }) }));
    const clients: TCP[] = [];
    let connected = 0;
    for (let i = 0; i < 4; i++) {
      clients.push(api(() => new TCP({ ...env.a, address: ADDR_B, port: 7000, onWritable: cb(() => { connected++; }) })));
    }
    env.net.runFor(500);
    assert.equal(last, 2);
    assert.equal(env.B.tcp.acceptable(0), 2);
    assert.equal(connected, 2, "SYNs beyond the backlog are dropped");
    const servers: TCP[] = [];
    const take = (): void => { for (let s = api(() => l.read()); s !== undefined; s = api(() => l.read())) servers.push(s); };
    take();
    assert.equal(servers.length, 2);
    runUntil(env, () => { take(); return servers.length === 4; }, 60000, "the retried SYNs");
    assert.equal(connected, 4);
    closeAll(...clients, ...servers, l);
  });

  it("adoption with from: data received before adoption is announced; the old instance is closed", () => {
    let shell: TCP | undefined;
    const l = api(() => new Listener({
      ...env.b, port: 81,
      onReadable: cb(function (this: Listener) { shell = api(() => this.read()); }),
    }));
    const c = api(() => new TCP({
      ...env.a, address: ADDR_B, port: 81,
      onWritable: cb(function (this: TCP) { if (this.format === "buffer") api(() => this.write(pattern(0, 40))); this.format = "number"; }),
    }));
    runUntil(env, () => shell !== undefined);
    env.net.runFor(1000); // data arrives at the shell, which has no callbacks
    const log: string[] = [];
    const target = {};
    const s = api(() => new TCP({
      from: shell as TCP, target, address: "ignored", port: 1,
      onReadable: cb((n: number) => { log.push(`readable ${n}`); }),
      onWritable: cb((n: number) => { log.push(`writable ${n}`); }),
    }));
    assert.deepEqual(log, [], "no callback from the constructor");
    assert.equal(s.target, target);
    assert.equal(s.remoteAddress, ADDR_A);
    assert.throws(() => api(() => (shell as TCP).read()), { message: "closed" });
    assert.throws(() => api(() => new TCP({ from: shell as TCP })), Error);
    runUntil(env, () => log.length === 2);
    assert.deepEqual(log, [`writable ${env.B.config.sendBufBytes}`, "readable 40"]);
    assert.deepEqual(new Uint8Array(api(() => s.read()) as ArrayBuffer), pattern(0, 40));
    closeAll(c, s, l);
  });

  it("a TCP from read() works without adoption (no callbacks)", () => {
    const l = api(() => new Listener({ ...env.b, port: 82 }));
    let readable = 0;
    const c = api(() => new TCP({ ...env.a, address: ADDR_B, port: 82, onReadable: cb((n: number) => { readable = n; }) }));
    let s: TCP | undefined;
    runUntil(env, () => { s ??= api(() => l.read()); return s !== undefined; });
    const srv = s as TCP;
    api(() => srv.write(pattern(0, 5)));
    runUntil(env, () => readable === 5);
    closeAll(c, srv, l);
  });

  it("close(): stops listening, resets pending connections; twice is fine; read() then throws", () => {
    let ready = 0, errors = 0, lcalls = 0;
    const l = api(() => new Listener({ ...env.b, port: 83, onReadable: cb((n: number) => { ready = n; lcalls++; }) }));
    const c = api(() => new TCP({ ...env.a, address: ADDR_B, port: 83, onError: cb(() => { errors++; }) }));
    runUntil(env, () => ready === 1);
    closeAll(l);
    closeAll(l);
    assert.throws(() => api(() => l.read()), { message: "closed" });
    runUntil(env, () => errors === 1, 10000, "reset of the pending connection");
    const before = lcalls;
    const c2 = api(() => new TCP({ ...env.a, address: ADDR_B, port: 83, onError: cb(() => { errors++; }) }));
    runUntil(env, () => errors === 2, 10000, "refused after close");
    assert.equal(lcalls, before, "no listener callback after close");
    closeAll(c, c2);
  });

  it("options: checks, target, port in use", () => {
    const cases: [unknown, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor][] = [
      [undefined, TypeError],
      [{ ...env.b, port: 70000 }, RangeError],
      [{ ...env.b, port: -1 }, RangeError],
      [{ ...env.b, port: "80" }, TypeError],
      [{ ...env.b, address: "x" }, RangeError],
      [{ ...env.b, onReadable: 3 }, TypeError],
      [{ ...env.b, onError: "e" }, TypeError],
      [{ ...env.b, format: "buffer" }, RangeError],
      [{ ...env.b, backlog: 0 }, RangeError],
      [{ ...env.b, backlog: "4" }, TypeError],
    ];
    for (let i = 0; i < cases.length; i++) {
      const [o, E] = cases[i];
      assert.throws(() => api(() => new Listener(o as ConstructorParameters<typeof Listener>[0])), E, `case ${i}`);
    }
    assert.equal(env.B.tcp.inUse().listeners, 0);
    const target = { x: 1 };
    const l = api(() => new Listener({ ...env.b, port: 90, address: "0.0.0.0", format: "socket/tcp", target, extra: 1 } as never));
    assert.equal(l.target, target);
    assert.equal(l.port, 90);
    assert.equal(l.format, "socket/tcp");
    assert.throws(() => { l.format = "buffer" as "socket/tcp"; }, RangeError);
    assert.throws(() => api(() => new Listener({ ...env.b, port: 90 })), Error);
    closeAll(l);
  });
});
