/**
 * Device side (src/console) and the PC-side decoder, without a serial line: commands and replies,
 * the trace ring against the simulator's own capture, back-pressure, framing and noise tolerance.
 */
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { PcapWriter, readPcap } from "../../host-sim/pcap.js";
import { seedFromEnv } from "../../host-sim/rng.js";
import { xsbugLog } from "../../host-sim/console.js";
import { Console, TRACE_OFF, TRACE_STREAM } from "../../src/console/console.js";
import { Crc32 } from "../../src/console/crc32.js";
import { LineWriter } from "../../src/console/line.js";
import { counterNames } from "../../src/counters.js";
import { Stack } from "../../src/stack.js";
import { stateNames } from "../../src/tcp/tcb.js";
import { ConsoleDecoder, decodeEntities, type ConsoleEvent, type FrameRecord } from "../../tools/decoder.js";
import { parseConn, renderWatch } from "../../tools/table.js";
import { Scenario } from "./helpers.js";

const SEED = seedFromEnv();
const enc = new TextEncoder();

/** A Console on a stack, its output decoded in process. */
class Harness {
  readonly con: Console;
  readonly events: ConsoleEvent[] = [];
  readonly dec = new ConsoleDecoder((e) => this.events.push(e));
  private readonly out = new Uint8Array(1 << 20);

  constructor(stack: Stack, clock: () => number) {
    this.con = new Console(stack, { clock });
    this.con.attach();
  }

  send(line: string): void {
    const b = enc.encode(line + "\n");
    this.con.input(b, 0, b.length);
  }

  /** Everything the console has to say now (at most `max` bytes). */
  pump(max = this.out.length): number {
    const n = this.con.read(this.out, 0, max);
    this.dec.push(this.out.subarray(0, n));
    return n;
  }

  /** Send a command and return its reply (pumps until the E record). */
  ask(cmd: string): { ok: boolean; lines: string[]; text: string } {
    const from = this.events.length;
    this.send(cmd);
    this.pump();
    const ev = this.events.slice(from);
    const b = ev.findIndex((e) => e.kind === "begin");
    const e = ev.findIndex((x) => x.kind === "end");
    assert.ok(b >= 0 && e > b, `reply to ${cmd}: ${JSON.stringify(ev.map((x) => x.kind))}`);
    const end = ev[e] as Extract<ConsoleEvent, { kind: "end" }>;
    const lines = ev.slice(b + 1, e).filter((x): x is Extract<ConsoleEvent, { kind: "text" }> => x.kind === "text").map((x) => x.text);
    return { ok: end.ok, lines, text: end.text };
  }

  frames(): FrameRecord[] {
    return this.events.filter((e): e is Extract<ConsoleEvent, { kind: "frame" }> => e.kind === "frame").map((e) => e.frame);
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

describe("console: framing primitives", function () {
  it("CRC-32 is the zlib CRC (check value of 123456789 is cbf43926)", function () {
    const c = new Crc32();
    assert.equal(c.of(enc.encode("123456789"), 0, 9), 0xcbf43926);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => c.of(b, 0, b.length) === crc32(b)), { seed: SEED });
  });

  it("LineWriter: base64 equals Buffer's, numbers and addresses print exactly", function () {
    const w = new LineWriter(4096);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 500 }), (b) => {
      w.len = 0;
      w.base64(b, 0, b.length);
      return Buffer.from(w.buf.subarray(0, w.len)).toString("latin1") === Buffer.from(b).toString("base64");
    }), { seed: SEED });
    w.len = 0;
    w.dec(0).ch(32).dec(4294967295).ch(32).dec(-17).ch(32).dec1(12.34).ch(32).hex(0xbeef, 4).ch(32).ip(0xc0000201)
      .ch(32).dec(2 ** 53 - 1).ch(32).dec(NaN).ch(32).str("a\nb");
    assert.equal(Buffer.from(w.buf.subarray(0, w.len)).toString("latin1"),
      "0 4294967295 -17 12.3 beef 192.0.2.1 9007199254740991 nan a?b");
  });

  it("decodeEntities: XML references and the predefined entities", function () {
    assert.equal(decodeEntities("a&#10;b&lt;c&gt;&amp;&quot;&apos;&#x41;&bogus;"), "a\nb<c>&\"'A&bogus;");
  });
});

describe("console: commands", function () {
  let sc: Scenario;
  let h: Harness;
  beforeEach(function () {
    sc = new Scenario({ seed: SEED, device: { traceFrames: 64, traceSnapBytes: 128 } });
    h = new Harness(sc.A, () => sc.net.now);
  });

  it("hello first, then replies framed as B, T..., E with the caller's tag", function () {
    h.pump();
    assert.equal(h.events[0].kind, "hello");
    const hello = h.events[0] as Extract<ConsoleEvent, { kind: "hello" }>;
    assert.deepEqual(hello.hello, { version: 1, mac: "02:00:00:00:00:01", ip: "192.0.2.1", traceFrames: 64, snap: 128 });
    h.send("#42 help");
    h.pump();
    const kinds = h.events.slice(1).map((e) => e.kind);
    assert.equal(kinds[0], "begin");
    assert.equal(kinds[kinds.length - 1], "end");
    assert.ok(kinds.slice(1, -1).every((k) => k === "text") && kinds.length > 5);
    const b = h.events[1] as Extract<ConsoleEvent, { kind: "begin" }>;
    const e = h.events[h.events.length - 1] as Extract<ConsoleEvent, { kind: "end" }>;
    assert.equal(b.tag, 42);
    assert.equal(e.tag, 42);
    assert.equal(e.ok, true);
    assert.equal(h.dec.stats.corrupt, 0);
    assert.equal(h.dec.stats.lostLines, 0);
  });

  it("errors: unknown command, bad filter, tracing unavailable, over-long line; editing keys", function () {
    assert.match(h.ask("frobnicate").text, /unknown command/);
    assert.equal(h.ask("frobnicate").ok, false);
    assert.match(h.ask("trace on port x").text, /port needs a number/);
    assert.match(h.ask("trace on host 1.2.3").text, /host needs an IPv4/);
    assert.match(h.ask("trace on sideways").text, /filter: expected/);
    assert.match(h.ask("stats a b").text, /usage/);
    // Backspace edits; an over-long line is dropped whole and the next one works.
    const b = enc.encode("cx\x7fonns\r\n");
    h.con.input(b, 0, b.length);
    h.pump();
    assert.ok(h.events.some((e) => e.kind === "begin" && e.command === "conns"));
    const long = enc.encode("x".repeat(500) + "\n");
    h.con.input(long, 0, long.length);
    assert.ok(h.con.inputDropped > 0);
    assert.equal(h.ask("arp").ok, true);
    const bare = new Scenario({ seed: SEED });
    const h2 = new Harness(bare.A, () => bare.net.now);
    assert.match(h2.ask("trace on").text, /tracing unavailable: config.traceFrames is 0/);
  });

  it("stats: every counter by its MIB name with its value; PREFIX; reset", function () {
    sc.upload(3000);
    sc.net.run({ maxMs: 2000 });
    const r = h.ask("stats");
    const names = counterNames(sc.A.counters);
    assert.equal(r.lines.length, names.length);
    const values = sc.A.counters as unknown as Record<string, number>;
    for (let i = 0; i < names.length; i++) {
      const [name, value] = r.lines[i].trim().split(/\s+/);
      assert.equal(name, names[i]);
      assert.equal(Number(value), values[names[i]], names[i]);
    }
    assert.ok(values.tcpOutSegs > 0);
    const tcp = h.ask("stats tcp");
    assert.deepEqual(tcp.lines.map((l) => l.split(/\s+/)[0]), names.filter((n) => n.startsWith("tcp")));
    assert.equal(h.ask("stats reset").ok, true);
    assert.equal(sc.A.counters.tcpOutSegs, 0);
  });

  it("conns: LISTEN, ESTABLISHED with the Tcb's numbers, then TIME-WAIT; arp", function () {
    sc.bReading = false;
    sc.upload(20000);
    sc.net.run({ maxMs: 300 });
    let r = h.ask("conns");
    const conns = r.lines.map(parseConn);
    assert.equal(conns[0]?.state, "LISTEN");
    assert.equal(conns[0]?.local, "192.0.2.1:8080");
    const est = conns.find((c) => c?.state === "ESTABLISHED");
    assert.ok(est, r.lines.join("\n"));
    const t = sc.client!;
    assert.equal(est.local, `192.0.2.1:${t.localPort}`);
    assert.equal(est.remote, "192.0.2.2:80");
    for (const [k, v] of [["sndUna", t.sndUna], ["sndNxt", t.sndNxt], ["rcvNxt", t.rcvNxt], ["sndWnd", t.sndWnd],
      ["rcvWnd", t.rcvSpace()], ["cwnd", t.cwnd], ["ssthresh", t.ssthresh], ["rto", t.rto], ["rtx", t.retransmits],
      ["in", t.bytesIn], ["out", t.bytesOut], ["sndq", t.sndLen]] as const) {
      assert.equal(Number(est.kv.get(k)), v, k);
    }
    assert.ok(t.sndLen > 0 && t.bytesOut > 0, "data waiting while B does not read");
    for (const k of ["srtt", "rttvar", "sacked", "ooo", "iss", "irs", "mss", "opts"]) assert.ok(est.kv.has(k), k);
    sc.resumeReading();
    sc.net.run({ maxMs: 5000, until: () => sc.finished() });
    assert.ok(sc.finished(), "transfer done");
    r = h.ask("conns");
    const tw = r.lines.map(parseConn).find((c) => c?.state === "TIME-WAIT");
    assert.ok(tw, r.lines.join("\n"));
    assert.equal(tw.remote, "192.0.2.2:80");
    const arp = h.ask("arp");
    assert.equal(arp.lines.length, 1);
    assert.match(arp.lines[0], /^192\.0\.2\.2\s+02:00:00:00:00:02\s+resolved expires:\d+$/);
    assert.ok(stateNames.includes(est.state));
  });
});

describe("console: trace ring", function () {
  it("frames in both directions equal the simulator's capture, bytes and timestamps", function () {
    const pcap = new PcapWriter();
    const sc = new Scenario({ seed: SEED, pcap, device: { traceFrames: 512, traceSnapBytes: 1514 } });
    const h = new Harness(sc.A, () => sc.net.now);
    assert.equal(h.ask("trace on").ok, true);
    assert.equal(h.con.mode, TRACE_STREAM);
    sc.upload(30000);
    sc.net.run({ maxMs: 10000, until: () => sc.finished() });
    assert.ok(sc.finished());
    const off = h.ask("trace off");
    assert.match(off.text, /captured:\d+ dropped:0/);
    h.pump();
    assert.equal(h.con.mode, TRACE_OFF);
    const frames = h.frames();
    const wire = readPcap(pcap.bytes());
    assert.equal(frames.length, wire.length);
    assert.deepEqual(frames.map((f) => f.number), frames.map((_f, i) => i));
    assert.deepEqual(frames.map((f) => hex(f.data)).sort(), wire.map((r) => hex(r.frame)).sort());
    // Our transmissions carry the same timestamp as the simulator's record of them.
    const txTimes = frames.filter((f) => f.tx).map((f) => `${hex(f.data)}@${f.sec * 1e6 + f.usec}`).sort();
    const wireTx = wire.filter((r) => r.frame[11] === 1).map((r) => `${hex(r.frame)}@${Math.round(r.timeMs * 1000)}`).sort();
    assert.deepEqual(txTimes, wireTx);
    assert.ok(frames.some((f) => !f.tx) && frames.some((f) => f.tx));
  });

  it("snap length: frames are cut to traceSnapBytes and flagged, with the wire length kept", function () {
    const sc = new Scenario({ seed: SEED, device: { traceFrames: 64, traceSnapBytes: 100 } });
    const h = new Harness(sc.A, () => sc.net.now);
    h.ask("trace on tcp");
    sc.upload(5000);
    sc.net.run({ maxMs: 2000 });
    h.pump();
    const big = h.frames().filter((f) => f.wireLength > 100);
    assert.ok(big.length > 0);
    for (const f of big) { assert.equal(f.data.length, 100); assert.equal(f.truncated, true); }
  });

  it("trace keep / dump: the ring keeps the most recent frames without streaming, dump sends them", function () {
    const sc = new Scenario({ seed: SEED, device: { traceFrames: 8, traceSnapBytes: 64 } });
    const h = new Harness(sc.A, () => sc.net.now);
    assert.match(h.ask("trace keep tcp").text, /mode:keep/);
    sc.upload(20000);
    sc.net.run({ maxMs: 3000, until: () => sc.finished() });
    h.pump();
    assert.equal(h.frames().length, 0, "nothing streamed while keeping");
    const captured = h.con.ring.captured;
    assert.ok(captured > 8);
    assert.equal(h.con.ring.dropped, 0, "overwriting in keep mode is not a drop");
    assert.match(h.ask("trace dump").text, /mode:draining/);
    h.pump();
    assert.deepEqual(h.frames().map((f) => f.number), Array.from({ length: 8 }, (_v, i) => captured - 8 + i));
    assert.match(h.ask("trace").lines[0], /^trace mode:off ring:8x64 /);
    assert.match(h.ask("info").text, /^$/);
  });

  it("filters: tcp port, arp, host, in/out", function () {
    const sc = new Scenario({ seed: SEED, device: { traceFrames: 256, traceSnapBytes: 64 } });
    const h = new Harness(sc.A, () => sc.net.now);
    const cases: [string, (f: FrameRecord) => boolean][] = [
      ["arp", (f) => f.data[12] === 0x08 && f.data[13] === 0x06],
      ["tcp port 80", (f) => f.data[23] === 6],
      ["out", (f) => f.tx],
      ["in host 192.0.2.2", (f) => !f.tx],
    ];
    sc.upload(2_000_000);
    sc.net.run({ maxMs: 1 });
    for (const [filter, check] of cases) {
      const from = h.events.length;
      assert.equal(h.ask(`trace on ${filter}`).ok, true, filter);
      sc.net.run({ maxMs: 200 });
      h.ask("trace off");
      h.pump();
      const got = h.events.slice(from).filter((e): e is Extract<ConsoleEvent, { kind: "frame" }> => e.kind === "frame").map((e) => e.frame);
      if (filter !== "arp") assert.ok(got.length > 0, filter);
      assert.ok(got.every(check), filter);
    }
    assert.ok(sc.sent < sc.data.length, "the transfer outlasted the filters");
    assert.match(h.ask("trace").lines[0], /mode:off/);
  });

  it("back-pressure: a slow UART drops frames (counted, numbered gaps), the stack never waits", function () {
    const run = (withConsole: boolean): { pcap: Uint8Array; h: Harness | null; received: number } => {
      const pcap = new PcapWriter();
      const sc = new Scenario({ seed: SEED, pcap, device: { traceFrames: 8, traceSnapBytes: 1514 } });
      let h: Harness | null = null;
      if (withConsole) {
        h = new Harness(sc.A, () => sc.net.now);
        h.ask("trace on");
      }
      sc.upload(60000);
      // A 115200-baud UART: 11.5 bytes per ms.
      let last = 0;
      const hh = h;
      sc.net.run({
        maxMs: 30000,
        until: () => {
          if (hh !== null) { hh.pump(Math.floor((sc.net.now - last) * 11.52)); last = sc.net.now; }
          return sc.finished();
        },
      });
      assert.ok(sc.finished());
      return { pcap: pcap.bytes(), h, received: sc.received };
    };
    const plain = run(false);
    const traced = run(true);
    // Same seed, same frames: the console changed nothing on the wire.
    assert.deepEqual(traced.pcap, plain.pcap);
    const h = traced.h!;
    h.ask("trace off");
    for (let k = 0; k < 100 && h.pump(4096) > 0; k++);
    const frames = h.frames();
    const ring = h.con.ring;
    assert.ok(ring.dropped > 0, "the UART was too slow for the traffic");
    assert.equal(frames.length + ring.dropped, ring.captured);
    const drops = h.events.filter((e): e is Extract<ConsoleEvent, { kind: "drops" }> => e.kind === "drops");
    assert.ok(drops.length > 0);
    assert.equal(drops[drops.length - 1].dropped, ring.dropped);
    let gaps = 0;
    for (let i = 1; i < frames.length; i++) gaps += frames[i].number - frames[i - 1].number - 1;
    gaps += frames[0].number;
    assert.equal(gaps, ring.dropped);
    assert.equal(h.dec.stats.corrupt, 0);
  });
});

describe("console: decoder tolerates noise, xsbug framing, chunking; counts damage", function () {
  /** Real console output: hello, a reply, some frames. */
  function sampleOutput(): { text: string; records: number } {
    const sc = new Scenario({ seed: SEED, device: { traceFrames: 64, traceSnapBytes: 300 } });
    const h = new Harness(sc.A, () => sc.net.now);
    h.ask("trace on");
    h.send("conns");
    sc.upload(3000);
    sc.net.run({ maxMs: 300 });
    const out = new Uint8Array(1 << 20);
    const n = h.con.read(out, 0, out.length);
    const text = Buffer.from(out.subarray(0, n)).toString("latin1");
    return { text, records: text.split("\n").filter((l) => l.startsWith("@xt ")).length };
  }

  it("records survive interleaved text, fragments before a record, xsbug messages, garbage bytes, any chunking", function () {
    const { text, records } = sampleOutput();
    const lines = text.split(/(?<=\n)/);
    assert.ok(records > 10);
    fc.assert(fc.property(
      fc.array(fc.constantFrom("noise", "fragment", "garbage", "xsbug-noise", "login", "none"), { minLength: lines.length, maxLength: lines.length }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 50 }),
      (extras, xsbug, cuts) => {
        let s = "";
        lines.forEach((line, i) => {
          switch (extras[i]) {
            case "noise": s += "I (123) wifi: <connected> & ready\r\n"; break;
            case "fragment": s += xsbug ? xsbugLog("progress 50%", false) : "progress 50% "; break;
            case "garbage": s += "\r\n\xff\xfe\x80\x00\x9c\r\n"; break;
            case "xsbug-noise": s += xsbugLog("app says <hi> & bye", true); break;
            case "login": s += "\r\n<?xs.3ffb2c10?>\r\n<xsbug><login name=\"main\" value=\"XS\"/></xsbug>\r\n"; break;
            default: break;
          }
          if (!xsbug) { s += line; return; }
          const body = line.replace(/\r?\n$/, "");
          const cut = body.length > 100 ? (cuts[i % cuts.length] % body.length) : 0;
          s += cut > 0 ? xsbugLog(body.slice(0, cut), false) + xsbugLog(body.slice(cut), true) : xsbugLog(body, true);
        });
        const bytes = Buffer.from(s, "latin1");
        const got: ConsoleEvent[] = [];
        const d = new ConsoleDecoder((e) => got.push(e));
        let at = 0, k = 0;
        while (at < bytes.length) {
          const n = cuts[k++ % cuts.length];
          d.push(bytes.subarray(at, at + n));
          at += n;
        }
        d.end();
        assert.equal(d.stats.records, records);
        assert.equal(d.stats.corrupt, 0);
        assert.equal(d.stats.lostLines, 0);
        return true;
      },
    ), { seed: SEED, numRuns: 60 });
  });

  it("a damaged record is skipped and counted; the records around it still decode; gaps count as lost", function () {
    const { text, records } = sampleOutput();
    const lines = text.split(/(?<=\n)/);
    const f = lines.findIndex((l) => l.startsWith("@xt F "));
    const damaged = lines.slice();
    damaged[f] = damaged[f].slice(0, 30) + (damaged[f][30] === "Q" ? "R" : "Q") + damaged[f].slice(31);
    const got: ConsoleEvent[] = [];
    const d = new ConsoleDecoder((e) => got.push(e));
    d.push(Buffer.from(damaged.join(""), "latin1"));
    assert.equal(d.stats.corrupt, 1);
    assert.equal(d.stats.records, records - 1);
    assert.equal(d.stats.lostLines, 1);
    const c = got.find((e) => e.kind === "corrupt");
    assert.ok(c && c.kind === "corrupt" && c.reason === "CRC mismatch");
  });

  it("garbage bytes (a wrong baud rate) are counted", function () {
    const d = new ConsoleDecoder(() => {});
    d.push(new Uint8Array([0xff, 0x80, 0x9e, 0x00, 0xf0, 0x41, 0x0d, 0x0a]));
    assert.equal(d.stats.garbageBytes, 5);
    assert.equal(d.stats.records, 0);
  });
});

describe("console: watch screen layout", function () {
  it("exactly height lines of exactly width characters; narrow screens drop columns, not rows", function () {
    const conn = parseConn("ESTABLISHED 192.0.2.1:49152 192.0.2.2:80 id:0 iss:10 irs:20 sndUna:1460 sndNxt:2920 rcvNxt:21 sndWnd:5840 rcvWnd:5840 cwnd:2920 ssthresh:65535 srtt:10.5 rttvar:2.0 rto:200 rtx:1 sacked:0 in:0 out:123456 sndq:5840 rcvq:0")!;
    const stats = new Map([["tcpInSegs", 10], ["tcpOutSegs", 12], ["ipInReceives", 0]]);
    for (const [w, hgt] of [[160, 40], [80, 24], [40, 10], [20, 5]]) {
      const lines = renderWatch({ title: "t", conns: [conn], stats, rates: new Map([["tcpInSegs", 5]]), status: "s", error: "" }, w, hgt);
      assert.equal(lines.length, hgt);
      assert.ok(lines.every((l) => l.length === w), `${w}x${hgt}`);
      assert.ok(lines.some((l) => l.startsWith("ESTABLISHED")), `${w}x${hgt}`);
    }
    const wide = renderWatch({ title: "t", conns: [conn], stats, rates: new Map(), status: "s", error: "" }, 200, 30);
    assert.match(wide.join("\n"), /SND\.UNA\s+SND\.NXT\s+RCV\.NXT/);
    assert.match(wide.join("\n"), /\b1450\b.*\b2910\b.*\b1\b/);
    assert.match(wide.join("\n"), /tcpInSegs 10/);
    assert.doesNotMatch(wide.join("\n"), /ipInReceives/);
  });
});
