#!/usr/bin/env node
/**
 * xstcp: the PC side of serial-console debugging (DESIGN.md §9), on the `serialport` package.
 * Works the same against a board's UART and against the simulator's console PTY
 * (host-sim/console.ts). Run `xstcp help` for the commands.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, realpathSync, writeSync } from "node:fs";
import { delimiter, join } from "node:path";
import { parseArgs } from "node:util";
import { SerialPort } from "serialport";
import { ConsoleClient, EXIT_FAIL, EXIT_LINE, EXIT_OK, ToolError } from "./client.js";
import type { FrameRecord } from "./decoder.js";
import { pcapHeader, pcapRecord } from "./pcapout.js";
import { runWatch } from "./watch.js";

export const DEFAULT_BAUD = 460800;
export const DEFAULT_TIMEOUT_MS = 3000;

const USAGE = `usage: xstcp <command> [options]

commands:
  list                        serial ports on this machine
  watch -p PORT               live connection table and counters (q or Ctrl-C quits)
  pcap  -p PORT -o FILE       trace frames into a pcap file; -o - writes a live stream to stdout:
                                xstcp pcap -p PORT -o - | wireshark -k -i -
  stats -p PORT [PREFIX]      counters (all, or those whose name starts with PREFIX)
  send  -p PORT CMD...        one console command (help, conns, stats, arp, trace ..., info)

options:
  -p, --port PATH             serial port (default: $XSTCP_PORT)
  -b, --baud N                baud rate (default ${DEFAULT_BAUD}, Moddable debug builds; ESP-IDF console: 115200)
  -t, --timeout MS            reply timeout (default ${DEFAULT_TIMEOUT_MS})
pcap:
  -o, --output FILE|-         where the pcap goes
  -f, --filter "EXPR"         device-side filter: arp ip icmp tcp udp, port N, host A.B.C.D, in, out
  -c, --count N               stop after N frames
  -d, --duration SEC          stop after SEC seconds
      --wallclock             timestamps from this PC's clock (default: the device's clock)
watch:
  -i, --interval MS           refresh period (default 1000)
      --once                  print one table and exit (also when stdout is not a terminal)
`;

interface Opts {
  port?: string;
  baud?: string;
  timeout?: string;
  output?: string;
  filter?: string;
  count?: string;
  duration?: string;
  wallclock?: boolean;
  interval?: string;
  once?: boolean;
  help?: boolean;
}

function intOpt(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ToolError("EUSAGE", `--${name}: expected a number in ${min}..${max}, got "${v}"`, EXIT_FAIL);
  }
  return Number(v);
}

function portOf(o: Opts): string {
  const p = o.port ?? process.env.XSTCP_PORT;
  if (p === undefined || p === "") throw new ToolError("EUSAGE", "no port: pass -p PATH (or set XSTCP_PORT); `xstcp list` shows the ports", EXIT_FAIL);
  return p;
}

async function openClient(o: Opts): Promise<ConsoleClient> {
  return ConsoleClient.open({
    path: portOf(o),
    baudRate: intOpt("baud", o.baud, DEFAULT_BAUD, 50, 12_000_000),
    timeoutMs: intOpt("timeout", o.timeout, DEFAULT_TIMEOUT_MS, 50, 600_000),
  });
}

// ------------------------------------------------------------------ list

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir !== "" && existsSync(join(dir, cmd))) return true;
  return false;
}

function readAttr(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), "utf8").trim();
  } catch {
    return undefined;
  }
}

interface PortRow { path: string; id: string; manufacturer: string; serial: string }

/** Without udevadm (containers), `SerialPort.list()` cannot work: read /sys/class/tty instead. */
function listFromSys(): PortRow[] {
  const rows: PortRow[] = [];
  let names: string[] = [];
  try {
    names = readdirSync("/sys/class/tty");
  } catch {
    return rows;
  }
  for (const name of names.sort()) {
    const base = join("/sys/class/tty", name);
    if (!existsSync(join(base, "device"))) continue;
    if (/^ttyS\d+$/.test(name) && readAttr(base, "type") === "0") continue; // no UART behind it
    let dev = realpathSync(join(base, "device"));
    let vid = "", pid = "", man = "", serial = "";
    for (let k = 0; k < 6 && dev !== "/"; k++, dev = join(dev, "..")) {
      const v = readAttr(dev, "idVendor");
      if (v !== undefined) {
        vid = v; pid = readAttr(dev, "idProduct") ?? ""; man = readAttr(dev, "manufacturer") ?? ""; serial = readAttr(dev, "serial") ?? "";
        break;
      }
    }
    rows.push({ path: `/dev/${name}`, id: vid !== "" ? `${vid}:${pid}` : "", manufacturer: man, serial });
  }
  return rows;
}

async function cmdList(): Promise<number> {
  let rows: PortRow[];
  let note = "";
  if (onPath("udevadm")) {
    rows = (await SerialPort.list()).map((p) => ({
      path: p.path, id: p.vendorId !== undefined ? `${p.vendorId}:${p.productId ?? ""}` : "",
      manufacturer: p.manufacturer ?? "", serial: p.serialNumber ?? "",
    }));
  } else {
    rows = listFromSys();
    note = "(udevadm not found: ports read from /sys/class/tty)";
  }
  if (rows.length === 0) {
    console.log("no serial ports found");
  } else {
    console.log(`${"PATH".padEnd(24)} ${"VID:PID".padEnd(10)} ${"MANUFACTURER".padEnd(24)} SERIAL`);
    for (const r of rows) console.log(`${r.path.padEnd(24)} ${r.id.padEnd(10)} ${r.manufacturer.padEnd(24)} ${r.serial}`);
  }
  if (note !== "") console.log(note);
  console.log("A simulator console (netsim --console PATH) is a pseudo-terminal: use its PATH with -p; it is not listed.");
  return EXIT_OK;
}

// ------------------------------------------------------------------ send, stats

async function cmdSend(o: Opts, words: string[]): Promise<number> {
  if (words.length === 0) throw new ToolError("EUSAGE", "send: which command? (e.g. xstcp send -p PORT conns)", EXIT_FAIL);
  const c = await openClient(o);
  try {
    const r = await c.command(words.join(" "));
    for (const l of r.lines) console.log(l);
    if (!r.complete) console.error("xstcp: part of the reply was lost on the line");
    if (!r.ok) {
      console.error(`xstcp: the device says: ${r.text}`);
      return EXIT_FAIL;
    }
    if (r.text !== "" && r.lines.length === 0) console.log(r.text);
    return EXIT_OK;
  } finally {
    await c.close();
  }
}

async function cmdStats(o: Opts, words: string[]): Promise<number> {
  if (words.length > 1) throw new ToolError("EUSAGE", "stats: at most one PREFIX", EXIT_FAIL);
  const c = await openClient(o);
  try {
    const r = await c.command(words.length === 1 ? `stats ${words[0]}` : "stats");
    if (!r.ok) {
      console.error(`xstcp: the device says: ${r.text}`);
      return EXIT_FAIL;
    }
    for (const l of r.lines) console.log(l);
    if (!r.complete) console.error("xstcp: part of the reply was lost on the line");
    return EXIT_OK;
  } finally {
    await c.close();
  }
}

// ------------------------------------------------------------------ pcap

async function cmdPcap(o: Opts): Promise<number> {
  if (o.output === undefined) throw new ToolError("EUSAGE", "pcap: -o FILE (or -o - for stdout) is required", EXIT_FAIL);
  const count = intOpt("count", o.count, Infinity, 1, 2 ** 32);
  const durationS = intOpt("duration", o.duration, Infinity, 0, 10 ** 7);
  const toStdout = o.output === "-";
  if (toStdout && process.stdout.isTTY) throw new ToolError("EUSAGE", "pcap: refusing to write binary pcap to a terminal; pipe it (| wireshark -k -i -) or use -o FILE", EXIT_FAIL);
  const c = await openClient(o);
  const say = (s: string): void => { process.stderr.write(`xstcp: ${s}\n`); };
  let fd = -1;
  let frames = 0, missing = 0, nextNumber = 0, deviceDropped = 0, damagedShown = 0;
  let outputGone = false;
  let offsetUs = 0;
  let lastFrameAt = Date.now();
  let resolveStop: () => void = () => {};
  const stopped = new Promise<void>((r) => { resolveStop = r; });
  const write = (b: Buffer): void => {
    if (outputGone) return;
    if (toStdout) process.stdout.write(b);
    else writeSync(fd, b);
  };
  try {
    const info = await c.command("info");
    if (!info.ok || c.hello === null) throw new ToolError("EPROTO", c.diagnose("the device did not say hello"), EXIT_LINE);
    if (c.hello.traceFrames === 0) throw new ToolError("ENOTRACE", "tracing is not available on this device: its stack has config.traceFrames = 0", EXIT_FAIL);
    if (!toStdout) fd = openSync(o.output, "w");
    else process.stdout.on("error", () => { outputGone = true; resolveStop(); });
    write(pcapHeader(c.hello.snap));
    // Frames of an earlier trace session (left on by someone else) come before our "trace on" reply.
    let armed = false;
    c.onFrame = (f: FrameRecord): void => {
      if (!armed || frames >= count) return;
      if (f.number > nextNumber) missing += f.number - nextNumber;
      if (f.number >= nextNumber) nextNumber = f.number + 1;
      if (frames === 0 && o.wallclock === true) offsetUs = Date.now() * 1000 - (f.sec * 1e6 + f.usec);
      write(pcapRecord(f, offsetUs));
      frames++;
      lastFrameAt = Date.now();
      if (frames >= count) resolveStop();
    };
    c.onDrops = (d): void => { deviceDropped = d; };
    c.onCorrupt = (_line, reason): void => {
      if (damagedShown++ < 10) say(`skipped a damaged record (${reason})`);
    };
    const on = await c.command(o.filter !== undefined && o.filter !== "" ? `trace on ${o.filter}` : "trace on", undefined,
      (ok) => { armed = ok; });
    if (!on.ok) throw new ToolError("EDEVICE", `the device refused "trace on": ${on.text}`, EXIT_FAIL);
    say(`tracing on ${c.path} (${on.text.replace(/^mode:on /, "")}); writing ${toStdout ? "stdout" : o.output}; Ctrl-C stops`);
    const onSignal = (): void => resolveStop();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    if (Number.isFinite(durationS)) setTimeout(resolveStop, durationS * 1000).unref();
    const failed = new Promise<void>((r) => {
      const iv = setInterval(() => { if (c.failure !== null) { clearInterval(iv); r(); } }, 100);
      iv.unref();
      void stopped.then(() => clearInterval(iv));
    });
    await Promise.race([stopped, failed]);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (c.failure !== null) throw c.failure;
    // Stop capturing; frames already captured still arrive: wait for them (bounded).
    let captured = -1;
    try {
      const off = await c.command("trace off", 2000);
      const m = /captured:(\d+)/.exec(off.text);
      if (m !== null) captured = Number(m[1]);
      const d = /dropped:(\d+)/.exec(off.text);
      if (d !== null) deviceDropped = Number(d[1]);
    } catch (e) {
      say(`could not turn tracing off: ${(e as Error).message}`);
    }
    const until = Date.now() + 3000;
    while (frames < count && captured >= 0 && nextNumber < captured && Date.now() < until && Date.now() - lastFrameAt < 1000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (frames < count && captured > nextNumber) missing += captured - nextNumber;
    const s = c.decoder.stats;
    say(`${frames} frames written to ${toStdout ? "stdout" : o.output}; device dropped ${deviceDropped}, ` +
      `damaged records ${s.corrupt}, missing frames ${missing}, lost lines ${s.lostLines}, ` +
      `other console lines ${s.noiseLines}, xsbug messages ${s.xsbugMessages}, garbage bytes ${s.garbageBytes}`);
    return EXIT_OK;
  } finally {
    if (fd >= 0) closeSync(fd);
    await c.close();
  }
}

// ------------------------------------------------------------------ main

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(USAGE);
    return cmd === undefined ? EXIT_FAIL : EXIT_OK;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: "string", short: "p" },
        baud: { type: "string", short: "b" },
        timeout: { type: "string", short: "t" },
        output: { type: "string", short: "o" },
        filter: { type: "string", short: "f" },
        count: { type: "string", short: "c" },
        duration: { type: "string", short: "d" },
        wallclock: { type: "boolean" },
        interval: { type: "string", short: "i" },
        once: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new ToolError("EUSAGE", `${(e as Error).message}\n\n${USAGE}`, EXIT_FAIL);
  }
  const o = parsed.values as Opts;
  if (o.help === true) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  const words = parsed.positionals;
  switch (cmd) {
    case "list": return cmdList();
    case "send": return cmdSend(o, words);
    case "stats": return cmdStats(o, words);
    case "pcap":
      if (words.length > 0) throw new ToolError("EUSAGE", `pcap: unexpected ${words.join(" ")}`, EXIT_FAIL);
      return cmdPcap(o);
    case "watch": {
      const c = await openClient(o);
      return runWatch(c, { intervalMs: intOpt("interval", o.interval, 1000, 100, 3_600_000), once: o.once === true });
    }
    default:
      throw new ToolError("EUSAGE", `unknown command "${cmd}"\n\n${USAGE}`, EXIT_FAIL);
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${realpathSync(process.argv[1])}`).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      if (e instanceof ToolError) {
        process.stderr.write(`xstcp: ${e.message}\n`);
        process.exitCode = e.exitCode;
      } else {
        process.stderr.write(`xstcp: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        process.exitCode = 70;
      }
    },
  );
}
