/**
 * Network-namespace harness for TAP tests (research/peers.md §2).
 *
 * Outside (the test process): `runInNetns(script, args, {timeoutMs})` runs
 *   unshare --net --pid --fork --kill-child --mount-proc node <script> ...args
 * so the TAP, its addresses and every kernel-side peer (socat, curl, iperf3, tshark, ...) live in a
 * fresh namespace that the kernel deletes when the process dies, even by SIGKILL.
 *
 * Inside (the script): call `enterNetns()` first. It refuses to run unless this process is in a
 * network namespace different from the parent's, so nothing here ever touches the default namespace.
 * Then `sh`, `shAsync`, `setupNamespace`, `tapUp`, `neighPermanent`, `startPeer`, `linkStats`,
 * `report`, all bounded in time.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { accessSync, constants, readlinkSync, writeSync } from "node:fs";

/** Env var carrying the parent's `readlink /proc/self/ns/net` into the namespace. */
export const PARENT_NS_ENV = "XS_TCPIP_PARENT_NETNS";
/** The only addresses the harness configures. */
export const TEST_NET = "192.0.2.0/24";

const UNSHARE_ARGS = ["--net", "--pid", "--fork", "--kill-child", "--mount-proc"];

export function currentNetns(): string {
  return readlinkSync("/proc/self/ns/net");
}

// ---- outside: availability ---------------------------------------------------------------------

export interface NetnsAvailability {
  ok: boolean;
  reason: string;
}

let availability: NetnsAvailability | undefined;

/** Root, /dev/net/tun, a working `unshare`, and the addon. Cached. */
export function netnsAvailable(): NetnsAvailability {
  if (availability) return availability;
  const fail = (reason: string): NetnsAvailability => (availability = { ok: false, reason });
  if (process.platform !== "linux") return fail(`TAP tests need Linux (platform ${process.platform})`);
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return fail(`TAP tests need root (uid ${process.getuid()}): /dev/net/tun and unshare --net are root-only`);
  }
  try {
    accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
  } catch (e) {
    return fail(`/dev/net/tun is missing or not accessible: ${(e as Error).message}`);
  }
  const probe = spawnSync("unshare", [...UNSHARE_ARGS, "readlink", "/proc/self/ns/net"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (probe.error || probe.status !== 0) {
    return fail(
      `unshare ${UNSHARE_ARGS.join(" ")} failed: ` +
        (probe.error?.message ?? `exit ${probe.status}: ${probe.stderr.trim()}`),
    );
  }
  if (probe.stdout.trim() === currentNetns()) return fail("unshare --net did not create a new namespace");
  for (const tool of ["ip", "sysctl"]) {
    const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8", timeout: 5_000 });
    if (r.status !== 0) return fail(`${tool} not found (apt-get install iproute2 procps)`);
  }
  return (availability = { ok: true, reason: "" });
}

/** True when skips must become failures (CI: REQUIRE_ALL=1). */
export function requireAll(): boolean {
  return process.env.REQUIRE_ALL === "1";
}

// ---- outside: running a script in a fresh namespace ---------------------------------------------

export interface NetnsOptions {
  /** Hard limit: the whole namespace is SIGKILLed after this. */
  timeoutMs: number;
  /** Extra environment for the script. */
  env?: Record<string, string>;
  /** Called with each chunk of the script's stdout / stderr as it arrives. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Node flags before the script (e.g. ["--expose-gc"]). */
  nodeArgs?: string[];
}

export interface NetnsResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface NetnsRun {
  /** The `unshare` process (its child, the script, is PID 1 of the new PID namespace). */
  readonly proc: ChildProcess;
  readonly result: Promise<NetnsResult>;
  /** SIGKILLs `unshare`; --kill-child takes the script, its peers and the namespace with it. */
  kill(): void;
}

/** Starts `node script ...args` in a fresh net+pid+mount namespace. */
export function startInNetns(script: string, args: string[], opts: NetnsOptions): NetnsRun {
  const env = { ...process.env, ...opts.env, [PARENT_NS_ENV]: currentNetns() };
  const proc = spawn(
    "unshare",
    [...UNSHARE_ARGS, process.execPath, ...(opts.nodeArgs ?? []), script, ...args],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  let timedOut = false;
  proc.stdout!.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
    opts.onStdout?.(c);
  });
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
    opts.onStderr?.(c);
  });
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs);
  const result = new Promise<NetnsResult>((resolve) => {
    let spawnError: Error | undefined;
    proc.on("error", (e) => (spawnError = e));
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      if (spawnError) stderr += `\nspawn unshare: ${spawnError.message}`;
      if (timedOut) stderr += `\n[netns] killed after ${opts.timeoutMs} ms`;
      resolve({ code: spawnError ? -1 : code, signal, stdout, stderr, timedOut });
    });
  });
  return { proc, result, kill: () => proc.kill("SIGKILL") };
}

/** Runs `node script ...args` in a fresh namespace and waits for it (SIGKILLed after timeoutMs). */
export function runInNetns(script: string, args: string[], opts: NetnsOptions): Promise<NetnsResult> {
  return startInNetns(script, args, opts).result;
}

/** Line prefix for machine-readable results printed by `report()`. */
export const RESULT_PREFIX = "NETNS-RESULT ";

/** The last `report()`ed object in a script's stdout (undefined if none). */
export function parseReport<T = Record<string, unknown>>(stdout: string): T | undefined {
  const lines = stdout.split("\n").filter((l) => l.startsWith(RESULT_PREFIX));
  const last = lines[lines.length - 1];
  return last === undefined ? undefined : (JSON.parse(last.slice(RESULT_PREFIX.length)) as T);
}

/** Does `ip link show <dev>` succeed in THIS (the caller's) namespace? */
export function linkExistsHere(dev: string): boolean {
  return spawnSync("ip", ["link", "show", "dev", dev], { stdio: "ignore", timeout: 5_000 }).status === 0;
}

/** Every process in this PID view whose network namespace is `ns` (e.g. "net:[4026532...]"). */
export function processesInNetns(ns: string): number[] {
  const out = spawnSync("sh", ["-c", `for p in /proc/[0-9]*; do l=$(readlink $p/ns/net 2>/dev/null) && [ "$l" = '${ns.replace(/'/g, "")}' ] && echo \${p#/proc/}; done`], {
    encoding: "utf8",
    timeout: 10_000,
  });
  return out.stdout.split("\n").filter(Boolean).map(Number);
}

// ---- inside: guards ----------------------------------------------------------------------------

let inside = false;

/**
 * Must be the first call of a script run by `runInNetns`: refuses (throws, exit 3) unless this
 * process is in a network namespace different from its parent's. Also arms a hard exit after
 * `lifetimeMs` so a stuck script cannot outlive its test.
 */
export function enterNetns(lifetimeMs = 60_000): void {
  const parent = process.env[PARENT_NS_ENV];
  const here = currentNetns();
  if (!parent || parent === here) {
    process.stderr.write(
      `[netns] refusing to run: network namespace ${here} is ${parent ? "the parent's" : "unknown to the parent"}; ` +
        `run this script with runInNetns() (unshare --net ...)\n`,
    );
    process.exit(3);
  }
  inside = true;
  process.on("exit", stopAllPeers);
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.on(sig, () => {
      stopAllPeers();
      process.exit(128 + (sig === "SIGTERM" ? 15 : 2));
    });
  }
  const t = setTimeout(() => {
    process.stderr.write(`[netns] lifetime of ${lifetimeMs} ms over, exiting\n`);
    process.exit(124);
  }, lifetimeMs);
  t.unref();
}

function assertInside(): void {
  if (!inside) throw new Error("netns helpers run only after enterNetns() in a script started by runInNetns()");
}

function assertTestAddress(cidrOrIp: string): void {
  const m = /^192\.0\.2\.(\d{1,3})(\/(\d{1,2}))?$/.exec(cidrOrIp);
  if (!m || Number(m[1]) > 255 || (m[3] !== undefined && Number(m[3]) < 24)) {
    throw new Error(`only ${TEST_NET} addresses are allowed, got ${cidrOrIp}`);
  }
}

// ---- inside: commands --------------------------------------------------------------------------

/** Runs `sh -c cmd` synchronously (bounded); returns stdout; throws with stderr on failure. */
export function sh(cmd: string, timeoutMs = 10_000): string {
  assertInside();
  try {
    return execFileSync("sh", ["-c", cmd], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { status?: number; stderr?: string; message: string };
    throw new Error(`sh: ${cmd}: exit ${err.status ?? "?"}: ${(err.stderr ?? err.message).trim()}`);
  }
}

export interface ShResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `sh -c cmd` without blocking the event loop (use it while a TAP endpoint must keep answering,
 * e.g. for ping or curl). Never rejects; SIGKILLed after timeoutMs.
 */
export function shAsync(cmd: string, timeoutMs = 10_000): Promise<ShResult> {
  assertInside();
  return new Promise((resolve) => {
    const p = spawn("sh", ["-c", cmd], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    p.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("error", (e) => (stderr += e.message));
    p.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `lo` up, IPv6 off (no router solicitations / MLD on the TAP). */
export function setupNamespace(options: { ipv6?: boolean } = {}): void {
  assertInside();
  sh("ip link set lo up");
  if (!options.ipv6) {
    sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
  }
}

/** After the TAP is open: `ip link set DEV up` and `ip addr add ADDR dev DEV` (192.0.2.0/24 only). */
export function tapUp(dev = "tap0", address = "192.0.2.1/24", options: { mtu?: number } = {}): void {
  assertInside();
  assertTestAddress(address);
  if (!/^[\w.-]{1,15}$/.test(dev)) throw new Error(`bad interface name ${dev}`);
  if (options.mtu) sh(`ip link set dev ${dev} mtu ${options.mtu | 0}`);
  sh(`ip link set dev ${dev} up`);
  sh(`ip addr add ${address} dev ${dev}`);
}

/** Kernel → device without ARP: a permanent neighbour entry. */
export function neighPermanent(ip: string, mac: string, dev = "tap0"): void {
  assertTestAddress(ip);
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new Error(`bad MAC ${mac}`);
  sh(`ip neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`);
}

/** `ip -s -j link show DEV`, flattened. rx_* = frames the kernel got FROM us; tx_* = sent TO us. */
export interface LinkStats {
  rx_packets: number;
  rx_bytes: number;
  rx_errors: number;
  rx_dropped: number;
  tx_packets: number;
  tx_bytes: number;
  tx_errors: number;
  tx_dropped: number;
  operstate: string;
  mtu: number;
}

export function linkStats(dev = "tap0"): LinkStats {
  const j = JSON.parse(sh(`ip -s -j link show dev ${dev}`))[0];
  const rx = j.stats64?.rx ?? j.stats?.rx ?? {};
  const tx = j.stats64?.tx ?? j.stats?.tx ?? {};
  return {
    rx_packets: rx.packets,
    rx_bytes: rx.bytes,
    rx_errors: rx.errors,
    rx_dropped: rx.dropped,
    tx_packets: tx.packets,
    tx_bytes: tx.bytes,
    tx_errors: tx.errors,
    tx_dropped: tx.dropped,
    operstate: j.operstate,
    mtu: j.mtu,
  };
}

/** `nstat -az NAMES...` as numbers (kernel SNMP counters, absolute). */
export function nstat(...names: string[]): Record<string, number> {
  const out = sh(`nstat -az ${names.join(" ")}`);
  const r: Record<string, number> = {};
  for (const line of out.split("\n")) {
    const m = /^(\w+)\s+(\d+)/.exec(line);
    if (m) r[m[1]!] = Number(m[2]);
  }
  return r;
}

// ---- inside: background peers ------------------------------------------------------------------

export interface PeerOptions {
  /** SIGKILLed after this (default 30 s). */
  lifetimeMs?: number;
  /** Resolve `ready` once stdout or stderr matches (e.g. /Capturing on/ for tshark). */
  readyPattern?: RegExp;
  /** Give up waiting for readyPattern after this (default 5 s): `ready` rejects. */
  readyTimeoutMs?: number;
}

export interface Peer {
  readonly proc: ChildProcess;
  readonly cmd: string;
  stdout: string;
  stderr: string;
  /** Resolves when readyPattern matched (at once without one). */
  readonly ready: Promise<void>;
  /** Resolves with the exit code (null if signalled) when the peer is gone. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when gone. */
  stop(graceMs?: number): Promise<number | null>;
}

const peers = new Set<Peer>();

function stopAllPeers(): void {
  for (const p of peers) {
    try {
      p.proc.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
  peers.clear();
}

/**
 * Starts `sh -c "exec CMD"` in the background with a bounded lifetime; killed when the script exits
 * (and by the kernel with the whole PID namespace if the script is SIGKILLed).
 */
export function startPeer(cmd: string, options: PeerOptions = {}): Peer {
  assertInside();
  const lifetimeMs = options.lifetimeMs ?? 30_000;
  const proc = spawn("sh", ["-c", `exec ${cmd}`], { stdio: ["ignore", "pipe", "pipe"] });
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined); // a caller that never awaits `ready` must not crash the script
  const exited = new Promise<number | null>((res) => proc.on("close", (code) => res(code)));
  const peer: Peer = {
    proc,
    cmd,
    stdout: "",
    stderr: "",
    ready,
    exited,
    stop(graceMs = 1_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
        void exited.then(() => clearTimeout(t));
      }
      return exited;
    },
  };
  const check = (): void => {
    if (options.readyPattern && (options.readyPattern.test(peer.stdout) || options.readyPattern.test(peer.stderr))) {
      resolveReady();
    }
  };
  proc.stdout.setEncoding("utf8").on("data", (c: string) => {
    peer.stdout += c;
    check();
  });
  proc.stderr.setEncoding("utf8").on("data", (c: string) => {
    peer.stderr += c;
    check();
  });
  proc.on("error", (e) => rejectReady(e));
  if (!options.readyPattern) resolveReady();
  const readyTimer = setTimeout(
    () => rejectReady(new Error(`peer not ready after ${options.readyTimeoutMs ?? 5_000} ms: ${cmd}\n${peer.stderr}`)),
    options.readyTimeoutMs ?? 5_000,
  );
  readyTimer.unref();
  const lifeTimer = setTimeout(() => proc.kill("SIGKILL"), lifetimeMs);
  lifeTimer.unref();
  peers.add(peer);
  void exited.then((code) => {
    clearTimeout(readyTimer);
    clearTimeout(lifeTimer);
    peers.delete(peer);
    rejectReady(new Error(`peer exited (${code}) before ready: ${cmd}\n${peer.stderr}`));
  });
  return peer;
}

// ---- inside: small utilities -------------------------------------------------------------------

/** Polls `predicate` every intervalMs until true or timeoutMs; returns whether it became true. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  intervalMs = 20,
): Promise<boolean> {
  const maxTries = Math.max(1, Math.ceil(timeoutMs / intervalMs));
  for (let i = 0; i < maxTries; i++) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return predicate();
}

/** Prints one machine-readable result line for the parent (`parseReport`). */
export function report(result: unknown): void {
  // Synchronous and complete even if the pipe is full and process.exit() follows at once.
  const bytes = Buffer.from(RESULT_PREFIX + JSON.stringify(result) + "\n");
  let off = 0;
  for (let tries = 0; off < bytes.length && tries < 100_000; tries++) {
    try {
      off += writeSync(1, bytes, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // 1 ms, then retry
    }
  }
}

/**
 * Wraps a script's main: enterNetns, run, report failures on stderr, exit with 0/1 (the exit also
 * kills every peer). Use as `netnsMain(async () => { ... })`.
 */
export function netnsMain(main: () => Promise<void>, lifetimeMs = 60_000): void {
  enterNetns(lifetimeMs);
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`[netns] ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
