/**
 * Bulk throughput of two stacks in one Node process over a lossless in-memory wire (wall clock,
 * Mbit/s): what the TypeScript core costs per byte in V8. The wire is a pair of frame queues with
 * preallocated slots (no simulator, no faults); the apps write one constant 64 KiB buffer and read
 * into another, through the ECMA-419 classes, so the figure is the stack's own cost.
 */
import type { Driver } from "../src/driver.js";
import { Listener } from "../src/socket/listener.js";
import { TCP } from "../src/socket/tcp.js";
import { Stack } from "../src/stack.js";

class Wire implements Driver {
  readonly mac: Uint8Array;
  readonly mtu = 1500;
  readonly slots: Uint8Array[] = [];
  readonly lens: Int32Array;
  head = 0; count = 0;
  constructor(last: number, n = 1024) {
    this.mac = new Uint8Array([2, 0, 0, 0, 0, last]);
    for (let i = 0; i < n; i++) this.slots.push(new Uint8Array(1514));
    this.lens = new Int32Array(n);
  }
  transmit(frame: Uint8Array, length: number): boolean {
    if (this.count === this.slots.length) return false;
    const i = (this.head + this.count) % this.slots.length;
    this.slots[i].set(frame.subarray(0, length));
    this.lens[i] = length;
    this.count++;
    return true;
  }
  random(into: Uint8Array): void { for (let i = 0; i < into.length; i++) into[i] = (i * 31 + 7) & 0xff; }
  /** Hand every queued frame to `to`. */
  drain(to: Stack, now: number): number {
    let n = 0;
    while (this.count > 0) {
      const i = this.head;
      this.head = (this.head + 1) % this.slots.length;
      this.count--;
      to.input(this.slots[i], this.lens[i], now);
      n++;
    }
    return n;
  }
}

export interface V8Bulk { bytes: number; wallMs: number; mbitPerSec: number; segments: number }

export function v8Bulk(bytes = 256 << 20): V8Bulk {
  const wa = new Wire(1), wb = new Wire(2);
  const A = new Stack({ address: "192.0.2.1", preset: "throughput" }, wa);
  const B = new Stack({ address: "192.0.2.2", preset: "throughput" }, wb);
  let now = 0;
  const clock = (): number => now;
  const chunk = new Uint8Array(65536).fill(0x5a);
  const sink = new Uint8Array(65536);
  let sent = 0, received = 0;
  const listener = new Listener({
    port: 9, stack: B, clock,
    onReadable(this: Listener): void {
      const s = this.read();
      if (s === undefined) return;
      new TCP({
        from: s,
        onReadable(this: TCP): void { for (let n = this.read(sink) as number | undefined; n; n = this.read(sink) as number | undefined) received += n; },
        onError(this: TCP): void { this.close(); },
      });
    },
  });
  const client = new TCP({
    address: "192.0.2.2", port: 9, stack: A, clock, noDelay: true,
    onWritable(this: TCP, room: number): void {
      while (sent < bytes && room > 0) {
        const n = Math.min(room, chunk.length, bytes - sent);
        room = this.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        sent += n;
      }
    },
  });
  const t0 = performance.now();
  // The virtual clock advances 0.1 ms per round; deadlines (delayed ACK, RTO) are honoured.
  for (let guard = 0; guard < 50_000_000 && received < bytes; guard++) {
    const da = A.poll(now), db = B.poll(now);
    const moved = wa.drain(B, now) + wb.drain(A, now);
    if (moved === 0) now = Math.max(now + 0.1, Math.min(da, db));
    else now += 0.001;
  }
  const wallMs = performance.now() - t0;
  client.close();
  listener.close();
  if (received !== bytes) throw new Error(`v8 bulk: received ${received} of ${bytes}`);
  return { bytes, wallMs, mbitPerSec: (bytes * 8) / (wallMs / 1000) / 1e6, segments: A.counters.tcpOutSegs + B.counters.tcpOutSegs };
}
