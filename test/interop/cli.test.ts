/**
 * `netsim tap` pieces that need no root: option parsing, the pattern stream, and the fault seam that
 * drives the simulator's FaultLink on the wall clock between the TAP and the stack.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { patternSha256 } from "../../host-sim/apps.js";
import { FaultLink } from "../../host-sim/faults.js";
import { Rng } from "../../host-sim/rng.js";
import { parseBytes, parseTapArgs, patternSha, patternView, runTapCli, TAP_USAGE, TapFaultSeam, UsageError } from "../../host-sim/tap-cli.js";

describe("netsim tap: options", function () {
  it("parses every option", function () {
    const o = parseTapArgs([
      "--tap", "tap7", "--ip", "192.0.2.2/24", "--gw", "192.0.2.1", "--host-ip", "192.0.2.1/24", "--preset", "throughput",
      "--serve", "echo:7,discard,chargen:1919,http:8080,iperf3", "--get", "http://192.0.2.1:8000/f.bin", "--get", "http://192.0.2.1/",
      "--send", "192.0.2.1:9000:4MiB", "--recv", "5001:3", "--echo", "192.0.2.1:7007:64k", "--iperf3", "192.0.2.1",
      "--iperf3-time", "3", "--iperf3-reverse", "--iperf3-parallel", "2", "--pcap", "/tmp/x.pcap", "--seconds", "9",
      "--loss", "0.01", "--delay", "2", "--jitter=1", "--dup", "0.02", "--reorder", "0.03", "--reorder-delay", "4", "--corrupt", "0.001",
      "--seed", "42", "--faults-dir", "rx", "--quiet", "--json", "--linger", "1.5", "--wait-signal", "--drain", "16", "--mtu", "1400",
      "--mac", "02:00:00:00:00:09",
    ]);
    assert.equal(o.tap, "tap7");
    assert.equal(o.ip, "192.0.2.2");
    assert.equal(o.prefix, 24);
    assert.equal(o.gw, "192.0.2.1");
    assert.equal(o.hostIp, "192.0.2.1/24");
    assert.equal(o.preset, "throughput");
    assert.deepEqual(o.serve, [
      { kind: "echo", port: 7 }, { kind: "discard", port: 9 }, { kind: "chargen", port: 1919 }, { kind: "http", port: 8080 }, { kind: "iperf3", port: 5201 },
    ]);
    assert.deepEqual(o.get, [
      { url: "http://192.0.2.1:8000/f.bin", address: "192.0.2.1", port: 8000, path: "/f.bin" },
      { url: "http://192.0.2.1/", address: "192.0.2.1", port: 80, path: "/" },
    ]);
    assert.deepEqual(o.send, [{ address: "192.0.2.1", port: 9000, bytes: 4 << 20 }]);
    assert.deepEqual(o.recv, [{ port: 5001, count: 3 }]);
    assert.deepEqual(o.echo, [{ address: "192.0.2.1", port: 7007, bytes: 65536 }]);
    assert.deepEqual(o.iperf3, { address: "192.0.2.1", port: 5201, seconds: 3, reverse: true, parallel: 2 });
    assert.deepEqual(o.faults, { loss: 0.01, delayMs: 2, jitterMs: 1, duplicate: 0.02, reorder: 0.03, reorderDelayMs: 4, corrupt: 0.001 });
    assert.equal(o.faultsDir, "rx");
    assert.equal(o.seed, 42);
    assert.equal(o.pcap, "/tmp/x.pcap");
    assert.equal(o.seconds, 9);
    assert.equal(o.lingerS, 1.5);
    assert.equal(o.drain, 16);
    assert.equal(o.mtu, 1400);
    assert.equal(o.mac, "02:00:00:00:00:09");
    assert.ok(o.quiet && o.json && o.waitSignal);
  });

  it("--dhcp replaces --ip; no faults means a null fault set", function () {
    const o = parseTapArgs(["--tap", "tap0", "--dhcp"]);
    assert.equal(o.dhcp, true);
    assert.equal(o.ip, null);
    assert.equal(o.faults, null);
  });

  it("refuses bad input with a usage error", function () {
    const bad: string[][] = [
      [], ["--tap", "tap0"], ["--tap", "tap0", "--ip", "192.0.2.2/24", "--dhcp"], ["--tap", "bad name!", "--ip", "192.0.2.2/24"],
      ["--tap", "tap0", "--ip", "192.0.2.300/24"], ["--tap", "tap0", "--ip", "192.0.2.2/24", "--loss", "2"],
      ["--tap", "tap0", "--ip", "192.0.2.2/24", "--serve", "ftp:21"], ["--tap", "tap0", "--ip", "192.0.2.2/24", "--serve", "echo:7,discard:7"],
      ["--tap", "tap0", "--ip", "192.0.2.2/24", "--get", "https://192.0.2.1/"], ["--tap", "tap0", "--ip", "192.0.2.2/24", "--send", "192.0.2.1:0:10"],
      ["--tap", "tap0", "--ip", "192.0.2.2/24", "--preset", "huge"], ["--tap", "tap0", "--ip", "192.0.2.2/24", "--frobnicate"],
      ["--tap", "tap0", "--ip"],
    ];
    for (const args of bad) assert.throws(() => parseTapArgs(args), UsageError, args.join(" "));
  });

  it("byte counts take k/M/G (powers of 1024)", function () {
    assert.equal(parseBytes("123", "x"), 123);
    assert.equal(parseBytes("4k", "x"), 4096);
    assert.equal(parseBytes("2M", "x"), 2 << 20);
    assert.equal(parseBytes("2MiB", "x"), 2 << 20);
    assert.equal(parseBytes("1G", "x"), 1 << 30);
    assert.throws(() => parseBytes("lots", "x"), UsageError);
  });

  it("--help prints the usage and exits 0; a usage error exits 2", async function () {
    const out: string[] = [];
    const log = console.log, err = console.error;
    console.log = (s: string) => out.push(s);
    console.error = (s: string) => out.push(s);
    try {
      assert.equal(await runTapCli(["--help"]), 0);
      assert.equal(await runTapCli(["--tap"]), 2);
    } finally {
      console.log = log;
      console.error = err;
    }
    assert.ok(out[0]!.includes("--tap NAME") && out[0]!.includes("--serve LIST") && out[0]!.includes("--pcap FILE"));
    assert.match(out[1]!, /--tap needs a value/);
    for (const opt of ["--ip", "--gw", "--dhcp", "--get", "--send", "--recv", "--echo", "--iperf3", "--loss", "--delay", "--dup", "--reorder", "--corrupt", "--seed", "--seconds", "--preset"]) {
      assert.ok(TAP_USAGE.includes(opt), opt);
    }
  });

  it("the pattern stream matches the apps' (SHA-256)", function () {
    for (const n of [0, 1, 65535, 65536, 65537, 300_000]) assert.equal(patternSha(n), patternSha256(n), String(n));
    assert.deepEqual(Array.from(patternView(65534, 4)), [65534, 65535, 65536, 65537].map((i) => (i * 7 + (i >>> 8)) & 0xff));
  });
});

describe("netsim tap: TapFaultSeam (FaultLink on the wall clock)", function () {
  const frame = (i: number): Uint8Array => Uint8Array.of(i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i);

  it("without a link: every frame passes at once, in order; rx is recorded as delivered, tx as sent", function () {
    const recorded: number[] = [];
    const got: number[] = [];
    const rx = new TapFaultSeam(null, (f) => recorded.push(f[0]!), "rx");
    for (let i = 0; i < 5; i++) rx.process(frame(i), 16, 0, (f) => got.push(f[0]!));
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
    assert.deepEqual(recorded, [0, 1, 2, 3, 4]);
    const tx = new TapFaultSeam(new FaultLink(new Rng(1), { loss: 1 }), (f) => recorded.push(100 + f[0]!), "tx");
    tx.process(frame(7), 16, 0, () => assert.fail("lost frames are not delivered"));
    assert.equal(recorded.at(-1), 107, "tx frames are recorded before the faults");
    assert.equal(tx.link!.stats.lost, 1);
  });

  it("delay: frames arrive later, in order, as copies (the driver may reuse its buffer)", async function () {
    const link = new FaultLink(new Rng(3), { delayMs: 15 });
    const seam = new TapFaultSeam(link, null, "rx");
    const got: number[] = [];
    const buf = frame(1);
    const t0 = performance.now();
    let at = 0;
    seam.process(buf, 16, performance.now(), (f) => { got.push(f[0]!); at = performance.now(); });
    buf.fill(9); // reused by the driver
    seam.process(frame(2), 16, performance.now(), (f) => got.push(f[0]!));
    assert.deepEqual(got, []);
    assert.equal(seam.queued, 2);
    for (let i = 0; i < 100 && got.length < 2; i++) await sleep(5);
    assert.deepEqual(got, [1, 2]);
    assert.ok(at - t0 >= 14, `delivered after ${at - t0} ms`);
    assert.equal(seam.delayed, 2);
    seam.close();
  });

  it("duplication and reordering come from the FaultLink (seeded: the same seed, the same fate)", async function () {
    const fates = async (seed: number): Promise<number[]> => {
      const seam = new TapFaultSeam(new FaultLink(new Rng(seed), { duplicate: 0.3, reorder: 0.3, reorderDelayMs: 5 }), null, "rx");
      const got: number[] = [];
      for (let i = 0; i < 40; i++) seam.process(frame(i), 16, performance.now(), (f) => got.push(f[0]!));
      for (let i = 0; i < 100 && seam.queued > 0; i++) await sleep(5);
      assert.equal(seam.queued, 0);
      const s = seam.link!.stats;
      assert.ok(s.duplicated > 0 && s.reordered > 0, JSON.stringify(s));
      assert.equal(got.length, 40 + s.duplicated);
      seam.close();
      return got.slice().sort((a, b) => a - b);
    };
    const a = await fates(5), b = await fates(5);
    assert.deepEqual(a, b);
  });

  it("close() drops what waits and delivers nothing more", async function () {
    const seam = new TapFaultSeam(new FaultLink(new Rng(1), { delayMs: 5 }), null, "tx");
    let n = 0;
    seam.process(frame(1), 16, performance.now(), () => n++);
    seam.close();
    await sleep(20);
    assert.equal(n, 0);
    seam.process(frame(2), 16, performance.now(), () => n++);
    assert.equal(n, 0);
  });
});
