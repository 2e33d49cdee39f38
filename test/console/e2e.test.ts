/**
 * End to end: the PC tool (dist/tools/xstcp.js, a separate process on the real `serialport` package)
 * against the simulator's console on a pseudo-terminal (host-sim/console.ts, socat). Needs socat,
 * tshark, tmux and stty; a missing one fails the suite (never skips).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { SerialPort } from "serialport";
import { runRealtime, SimConsole, type SimConsoleOptions } from "../../host-sim/console.js";
import { PcapWriter, readPcap, readPcapFile, type PcapRecord } from "../../host-sim/pcap.js";
import { seedFromEnv } from "../../host-sim/rng.js";
import { TRACE_STREAM } from "../../src/console/console.js";
import type { StackOptions } from "../../src/config.js";
import { ARTIFACTS, requireProgram, runTool, Scenario, sleep, tempDir, Tool, TOOL, waitFor } from "./helpers.js";

const SEED = seedFromEnv();

/** A simulation paced to the wall clock, node A's console on a PTY. */
class LiveSim {
  readonly sc: Scenario;
  readonly con: SimConsole;
  readonly pcap: PcapWriter;
  readonly dir: string;
  readonly path: string;
  private readonly ac = new AbortController();
  private readonly loop: Promise<void>;

  private constructor(sc: Scenario, con: SimConsole, pcap: PcapWriter, dir: string) {
    this.sc = sc;
    this.con = con;
    this.pcap = pcap;
    this.dir = dir;
    this.path = con.path;
    this.loop = runRealtime(sc.net, { consoles: [con], signal: this.ac.signal, sliceMs: 2 });
  }

  static async start(device: StackOptions = {}, console: Omit<SimConsoleOptions, "path" | "clock"> = {}): Promise<LiveSim> {
    const pcap = new PcapWriter();
    const sc = new Scenario({ seed: SEED, pcap, device: { traceFrames: 1024, traceSnapBytes: 1514, ...device } });
    const dir = tempDir();
    const con = await SimConsole.open(sc.A, { path: path.join(dir, "ttyXS0"), clock: () => sc.net.now, seed: SEED, ...console });
    return new LiveSim(sc, con, pcap, dir);
  }

  /** Stop moving the simulation (the console then stops answering, like a hung device). */
  async freeze(): Promise<void> {
    this.ac.abort();
    await this.loop;
  }

  async stop(): Promise<void> {
    await this.freeze();
    await this.con.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Everything the console had to say has gone out, and a little time for socat to pass it on. */
  async drained(): Promise<void> {
    await waitFor(() => !this.con.console.pending(), 10000, "the console to send everything");
    await sleep(300);
  }
}

function withSeed(e: unknown): never {
  if (e instanceof Error) e.message += ` [SEED=${SEED}]`;
  throw e;
}

function tshark(args: string[]): string {
  const r = spawnSync("tshark", args, { encoding: "utf8" });
  assert.equal(r.status, 0, `tshark ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Frames (as hex) sorted: the device sees each frame once, received ones a link delay later. */
function frameSet(records: readonly PcapRecord[]): string[] {
  return records.map((r) => hex(r.frame)).sort();
}

describe("console end to end: xstcp over a PTY against the simulator", function () {
  this.timeout(60000);

  before(function () {
    requireProgram("socat", "socat");
    requireProgram("tshark", "tshark");
    requireProgram("tmux", "tmux");
    requireProgram("stty", "coreutils");
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  it("send conns / stats show the right connection states during a transfer", async function () {
    const live = await LiveSim.start({}, { noise: 0.2 });
    const { sc } = live;
    try {
      let r = await runTool(["send", "-p", live.path, "conns"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^LISTEN\s+192\.0\.2\.1:8080\s+0\.0\.0\.0:\*/m);
      assert.doesNotMatch(r.stdout, /ESTABLISHED/);

      // B does not read: A's data waits in its send ring, the connection stays ESTABLISHED.
      sc.bReading = false;
      sc.upload(50000);
      await waitFor(() => sc.client !== null && sc.client.state === 4 && sc.client.sndWnd === 0 && sc.client.sndLen > 0 &&
        sc.client.sndSpace() === 0, 10000, "the window to fill");
      r = await runTool(["send", "-p", live.path, "conns"]);
      assert.equal(r.code, 0, r.stderr);
      const port = sc.client!.localPort;
      const est = new RegExp(`^ESTABLISHED\\s+192\\.0\\.2\\.1:${port}\\s+192\\.0\\.2\\.2:80\\s+.*\\bsndWnd:0\\b.*\\bout:${sc.sent}\\b.*\\bsndq:${sc.client!.sndLen}\\b`, "m");
      assert.match(r.stdout, est);
      r = await runTool(["stats", "-p", live.path, "tcpActive"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^tcpActiveOpens\s+1$/m);

      sc.resumeReading();
      await waitFor(() => sc.finished(), 15000, "the transfer to finish");
      r = await runTool(["send", "-p", live.path, "conns"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^TIME-WAIT\\s+192\\.0\\.2\\.1:${port}\\s+192\\.0\\.2\\.2:80\\s+`, "m"));
      assert.doesNotMatch(r.stdout, /ESTABLISHED/);
      r = await runTool(["send", "-p", live.path, "arp"]);
      assert.match(r.stdout, /^192\.0\.2\.2\s+02:00:00:00:00:02\s+resolved/m);
    } catch (e) {
      withSeed(e);
    } finally {
      await live.stop();
    }
  });

  it("pcap -o FILE: tshark reads the frames the simulator sent, through xsbug framing and console noise", async function () {
    const live = await LiveSim.start({}, { xsbug: true, noise: 0.3 });
    const { sc } = live;
    const file = path.join(live.dir, "trace.pcap");
    try {
      const tool = new Tool(["pcap", "-p", live.path, "-o", file]);
      await waitFor(() => live.con.console.mode === TRACE_STREAM, 10000, `trace on (tool: ${tool.stderr})`);
      sc.upload(40000);
      await waitFor(() => sc.finished(), 15000, "the transfer to finish");
      await live.drained();
      tool.child.kill("SIGINT");
      const r = await tool.wait();
      assert.equal(r.code, 0, r.stderr);
      const sim = readPcap(live.pcap.bytes());
      const simFile = path.join(live.dir, "sim.pcap");
      live.pcap.writeFile(simFile);
      assert.match(r.stderr, new RegExp(`${sim.length} frames written .*device dropped 0, damaged records 0, missing frames 0, lost lines 0`));
      const noise = /other console lines (\d+), xsbug messages (\d+)/.exec(r.stderr);
      assert.ok(noise !== null && Number(noise[1]) > 0 && Number(noise[2]) > sim.length, r.stderr);
      assert.ok(live.con.stats.noiseLines > 0);

      // tshark's view: same number of frames, same lengths, nothing malformed.
      const ours = tshark(["-r", file, "-T", "fields", "-e", "frame.len", "-e", "eth.src"]).trim().split("\n");
      const theirs = tshark(["-r", simFile, "-T", "fields", "-e", "frame.len", "-e", "eth.src"]).trim().split("\n");
      assert.equal(ours.length, sim.length);
      assert.deepEqual([...ours].sort(), [...theirs].sort());
      assert.doesNotMatch(tshark(["-r", file, "-Y", "_ws.malformed"]), /\S/);
      assert.match(tshark(["-r", file, "-q", "-z", "conv,tcp"]), /192\.0\.2\.1:\d+\s+<->\s+192\.0\.2\.2:80/);
      // Bytes: identical frames; our transmissions carry the simulator's own timestamps.
      const got = readPcapFile(file);
      assert.deepEqual(frameSet(got), frameSet(sim));
      const tx = (rs: readonly PcapRecord[]): string[] =>
        rs.filter((x) => x.frame[11] === 1).map((x) => `${hex(x.frame)}@${Math.round(x.timeMs * 1000)}`).sort();
      assert.deepEqual(tx(got), tx(sim));
      writeFileSync(path.join(ARTIFACTS, "pcap-tshark.txt"), tshark(["-r", file]));
    } catch (e) {
      withSeed(e);
    } finally {
      await live.stop();
    }
  });

  it("pcap -o -: a live pcap stream that `tshark -i -` reads as it comes", async function () {
    const live = await LiveSim.start();
    const { sc } = live;
    try {
      const tool = new Tool(["pcap", "-p", live.path, "-o", "-"], { rawStdout: true });
      const ts = spawn("tshark", ["-i", "-", "-l", "-T", "fields", "-e", "frame.len"], { stdio: ["pipe", "pipe", "pipe"] });
      let seen = "";
      ts.stdout.setEncoding("utf8");
      ts.stdout.on("data", (d: string) => { seen += d; });
      ts.stderr.resume();
      ts.stdin.on("error", () => {});
      tool.child.stdout?.pipe(ts.stdin);
      const tsDone = new Promise<number | null>((r) => ts.on("close", (c) => r(c)));
      await waitFor(() => live.con.console.mode === TRACE_STREAM, 10000, `trace on (tool: ${tool.stderr})`);
      sc.upload(20000);
      await waitFor(() => sc.finished(), 15000, "the transfer to finish");
      const n = readPcap(live.pcap.bytes()).length;
      // Live: tshark has every frame while the tool is still running.
      await waitFor(() => seen.trim().split("\n").filter((l) => l !== "").length === n, 10000, `tshark to print ${n} frames (has ${seen.split("\n").length - 1})`);
      assert.equal(tool.child.exitCode, null, "the tool is still running");
      tool.child.kill("SIGINT");
      const r = await tool.wait();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await tsDone, 0);
      const lens = readPcap(live.pcap.bytes()).map((x) => String(x.frame.length)).sort();
      assert.deepEqual(seen.trim().split("\n").sort(), lens);
    } catch (e) {
      withSeed(e);
    } finally {
      await live.stop();
    }
  });

  it("a corrupted record is skipped and counted; every other frame arrives", async function () {
    const live = await LiveSim.start({}, { noise: 0.1 });
    const { sc } = live;
    const file = path.join(live.dir, "trace.pcap");
    try {
      const tool = new Tool(["pcap", "-p", live.path, "-o", file]);
      await waitFor(() => live.con.console.mode === TRACE_STREAM, 10000, `trace on (tool: ${tool.stderr})`);
      live.con.corruptNextFrame();
      sc.upload(10000);
      await waitFor(() => sc.finished(), 15000, "the transfer to finish");
      await live.drained();
      tool.child.kill("SIGINT");
      const r = await tool.wait();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(live.con.stats.corrupted, 1);
      const sim = readPcap(live.pcap.bytes());
      assert.match(r.stderr, /skipped a damaged record \(CRC mismatch\)/);
      assert.match(r.stderr, new RegExp(`${sim.length - 1} frames written .*damaged records 1, missing frames 1, lost lines 1`));
      const got = readPcapFile(file);
      assert.equal(got.length, sim.length - 1);
      // The frame lost is the first one the device saw (its ARP request); all others are there.
      const missing = frameSet(sim).filter((f) => !frameSet(got).includes(f));
      assert.equal(missing.length, 1);
      assert.equal(missing[0].slice(24, 28), "0806");
    } catch (e) {
      withSeed(e);
    } finally {
      await live.stop();
    }
  });

  it("clear errors: missing port, busy port, wrong baud rate, garbage on the line, a silent or foreign device", async function () {
    // A device that logs now and then (a wrong baud rate turns that into garbage).
    const live = await LiveSim.start({}, { chatterMs: 50 });
    try {
      let r = await runTool(["send", "-p", path.join(live.dir, "nope"), "conns"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^xstcp: no such port: .*nope \(run `xstcp list`/);

      const holder = new SerialPort({ path: live.path, baudRate: 460800, autoOpen: false });
      holder.on("error", () => {});
      await new Promise<void>((res, rej) => holder.open((e) => (e ? rej(e) : res())));
      r = await runTool(["send", "-p", live.path, "conns"]);
      await new Promise<void>((res) => holder.close(() => res()));
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^xstcp: port busy: .* is open in another program/);

      r = await runTool(["send", "-p", live.path, "-b", "115200", "-t", "1500", "conns"]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /no reply to "conns" within 1500 ms: .* not text\. Wrong baud rate\? This was 115200; try -b 460800/);

      // Garbage mixed into a working line: the command still works.
      const junk = setInterval(() => live.con.injectRaw(new Uint8Array([0xff, 0x00, 0x9c, 0x80, 0x0d, 0x0a])), 5);
      r = await runTool(["send", "-p", live.path, "conns"]);
      clearInterval(junk);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^LISTEN/m);

      // A device that stops answering, then one that prints text but is not running the console.
      await live.freeze();
      r = await runTool(["send", "-p", live.path, "-t", "800", "conns"]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /no reply to "conns" within 800 ms: nothing at all came from .*ttyXS0\. Is the device running with the xstcp console/);
      const text = setInterval(() => live.con.injectRaw(Buffer.from("I (5123) boot: ESP-IDF v5.1 2nd stage bootloader\r\n")), 20);
      r = await runTool(["send", "-p", live.path, "-t", "800", "conns"]);
      clearInterval(text);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /sends text but no xstcp records \(last line: "I \(5123\) boot: ESP-IDF v5\.1 2nd stage bootloader"\)/);

      r = await runTool(["send", "conns"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no port: pass -p PATH/);
      r = await runTool(["frob"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /unknown command "frob"/);
      r = await runTool(["list"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /(no serial ports found|^PATH\s+VID:PID)/m);
    } catch (e) {
      withSeed(e);
    } finally {
      await live.stop();
    }
  });

  it("watch in tmux: a readable table, redrawn on resize, the terminal restored on exit", async function () {
    const live = await LiveSim.start({}, { noise: 0.2 });
    const { sc } = live;
    const sock = `xstcp-test-${process.pid}`;
    const tmux = (...args: string[]): string => {
      const r = spawnSync("tmux", ["-L", sock, ...args], { encoding: "utf8" });
      assert.equal(r.status, 0, `tmux ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    const screen = (): string => tmux("capture-pane", "-p", "-t", "w");
    const save = (name: string, s: string): void => writeFileSync(path.join(ARTIFACTS, name), s);
    try {
      sc.bReading = false;
      sc.upload(50000);
      await waitFor(() => sc.client !== null && sc.client.state === 4 && sc.client.sndSpace() === 0, 10000, "ESTABLISHED with a full window");
      // The shell prints the exit status after watch ends (on the restored normal screen).
      const cmd = `sh -c '${process.execPath} ${TOOL} watch -p ${live.path} -i 250; echo "watch exit=$?"'`;
      tmux("-f", "/dev/null", "new-session", "-d", "-s", "w", "-x", "180", "-y", "40", cmd, ";", "set-option", "-t", "w", "remain-on-exit", "on");
      let s = "";
      await waitFor(() => /ESTABLISHED/.test(s = screen()) && /tcpOutSegs \d+/.test(s) && / device /.test(s), 10000, "the table");
      save("watch-180x40.txt", s);
      let lines = s.split("\n");
      assert.match(lines[0], /^xstcp watch {2}\S+ttyXS0 @ 460800 {2}device 02:00:00:00:00:01 192\.0\.2\.1/);
      const header = lines.findIndex((l) => l.startsWith("STATE"));
      assert.ok(header > 0, s);
      assert.match(lines[header], /^STATE\s+LOCAL\s+REMOTE\s+SND\.UNA\s+SND\.NXT\s+RCV\.NXT\s+SNDWND\s+RCVWND\s+CWND\s+SSTHRESH\s+SRTT\s+RTO\s+RTX\s+SACKED\s+BYTES-IN\s+BYTES-OUT$/);
      assert.match(s, /^LISTEN\s+192\.0\.2\.1:8080\s+0\.0\.0\.0:\*/m);
      assert.match(s, new RegExp(`^ESTABLISHED\\s+192\\.0\\.2\\.1:${sc.client!.localPort}\\s+192\\.0\\.2\\.2:80\\s+`, "m"));
      assert.match(s, /^COUNTERS/m);
      assert.match(s, /q quit \| refresh \d+ \| records \d+ \| damaged 0/);

      tmux("resize-window", "-t", "w", "-x", "90", "-y", "24");
      await waitFor(() => { s = screen(); lines = s.replace(/\n$/, "").split("\n"); return lines.length === 24 && /^STATE/m.test(s) && !/SND\.UNA/.test(s); }, 5000, "the redraw at 90x24");
      save("watch-90x24.txt", s);
      assert.ok(lines.every((l) => l.length <= 90), s);
      assert.match(s, /^STATE\s+LOCAL\s+REMOTE\s+CWND\s+RTX\s+BYTES-IN\s+BYTES-OUT\s*$/m);
      assert.match(s, /^ESTABLISHED /m);
      assert.match(lines[23], /q quit/);

      sc.resumeReading();
      await waitFor(() => /^TIME-WAIT\s+192\.0\.2\.1:/m.test(s = screen()), 15000, "TIME-WAIT on the screen");
      save("watch-time-wait.txt", s);
      assert.doesNotMatch(s, /ESTABLISHED/);

      tmux("send-keys", "-t", "w", "q");
      // The exit status: from the shell's echo, or from tmux once the pane is dead (whichever shows first).
      let status = "";
      await waitFor(() => {
        s = screen();
        const m = /watch exit=(\d+)/.exec(s);
        const dead = /^1:(\d+)$/.exec(tmux("display-message", "-p", "-t", "w", "#{pane_dead}:#{pane_dead_status}").trim());
        status = m !== null ? m[1] : dead !== null ? dead[1] : "";
        return status !== "";
      }, 10000, "watch to exit");
      save("watch-after-exit.txt", s);
      assert.equal(status, "0", "watch exit status");
      assert.doesNotMatch(s, /STATE|COUNTERS|q quit/, "the alternate screen is gone");
    } catch (e) {
      withSeed(e);
    } finally {
      spawnSync("tmux", ["-L", sock, "kill-server"]);
      await live.stop();
    }
  });

  it("xstcp help", async function () {
    const r = await runTool(["help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /xstcp pcap -p PORT -o - \| wireshark -k -i -/);
    void readFileSync;
  });
});
