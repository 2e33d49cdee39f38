/**
 * `netsim tap`: one stack on a Linux TAP device with the built-in apps (DESIGN.md §7, host-sim/TAP.md).
 *
 *   netsim tap --tap tap0 --ip 192.0.2.2/24 --gw 192.0.2.1 --host-ip 192.0.2.1/24 --serve http:80,echo:7
 *
 * The TAP vanishes when this process exits, so `--host-ip` (bring the device up and give the kernel
 * side an address, right after opening it) is the usual way to run it; run it inside a network
 * namespace (`unshare --net ...`, `ip netns exec ...`) to keep the host's namespace untouched.
 *
 * Apps: the servers of host-sim/apps.ts and host-sim/iperf3.ts, and client tasks (HTTP GET, bulk send
 * that waits for the last ACK, bulk receive, echo client, iperf3 client). Node-side faults (loss,
 * delay, jitter, duplication, reordering, corruption) come from host-sim/faults.ts's seeded FaultLink,
 * driven by the wall clock between the TAP and the stack (TapFaultSeam). Progress once a second, a
 * summary at the end (`--json`: also one machine-readable line `NETSIM-SUMMARY {...}`).
 */
import { createHash, type Hash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { chargenServer, discardServer, echoServer, httpGet, httpServer, type Env, type HttpResult, type ServerStats } from "./apps.js";
import { FaultLink, type Faults, type LinkStats as FaultStats } from "./faults.js";
import { iperf3Client, iperf3Server, type Iperf3ClientResult, type Iperf3ServerStats } from "./iperf3.js";
import { PcapWriter } from "./pcap.js";
import { connectionTable, counterSummary } from "./report.js";
import { Rng } from "./rng.js";
import { TapDriver, type Deliver, type FrameFaults } from "./tap.js";
import type { PresetName, StackOptions } from "../src/config.js";
import { Listener } from "../src/socket/listener.js";
import { TCP } from "../src/socket/tcp.js";
import { setDefaultStack } from "../src/socket/default-stack.js";
import { Stack } from "../src/stack.js";

// ---------------------------------------------------------------------------------------------
// Pattern bytes (same stream as apps.ts patternByte: byte i = (i * 7 + (i >>> 8)) & 0xff, period 65536)

const PERIOD = 65536;
let patternTable: Uint8Array | null = null;
/** A view of `n` (<= 65536) pattern bytes starting at stream offset `offset`. */
export function patternView(offset: number, n: number): Uint8Array {
  if (patternTable === null) {
    patternTable = new Uint8Array(PERIOD * 2);
    for (let i = 0; i < patternTable.length; i++) patternTable[i] = (i * 7 + (i >>> 8)) & 0xff;
  }
  const at = offset % PERIOD;
  return patternTable.subarray(at, at + n);
}

// ---------------------------------------------------------------------------------------------
// Fault seam: FaultLink decisions on the wall clock (no fault logic here: host-sim/faults.ts decides)

/**
 * A FrameFaults for TapDriver: every frame goes through `link.send` (when there is a link); copies
 * are delivered now or at their `atMs` (performance.now() ms) from one timer. `record` sees each
 * frame at the stack's side of the seam (rx: as delivered to the stack; tx: as the stack sent it).
 */
export class TapFaultSeam implements FrameFaults {
  readonly link: FaultLink | null;
  /** Copies waiting for their time, ascending by atMs (stable for equal times). */
  private queue: { at: number; frame: Uint8Array; deliver: Deliver }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Copies delivered late (after a wait in the queue). */
  delayed = 0;
  /** Most copies waiting at once. */
  maxQueued = 0;

  constructor(
    link: FaultLink | null,
    private readonly record: ((frame: Uint8Array, length: number, now: number) => void) | null,
    private readonly side: "rx" | "tx",
  ) {
    this.link = link;
  }

  process(frame: Uint8Array, length: number, now: number, deliver: Deliver): void {
    if (this.closed) return;
    if (this.side === "tx" && this.record !== null) this.record(frame, length, now);
    if (this.link === null) {
      this.hand(frame, length, now, deliver);
      return;
    }
    this.flushDue(now);
    const d = this.link.send(frame, length, now);
    for (const c of d.deliveries) {
      if (c.atMs <= now && this.queue.length === 0) this.hand(c.frame, c.frame.length, now, deliver);
      else this.enqueue(c.atMs, c.frame, deliver);
    }
  }

  /** Frames still waiting (e.g. at exit). */
  get queued(): number {
    return this.queue.length;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private hand(frame: Uint8Array, length: number, now: number, deliver: Deliver): void {
    if (this.side === "rx" && this.record !== null) this.record(frame, length, now);
    deliver(frame, length, now);
  }

  private enqueue(at: number, frame: Uint8Array, deliver: Deliver): void {
    const q = this.queue;
    let i = q.length;
    while (i > 0 && q[i - 1]!.at > at) i--;
    q.splice(i, 0, { at, frame, deliver });
    if (q.length > this.maxQueued) this.maxQueued = q.length;
    this.arm();
  }

  private flushDue(now: number): void {
    const q = this.queue;
    let n = 0;
    while (n < q.length && q[n]!.at <= now) n++;
    if (n === 0) return;
    const due = q.splice(0, n);
    for (const e of due) {
      this.delayed++;
      this.hand(e.frame, e.frame.length, now, e.deliver);
    }
  }

  private arm(): void {
    if (this.closed || this.queue.length === 0) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(0, Math.ceil(this.queue[0]!.at - performance.now()));
    this.timer = setTimeout(this.onTimer, delay);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.closed) return;
    this.flushDue(performance.now());
    this.arm();
  };
}

/** A pcap file written as it goes (PcapWriter's format; flushed every second and at close). */
export class PcapStream {
  private fd: number;
  private writer = new PcapWriter();
  private headerDone = false;
  frames = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
  }

  record(frame: Uint8Array, length: number, now: number): void {
    this.writer.record(frame, length, performance.timeOrigin + now);
    this.frames++;
  }

  flush(): void {
    if (this.fd < 0) return;
    const bytes = this.writer.bytes();
    const out = this.headerDone ? bytes.subarray(24) : bytes;
    if (out.length > 0) writeSync(this.fd, out);
    this.headerDone = true;
    this.writer = new PcapWriter();
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Options

export type ServeKind = "echo" | "discard" | "chargen" | "http" | "iperf3";
const SERVE_DEFAULT_PORT: Record<ServeKind, number> = { echo: 7, discard: 9, chargen: 19, http: 80, iperf3: 5201 };

export interface TapCliOptions {
  tap: string;
  /** Our address and prefix length (unset with --dhcp). */
  ip: string | null;
  prefix: number;
  gw: string | null;
  dhcp: boolean;
  dhcpTimeoutS: number;
  /** Kernel side of the TAP: brought up and given this address after opening. */
  hostIp: string | null;
  mac: string | null;
  mtu: number;
  preset: PresetName;
  serve: { kind: ServeKind; port: number }[];
  get: { url: string; address: string; port: number; path: string }[];
  send: { address: string; port: number; bytes: number }[];
  recv: { port: number; count: number }[];
  echo: { address: string; port: number; bytes: number }[];
  iperf3: { address: string; port: number; seconds: number; reverse: boolean; parallel: number } | null;
  pcap: string | null;
  seconds: number;
  /** After the client tasks are done, keep running this long (default 0.05 s). */
  lingerS: number;
  /** Client tasks start on SIGUSR2 (scripts start a capture first). */
  waitSignal: boolean;
  /** Frames handed to stack.input between two stack.poll calls within one TAP batch. */
  drain: number;
  quiet: boolean;
  json: boolean;
  faults: Faults | null;
  faultsDir: "both" | "rx" | "tx";
  seed: number;
  help: boolean;
}

export const TAP_USAGE = `usage: netsim tap --tap NAME (--ip A.B.C.D/N [--gw G] | --dhcp) [options]

One stack on a Linux TAP device (root; best inside a network namespace: unshare --net ...).

Interface
  --tap NAME            TAP device to create (e.g. tap0); it vanishes when netsim exits
  --ip A.B.C.D/N        our address and prefix length
  --gw G                default gateway
  --dhcp                get address, netmask and gateway by DHCP instead of --ip
  --dhcp-timeout S      give up waiting for a lease after S seconds (default 20)
  --host-ip A.B.C.D/N   bring NAME up and give the kernel side this address (after opening it)
  --mac M               our MAC (default 02:00:00:00:00:02)
  --mtu N               IP MTU (default 1500)
  --preset NAME         stack preset: minimal | default | throughput (default: default)

Apps (ECMA-419 sockets on the stack)
  --serve LIST          servers, comma-separated KIND[:PORT]: echo:7 discard:9 chargen:19 http:80
                        iperf3:5201 (HTTP: GET / and GET /bytes/N)
  --get URL             HTTP GET http://IP[:PORT]/PATH; body bytes counted and hashed (repeatable)
  --send IP:PORT:BYTES  connect, send BYTES pattern bytes, wait for the last ACK, close (repeatable)
  --recv PORT[:COUNT]   accept COUNT connections (default 1), count and hash what arrives (repeatable)
  --echo IP:PORT:BYTES  send BYTES pattern bytes to an echo server, read them back, compare
  --iperf3 IP[:PORT]    iperf3 client (TCP) against an iperf3 server (kernel: iperf3 -s)
  --iperf3-time S       test length (default 2)      --iperf3-reverse   the server sends (-R)
  --iperf3-parallel N   streams (default 1)

Faults between the TAP and the stack (seeded, host-sim/faults.ts)
  --loss P  --dup P  --reorder P  --corrupt P     probabilities in [0, 1]
  --delay MS  --jitter MS  --reorder-delay MS     one-way times
  --faults-dir both|rx|tx   which direction(s) get them (rx = kernel -> stack; default both)
  --seed S              random seed (default 1)

Run
  --seconds N           stop after N seconds (default: when the client tasks are done; servers only: run
                        until SIGINT/SIGTERM)
  --linger S            after the client tasks are done, keep running S seconds (default 0.05)
  --wait-signal         start the client tasks only on SIGUSR2 (scripts: start a capture or a peer first);
                        --recv listens from the start
  --drain N             frames handed to the stack between two polls (default 32, as the ESP32 loop's
                        drainMax): the apps read (and the window reopens) at least that often
  --pcap FILE           write every frame the stack receives and sends (after rx / before tx faults)
  --quiet               no progress lines
  --json                print the summary also as one line: NETSIM-SUMMARY {...}

Exit status: 0 when every client task succeeded, 1 when one failed (or the stack hit an internal
error), 2 on a usage error.`;

function parseIpv4(s: string, what: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) throw new UsageError(`${what}: not an IPv4 address: ${s}`);
  return s;
}

function parseCidr(s: string, what: string): { ip: string; prefix: number } {
  const [ip, p] = s.split("/");
  const prefix = p === undefined ? 24 : Number(p);
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 30) throw new UsageError(`${what}: bad prefix length in ${s}`);
  return { ip: parseIpv4(ip ?? "", what), prefix };
}

function parsePort(s: string | undefined, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${what}: bad port ${s}`);
  return n;
}

/** 123, 4k, 4K, 4KiB, 2M, 2MiB, 1G: k/M/G are powers of 1024. */
export function parseBytes(s: string | undefined, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?B)?$/.exec(s ?? "");
  if (!m) throw new UsageError(`${what}: bad byte count ${s}`);
  const mul = { "": 1, k: 1024, m: 1 << 20, g: 1 << 30 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  const n = Math.round(Number(m[1]) * mul);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${what}: bad byte count ${s}`);
  return n;
}

function parseProb(s: string | undefined, what: string): number {
  const n = Number(s);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`${what}: must be a probability in [0, 1], got ${s}`);
  return n;
}

function parseNonNeg(s: string | undefined, what: string): number {
  const n = Number(s);
  if (!(n >= 0 && n < Infinity)) throw new UsageError(`${what}: must be a number >= 0, got ${s}`);
  return n;
}

export class UsageError extends Error {}

export function parseTapArgs(args: string[]): TapCliOptions {
  const o: TapCliOptions = {
    tap: "", ip: null, prefix: 24, gw: null, dhcp: false, dhcpTimeoutS: 20, hostIp: null, mac: null, mtu: 1500,
    preset: "default", serve: [], get: [], send: [], recv: [], echo: [], iperf3: null, pcap: null, seconds: 0, lingerS: 0.05, waitSignal: false, drain: 32,
    quiet: false, json: false, faults: null, faultsDir: "both", seed: 1, help: false,
  };
  const faults: Faults = {};
  let iperfTime = 2, iperfReverse = false, iperfParallel = 1;
  let iperfTarget: { address: string; port: number } | null = null;
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    let inline: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) { inline = a.slice(eq + 1); a = a.slice(0, eq); }
    const val = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case "-h": case "--help": o.help = true; break;
      case "--tap": {
        const v = val();
        if (!/^[\w.%-]{1,15}$/.test(v)) throw new UsageError(`--tap: bad interface name ${v}`);
        o.tap = v; break;
      }
      case "--ip": { const c = parseCidr(val(), "--ip"); o.ip = c.ip; o.prefix = c.prefix; break; }
      case "--gw": o.gw = parseIpv4(val(), "--gw"); break;
      case "--dhcp": o.dhcp = true; break;
      case "--dhcp-timeout": o.dhcpTimeoutS = parseNonNeg(val(), a); break;
      case "--host-ip": { const v = val(); const c = parseCidr(v, "--host-ip"); o.hostIp = `${c.ip}/${c.prefix}`; break; }
      case "--mac": {
        const v = val();
        if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(v)) throw new UsageError(`--mac: bad MAC ${v}`);
        o.mac = v; break;
      }
      case "--mtu": {
        const n = Number(val());
        if (!Number.isInteger(n) || n < 576 || n > 9000) throw new UsageError("--mtu: 576..9000");
        o.mtu = n; break;
      }
      case "--preset": {
        const v = val();
        if (v !== "minimal" && v !== "default" && v !== "throughput") throw new UsageError(`--preset: minimal, default or throughput, got ${v}`);
        o.preset = v; break;
      }
      case "--serve": {
        for (const item of val().split(",").filter(Boolean)) {
          const [k, p] = item.split(":");
          if (!k || !(k in SERVE_DEFAULT_PORT)) throw new UsageError(`--serve: unknown server ${item} (echo, discard, chargen, http, iperf3)`);
          const kind = k as ServeKind;
          o.serve.push({ kind, port: p === undefined ? SERVE_DEFAULT_PORT[kind] : parsePort(p, "--serve") });
        }
        break;
      }
      case "--get": {
        const url = val();
        const m = /^http:\/\/([\d.]+)(?::(\d+))?(\/.*)?$/.exec(url);
        if (!m) throw new UsageError(`--get: expected http://IP[:PORT]/PATH, got ${url}`);
        o.get.push({ url, address: parseIpv4(m[1]!, "--get"), port: m[2] ? parsePort(m[2], "--get") : 80, path: m[3] ?? "/" });
        break;
      }
      case "--send": case "--echo": {
        const v = val();
        const [ip, port, bytes] = v.split(":");
        const t = { address: parseIpv4(ip ?? "", a), port: parsePort(port, a), bytes: parseBytes(bytes, a) };
        (a === "--send" ? o.send : o.echo).push(t);
        break;
      }
      case "--recv": {
        const [port, count] = val().split(":");
        const n = count === undefined ? 1 : Number(count);
        if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError("--recv: COUNT 1..1000");
        o.recv.push({ port: parsePort(port, "--recv"), count: n });
        break;
      }
      case "--iperf3": {
        const [ip, port] = val().split(":");
        iperfTarget = { address: parseIpv4(ip ?? "", a), port: port === undefined ? 5201 : parsePort(port, a) };
        break;
      }
      case "--iperf3-time": iperfTime = parseNonNeg(val(), a); if (iperfTime <= 0 || iperfTime > 3600) throw new UsageError(`${a}: 0 < S <= 3600`); break;
      case "--iperf3-reverse": iperfReverse = true; break;
      case "--iperf3-parallel": {
        const n = Number(val());
        if (!Number.isInteger(n) || n < 1 || n > 6) throw new UsageError(`${a}: 1..6`);
        iperfParallel = n; break;
      }
      case "--pcap": o.pcap = val(); break;
      case "--seconds": o.seconds = parseNonNeg(val(), a); break;
      case "--linger": o.lingerS = parseNonNeg(val(), a); break;
      case "--wait-signal": o.waitSignal = true; break;
      case "--drain": {
        const n = Number(val());
        if (!Number.isInteger(n) || n < 1 || n > 4096) throw new UsageError("--drain: 1..4096");
        o.drain = n; break;
      }
      case "--quiet": o.quiet = true; break;
      case "--json": o.json = true; break;
      case "--loss": faults.loss = parseProb(val(), a); break;
      case "--dup": faults.duplicate = parseProb(val(), a); break;
      case "--reorder": faults.reorder = parseProb(val(), a); break;
      case "--corrupt": faults.corrupt = parseProb(val(), a); break;
      case "--delay": faults.delayMs = parseNonNeg(val(), a); break;
      case "--jitter": faults.jitterMs = parseNonNeg(val(), a); break;
      case "--reorder-delay": faults.reorderDelayMs = parseNonNeg(val(), a); break;
      case "--faults-dir": {
        const v = val();
        if (v !== "both" && v !== "rx" && v !== "tx") throw new UsageError("--faults-dir: both, rx or tx");
        o.faultsDir = v; break;
      }
      case "--seed": {
        const n = Number(val());
        if (!Number.isInteger(n)) throw new UsageError("--seed: an integer");
        o.seed = n; break;
      }
      default: throw new UsageError(`unknown option ${a}`);
    }
  }
  if (o.help) return o;
  if (!o.tap) throw new UsageError("--tap NAME is required");
  if (o.dhcp && o.ip !== null) throw new UsageError("--dhcp and --ip exclude each other");
  if (!o.dhcp && o.ip === null) throw new UsageError("--ip A.B.C.D/N (or --dhcp) is required");
  if (iperfTarget !== null) o.iperf3 = { ...iperfTarget, seconds: iperfTime, reverse: iperfReverse, parallel: iperfParallel };
  if (Object.keys(faults).length > 0) o.faults = faults;
  const ports = new Set<number>();
  for (const p of [...o.serve.map((s) => s.port), ...o.recv.map((r) => r.port)]) {
    if (ports.has(p)) throw new UsageError(`port ${p} used twice`);
    ports.add(p);
  }
  return o;
}

function prefixToMask(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join(".");
}

// ---------------------------------------------------------------------------------------------
// Client tasks

export interface TaskResult {
  kind: "get" | "send" | "recv" | "echo" | "iperf3";
  target: string;
  ok: boolean;
  done: boolean;
  bytes: number;
  sha256: string;
  seconds: number;
  mbps: number;
  error?: string;
  status?: number;
  /** recv: one entry per connection. */
  connections?: { from: string; bytes: number; sha256: string; seconds: number; mbps: number; ok: boolean }[];
  iperf3?: Iperf3ClientResult;
}

interface Task {
  result: TaskResult;
  /** Bytes moved so far (progress). */
  progress(): number;
  total: number;
}

function mbps(bytes: number, seconds: number): number {
  return seconds > 0 ? Math.round((bytes * 8) / seconds / 1e4) / 100 : 0;
}

/** Connect, send `total` pattern bytes, wait until all are acknowledged, close. */
function sendTask(env: Env, address: string, port: number, total: number, sendBuf: number, finish: () => void): Task {
  const r: TaskResult = { kind: "send", target: `${address}:${port}`, ok: false, done: false, bytes: 0, sha256: "", seconds: 0, mbps: 0 };
  let sent = 0;
  const t0 = performance.now();
  const end = (error?: string): void => {
    if (r.done) return;
    r.done = true;
    r.seconds = (performance.now() - t0) / 1000;
    r.bytes = sent;
    r.mbps = mbps(sent, r.seconds);
    if (error !== undefined) r.error = error;
    r.ok = error === undefined && sent === total;
    r.sha256 = patternSha(sent);
    finish();
  };
  new TCP({
    address, port, stack: env.stack, clock: env.clock,
    onWritable(this: TCP, room: number): void {
      if (r.done) return;
      while (sent < total && room > 0) {
        const n = Math.min(room, 16384, total - sent, PERIOD);
        room = this.write(patternView(sent, n));
        sent += n;
      }
      // Everything queued: done once every byte is acknowledged (the send ring is empty again).
      if (sent >= total && room >= sendBuf) {
        this.close();
        end();
      }
    },
    onReadable(this: TCP): void { this.read(); },
    onError(this: TCP): void {
      this.close();
      end(sent >= total ? "peer closed before the last ACK" : `connection ended after ${sent} of ${total} bytes`);
    },
  });
  return { result: r, progress: () => sent, total };
}

const patternShaCache = new Map<number, string>();
/** SHA-256 of the first n pattern bytes (cached). */
export function patternSha(n: number): string {
  let s = patternShaCache.get(n);
  if (s === undefined) {
    const h = createHash("sha256");
    for (let off = 0; off < n; off += PERIOD) h.update(patternView(off, Math.min(PERIOD, n - off)));
    s = h.digest("hex");
    patternShaCache.set(n, s);
  }
  return s;
}

/** Accept `count` connections; count and hash what each delivers until the peer's FIN. */
function recvTask(env: Env, port: number, count: number, finish: () => void): { task: Task; listener: Listener } {
  const r: TaskResult = { kind: "recv", target: `:${port}`, ok: false, done: false, bytes: 0, sha256: "", seconds: 0, mbps: 0, connections: [] };
  let moved = 0, accepted = 0, ended = 0;
  const buf = new Uint8Array(65536);
  const t0 = performance.now();
  const listener = new Listener({
    port, stack: env.stack, clock: env.clock, backlog: Math.min(count, 8),
    onReadable(this: Listener, n: number): void {
      for (let i = 0; i < n; i++) {
        const from = this.read();
        if (from === undefined) break;
        if (accepted >= count) { from.close(); continue; }
        accepted++;
        const hash: Hash = createHash("sha256");
        const c0 = performance.now();
        let bytes = 0;
        const conn = { from: `${from.remoteAddress}:${from.remotePort}`, bytes: 0, sha256: "", seconds: 0, mbps: 0, ok: false };
        r.connections!.push(conn);
        new TCP({
          from, stack: env.stack, clock: env.clock,
          onReadable(this: TCP): void {
            for (;;) {
              const k = this.read(buf) as number | undefined;
              if (!k) break;
              hash.update(buf.subarray(0, k));
              bytes += k;
              moved += k;
            }
          },
          onError(this: TCP): void {
            this.close();
            conn.bytes = bytes;
            conn.sha256 = hash.digest("hex");
            conn.seconds = (performance.now() - c0) / 1000;
            conn.mbps = mbps(bytes, conn.seconds);
            conn.ok = true;
            if (++ended >= count) {
              r.done = true;
              r.ok = r.connections!.every((c) => c.ok);
              r.bytes = moved;
              r.seconds = (performance.now() - t0) / 1000;
              r.mbps = mbps(moved, r.connections!.reduce((s, c) => s + c.seconds, 0));
              r.sha256 = r.connections![0]?.sha256 ?? "";
              finish();
            }
          },
        });
      }
    },
  });
  return { task: { result: r, progress: () => moved, total: 0 }, listener };
}

/** Send `total` pattern bytes to an echo server and read them back; compare. */
function echoTask(env: Env, address: string, port: number, total: number, finish: () => void): Task {
  const r: TaskResult = { kind: "echo", target: `${address}:${port}`, ok: false, done: false, bytes: 0, sha256: "", seconds: 0, mbps: 0 };
  let sent = 0, got = 0, mismatch = -1;
  const buf = new Uint8Array(65536);
  const hash = createHash("sha256");
  const t0 = performance.now();
  const end = (s: TCP, error?: string): void => {
    if (r.done) return;
    r.done = true;
    s.close();
    r.bytes = got;
    r.seconds = (performance.now() - t0) / 1000;
    r.mbps = mbps(got, r.seconds);
    r.sha256 = hash.digest("hex");
    if (error !== undefined) r.error = error;
    r.ok = error === undefined && got === total && r.sha256 === patternSha(total);
    finish();
  };
  new TCP({
    address, port, stack: env.stack, clock: env.clock,
    onWritable(this: TCP, room: number): void {
      while (!r.done && sent < total && room > 0) {
        const n = Math.min(room, 16384, total - sent);
        room = this.write(patternView(sent, n));
        sent += n;
      }
    },
    onReadable(this: TCP): void {
      for (;;) {
        const k = this.read(buf) as number | undefined;
        if (!k) break;
        const want = patternView(got, Math.min(k, PERIOD));
        for (let i = 0; i < k && mismatch < 0; i++) if (buf[i] !== want[i]) mismatch = got + i;
        hash.update(buf.subarray(0, k));
        got += k;
      }
      if (mismatch >= 0) end(this, `echoed byte ${mismatch} differs`);
      else if (got > total) end(this, `echoed ${got} > ${total} bytes`);
      else if (got === total) end(this);
    },
    onError(this: TCP): void { end(this, `connection ended after ${got} of ${total} bytes echoed`); },
  });
  return { result: r, progress: () => got, total };
}

function getTask(env: Env, g: { url: string; address: string; port: number; path: string }, finish: () => void): Task {
  const r: TaskResult = { kind: "get", target: g.url, ok: false, done: false, bytes: 0, sha256: "", seconds: 0, mbps: 0 };
  const t0 = performance.now();
  httpGet(env, g.address, g.port, g.path, (h: HttpResult) => {
    r.done = true;
    r.seconds = (performance.now() - t0) / 1000;
    r.status = h.status;
    r.bytes = h.bytes;
    r.sha256 = h.sha256;
    r.mbps = mbps(h.bytes, r.seconds);
    if (h.error !== undefined) r.error = h.error;
    r.ok = h.error === undefined && h.status === 200;
    finish();
  });
  // httpGet hashes as it goes but exposes no running count: progress shows the stack's bytes in.
  return { result: r, progress: () => 0, total: 0 };
}

// ---------------------------------------------------------------------------------------------
// The run

export interface TapSummary {
  ok: boolean;
  seconds: number;
  reason: string;
  address: string;
  tasks: TaskResult[];
  servers: Record<string, ServerStats | Iperf3ServerStats>;
  tap: Record<string, number>;
  kernelLink: Record<string, number | string> | null;
  faults: { rx: FaultStats | null; tx: FaultStats | null; rxQueued: number; txQueued: number } | null;
  pcap: { path: string; frames: number } | null;
  stack: Record<string, number>;
  internalErrors: number;
  callbackErrors: number;
  /** Event-loop delay while running (ms): a stalled loop leaves frames waiting in the TAP queue. */
  eventLoop: { meanMs: number; p99Ms: number; maxMs: number };
  dhcp: { state: string; address: string } | null;
}

/** `ip -s -j link show dev NAME` in this namespace (null when it fails). */
function kernelLinkStats(dev: string): Record<string, number | string> | null {
  const r = spawnSync("ip", ["-s", "-j", "link", "show", "dev", dev], { encoding: "utf8", timeout: 3_000 });
  if (r.status !== 0) return null;
  try {
    const j = (JSON.parse(r.stdout) as Record<string, unknown>[])[0]!;
    const s = (j.stats64 ?? j.stats) as { rx: Record<string, number>; tx: Record<string, number> };
    return {
      rx_packets: s.rx.packets!, rx_bytes: s.rx.bytes!, rx_dropped: s.rx.dropped!, rx_errors: s.rx.errors!,
      tx_packets: s.tx.packets!, tx_bytes: s.tx.bytes!, tx_dropped: s.tx.dropped!, tx_errors: s.tx.errors!,
      operstate: String(j.operstate),
    };
  } catch {
    return null;
  }
}

function ipCmd(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 5_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
}

function fmtBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export const SUMMARY_PREFIX = "NETSIM-SUMMARY ";

export async function runTapCli(args: string[]): Promise<number> {
  let o: TapCliOptions;
  try {
    o = parseTapArgs(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`netsim tap: ${e.message}\n\n${TAP_USAGE}`);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    console.log(TAP_USAGE);
    return 0;
  }
  const summary = await runTap(o);
  return summary.ok ? 0 : 1;
}

/** Runs one `netsim tap` session with parsed options; prints progress and the summary; resolves at the end. */
export async function runTap(o: TapCliOptions): Promise<TapSummary> {
  const log = (s: string): void => { process.stdout.write(`${s}\n`); };
  const pcap = o.pcap !== null ? new PcapStream(o.pcap) : null;
  const record = pcap === null ? null : (f: Uint8Array, n: number, now: number): void => pcap.record(f, n, now);
  const rng = new Rng(o.seed);
  const rxLink = o.faults !== null && o.faultsDir !== "tx" ? new FaultLink(rng.fork(1), o.faults) : null;
  const txLink = o.faults !== null && o.faultsDir !== "rx" ? new FaultLink(rng.fork(2), o.faults) : null;
  const rxSeam = rxLink !== null || record !== null ? new TapFaultSeam(rxLink, record, "rx") : undefined;
  const txSeam = txLink !== null || record !== null ? new TapFaultSeam(txLink, record, "tx") : undefined;

  let tap: TapDriver;
  try {
    tap = new TapDriver({ name: o.tap, mtu: o.mtu, ...(o.mac ? { mac: o.mac } : {}), ...(rxSeam ? { faults: rxSeam } : {}), ...(txSeam ? { txFaults: txSeam } : {}) });
  } catch (e) {
    pcap?.close();
    throw new Error(`cannot open TAP ${o.tap} (root and /dev/net/tun needed): ${(e as Error).message}`);
  }
  const cleanup: (() => void)[] = [];
  try {
    return await runOnTap(o, tap, rxSeam, txSeam, rxLink, txLink, pcap, cleanup, log);
  } finally {
    // Also on an error path: nothing may keep the process alive, and the device goes away.
    for (const c of cleanup) c();
    rxSeam?.close();
    txSeam?.close();
    tap.close();
    pcap?.close();
  }
}

async function runOnTap(o: TapCliOptions, tap: TapDriver, rxSeam: TapFaultSeam | undefined, txSeam: TapFaultSeam | undefined,
  rxLink: FaultLink | null, txLink: FaultLink | null, pcap: PcapStream | null, cleanup: (() => void)[], log: (s: string) => void): Promise<TapSummary> {
  const stackOptions: Record<string, unknown> = { preset: o.preset };
  if (o.dhcp) stackOptions.dhcp = true;
  else {
    stackOptions.address = o.ip;
    stackOptions.netmask = prefixToMask(o.prefix);
    if (o.gw !== null) stackOptions.gateway = o.gw;
  }
  const stack = new Stack(stackOptions as StackOptions, tap);
  const clock = (): number => performance.now();
  const env: Env = { stack, clock };
  setDefaultStack(stack, clock);
  // Socket methods called outside input/poll ask for a poll: run it from the event loop, never inside.
  let wakeQueued = false;
  stack.onWake = (): void => {
    if (wakeQueued) return;
    wakeQueued = true;
    setImmediate(() => { wakeQueued = false; tap.kick(); });
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const t0 = performance.now();
  // Kernel side first (TAP open, then link up: research/peers.md §1); frames the kernel sends before
  // attach wait in the TAP's queue, and the stack's first frames (ARP, DHCP) find the link up.
  if (o.hostIp !== null) {
    ipCmd(["link", "set", "dev", tap.name, "up"]);
    ipCmd(["addr", "add", o.hostIp, "dev", tap.name]);
  }
  // The platform loop: TapDriver reads up to 256 frames per wake-up and polls after them; like the
  // ESP32 loop (drainMax) we also poll every `drain` frames, so apps read and windows reopen in between.
  let sincePoll = 0;
  tap.attach({
    input(frame: Uint8Array, length: number, now: number): void {
      stack.input(frame, length, now);
      if (++sincePoll >= o.drain) { sincePoll = 0; stack.poll(now); }
    },
    poll(now: number): number { sincePoll = 0; return stack.poll(now); },
  });
  log(`netsim tap: ${tap.name} open, us ${o.dhcp ? "(dhcp)" : `${o.ip}/${o.prefix}`}${o.gw ? ` gw ${o.gw}` : ""}, ` +
    `preset ${o.preset}${o.hostIp ? `, kernel side ${o.hostIp}` : ` (bring it up: ip link set ${tap.name} up; ip addr add A/N dev ${tap.name})`}` +
    `${o.faults ? `, faults ${JSON.stringify(o.faults)} ${o.faultsDir} seed ${o.seed}` : ""}`);

  // Everything below ends in finish(): the done promise resolves once.
  let resolveDone!: (reason: string) => void;
  const done = new Promise<string>((res) => { resolveDone = res; });
  let finished = false;
  const finishWith = (reason: string): void => { if (!finished) { finished = true; resolveDone(reason); } };
  const onSignal = (sig: NodeJS.Signals): void => finishWith(sig);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // --wait-signal: SIGUSR2 starts the held tasks. The handler is in place before "ready" is printed
  // (SIGUSR2's default action ends the process, and the peer may signal as soon as it reads "ready").
  let onUsr2: (() => void) | null = null;
  const usr2 = (): void => { const go = onUsr2; onUsr2 = null; go?.(); };
  if (o.waitSignal) process.on("SIGUSR2", usr2);
  cleanup.push(() => { process.off("SIGINT", onSignal); process.off("SIGTERM", onSignal); process.off("SIGUSR2", usr2); });
  if (o.seconds > 0) {
    const t = setTimeout(() => finishWith(`--seconds ${o.seconds} elapsed`), o.seconds * 1000);
    cleanup.push(() => clearTimeout(t));
  }

  if (o.dhcp) {
    const dhcp = (stack as unknown as { dhcp?: { bound: boolean; stateName: string } | null }).dhcp;
    if (!dhcp) throw new Error("--dhcp: this stack has no DHCP client");
    const limit = performance.now() + o.dhcpTimeoutS * 1000;
    tap.kick();
    while (!dhcp.bound && !finished && performance.now() < limit) await new Promise((r) => setTimeout(r, 50));
    if (!dhcp.bound) finishWith(`no DHCP lease after ${o.dhcpTimeoutS} s (state ${dhcp.stateName})`);
    else log(`netsim tap: DHCP lease ${ipString(stack.address)} mask ${ipString(stack.netmask)} gw ${ipString(stack.gateway)}`);
  }

  const servers: Record<string, ServerStats | Iperf3ServerStats> = {};
  const tasks: Task[] = [];
  const closers: { close(): void }[] = [];
  const taskCount = o.recv.length + o.get.length + o.send.length + o.echo.length + (o.iperf3 !== null ? 1 : 0);
  let tasksDone = false;
  const checkDone = (): void => {
    if (tasksDone || tasks.length < taskCount || !tasks.every((t) => t.result.done)) return;
    tasksDone = true;
    log(`netsim tap: tasks done (${tasks.every((t) => t.result.ok) ? "ok" : "FAILED"})`);
    if (o.serve.length === 0) {
      // Let the last ACK / FIN leave before the device goes away (or linger longer on request).
      const t = setTimeout(() => finishWith("tasks done"), Math.max(50, o.lingerS * 1000));
      cleanup.push(() => clearTimeout(t));
    }
  };
  const startTasks = (): void => {
    if (finished) return;
    for (const g of o.get) tasks.push(getTask(env, g, checkDone));
    for (const s of o.send) tasks.push(sendTask(env, s.address, s.port, s.bytes, stack.config.sendBufBytes, checkDone));
    for (const e of o.echo) tasks.push(echoTask(env, e.address, e.port, e.bytes, checkDone));
    if (o.iperf3 !== null) {
      const ip = o.iperf3;
      const r: TaskResult = { kind: "iperf3", target: `${ip.address}:${ip.port}${ip.reverse ? " reverse" : ""}`, ok: false, done: false, bytes: 0, sha256: "", seconds: 0, mbps: 0 };
      let moved = 0;
      tasks.push({ result: r, progress: () => moved, total: 0 });
      iperf3Client(env, ip.address, ip.port, { seconds: ip.seconds, reverse: ip.reverse, parallel: ip.parallel, onBytes: (n) => { moved += n; } }, (res) => {
        r.done = true;
        r.iperf3 = res;
        r.ok = res.error === undefined;
        if (res.error !== undefined) r.error = res.error;
        r.bytes = ip.reverse ? res.receivedBytes : res.sentBytes;
        r.seconds = res.seconds;
        r.mbps = mbps(r.bytes, res.seconds);
        checkDone();
      });
    }
    tap.kick();
    if (taskCount > 0) log(`netsim tap: ${taskCount} task(s) started`);
  };
  if (!finished) {
    for (const s of o.serve) {
      const key = `${s.kind}:${s.port}`;
      if (s.kind === "echo") { const r = echoServer(env, s.port); servers[key] = r.stats; closers.push(r.listener); }
      else if (s.kind === "discard") { const r = discardServer(env, s.port); servers[key] = r.stats; closers.push(r.listener); }
      else if (s.kind === "chargen") { const r = chargenServer(env, s.port); servers[key] = r.stats; closers.push(r.listener); }
      else if (s.kind === "http") { const r = httpServer(env, s.port); servers[key] = r.stats; closers.push(r.listener); }
      else { const r = iperf3Server(env, s.port); servers[key] = r.stats; closers.push(r.listener); }
    }
    // Receivers are passive: they listen from the start (a held start would refuse early peers).
    for (const r of o.recv) {
      const { task, listener } = recvTask(env, r.port, r.count, checkDone);
      tasks.push(task);
      closers.push(listener);
    }
    tap.kick();
    const holding = o.waitSignal && taskCount > o.recv.length;
    log(`netsim tap: ready (${o.serve.map((s) => `${s.kind}:${s.port}`).join(",") || "no servers"}; ${taskCount} task(s)` +
      `${holding ? ", waiting for SIGUSR2 to start them" : ""})`);
    if (holding) onUsr2 = startTasks;
    else startTasks();
    if (o.serve.length === 0 && taskCount === 0 && o.seconds === 0) log("netsim tap: nothing to do; running until SIGINT/SIGTERM");
  }

  // Progress once a second.
  let lastRx = tap.rxBytes, lastTx = tap.txBytes, lastT = performance.now();
  const progress = setInterval(() => {
    if (pcap !== null) pcap.flush();
    if (o.quiet) return;
    const now = performance.now();
    const dt = (now - lastT) / 1000;
    const rx = tap.rxBytes - lastRx, tx = tap.txBytes - lastTx;
    lastRx = tap.rxBytes; lastTx = tap.txBytes; lastT = now;
    const parts = tasks.filter((t) => !t.result.done && t.progress() > 0).map((t) =>
      `${t.result.kind} ${t.result.target} ${fmtBytes(t.progress())}${t.total > 0 ? ` (${Math.floor((t.progress() / t.total) * 100)}%)` : ""}`);
    const c = stack.counters;
    log(`  [${((now - t0) / 1000).toFixed(1).padStart(6)} s] in ${(rx * 8 / dt / 1e6).toFixed(1)} Mbit/s, out ${(tx * 8 / dt / 1e6).toFixed(1)} Mbit/s, ` +
      `segs in ${c.tcpInSegs} out ${c.tcpOutSegs} rtx ${c.tcpRetransSegs}, conns ${stack.tcp.inUse().connections}` +
      (parts.length ? `; ${parts.join("; ")}` : ""));
  }, 1000);
  cleanup.push(() => clearInterval(progress));

  const reason = await done;
  for (const c of cleanup.splice(0)) c();
  const kernelLink = kernelLinkStats(tap.name);
  for (const c of closers) { try { c.close(); } catch { /* already closed */ } }
  const table = connectionTable(stack, performance.now());
  rxSeam?.close();
  txSeam?.close();
  tap.close();
  pcap?.close();

  loopDelay.disable();
  const results = tasks.map((t) => t.result);
  const internalErrors = stack.internalErrors;
  const callbackErrors = stack.tcp.callbackErrors;
  const tasksOk = results.every((r) => r.ok);
  const ok = tasksOk && internalErrors === 0 && callbackErrors === 0 && !reason.startsWith("no DHCP");
  const dhcp = (stack as unknown as { dhcp?: { stateName: string } | null }).dhcp;
  const summary: TapSummary = {
    ok, reason, seconds: (performance.now() - t0) / 1000, address: ipString(stack.address),
    tasks: results, servers, tap: tap.counters(), kernelLink,
    faults: o.faults === null ? null : {
      rx: rxLink?.stats ?? null, tx: txLink?.stats ?? null, rxQueued: rxSeam?.queued ?? 0, txQueued: txSeam?.queued ?? 0,
    },
    pcap: pcap === null ? null : { path: pcap.path, frames: pcap.frames },
    stack: { ...(stack.counters as unknown as Record<string, number>) },
    internalErrors, callbackErrors,
    eventLoop: { meanMs: round2(loopDelay.mean / 1e6), p99Ms: round2(loopDelay.percentile(99) / 1e6), maxMs: round2(loopDelay.max / 1e6) },
    dhcp: dhcp ? { state: dhcp.stateName, address: ipString(stack.address) } : null,
  };

  log(`\nnetsim tap: ${ok ? "OK" : "FAILED"} after ${summary.seconds.toFixed(2)} s (${reason})`);
  for (const r of results) {
    const what = r.kind === "recv"
      ? (r.connections ?? []).map((c, i) => `\n    #${i + 1} from ${c.from}: ${c.bytes} bytes in ${c.seconds.toFixed(2)} s (${c.mbps} Mbit/s) sha256 ${c.sha256}`).join("")
      : `${r.status !== undefined ? `status ${r.status}, ` : ""}${r.bytes} bytes in ${r.seconds.toFixed(2)} s (${r.mbps} Mbit/s)${r.sha256 ? ` sha256 ${r.sha256}` : ""}`;
    log(`  ${r.ok ? "ok  " : "FAIL"} ${r.kind} ${r.target}: ${r.done ? "" : "(not finished) "}${what}${r.error ? ` — ${r.error}` : ""}`);
    if (r.iperf3) log(`       iperf3: sent ${r.iperf3.sentBytes}, received ${r.iperf3.receivedBytes}, server reported ${r.iperf3.serverBytes} bytes`);
  }
  for (const [k, s] of Object.entries(servers)) log(`  server ${k}: ${JSON.stringify(s)}`);
  const tc = summary.tap;
  log(`  ${tap.name}: read ${tc.rxFrames} frames (${tc.rxBytes} B), delivered ${tc.rxDelivered}; wrote ${tc.txFrames} (${tc.txBytes} B), refused ${tc.txRefused}`);
  if (kernelLink) log(`  kernel ${tap.name}: rx ${kernelLink.rx_packets} (dropped ${kernelLink.rx_dropped}), tx ${kernelLink.tx_packets} (dropped ${kernelLink.tx_dropped})`);
  if (summary.faults) log(`  faults rx: ${JSON.stringify(summary.faults.rx)}\n  faults tx: ${JSON.stringify(summary.faults.tx)}`);
  if (pcap) log(`  pcap: ${pcap.path} (${pcap.frames} frames)`);
  log(`  event loop delay: mean ${summary.eventLoop.meanMs} ms, p99 ${summary.eventLoop.p99Ms} ms, max ${summary.eventLoop.maxMs} ms`);
  if (internalErrors || callbackErrors) log(`  stack internal errors ${internalErrors}, app callback errors ${callbackErrors}: ${String(stack.lastInternalError ?? stack.tcp.lastCallbackError)}`);
  log(`  connections at exit:\n${table}`);
  log(`  counters:\n${counterSummary(stack)}`);
  if (o.json) log(SUMMARY_PREFIX + JSON.stringify(summary));
  return summary;
}

function round2(x: number): number { return Math.round(x * 100) / 100; }

function ipString(v: number): string {
  return [24, 16, 8, 0].map((s) => (v >>> s) & 0xff).join(".");
}
