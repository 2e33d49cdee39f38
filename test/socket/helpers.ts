/** Two stacks on the simulator, and instrumentation for the ECMA-419 callback rules. */
import assert from "node:assert/strict";
import { SimNetwork } from "../../host-sim/simnet.js";
import { Stack } from "../../src/stack.js";
import type { StackOptions } from "../../src/config.js";
import type { Tcb } from "../../src/tcp/tcb.js";
import { Listener } from "../../src/socket/listener.js";
import { TCP, type TCPOptions } from "../../src/socket/tcp.js";

export const ADDR_A = "192.0.2.1";
export const ADDR_B = "192.0.2.2";

export interface Env {
  net: SimNetwork;
  A: Stack;
  B: Stack;
  clock: () => number;
  /** Options selecting stack A / B. */
  a: { stack: Stack; clock: () => number };
  b: { stack: Stack; clock: () => number };
}

/** Depth of socket method calls made through api(): a callback must always see 0. */
let inside = 0;
/** Callbacks that ran inside a method or constructor. */
export let violations = 0;

export function resetViolations(): void { violations = 0; inside = 0; }

/** Run a socket method / constructor, marking that we are inside the API. */
export function api<T>(f: () => T): T {
  inside++;
  try { return f(); } finally { inside--; }
}

/** Wrap a callback: records a violation when it runs inside api(). */
export function cb<S, A extends unknown[]>(f: (this: S, ...args: A) => void): (this: S, ...args: A) => void {
  return function (this: S, ...args: A): void {
    if (inside !== 0) violations++;
    f.apply(this, args);
  };
}

export function makeEnv(seed = 1, opts: StackOptions = {}): Env {
  const net = new SimNetwork({ seed });
  const na = net.addNode("a"), nb = net.addNode("b");
  const A = new Stack({ address: ADDR_A, ...opts }, na);
  na.attach(A);
  const B = new Stack({ address: ADDR_B, ...opts }, nb);
  nb.attach(B);
  const clock = (): number => net.now;
  return { net, A, B, clock, a: { stack: A, clock }, b: { stack: B, clock } };
}

/** Run until cond() or fail after maxMs of virtual time. */
export function runUntil(env: Env, cond: () => boolean, maxMs = 30000, what = "condition"): void {
  const r = env.net.run({ until: cond, maxMs });
  assert.ok(cond(), `timed out waiting for ${what} (${r.reason} at ${r.timeMs} ms)`);
}

/** Run until nothing is left to do (TIME-WAIT and linger timers expire), then check the pools. */
export function assertPoolsEmpty(env: Env): void {
  env.net.run({ maxMs: 10 * 60_000 });
  for (const s of [env.A, env.B]) {
    const u = s.tcp.inUse();
    assert.equal(u.connections, 0, "connection blocks still in use");
    assert.equal(u.listeners, 0, "listeners still in use");
  }
  assert.equal(violations, 0, "a callback ran inside a method or constructor");
  assert.equal(env.A.internalErrors, 0, "stack A caught an exception in poll");
  assert.equal(env.B.internalErrors, 0, "stack B caught an exception in poll");
}

/** The Tcbs of a stack that have an owner (open sockets). */
export function ownedTcbs(s: Stack): Tcb[] {
  return s.tcp.tcbs.filter((t) => t.owner !== null);
}

export interface Pair {
  listener: Listener;
  client: TCP;
  server: TCP;
}

/**
 * A listener on B:port, a client on A connected to it, and the server side adopted with `from`.
 * The callbacks given are installed from the start.
 */
export function connectPair(env: Env, client: Partial<TCPOptions> = {}, server: Partial<TCPOptions> = {}, port = 80): Pair {
  let srv: TCP | undefined;
  let writable = false;
  const listener = api(() => new Listener({
    ...env.b, port,
    onReadable: cb(function (this: Listener) {
      const s = api(() => this.read());
      assert.ok(s !== undefined);
      srv = api(() => new TCP({ ...server, from: s }));
    }),
  }));
  const userOnWritable = client.onWritable;
  const c = api(() => new TCP({
    ...env.a, address: ADDR_B, port, ...client,
    onWritable: cb(function (this: TCP, n: number) {
      writable = true;
      if (userOnWritable) userOnWritable.call(this, n);
    }),
  }));
  runUntil(env, () => srv !== undefined && writable, 30000, "connection");
  return { listener, client: c, server: srv as unknown as TCP };
}

/** Deterministic payload byte i. */
export function byteAt(i: number): number { return (i * 31 + (i >>> 8) * 7 + 5) & 0xff; }

export function pattern(start: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = byteAt(start + i);
  return b;
}

export function closeAll(...xs: ({ close(): void } | undefined)[]): void {
  for (const x of xs) if (x !== undefined) api(() => x.close());
}
