import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINKTYPE_ETHERNET, PcapWriter, parsePcap, readPcap, readPcapFile } from "../../host-sim/pcap.js";
import { BROADCAST, testFrame } from "./helpers.js";

const A = new Uint8Array([2, 0, 0, 0, 0, 1]);
const B = new Uint8Array([2, 0, 0, 0, 0, 2]);

function tsharkPath(): string | null {
  try {
    return execFileSync("which", ["tshark"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

describe("host-sim pcap", () => {
  it("writes the classic global header: d4 c3 b2 a1, 2.4, snaplen 65535, LINKTYPE_ETHERNET", () => {
    const b = new PcapWriter().bytes();
    assert.equal(b.length, 24);
    assert.deepEqual(Array.from(b.subarray(0, 4)), [0xd4, 0xc3, 0xb2, 0xa1]);
    const v = new DataView(b.buffer);
    assert.equal(v.getUint16(4, true), 2);
    assert.equal(v.getUint16(6, true), 4);
    assert.equal(v.getUint32(16, true), 65535);
    assert.equal(v.getUint32(20, true), LINKTYPE_ETHERNET);
  });

  it("record headers carry seconds + microseconds from the given clock", () => {
    const w = new PcapWriter();
    w.record(testFrame(B, A, 1, 60), 60, 1234.567);
    const b = w.bytes();
    const v = new DataView(b.buffer);
    assert.equal(v.getUint32(24, true), 1);
    assert.equal(v.getUint32(28, true), 234567);
    assert.equal(v.getUint32(32, true), 60);
    assert.equal(v.getUint32(36, true), 60);
    assert.equal(b.length, 24 + 16 + 60);
  });

  it("round-trips frames, lengths and times through readPcap; only `length` bytes are recorded", () => {
    const w = new PcapWriter();
    const frames = [testFrame(B, A, 1, 60), testFrame(BROADCAST, B, 2, 1514, 0xaa), testFrame(A, B, 3, 14)];
    const times = [0, 999.999, 3_600_000.001];
    const big = new Uint8Array(200);
    big.set(frames[0]);
    w.record(big, 60, times[0]); // buffer longer than the frame
    w.record(frames[1], 1514, times[1]);
    w.record(frames[2], 14, times[2]);
    assert.equal(w.count, 3);
    const file = parsePcap(w.bytes());
    assert.equal(file.linkType, 1);
    assert.equal(file.records.length, 3);
    file.records.forEach((r, i) => {
      assert.deepEqual(r.frame, frames[i]);
      assert.equal(r.originalLength, frames[i].length);
      assert.ok(Math.abs(r.timeMs - times[i]) < 0.0011, `time ${r.timeMs} vs ${times[i]}`);
    });
  });

  it("truncates to snaplen but keeps orig_len; rejects bad input", () => {
    const w = new PcapWriter({ snaplen: 20 });
    w.record(testFrame(B, A, 1, 100), 100, 5);
    const [r] = readPcap(w.bytes());
    assert.equal(r.frame.length, 20);
    assert.equal(r.originalLength, 100);
    assert.throws(() => w.record(new Uint8Array(10), 11, 0), RangeError);
    assert.throws(() => w.record(new Uint8Array(10), 10, -1), RangeError);
    assert.throws(() => readPcap(new Uint8Array(24)), RangeError);
    const bytes = new PcapWriter().bytes();
    const cut = new Uint8Array(30);
    cut.set(bytes);
    assert.throws(() => readPcap(cut), /truncated/);
  });

  it("tshark reads the file: right frame count and lengths (tshark is required)", () => {
    const tshark = tsharkPath();
    if (tshark === null) {
      assert.fail("tshark not installed: apt-get install -y tshark (this test is never skipped)");
    }
    const dir = mkdtempSync(join(tmpdir(), "host-sim-pcap-"));
    try {
      const w = new PcapWriter();
      const lengths = [60, 100, 1514, 64, 200];
      lengths.forEach((n, i) => w.record(testFrame(i % 2 === 0 ? B : BROADCAST, A, i, n), n, i * 10.5));
      const path = join(dir, "five.pcap");
      w.writeFile(path);
      assert.equal(readPcapFile(path).length, 5);
      const out = execFileSync(tshark, ["-r", path, "-T", "fields", "-e", "frame.len", "-e", "eth.type"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, HOME: dir }, // tshark may want a writable profile directory
      });
      const rows = out.trim().split("\n").map((l) => l.split("\t"));
      assert.equal(rows.length, 5, `tshark output:\n${out}`);
      assert.deepEqual(rows.map((r) => Number(r[0])), lengths);
      for (const r of rows) assert.equal(r[1], "0x88b5");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
