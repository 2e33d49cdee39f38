/**
 * A two-stack transfer over SimNetwork (client A 192.0.2.1 -> server B 192.0.2.2:80, both directions,
 * through the TCP core API, like test/helpers/bulk.ts) that a test can disturb while it runs: extra
 * nodes, frames injected into B with `inject`, scheduled actions. Used by the fuzz campaign and the
 * attack/overload tests.
 */
import { SimNetwork } from "../../host-sim/simnet.js";
import type { SimNode } from "../../host-sim/simnet.js";
import type { Faults } from "../../host-sim/faults.js";
import type { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";
import { EV_READABLE } from "../../src/tcp/tcb.js";
import { parseIp } from "../../src/wire/bytes.js";
import { pattern, Side } from "../helpers/bulk.js";

export { pattern, Side };

export const A_IP = parseIp("192.0.2.1");
export const B_IP = parseIp("192.0.2.2");
export const PORT = 80;

export interface TransferOptions {
  seed: number;
  up: number;
  down: number;
  faults?: Faults;
  stack?: StackOptions;
  /** Options for B only (on top of `stack`). */
  server?: StackOptions;
  backlog?: number;
  /** When the client connects, ms. */
  startMs?: number;
}

export class Transfer {
  readonly net: SimNetwork;
  readonly na: SimNode;
  readonly nb: SimNode;
  readonly A: Stack;
  readonly B: Stack;
  readonly client: Side;
  readonly server: Side;
  readonly up: Uint8Array;
  readonly down: Uint8Array;
  readonly listener: number;
  /** Virtual time when both directions had every byte (-1: not yet). */
  doneMs = -1;
  startMs: number;
  constructor(o: TransferOptions) {
    this.net = new SimNetwork({ seed: o.seed });
    this.na = this.net.addNode("client");
    this.nb = this.net.addNode("server");
    this.A = new Stack({ ...o.stack, address: "192.0.2.1" }, this.na);
    this.B = new Stack({ ...o.stack, ...o.server, address: "192.0.2.2" }, this.nb);
    this.na.attach(this.A); this.nb.attach(this.B);
    if (o.faults !== undefined) this.net.setFaults("*", "*", o.faults);
    const clock = (): number => this.net.now;
    this.up = pattern(o.seed ^ 0x5555, o.up);
    this.down = pattern(o.seed ^ 0xaaaa, o.down);
    this.client = new Side(this.A, this.up, o.down, clock);
    this.server = new Side(this.B, this.down, o.up, clock);
    const B = this.B, server = this.server;
    const self = this;
    const listener = {
      deliver(): void {
        for (let t = B.tcp.accept(self.listener); t !== null; t = B.tcp.accept(self.listener)) {
          // Only the client's connection is the transfer (an attacker may complete a handshake too).
          if (server.t !== null || t.remoteIp !== A_IP) { B.tcp.close(t, self.net.now, true); continue; }
          server.t = t;
          t.owner = server;
          server.pump(self.net.now);
          server.deliver(EV_READABLE);
        }
      },
    };
    this.listener = B.tcp.listen(listener, PORT, o.backlog ?? 4);
    this.startMs = o.startMs ?? 1;
    this.net.schedule(this.startMs, () => {
      this.client.t = this.A.tcp.connect(this.client, B_IP, PORT, this.net.now);
    });
  }
  /** Both directions complete (every byte read). */
  complete(): boolean {
    if (this.doneMs < 0 && this.server.gotLen === this.up.length && this.client.gotLen === this.down.length) this.doneMs = this.net.now;
    return this.doneMs >= 0;
  }
  /** Bytes moved so far (both directions). */
  moved(): number { return Math.max(0, this.server.gotLen) + Math.max(0, this.client.gotLen); }
  byteExact(): boolean { return this.server.ok(this.up) && this.client.ok(this.down); }
  closed(): boolean { return this.client.done && this.server.done; }
  /** Run until the transfer is complete and both ends closed (or the bounds). */
  runToEnd(maxMs = 3_600_000, maxSteps = 5_000_000): void {
    this.net.run({ until: () => this.complete() && this.closed(), maxMs, maxSteps });
  }
}
