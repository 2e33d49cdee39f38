/**
 * Typings of embedded:io/socket/tcp and /listener, against both declaration sets:
 *   ours:     types/embedded-io-socket.d.ts (ECMA-419 3rd edition)
 *   Moddable: @moddable/typings 5.6.0, only the files that compile under `strict`
 *             (xs.d.ts, embedded_io/_common.d.ts, embedded_io/socket/{tcp,listener}.d.ts;
 *             see research/moddable.md [T]; udp.d.ts needs skipLibCheck and is left out).
 *
 * 1. A Moddable-style app using the classes (the part of the API both sets describe) compiles against
 *    each set, with strict, no Node types.
 * 2. Our classes (src/socket) are checked member by member against each set. Against ours every line
 *    compiles; against Moddable's the lines marked `// gap: ...` must fail and no other line may: a
 *    known difference that disappears, or a new one, fails the test, so drift in either set shows.
 * 3. A file of 3rd-edition usage compiles against ours; against Moddable's exactly its `// gap:` lines fail.
 * tsc runs in a scratch project (os.tmpdir()); every declaration file is given by absolute path.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = path.basename(path.resolve(here, "../..")) === "dist" ? "../../.." : "../..";
  return path.resolve(here, up);
})();

const MT = path.join(ROOT, "node_modules/@moddable/typings");
/** XS's globals (trace, ArrayBuffer.fromString, HostBuffer): mcconfig always adds them; our sockets replace only socket/*. */
const XS_GLOBALS = path.join(MT, "xs.d.ts");
const OURS = [XS_GLOBALS, path.join(ROOT, "types/embedded-io-socket.d.ts")];
const MODDABLE = [XS_GLOBALS, ...["embedded_io/_common.d.ts", "embedded_io/socket/tcp.d.ts", "embedded_io/socket/listener.d.ts"]
  .map((f) => path.join(MT, f))];

/** The shared subset, written as Moddable's examples are (callbacks with `this`, target, read/write). */
const APP = `
import TCP from "embedded:io/socket/tcp";
import Listener from "embedded:io/socket/listener";

class Client {
  socket: TCP | undefined;
  request: string | undefined = "GET / HTTP/1.0\\r\\n\\r\\n";
  received = 0;
  constructor(address: string) {
    const self = this;
    this.socket = new TCP({
      address, port: 80, nodelay: true, format: "buffer", target: this,
      onWritable(this: TCP, bytes: number) {
        if (self.request !== undefined && bytes > 0) { this.write(ArrayBuffer.fromString(self.request)); self.request = undefined; }
      },
      onReadable(this: TCP, bytes: number) {
        const data = this.read(bytes);
        if (data !== undefined && typeof data !== "number") self.received += data.byteLength;
      },
      onError(this: TCP) { this.close(); },
    });
  }
}
new Client("192.0.2.2");

const scratch = new Uint8Array(64);
new Listener({
  port: 7,
  onReadable(requests: number) {
    while (requests-- > 0) {
      const from = this.read();
      if (from === undefined) break;
      new TCP({
        from,
        onReadable(this: TCP) { this.read(scratch); this.write(scratch); },
        onError(this: TCP) { this.close(); },
      });
    }
  },
});
const probe = new TCP({ address: "192.0.2.3", port: 7 });
probe.format = "number";
const byte = probe.read();
if (typeof byte === "number") probe.write(byte);
probe.format = "buffer";
const who: string | undefined = probe.remoteAddress;
const port: number | undefined = probe.remotePort;
void who; void port;
probe.close();
`;

/** Our classes, member by member, against the declared ones. */
const CONFORM = (root: string): string => `
import type DeclTCP from "embedded:io/socket/tcp";
import type { Options } from "embedded:io/socket/tcp";
import type DeclListener from "embedded:io/socket/listener";
import { TCP, type TCPOptions } from "${root}/src/socket/tcp.js";
import { Listener } from "${root}/src/socket/listener.js";
declare const t: TCP;
declare const l: Listener;
export const whole: DeclTCP = t; // gap: read() may return undefined (nothing readable, ECMA-419); Moddable says number | ArrayBuffer
export const read: DeclTCP["read"] = t.read; // gap: the same, member by member
export const write: DeclTCP["write"] = t.write;
export const close: DeclTCP["close"] = t.close;
export const format: DeclTCP["format"] = t.format;
export const remoteAddress: DeclTCP["remoteAddress"] = t.remoteAddress;
export const remotePort: DeclTCP["remotePort"] = t.remotePort;
export const listener: DeclListener = l; // gap: as lread
export const lread: DeclListener["read"] = l.read; // gap: it returns our TCP, whose read() may return undefined
export const lport: DeclListener["port"] = l.port;
export const lformat: DeclListener["format"] = l.format;
export function connectOptions(o: Options & { from?: undefined }): TCPOptions { return o; } // gap: callbacks get \`this\` = Moddable's TCP, see read
`;

/** 3rd-edition usage (and \`target\`): compiles against ours; the gap lines are what Moddable's 5.6.0 typings lack. */
const THIRD = `
import TCP from "embedded:io/socket/tcp";
function onReadableOf(this: TCP): void { const who = this.target; void who; } // gap: target on the instance (Moddable declares it only as an option)
import Listener from "embedded:io/socket/listener";
const buf = new Uint8Array(16);
const t = new TCP({
  address: "192.0.2.2", port: 80,
  noDelay: true, // gap: noDelay (ECMA-419 spelling) — Moddable's options have nodelay only
  keepAlive: 30000,
  onReadable(this: TCP) { const n: number | undefined = this.read(buf); void n; }, // gap: read(buffer) returns the count (Moddable: void)
});
const left: number = t.write(buf); // gap: write() returns the writable count (Moddable: void)
t.write(buf, { more: true, byteLength: 32 }); // gap: write options { more, byteLength }
const none = t.read(4);
if (none === undefined) t.close();
const l = new Listener({
  port: 0,
  onError(this: Listener) { this.close(); }, // gap: Listener onError and close()
});
l.close(); // gap: Listener close()
void left; void onReadableOf;
`;

interface Diag { file: string; line: number; text: string }

/** tsc -p on a scratch project: the diagnostics (empty when it compiles). */
function compile(decls: string[], files: Record<string, string>): Diag[] {
  const dir = mkdtempSync(path.join(tmpdir(), "typings-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "ESNext", moduleResolution: "Bundler", lib: ["ES2022"], types: [],
        strict: true, noEmit: true, skipLibCheck: false, noUnusedLocals: false, pretty: false,
      },
      files: [...decls, ...Object.keys(files).map((f) => path.join(dir, f))],
    }));
    let out = "";
    try {
      execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    const diags: Diag[] = [];
    for (const line of out.split("\n")) {
      const m = /^(.*?)\((\d+),\d+\): error (TS\d+: .*)$/.exec(line);
      if (m !== null) diags.push({ file: path.basename(m[1]), line: Number(m[2]), text: m[3] });
      else if (line.trim() !== "" && !line.startsWith(" ")) diags.push({ file: "?", line: 0, text: line });
    }
    return diags;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines of `src` marked `// gap:` (1-based). */
function gapLines(src: string): number[] {
  return src.split("\n").flatMap((l, i) => (l.includes("// gap:") ? [i + 1] : []));
}

function show(d: Diag[]): string {
  return d.map((x) => `${x.file}:${x.line} ${x.text}`).join("\n");
}

describe("typings: embedded:io/socket/{tcp,listener} against our .d.ts and @moddable/typings", function () {
  this.timeout(120_000);
  const conform = CONFORM(ROOT);
  const files = { "app.ts": APP, "conform.ts": conform, "third.ts": THIRD };
  let ours: Diag[] = [];
  let theirs: Diag[] = [];
  const of = (d: Diag[], file: string): Diag[] => d.filter((x) => x.file === file);
  const lines = (d: Diag[]): number[] => [...new Set(d.map((x) => x.line))].sort((a, b) => a - b);

  before(() => {
    // One tsc run per declaration set, all three files in it.
    ours = compile(OURS, files);
    theirs = compile(MODDABLE, files);
  });

  it("no error outside the three checked files (the declaration files themselves compile under strict)", () => {
    const stray = [...ours, ...theirs].filter((x) => !(x.file in files));
    assert.deepEqual(stray, [], show(stray));
  });

  it("a Moddable-style app compiles against our declarations", () => {
    assert.deepEqual(of(ours, "app.ts"), [], show(ours));
  });

  it("the same app compiles against @moddable/typings 5.6.0 (xs, _common, socket/tcp, socket/listener)", () => {
    assert.deepEqual(of(theirs, "app.ts"), [], show(theirs));
  });

  it("our classes conform to our declarations, member by member", () => {
    assert.deepEqual(of(ours, "conform.ts"), [], show(ours));
  });

  it("against @moddable/typings, our classes differ exactly on the known gaps", () => {
    assert.deepEqual(lines(of(theirs, "conform.ts")), gapLines(conform), show(of(theirs, "conform.ts")));
  });

  it("3rd-edition usage compiles against ours; against Moddable's exactly the gap lines fail", () => {
    assert.deepEqual(of(ours, "third.ts"), [], show(ours));
    assert.deepEqual(lines(of(theirs, "third.ts")), gapLines(THIRD), show(of(theirs, "third.ts")));
  });
});
