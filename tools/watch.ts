/**
 * `xstcp watch`: a full-screen, refreshing connection table with counters. Uses the terminal's
 * alternate screen (the shell's screen comes back on exit), hides the cursor, redraws whole on
 * resize, and restores the terminal on every way out: q, Ctrl-C, SIGINT/SIGTERM/SIGHUP, errors.
 * When stdout is not a terminal (or with --once) it prints one table and exits.
 */
import type { ConsoleClient } from "./client.js";
import { EXIT_OK, ToolError } from "./client.js";
import { parseConn, parseStats, renderWatch, type Conn, type WatchView } from "./table.js";

export interface WatchOptions {
  readonly intervalMs: number;
  readonly once: boolean;
}

const ALT_ON = "\x1b[?1049h", ALT_OFF = "\x1b[?1049l", HIDE = "\x1b[?25l", SHOW = "\x1b[?25h";
const HOME = "\x1b[H", CLEAR = "\x1b[2J", EOL = "\x1b[K", INVERSE = "\x1b[7m", NORMAL = "\x1b[0m";

export async function runWatch(c: ConsoleClient, opts: WatchOptions): Promise<number> {
  let conns: Conn[] = [];
  let stats = new Map<string, number>();
  let rates = new Map<string, number>();
  let prevAt = 0;
  let error = "";
  let refreshes = 0;

  const refresh = async (): Promise<void> => {
    try {
      const r = await c.command("conns");
      if (!r.ok) throw new ToolError("EDEVICE", `device: ${r.text}`, 1);
      const s = await c.command("stats");
      if (!s.ok) throw new ToolError("EDEVICE", `device: ${s.text}`, 1);
      const now = Date.now();
      conns = r.lines.map(parseConn).filter((x): x is Conn => x !== null);
      const next = parseStats(s.lines);
      const dt = (now - prevAt) / 1000;
      const nr = new Map<string, number>();
      if (prevAt > 0 && dt > 0) for (const [k, v] of next) nr.set(k, (v - (stats.get(k) ?? v)) / dt);
      rates = nr;
      stats = next;
      prevAt = now;
      error = r.complete && s.complete ? "" : "part of a reply was lost on the line";
      refreshes++;
    } catch (e) {
      if (c.failure !== null) throw c.failure;
      error = (e as Error).message;
    }
  };

  const view = (): WatchView => {
    const h = c.hello;
    const d = c.decoder.stats;
    return {
      title: `xstcp watch  ${c.path} @ ${c.baudRate}` + (h !== null ? `  device ${h.mac} ${h.ip}` : "") +
        `  ${new Date().toTimeString().slice(0, 8)}  every ${opts.intervalMs} ms`,
      conns, stats, rates,
      status: `q quit | refresh ${refreshes} | records ${d.records} | damaged ${d.corrupt} | lost ${d.lostLines} | ` +
        `other lines ${d.noiseLines} | garbage bytes ${d.garbageBytes}`,
      error,
    };
  };

  const out = process.stdout;
  if (opts.once || !out.isTTY) {
    try {
      await c.command("info").catch(() => undefined);
      await refresh();
      if (error !== "" && refreshes === 0) throw new ToolError("ETIMEDOUT", error, 3);
      const width = out.isTTY ? out.columns : 160;
      const lines = renderWatch(view(), width, 1000).map((l) => l.trimEnd());
      while (lines.length > 1 && lines[lines.length - 2] === "") lines.splice(lines.length - 2, 1);
      out.write(lines.join("\n") + "\n");
      return EXIT_OK;
    } finally {
      await c.close();
    }
  }

  const draw = (full: boolean): void => {
    if (cleaned) return;
    const w = out.columns ?? 80, h = out.rows ?? 24;
    const lines = renderWatch(view(), w, h);
    const last = lines.length - 1;
    let s = full ? CLEAR + HOME : HOME;
    for (let i = 0; i < lines.length; i++) {
      const text = i === last ? INVERSE + lines[i] + NORMAL : lines[i] + EOL;
      s += text + (i < last ? "\r\n" : "");
    }
    out.write(s);
  };

  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((r) => { finish = r; });
  let cleaned = false;
  const stdin = process.stdin;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    out.write(NORMAL + SHOW + ALT_OFF);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  };
  const onKey = (d: Buffer): void => {
    for (const b of d) if (b === 0x71 || b === 0x51 || b === 0x03 || b === 0x04) finish(EXIT_OK); // q Q ^C ^D
  };
  const onSignal = (): void => finish(EXIT_OK);
  const onResize = (): void => draw(true);
  const onExit = (): void => cleanup();

  out.write(ALT_ON + HIDE + CLEAR);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.resume();
  stdin.on("data", onKey);
  out.on("resize", onResize);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("exit", onExit);
  let timer: NodeJS.Timeout | null = null;
  let failure: unknown = null;
  const tick = async (): Promise<void> => {
    try {
      if (c.hello === null) await c.command("info").catch(() => undefined);
      await refresh();
      draw(false);
    } catch (e) {
      failure = e;
      finish(1);
      return;
    }
    if (!cleaned) timer = setTimeout(() => void tick(), opts.intervalMs);
  };
  draw(true);
  void tick();
  try {
    const code = await done;
    if (failure !== null) throw failure;
    return code;
  } finally {
    if (timer !== null) clearTimeout(timer);
    cleanup();
    stdin.off("data", onKey);
    out.off("resize", onResize);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    process.off("exit", onExit);
    await c.close();
  }
}
