/**
 * A two-stack bidirectional bulk transfer over SimNetwork, driven through the TCP core API.
 * Used by the seeded simulator campaign: byte-exact delivery both ways, clean close, pools full again.
 */
import { SimNetwork } from "../../host-sim/simnet.js";
import type { Faults } from "../../host-sim/faults.js";
import { PcapWriter } from "../../host-sim/pcap.js";
import { Rng } from "../../host-sim/rng.js";
import type { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";
import { EV_ERROR, EV_READABLE, EV_WRITABLE, type Tcb } from "../../src/tcp/tcb.js";
import { parseIp } from "../../src/wire/bytes.js";

export interface BulkOptions {
  seed: number;
  /** Bytes client → server and server → client. */
  up: number;
  down: number;
  faults: Faults;
  stack?: StackOptions;
  pcap?: PcapWriter;
  maxMs?: number;
  /** Bound on simulator steps (clock advances). */
  maxSteps?: number;
  /** Read granularity of the receivers (small values exercise the window). */
  readChunk?: number;
}

export interface BulkResult {
  upOk: boolean;
  downOk: boolean;
  upGot: number;
  downGot: number;
  clientError: number;
  serverError: number;
  clientClosed: boolean;
  serverClosed: boolean;
  timeMs: number;
  /** Virtual time when the server had received every byte of the upload. */
  lastDataMs: number;
  reason: string;
  A: Stack;
  B: Stack;
  net: SimNetwork;
}

export function pattern(seed: number, n: number): Uint8Array {
  const r = new Rng(seed);
  const b = new Uint8Array(n);
  r.fill(b);
  return b;
}

/** One side of the transfer: writes `out` then closes; reads everything into `got`. */
export class Side {
  t: Tcb | null = null;
  sent = 0;
  got: Uint8Array;
  gotLen = 0;
  closedByPeer = false;
  error = 0;
  done = false;
  private readonly buf: Uint8Array;
  constructor(readonly stack: Stack, readonly out: Uint8Array, expect: number, readonly clock: () => number, chunk = 1460) {
    this.got = new Uint8Array(expect);
    this.buf = new Uint8Array(chunk);
  }
  deliver(ev: number): void {
    const t = this.t;
    if (t === null) return;
    const now = this.clock();
    if ((ev & EV_READABLE) !== 0 || t.rcvLen > 0) {
      for (let guard = 0; guard < 100000; guard++) {
        const n = this.stack.tcp.read(t, this.buf, 0, this.buf.length, now);
        if (n === 0) break;
        if (this.gotLen + n > this.got.length) { this.gotLen = -1e9; break; }
        this.got.set(this.buf.subarray(0, n), this.gotLen);
        this.gotLen += n;
      }
    }
    if ((ev & EV_WRITABLE) !== 0) this.pump(now);
    if ((ev & EV_ERROR) !== 0 && t.rcvLen === 0) {
      this.error = t.error;
      this.closedByPeer = true;
      this.finish(now);
    }
  }
  pump(now: number): void {
    const t = this.t;
    if (t === null || this.done) return;
    while (this.sent < this.out.length) {
      const n = this.stack.tcp.write(t, this.out, this.sent, this.out.length - this.sent, now, true);
      if (n === 0) break;
      this.sent += n;
    }
    if (this.sent === this.out.length && !t.finQueued) this.stack.tcp.close(t, now, false);
  }
  finish(now: number): void {
    if (this.done || this.t === null) return;
    // Peer closed (or error): make sure our data and FIN are out, then release the socket.
    this.pump(now);
    if (this.sent === this.out.length) { this.done = true; this.stack.tcp.close(this.t, now, true); }
  }
  /** Everything received equals `expect`. */
  ok(expect: Uint8Array): boolean {
    if (this.gotLen !== expect.length) return false;
    for (let i = 0; i < expect.length; i++) if (this.got[i] !== expect[i]) return false;
    return true;
  }
}

export function runBulk(o: BulkOptions): BulkResult {
  const net = new SimNetwork(o.pcap ? { seed: o.seed, pcap: o.pcap } : { seed: o.seed });
  const na = net.addNode("client"), nb = net.addNode("server");
  const A = new Stack({ ...o.stack, address: "192.0.2.1" }, na);
  const B = new Stack({ ...o.stack, address: "192.0.2.2" }, nb);
  na.attach(A); nb.attach(B);
  net.setFaults("*", "*", o.faults);
  const clock = (): number => net.now;
  const up = pattern(o.seed ^ 0x5555, o.up), down = pattern(o.seed ^ 0xaaaa, o.down);
  const chunk = o.readChunk ?? 1000;
  const client = new Side(A, up, o.down, clock, chunk);
  const server = new Side(B, down, o.up, clock, chunk);
  const listener = {
    deliver(): void {
      const t = B.tcp.accept(l);
      if (t === null || server.t !== null) return;
      server.t = t;
      t.owner = server;
      server.pump(net.now);
      server.deliver(EV_READABLE);
    },
  };
  const l = B.tcp.listen(listener, 80, 4);
  net.schedule(1, () => {
    client.t = A.tcp.connect(client, parseIp("192.0.2.2"), 80, net.now);
  });
  // A side that has sent everything and was closed by its peer releases its socket (finish).
  // A side still open when the peer's FIN arrives finishes from deliver().
  let lastDataMs = -1;
  const r = net.run({ until: () => { if (lastDataMs < 0 && server.gotLen === up.length && client.gotLen === down.length) lastDataMs = net.now; return false; }, maxMs: o.maxMs ?? 3_600_000, maxSteps: o.maxSteps ?? 1_000_000 });
  B.tcp.unlisten(l, net.now);
  return {
    upOk: server.ok(up),
    downOk: client.ok(down),
    upGot: server.gotLen, downGot: client.gotLen,
    clientError: client.error, serverError: server.error,
    clientClosed: client.done, serverClosed: server.done,
    timeMs: r.timeMs, lastDataMs, reason: r.reason, A, B, net,
  };
}
