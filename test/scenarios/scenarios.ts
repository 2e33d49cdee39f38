/**
 * The scenarios run in V8 (test/xs/scenarios.test.ts imports this file) and in XS (the same file,
 * bundled from test/scenarios/index.ts): one definition, two engines. Each takes JSON arguments and
 * returns a JSON result (delivered bytes as counts + digests, the final counters of both stacks, the
 * link's frame digests), so the two engines' results can be compared byte for byte.
 *
 * Pure ECMAScript: src/ and this folder only.
 */
import type { StackOptions } from "../../src/config.js";
import type { Stack } from "../../src/stack.js";
import { CLOSED, stateNames, type Tcb } from "../../src/tcp/tcb.js";
import { BulkEnd, connect, CONTROL_NONE, Server } from "./bulk.js";
import { ADDR_B, Pair, type PairOptions } from "./link.js";

export const PORT = 80;
const MAX_STEPS = 2_000_000;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface CommonArgs {
  seed?: number;
  preset?: "minimal" | "default" | "throughput";
  /** Extra stack options (timestamps, sack, ...). */
  stack?: StackOptions;
  lossAB?: number;
  lossBA?: number;
  delayMs?: number;
  /** Keep the link's wire digests (default true). */
  digest?: boolean;
}

function pairFor(a: CommonArgs): Pair {
  const o: PairOptions = {
    seed: a.seed ?? 1,
    stack: { preset: a.preset ?? "default", ...(a.stack ?? {}) },
    lossAB: a.lossAB ?? 0,
    lossBA: a.lossBA ?? 0,
    delayMs: a.delayMs ?? 1,
    digest: a.digest !== false,
  };
  return new Pair(o);
}

export function stackReport(s: Stack): { [k: string]: Json } {
  const counters: { [k: string]: Json } = {};
  const c = s.counters as unknown as Record<string, number>;
  for (const k of Object.keys(c)) counters[k] = c[k];
  const u = s.tcp.inUse();
  return {
    counters,
    inUse: { connections: u.connections, timeWait: u.timeWait, listeners: u.listeners },
    internalErrors: s.internalErrors,
    lastInternalError: s.lastInternalError === null ? null : String(s.lastInternalError),
    callbackErrors: s.tcp.callbackErrors,
    lastCallbackError: s.tcp.lastCallbackError === null ? null : String(s.tcp.lastCallbackError),
    arpPending: s.arp.pendingInUse(),
  };
}

function tcbReport(t: Tcb | null): { [k: string]: Json } | null {
  if (t === null) return null;
  return {
    state: stateNames[t.state], iss: t.iss, irs: t.irs, sndUna: t.sndUna, sndNxt: t.sndNxt, rcvNxt: t.rcvNxt,
    sndWnd: t.sndWnd, mss: t.mss, sndScale: t.sndScale, rcvScale: t.rcvScale, tsOk: t.tsOk, sackOk: t.sackOk,
    wsOk: t.wsOk, localPort: t.localPort, remotePort: t.remotePort, cwnd: t.cwnd, ssthresh: t.ssthresh,
    srtt: t.srtt, rto: t.rto,
  };
}

/** The first Tcb of `s` that is not CLOSED (or null). */
function liveTcb(s: Stack): Tcb | null {
  const tcbs = s.tcp.tcbs;
  for (let i = 0; i < tcbs.length; i++) if (tcbs[i].state !== CLOSED) return tcbs[i];
  return null;
}

function finish(p: Pair, extra: { [k: string]: Json }): { [k: string]: Json } {
  return { ...extra, now: p.now, steps: p.steps, link: p.linkReport(), A: stackReport(p.A), B: stackReport(p.B) };
}

// ------------------------------------------------------------------------------------ handshake

/** Connect A → B:80, accept, both ends writable. Reports both Tcbs once ESTABLISHED. */
export function handshake(a: CommonArgs): { [k: string]: Json } {
  const p = pairFor(a);
  const opts = { send: 0, expect: 0, close: "never" as const, salt: 1, peerSalt: 2, verify: true };
  const client = new BulkEnd("client", opts, p.clock);
  const server = new BulkEnd("server", { ...opts, salt: 2, peerSalt: 1 }, p.clock);
  const srv = new Server(p.B, p.clock, PORT, [server]);
  connect(client, p.A, ADDR_B, PORT);
  const why = p.runUntil(() => client.connectedAt >= 0 && server.connectedAt >= 0, MAX_STEPS);
  const tA = liveTcb(p.A), tB = liveTcb(p.B);
  const r = finish(p, {
    scenario: "handshake", why, client: client.report(), server: server.report(),
    tcbA: tcbReport(tA), tcbB: tcbReport(tB),
  });
  srv.listener.close();
  return r;
}

// ------------------------------------------------------------------------------------ transfers

export interface TransferArgs extends CommonArgs {
  /** Bytes A → B and B → A. */
  up: number;
  down: number;
  /** B holds its reads until this virtual time (zero window), ms. -1 = never holds. */
  holdUntil?: number;
  verify?: boolean;
}

/**
 * A sends `up` bytes, B sends `down` bytes, at once. A closes first (active close, TIME-WAIT) once it has
 * sent everything and received all of B's bytes; B closes on EOF. Runs until nothing is left to do
 * (TIME-WAIT expired), then reports; `atClose` is the connection table when both sockets were closed.
 */
export function transfer(a: TransferArgs): { [k: string]: Json } {
  const p = pairFor(a);
  const verify = a.verify !== false;
  const hold = a.holdUntil !== undefined && a.holdUntil >= 0;
  const client = new BulkEnd("client", { send: a.up, expect: a.down, close: "active", salt: 11, peerSalt: 22, verify }, p.clock);
  const server = new BulkEnd("server", { send: a.down, expect: a.up, close: "passive", salt: 22, peerSalt: 11, verify, hold }, p.clock);
  const srv = new Server(p.B, p.clock, PORT, [server]);
  connect(client, p.A, ADDR_B, PORT);
  if (hold) {
    p.at(a.holdUntil as number, () => {
      server.reading = true;
      if (server.sock !== null) server.drain(server.sock);
    });
  }
  const why = p.runUntil(() => client.closed && server.closed, MAX_STEPS);
  const atClose = { now: p.now, A: inUseJson(p.A), B: inUseJson(p.B) };
  srv.listener.close();
  // The active closer's TIME-WAIT record (RFC 9293 §3.6), then everything expires.
  const tw = p.runUntil(() => p.A.tcp.inUse().timeWait > 0, MAX_STEPS);
  const atTimeWait = { why: tw, now: p.now, A: inUseJson(p.A), B: inUseJson(p.B) };
  const idle = p.runUntil(null, MAX_STEPS);
  return finish(p, { scenario: "transfer", why, idle, atClose, atTimeWait, client: client.report(), server: server.report() });
}

function inUseJson(s: Stack): { [k: string]: Json } {
  const u = s.tcp.inUse();
  return { connections: u.connections, timeWait: u.timeWait, listeners: u.listeners };
}

/** Bulk transfer both ways, clean link. */
export function bulk(a: CommonArgs & { up?: number; down?: number }): { [k: string]: Json } {
  return { ...transfer({ ...a, up: a.up ?? 200_000, down: a.down ?? 150_000 }), scenario: "bulk" };
}

/** B does not read for 3 s: A's window closes, A probes (persist), then everything flows. */
export function zeroWindow(a: CommonArgs & { up?: number; holdMs?: number }): { [k: string]: Json } {
  return { ...transfer({ ...a, up: a.up ?? 60_000, down: 0, holdUntil: a.holdMs ?? 3000 }), scenario: "zeroWindow" };
}

/** Bulk both ways with a seeded dropper (5 % each way unless given). */
export function loss(a: CommonArgs & { up?: number; down?: number }): { [k: string]: Json } {
  return {
    ...transfer({ ...a, up: a.up ?? 100_000, down: a.down ?? 80_000, lossAB: a.lossAB ?? 0.05, lossBA: a.lossBA ?? 0.05 }),
    scenario: "loss",
  };
}

/** A small exchange and a graceful close: FIN both ways, TIME-WAIT on A, then every pool free. */
export function gracefulClose(a: CommonArgs): { [k: string]: Json } {
  return { ...transfer({ ...a, up: 5000, down: 3000 }), scenario: "gracefulClose" };
}

// ------------------------------------------------------------------------------------ RST

/**
 * (1) A connects to a port nobody listens on: B answers RST, A's socket gets onError (refused).
 * (2) A and B connected; B reboots (a fresh stack, same address) and A writes: B answers RST, A's
 *     socket gets onError (reset).
 */
export function rst(a: CommonArgs): { [k: string]: Json } {
  const p = pairFor(a);
  const o = { send: 0, expect: 0, close: "never" as const, salt: 1, peerSalt: 2, verify: true };
  const refused = new BulkEnd("refused", o, p.clock);
  connect(refused, p.A, ADDR_B, PORT + 1);
  const why1 = p.runUntil(() => refused.errorCalls > 0, MAX_STEPS);
  const afterRefused = { now: p.now, A: stackReport(p.A), B: stackReport(p.B) };

  const client = new BulkEnd("client", { ...o, send: 4096 }, p.clock);
  const server = new BulkEnd("server", { ...o, salt: 2, peerSalt: 1 }, p.clock);
  const srv = new Server(p.B, p.clock, PORT, [server]);
  // The client writes nothing until B has rebooted.
  client.writing = false;
  connect(client, p.A, ADDR_B, PORT);
  const why2 = p.runUntil(() => server.connectedAt >= 0 && client.connectedAt >= 0, MAX_STEPS);
  srv.listener.close();
  const oldB = p.B;
  p.rebootB();
  client.writing = true;
  if (client.sock !== null) client.pump(client.sock, 8192);
  const why3 = p.runUntil(() => client.errorCalls > 0, MAX_STEPS);
  const idle = p.runUntil(null, MAX_STEPS);
  return finish(p, {
    scenario: "rst", why1, why2, why3, idle, afterRefused, refused: refused.report(), client: client.report(),
    server: server.report(), oldB: stackReport(oldB),
  });
}

// ------------------------------------------------------------------------------------ steady state

/**
 * Endless bulk both ways on one connection, for the allocation check: setupSteady() connects and warms
 * up; pump() runs the link until at least one more frame has been delivered (a data segment, an ACK,
 * or both in one) with every socket read/write that triggers.
 */
interface Steady { p: Pair; client: BulkEnd; server: BulkEnd; srv: Server; stalls: number; holdMs: number; readMs: number }
let steady: Steady | null = null;

export interface SteadyArgs extends CommonArgs {
  control?: number;
  verify?: boolean;
  warmupFrames?: number;
  /** Only A sends (B answers with pure ACKs, delayed ACK timer). */
  oneWay?: boolean;
  /** B alternates: reads for readMs, then holds its reads for holdMs (zero window, persist probes). */
  holdMs?: number;
  readMs?: number;
}

export function setupSteady(a: SteadyArgs): { [k: string]: Json } {
  const p = pairFor(a);
  const control = a.control ?? CONTROL_NONE;
  const verify = a.verify !== false;
  const client = new BulkEnd("client", { send: Infinity, expect: -1, close: "never", salt: 11, peerSalt: 22, verify, control }, p.clock);
  const server = new BulkEnd("server", {
    send: a.oneWay === true ? 0 : Infinity, expect: -1, close: "never", salt: 22, peerSalt: 11, verify, control,
  }, p.clock);
  const srv = new Server(p.B, p.clock, PORT, [server]);
  connect(client, p.A, ADDR_B, PORT);
  steady = { p, client, server, srv, stalls: 0, holdMs: a.holdMs ?? 0, readMs: a.readMs ?? 0 };
  if (steady.holdMs > 0) p.at(steady.readMs, toggleHold);
  const warm = a.warmupFrames ?? 200;
  for (let i = 0; i < warm; i++) pump();
  return steadyReport();
}

/** The app timer of the hold cycle: B stops or resumes reading (made once, re-armed: no closure). */
function toggleHold(): void {
  const s = steady as Steady;
  const srv = s.server;
  srv.reading = !srv.reading;
  if (srv.reading && srv.sock !== null) srv.drain(srv.sock);
  s.p.at(s.p.now + (srv.reading ? s.readMs : s.holdMs), toggleHold);
}

/** setupSteady, `frames` pumps, the report (the two engines must agree on it). */
export function steadyRun(a: SteadyArgs & { frames: number }): { [k: string]: Json } {
  setupSteady(a);
  for (let i = 0; i < a.frames; i++) pump();
  const s = steady as Steady;
  const r = { ...steadyReport(), link: s.p.linkReport(), A: stackReport(s.p.A), B: stackReport(s.p.B) };
  steady = null;
  return r;
}

/** One step of the allocation check: until one more frame has been delivered. */
export function pump(): void {
  const s = steady as Steady;
  const p = s.p;
  const d0 = p.ab.delivered + p.ba.delivered;
  for (let i = 0; i < 1000; i++) {
    if (!p.step()) { s.stalls++; return; }
    if (p.ab.delivered + p.ba.delivered !== d0) return;
  }
  s.stalls++;
}

export function steadyReport(): { [k: string]: Json } {
  const s = steady as Steady;
  const p = s.p;
  return {
    now: p.now, frames: p.delivered(), stalls: s.stalls,
    segsInA: p.A.counters.tcpInSegs, segsInB: p.B.counters.tcpInSegs,
    segsOutA: p.A.counters.tcpOutSegs, segsOutB: p.B.counters.tcpOutSegs,
    client: s.client.report(), server: s.server.report(),
    paths: pathCounters(p),
    internalErrors: p.A.internalErrors + p.B.internalErrors,
    callbackErrors: p.A.tcp.callbackErrors + p.B.tcp.callbackErrors,
  };
}

/** Counters that show which per-segment paths a steady run went through (both stacks summed). */
function pathCounters(p: Pair): { [k: string]: number } {
  const a = p.A.counters, b = p.B.counters;
  return {
    retrans: a.tcpRetransSegs + b.tcpRetransSegs,
    fastRetrans: a.tcpFastRetrans + b.tcpFastRetrans,
    timeouts: a.tcpTimeouts + b.tcpTimeouts,
    outOfOrder: a.tcpInOutOfOrder + b.tcpInOutOfOrder,
    persistProbes: a.tcpPersistProbes + b.tcpPersistProbes,
    delayedAcks: a.tcpDelayedAcks + b.tcpDelayedAcks,
    arpRequests: a.arpOutRequests + b.arpOutRequests,
    txRefused: a.linkTxRefused + b.linkTxRefused,
  };
}

export function dropSteady(): null {
  steady = null;
  return null;
}

// ------------------------------------------------------------------------------------ compute

/**
 * One-way transfer for the compute figure: setupCompute() connects (not measured), runCompute() moves
 * `bytes` A → B and closes; the caller meters runCompute (XS compute units, or V8 wall time).
 */
let compute: { p: Pair; client: BulkEnd; server: BulkEnd } | null = null;

export function setupCompute(a: CommonArgs & { bytes: number; verify?: boolean }): { [k: string]: Json } {
  const p = pairFor(a);
  const verify = a.verify === true;
  const client = new BulkEnd("client", { send: a.bytes, expect: 0, close: "active", salt: 11, peerSalt: 22, verify }, p.clock);
  const server = new BulkEnd("server", { send: 0, expect: a.bytes, close: "passive", salt: 22, peerSalt: 11, verify }, p.clock);
  new Server(p.B, p.clock, PORT, [server]);
  // Hold the writes back until connected so that runCompute() carries all the data.
  client.writing = false;
  connect(client, p.A, ADDR_B, PORT);
  p.runUntil(() => client.connectedAt >= 0 && server.connectedAt >= 0, MAX_STEPS);
  client.writing = true;
  compute = { p, client, server };
  return { now: p.now };
}

export function runCompute(): { [k: string]: Json } {
  const c = compute as { p: Pair; client: BulkEnd; server: BulkEnd };
  const p = c.p;
  const t0 = p.now;
  const s = c.client.sock;
  if (s !== null) c.client.pump(s, s.write(c.client.chunk.subarray(0, 0)));
  const why = p.runUntil(() => c.server.got >= c.client.o.send && c.server.closed, MAX_STEPS);
  return {
    why, got: c.server.got, bad: c.server.bad, virtualMs: p.now - t0, frames: p.delivered(),
    segsA: p.A.counters.tcpOutSegs, segsB: p.B.counters.tcpOutSegs,
  };
}
