/**
 * `netsim run MODULE [--peer http|echo] [--seed S] [--bytes N] [--loss P] [--delay MS] [--max-ms MS] [--pcap FILE]`
 *
 * Runs an app module written for Moddable, unchanged: it imports `embedded:io/socket/tcp` /
 * `embedded:io/socket/listener` (mapped by host-sim/loader.ts to this stack's classes) and uses
 * onReadable/onWritable/onError, `target`, read/write as on the device; `trace()`,
 * `ArrayBuffer.fromString()` and `String.fromArrayBuffer()` are provided. The module's sockets run on
 * a simulated stack "app" (192.0.2.1/24); a second stack "peer" (192.0.2.2) on the same simulated link
 * runs built-in apps:
 *   --peer http (default)  host-sim/apps.ts httpServer on :80 and echoServer on :7, for client apps;
 *   --peer echo            an echo client: connects to 192.0.2.1:7, sends N pattern bytes (--bytes,
 *                          default 100000), checks every byte that comes back, then closes.
 * The run ends when the network is idle (TIME-WAIT included) or after --max-ms of virtual time.
 * Exit code 0 when the peer is satisfied, every connection of the app ended and no exception was caught.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Stack } from "../src/stack.js";
import { TCP } from "../src/socket/tcp.js";
import { echoServer, httpServer, patternByte, type Env, type ServerStats, writePattern } from "./apps.js";
import { bindDefaultStack, installModdableGlobals, registerEmbeddedLoader } from "./loader.js";
import { PcapWriter } from "./pcap.js";
import { SimNetwork } from "./simnet.js";

export const APP_ADDRESS = "192.0.2.1";
export const PEER_ADDRESS = "192.0.2.2";

export type PeerKind = "http" | "echo";

export interface RunModuleOptions {
  /** Path (or file: URL) of the app module. */
  module: string;
  peer?: PeerKind;
  seed?: number;
  /** --peer echo: bytes the echo client sends. */
  bytes?: number;
  /** Loss probability per frame, each way. */
  loss?: number;
  /** One-way delay, ms. */
  delayMs?: number;
  /** Virtual time limit, ms. */
  maxMs?: number;
  pcap?: string;
  /** Where the app's trace() output goes (default: stdout). */
  trace?: (text: string) => void;
}

export interface EchoResult { sent: number; received: number; mismatches: number; closed: boolean; error: boolean }

export interface RunModuleResult {
  ok: boolean;
  /** Why not ok (empty when ok). */
  problems: string[];
  timeMs: number;
  stop: string;
  peer: PeerKind;
  http?: ServerStats;
  echoServerStats?: ServerStats;
  echo?: EchoResult;
  app: { connections: number; timeWait: number; listeners: number; internalErrors: number; callbackErrors: number; lastCallbackError: string | null };
}

/** The peer's echo client: `total` pattern bytes out, every byte checked on the way back. */
function echoClient(env: Env, address: string, port: number, total: number, r: EchoResult): TCP {
  const chunk = new Uint8Array(4096);
  const buf = new Uint8Array(8192);
  const finish = (s: TCP, error: boolean): void => {
    if (r.closed) return;
    r.closed = true;
    r.error = error;
    s.close();
  };
  return new TCP({
    address, port, stack: env.stack, clock: env.clock,
    onWritable(this: TCP, room: number): void {
      r.sent = writePattern(this, room, chunk, r.sent, total);
    },
    onReadable(this: TCP): void {
      for (;;) {
        const n = this.read(buf);
        if (n === undefined || n === 0) break;
        for (let k = 0; k < n; k++) if (buf[k] !== patternByte(r.received + k)) r.mismatches++;
        r.received += n;
      }
      if (r.received >= total) finish(this, false);
    },
    onError(this: TCP): void { finish(this, r.received < total); },
  });
}

export async function runModule(o: RunModuleOptions): Promise<RunModuleResult> {
  const peerKind = o.peer ?? "http";
  const seed = o.seed ?? 1;
  const pcap = o.pcap !== undefined ? new PcapWriter() : undefined;
  const net = new SimNetwork(pcap !== undefined ? { seed, pcap } : { seed });
  const appNode = net.addNode("app"), peerNode = net.addNode("peer");
  const app = new Stack({ address: APP_ADDRESS, preset: "default" }, appNode);
  const peer = new Stack({ address: PEER_ADDRESS, preset: "default" }, peerNode);
  appNode.attach(app);
  peerNode.attach(peer);
  if ((o.loss ?? 0) > 0 || (o.delayMs ?? 0) > 0) net.setFaults("*", "*", { loss: o.loss ?? 0, delayMs: o.delayMs ?? 0 });
  const clock = (): number => net.now;
  const env: Env = { stack: peer, clock };

  const result: RunModuleResult = {
    ok: false, problems: [], timeMs: 0, stop: "", peer: peerKind,
    app: { connections: 0, timeWait: 0, listeners: 0, internalErrors: 0, callbackErrors: 0, lastCallbackError: null },
  };
  let http: ReturnType<typeof httpServer> | null = null;
  let echo: ReturnType<typeof echoServer> | null = null;
  const echoResult: EchoResult = { sent: 0, received: 0, mismatches: 0, closed: false, error: false };
  if (peerKind === "http") {
    http = httpServer(env, 80);
    echo = echoServer(env, 7);
  }

  // The app: the loader maps embedded:io/socket/* to our classes, bound to the app stack.
  registerEmbeddedLoader();
  bindDefaultStack(app, clock);
  installModdableGlobals(o.trace ?? ((text) => { process.stdout.write(text); }));
  const url = o.module.startsWith("file:") ? o.module : pathToFileURL(path.resolve(o.module)).href;
  await import(url);

  if (peerKind === "echo") {
    const total = o.bytes ?? 100_000;
    net.schedule(net.now + 10, () => { echoClient(env, APP_ADDRESS, 7, total, echoResult); });
  }
  const r = net.run({ maxMs: o.maxMs ?? 600_000 });
  result.timeMs = r.timeMs;
  result.stop = r.reason;
  if (r.reason !== "idle") result.problems.push(`the network did not go idle (${r.reason} at ${r.timeMs} ms)`);

  const u = app.tcp.inUse();
  result.app = {
    connections: u.connections, timeWait: u.timeWait, listeners: u.listeners, internalErrors: app.internalErrors,
    callbackErrors: app.tcp.callbackErrors,
    lastCallbackError: app.tcp.lastCallbackError === null ? null : String(app.tcp.lastCallbackError),
  };
  if (u.connections !== 0) result.problems.push(`${u.connections} app connection(s) still open`);
  if (app.internalErrors + peer.internalErrors !== 0) result.problems.push("a stack caught an internal error");
  if (app.tcp.callbackErrors !== 0) result.problems.push(`an app callback threw: ${result.app.lastCallbackError}`);
  if (http !== null && echo !== null) {
    result.http = { ...http.stats };
    result.echoServerStats = { ...echo.stats };
    const accepted = http.stats.accepted + echo.stats.accepted;
    if (accepted === 0) result.problems.push("the app made no connection to the peer");
    if (http.stats.errors + echo.stats.errors !== 0) result.problems.push("a peer server saw an error");
    if (http.stats.closed !== http.stats.accepted) result.problems.push("an HTTP exchange did not complete");
  } else {
    result.echo = echoResult;
    if (!echoResult.closed || echoResult.error) result.problems.push("the echo exchange did not complete");
    if (echoResult.received !== echoResult.sent) result.problems.push(`echoed ${echoResult.received} of ${echoResult.sent} bytes`);
    if (echoResult.mismatches !== 0) result.problems.push(`${echoResult.mismatches} echoed bytes differ`);
  }
  if (pcap !== undefined && o.pcap !== undefined) pcap.writeFile(o.pcap);
  result.ok = result.problems.length === 0;
  return result;
}

function usage(): string {
  return "usage: netsim run MODULE [--peer http|echo] [--seed S] [--bytes N] [--loss P] [--delay MS] [--max-ms MS] [--pcap FILE]";
}

export async function runModuleCli(args: string[]): Promise<number> {
  let module: string | undefined;
  const o: Partial<RunModuleOptions> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = (): number => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v)) throw new RangeError(`${a}: not a number`);
      return v;
    };
    switch (a) {
      case "--peer": {
        const p = args[++i];
        if (p !== "http" && p !== "echo") throw new RangeError("--peer: http or echo");
        o.peer = p;
        break;
      }
      case "--seed": o.seed = num(); break;
      case "--bytes": o.bytes = num(); break;
      case "--loss": o.loss = num(); break;
      case "--delay": o.delayMs = num(); break;
      case "--max-ms": o.maxMs = num(); break;
      case "--pcap": o.pcap = args[++i]; break;
      case "--help": case "-h": console.log(usage()); return 0;
      default:
        if (a.startsWith("--")) { console.error(`netsim run: unknown option ${a}\n${usage()}`); return 2; }
        if (module !== undefined) { console.error(`netsim run: one module only\n${usage()}`); return 2; }
        module = a;
    }
  }
  if (module === undefined) { console.error(usage()); return 2; }
  const peer = o.peer ?? "http";
  console.log(`netsim run ${module}: app ${APP_ADDRESS}, peer ${PEER_ADDRESS} ` +
    `(${peer === "http" ? "HTTP server on :80, echo server on :7" : `echo client -> :7, ${o.bytes ?? 100_000} bytes`}), seed ${o.seed ?? 1}`);
  const r = await runModule({ ...o, module });
  console.log(`--- ${r.stop} after ${r.timeMs.toFixed(1)} ms of virtual time`);
  if (r.http !== undefined && r.echoServerStats !== undefined) {
    console.log(`peer http server: ${r.http.accepted} connections, ${r.http.bytesIn} bytes in, ${r.http.bytesOut} bytes out, ` +
      `${r.http.closed} closed, ${r.http.errors} errors`);
    console.log(`peer echo server: ${r.echoServerStats.accepted} connections, ${r.echoServerStats.bytesIn} bytes echoed`);
  }
  if (r.echo !== undefined) {
    console.log(`peer echo client: sent ${r.echo.sent}, received ${r.echo.received}, ${r.echo.mismatches} differing, ` +
      `${r.echo.closed ? "closed" : "open"}`);
  }
  console.log(`app stack: ${r.app.connections} connections open, ${r.app.listeners} listeners, ` +
    `${r.app.internalErrors} internal errors, ${r.app.callbackErrors} callback errors`);
  console.log(r.ok ? "OK" : `FAILED: ${r.problems.join("; ")}`);
  return r.ok ? 0 : 1;
}
