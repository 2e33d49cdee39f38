/**
 * types/embedded-io-socket-udp.d.ts: app code type-checks against it, and src/socket/udp.ts conforms
 * to it (tsc in a scratch project with no Node types: src must be pure ES).
 */
import assert from "node:assert/strict";
import { ROOT, typecheck } from "../helpers/typecheck.js";

const APP = `
import UDP from "embedded:io/socket/udp";
const buf = new Uint8Array(512);
const u = new UDP({
  port: 53, target: { id: 1 },
  onReadable(packets: number) {
    for (let i = 0; i < packets; i++) {
      const p = this.read();
      if (p === undefined) break;
      const from: string = p.address, port: number = p.port;
      this.write(p, from, port);
      this.write(from, port, new Uint8Array(p));
    }
    const n: number | undefined = this.read(buf);
    void n;
  },
  onError: null,
});
const port: number = u.port;
const local: string = u.address;
u.format = "buffer";
void port; void local;
u.close();
`;

const CONFORM = (root: string): string => `
import type DeclUDP from "embedded:io/socket/udp";
import type { Options as DeclOptions } from "embedded:io/socket/udp";
import { UDP, type UDPOptions } from "${root}/src/socket/udp.js";
export function udp(o: UDPOptions): DeclUDP { return new UDP(o); }
export function options(o: DeclOptions): UDPOptions { return o; }
`;

describe("udp socket types (types/embedded-io-socket-udp.d.ts)", () => {
  it("app code and the class type-check against the declarations", function () {
    this.timeout(120000);
    const out = typecheck(["types/embedded-io-socket-udp.d.ts"], { "app.ts": APP, "conform.ts": CONFORM(ROOT) });
    assert.equal(out, "", out);
  });
});
