/**
 * types/embedded-io-socket.d.ts: app code type-checks against it, and the classes in src/socket
 * conform to it (checked by tsc in a scratch project with no Node types: src must be pure ES).
 */
import assert from "node:assert/strict";
import { ROOT, typecheck } from "../helpers/typecheck.js";

const APP = `
import TCP from "embedded:io/socket/tcp";
import Listener from "embedded:io/socket/listener";
const l = new Listener({
  port: 80, backlog: 2,
  onReadable(requests: number) {
    for (let i = 0; i < requests; i++) {
      const s = this.read();
      if (s === undefined) break;
      new TCP({
        from: s, noDelay: true, target: l,
        onReadable(bytes: number) {
          const all = this.read(bytes);
          if (all !== undefined) { const left: number = this.write(all, { more: false }); void left; }
        },
        onError() { this.close(); },
      });
    }
  },
});
const buf = new Uint8Array(16);
const t = new TCP({
  address: "192.0.2.2", port: 80, nodelay: true, keepAlive: 30000, format: "buffer", target: { id: 1 },
  onWritable(bytes: number) { if (bytes >= 4) this.write(new Uint8Array(4), { more: true, byteLength: 8 }); },
  onReadable() { const n: number | undefined = this.read(buf); void n; },
  onError: null,
});
t.format = "number";
const b = t.read();
if (typeof b === "number") t.write(b);
const a: string | undefined = t.remoteAddress;
const port: number = l.port;
void a; void port;
t.close(); l.close();
`;

// Instances conform to the declared classes (the constructors differ only in that ours take the
// private-branded TCP for \`from\`, and the stack/clock extension options).
const CONFORM = (root: string): string => `
import type DeclTCP from "embedded:io/socket/tcp";
import type { Options as DeclOptions } from "embedded:io/socket/tcp";
import type DeclListener from "embedded:io/socket/listener";
import type { Options as DeclListenerOptions } from "embedded:io/socket/listener";
import { TCP, type TCPOptions } from "${root}/src/socket/tcp.js";
import { Listener } from "${root}/src/socket/listener.js";
export function tcp(o: TCPOptions): DeclTCP { return new TCP(o); }
export function listener(o: DeclListenerOptions): DeclListener { return new Listener(o); }
export function connectOptions(o: DeclOptions & { from?: undefined }): TCPOptions { return o; }
`;

describe("socket types (types/embedded-io-socket.d.ts)", () => {
  it("app code and the classes type-check against the declarations", function () {
    this.timeout(120000);
    const out = typecheck(["types/embedded-io-socket.d.ts"], { "app.ts": APP, "conform.ts": CONFORM(ROOT) });
    assert.equal(out, "", out);
  });
});
