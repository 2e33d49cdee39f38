/**
 * The ESP32 JS glue (hw/esp32/board.ts, driver.ts, loop.ts, settings.ts) and the example's servers
 * (examples/esp32/servers.js) running on the simulator, with the native layer replaced by a fake that
 * follows xstcp_ring.c's rules: frames from the simulated wire are copied into a fixed ring (the ESP-IDF
 * rx callback), a full ring drops and counts, one wake-up is posted on the edge and delivered by the
 * "main loop" (timers first, then messages, as Moddable's loop_task does); transmit copies or refuses.
 *
 * Pure ES (no Node imports): test/hw/glue.test.ts bundles it with esbuild, mapping the specifiers the
 * way manifest.json does (embedded:io/socket/* -> hw/esp32/io/*.js -> xs-tcpip/src/socket/*), and runs
 * the same bundle in Node and in real XS (xsnap); both must give the same result.
 */
import { SimNetwork, type SimNode } from "../../host-sim/simnet.js";
import type { Endpoint } from "../../host-sim/endpoint.js";
import { Stack } from "../../src/stack.js";
import { TCP } from "../../src/socket/tcp.js";
import { Listener } from "../../src/socket/listener.js";
import { ipToString } from "../../src/wire/bytes.js";
import { startNetwork, type Board, type BoardDeps } from "../../hw/esp32/board.js";
import {
  FRAME_MAX, type NativeInterface, STAT_COUNT, STAT_LINK_CHANGES, STAT_RX_ACCEPTED, STAT_RX_DROP_CLOSED,
  STAT_RX_DROP_FULL, STAT_RX_DROP_SIZE, STAT_RX_PENDING, STAT_TX_DOWN, STAT_TX_ERRORS, STAT_TX_FRAMES,
  STAT_TX_NO_ROOM, STAT_WAKES, TX_DOWN, TX_ERROR, TX_NO_ROOM, TX_OK,
} from "../../hw/esp32/driver.js";
import type { Scheduler } from "../../hw/esp32/loop.js";
import { DhcpServer } from "../dhcp/server.js";

/** The example's startServers (examples/esp32/servers.js), injected by the bundle's entry. */
export type StartServers = (options: { httpPort?: number; echoPort?: number; log?: ((text: string) => void) | null }) => {
  counts: { http: number; echo: number; echoBytes: number };
  close(): void;
};

/** The native half, faked with the rules of xstcp_ring.c / xstcp_if.c. */
export class FakeNative implements NativeInterface {
  readonly kind: string;
  readonly args: readonly unknown[];
  readonly #node: SimNode;
  readonly #onWake: () => void;
  readonly #slots: Uint8Array[] = [];
  readonly #lengths: Int32Array;
  #head = 0;
  #tail = 0;
  #signalled = false;
  /** A wake-up message is in the (fake) XS message queue. */
  queued = false;
  /** Most wake-ups ever queued at once (must stay 1). */
  maxQueued = 0;
  #link = false;
  closed = false;
  /** Make the next n transmits fail with "no room now" (ESP_ERR_NO_MEM). */
  refuseTx = 0;
  readonly counters = new Uint32Array(STAT_COUNT);

  constructor(node: SimNode, kind: string, onWake: () => void, slots: number, args: readonly unknown[]) {
    if (typeof onWake !== "function") throw new TypeError("onWake must be a function");
    if (!Number.isInteger(slots) || slots < 1 || slots > 256 || (slots & (slots - 1)) !== 0) throw new RangeError("slots");
    this.kind = kind;
    this.args = args;
    this.#node = node;
    this.#onWake = onWake;
    for (let i = 0; i < slots; i++) this.#slots.push(new Uint8Array(1516));
    this.#lengths = new Int32Array(slots);
  }

  // ---- producer side: the ESP-IDF rx callback and event handler

  push(frame: Uint8Array, length: number): void {
    const c = this.counters;
    if (this.closed) { c[STAT_RX_DROP_CLOSED]++; return; }
    if (length < 14 || length > FRAME_MAX) { c[STAT_RX_DROP_SIZE]++; return; }
    const n = this.#slots.length;
    if (this.#head - this.#tail >= n) {
      c[STAT_RX_DROP_FULL]++;
      this.#wake();
      return;
    }
    const i = this.#head % n;
    this.#slots[i].set(frame.subarray(0, length));
    this.#lengths[i] = length;
    this.#head++;
    c[STAT_RX_ACCEPTED]++;
    this.#wake();
  }

  setLink(up: boolean): void {
    if (up === this.#link) return;
    this.#link = up;
    this.counters[STAT_LINK_CHANGES]++;
    if (!this.closed) this.#wake();
  }

  #wake(): void {
    if (this.#signalled) return;
    this.#signalled = true;
    this.counters[STAT_WAKES]++;
    this.queued = true;
    this.maxQueued = Math.max(this.maxQueued, 1);
  }

  /** The XS task services the message: acknowledge, then call onWake (xstcp_xs.c deliver()). */
  deliver(): void {
    if (!this.queued) return;
    this.queued = false;
    if (this.closed) return; // stale token
    this.#signalled = false;
    this.#onWake();
  }

  // ---- NativeInterface (XS task)

  receive(into: Uint8Array): number {
    this.#check();
    if (this.#head === this.#tail) return 0;
    const i = this.#tail % this.#slots.length;
    const len = this.#lengths[i];
    this.#tail++;
    if (len > into.length) return -1;
    into.set(this.#slots[i].subarray(0, len));
    return len;
  }

  transmit(frame: Uint8Array, length: number): number {
    this.#check();
    const c = this.counters;
    if (!Number.isInteger(length) || length < 14 || length > FRAME_MAX || length > frame.length) { c[STAT_TX_ERRORS]++; return TX_ERROR; }
    if (!this.#link) { c[STAT_TX_DOWN]++; return TX_DOWN; }
    if (this.refuseTx > 0) { this.refuseTx--; c[STAT_TX_NO_ROOM]++; return TX_NO_ROOM; }
    if (!this.#node.transmit(frame, length)) { c[STAT_TX_NO_ROOM]++; return TX_NO_ROOM; }
    c[STAT_TX_FRAMES]++;
    return TX_OK;
  }

  readMac(into: Uint8Array): void {
    this.#check();
    into.set(this.#node.mac);
  }

  linkUp(): boolean {
    this.#check();
    return this.#link;
  }

  stats(into: Uint32Array): void {
    this.#check();
    this.counters[STAT_RX_PENDING] = this.#head - this.#tail;
    into.set(this.counters);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#link = false;
  }

  #check(): void {
    if (this.closed) throw new Error("closed");
  }
}

/** Moddable's Timer, in virtual time. */
class VirtualScheduler implements Scheduler {
  at = Infinity;
  arms = 0;
  readonly #net: SimNetwork;
  readonly fire: () => void;
  constructor(net: SimNetwork, fire: () => void) {
    this.#net = net;
    this.fire = fire;
  }
  arm(delayMs: number): void {
    if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new RangeError(`arm(${delayMs})`);
    this.arms++;
    this.at = this.#net.now + delayMs;
  }
  disarm(): void {
    this.at = Infinity;
  }
}

/** The board on the simulated wire: the rx callback on input(), Moddable's loop on poll(). */
class BoardEndpoint implements Endpoint {
  native: FakeNative | null = null;
  scheduler: VirtualScheduler | null = null;
  input(frame: Uint8Array, length: number): void {
    if (this.native !== null) this.native.push(frame, length);
  }
  poll(now: number): number {
    const s = this.scheduler;
    if (s !== null && now >= s.at) { // modTimersExecute
      s.at = Infinity;
      s.fire();
    }
    if (this.native !== null) this.native.deliver(); // modMessageService
    let next = s === null ? Infinity : s.at;
    if (this.native !== null && this.native.queued) next = now;
    return next;
  }
}

/** 32-bit Time.ticks starts 3 s before it wraps, so every scenario crosses the wrap. */
const TICKS_BASE = 2 ** 32 - 3000;

export interface SimBoard {
  net: SimNetwork;
  node: SimNode;
  endpoint: BoardEndpoint;
  native: () => FakeNative;
  board: Board;
  logs: string[];
  addresses: string[];
  links: boolean[];
  run(until: () => boolean, maxMs: number, what: string): void;
}

/** A board (Ethernet or Wi-Fi per `config`) on a new simulated network. */
export function simBoard(seed: number, config: Record<string, unknown>, linkUpAtMs = 30): SimBoard {
  const net = new SimNetwork({ seed });
  const node = net.addNode("board");
  const endpoint = new BoardEndpoint();
  node.attach(endpoint);
  const logs: string[] = [];
  const addresses: string[] = [];
  const links: boolean[] = [];
  const open = (kind: string, onWake: () => void, slots: number, args: readonly unknown[]): FakeNative => {
    const n = new FakeNative(node, kind, onWake, slots, args);
    endpoint.native = n;
    net.schedule(net.now + linkUpAtMs, () => n.setLink(true));
    return n;
  };
  const deps: BoardDeps = {
    openEthernet: (onWake, slots, e) => open("ethernet", onWake, slots, [e.phyAddress, e.phyReset, e.mdc, e.mdio, e.clockMode, e.clockGpio]),
    openWiFi: (onWake, slots, ssid, password) => open("wifi", onWake, slots, [ssid, password]),
    random: (into) => node.random(into),
    scheduler: (fire) => (endpoint.scheduler = new VirtualScheduler(net, fire)),
    ticks: () => (net.now + TICKS_BASE) | 0,
  };
  const board = startNetwork(config, deps, {
    log: (t) => logs.push(t),
    onAddress: (a) => addresses.push(a),
    onLink: (up) => links.push(up),
  });
  return {
    net, node, endpoint, board, logs, addresses, links,
    native: () => endpoint.native as FakeNative,
    run(until, maxMs, what): void {
      const r = net.run({ until, maxMs });
      if (!until()) throw new Error(`timed out waiting for ${what} (${r.reason} at ${r.timeMs} ms, seed ${seed})`);
    },
  };
}

const HELLO = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";

function bytesToText(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** One HTTP GET from `pc` to the board; returns the whole response as text. */
function httpGet(sb: SimBoard, pc: Stack, address: string): string {
  const chunks: number[] = [];
  let done = false;
  const request = "GET / HTTP/1.1\r\nHost: esp32\r\n\r\n";
  const req = new Uint8Array(request.length);
  for (let i = 0; i < request.length; i++) req[i] = request.charCodeAt(i);
  let sent = false;
  new TCP({
    stack: pc, clock: () => sb.net.now, address, port: 80,
    onWritable(): void {
      if (!sent) { sent = true; this.write(req); }
    },
    onReadable(count: number): void {
      const data = this.read(count);
      if (data !== undefined) for (const b of new Uint8Array(data)) chunks.push(b);
    },
    onError(): void {
      done = true;
      this.close();
    },
  });
  sb.run(() => done, 30000, "the HTTP response");
  return bytesToText(Uint8Array.from(chunks));
}

/** Send `total` pseudo-random bytes to the echo port and read them back; true when identical. */
function echo(sb: SimBoard, pc: Stack, address: string, total: number): { ok: boolean; received: number } {
  const data = new Uint8Array(total);
  for (let i = 0; i < total; i++) data[i] = (i * 131 + (i >> 7)) & 0xff;
  let sent = 0;
  let received = 0;
  let mismatch = false;
  let failed = false;
  const sock = new TCP({
    stack: pc, clock: () => sb.net.now, address, port: 7,
    onWritable(count: number): void {
      while (sent < total && count > 0) {
        const n = Math.min(count, total - sent, 1000);
        count = this.write(data.subarray(sent, sent + n));
        sent += n;
      }
    },
    onReadable(count: number): void {
      const got = this.read(count);
      if (got === undefined) return;
      const b = new Uint8Array(got);
      for (let i = 0; i < b.length; i++) if (b[i] !== data[received + i]) mismatch = true;
      received += b.length;
    },
    onError(): void {
      failed = true;
      this.close();
    },
  });
  sb.run(() => received >= total || failed, 120000, "the echo");
  sock.close();
  return { ok: !mismatch && !failed && received === total, received };
}

/** A broadcast ARP request for `target` from a made-up host (the board answers only if it is its address). */
function arpBurstFrame(i: number): Uint8Array {
  const f = new Uint8Array(60);
  f.fill(0xff, 0, 6);
  f.set([0x02, 0, 0, 0, 0x99, i & 0xff], 6);
  f[12] = 0x08; f[13] = 0x06;
  f.set([0, 1, 8, 0, 6, 4, 0, 1], 14);
  f.set([0x02, 0, 0, 0, 0x99, i & 0xff], 22);
  f.set([192, 0, 2, 200 + (i & 31)], 28);
  f.set([192, 0, 2, 250], 38);
  return f;
}

export interface ScenarioArgs { seed: number; netif: "ethernet" | "wifi"; dhcp: boolean; echoBytes: number }

/** The whole first-flash story on the simulator. Returns a JSON-able summary (compared Node vs XS). */
export function firstFlash(startServers: StartServers, args: ScenarioArgs): Record<string, unknown> {
  const config: Record<string, unknown> = args.netif === "wifi"
    ? { netif: "wifi", ssid: "TestNet", password: "secret123", rxSlots: "8" }
    : { netif: "ethernet", ethPhyAddress: "1", ethPhyReset: "16" };
  if (!args.dhcp) { config.ip = "192.0.2.50"; config.gateway = "192.0.2.1"; }
  const sb = simBoard(args.seed, config);
  const net = sb.net;
  const pcNode = net.addNode("pc");
  const pc = new Stack({ address: "192.0.2.10" }, pcNode);
  pcNode.attach(pc);
  if (args.dhcp) {
    const dnode = net.addNode("dhcp");
    const server = new DhcpServer(dnode, { serverIp: "192.0.2.1", pool: ["192.0.2.50"], mask: "255.255.255.0", router: "192.0.2.1" });
    dnode.attach(server);
  }
  const serverLogs: string[] = [];
  const servers = startServers({ log: (t) => serverLogs.push(t) });
  const board = sb.board;

  // 1. Link up, then an address (DHCP or static).
  sb.run(() => board.stack.address !== 0 && board.driver.linkUp, 60000, "link and address");
  const address = ipToString(board.stack.address);
  const addressAtMs = net.now;

  // 2. HTTP hello.
  const http = httpGet(sb, pc, address);

  // 3. Echo.
  const e1 = echo(sb, pc, address, args.echoBytes);

  // 4. A burst of 20 frames in one instant into an 8-slot ring: 12 dropped and counted, one wake-up.
  const wakesBefore = sb.native().counters[STAT_WAKES];
  const dropsBefore = sb.native().counters[STAT_RX_DROP_FULL];
  const inBefore = board.stack.counters.arpInRequests;
  for (let i = 0; i < 20; i++) {
    const f = arpBurstFrame(i);
    sb.endpoint.input(f, f.length);
  }
  const queuedAfterBurst = sb.native().queued;
  const burstWakes = sb.native().counters[STAT_WAKES] - wakesBefore;
  net.runFor(5);
  const burst = {
    dropped: sb.native().counters[STAT_RX_DROP_FULL] - dropsBefore,
    wakes: burstWakes,
    seen: board.stack.counters.arpInRequests - inBefore,
    queuedAfterBurst,
  };

  // 5. Transmit refusals (ESP_ERR_NO_MEM): counted, TCP recovers.
  sb.native().refuseTx = 3;
  const e2 = echo(sb, pc, address, 3000);
  const txNoRoom = board.driver.txNoRoom;

  // 6. Link flap: down (transmits refused as "down"), up again, the service still works.
  sb.native().setLink(false);
  net.runFor(100);
  const downSeen = board.driver.linkUp === false;
  sb.native().setLink(true);
  net.runFor(100);
  const http2 = httpGet(sb, pc, address);

  // 7. App code on the board connecting and writing from outside a turn (as from its own Timer):
  //    Stack.onWake makes the loop run a turn at once, not at the next 1 s tick.
  const hooked = board.stack.onWake !== null;
  const requestsBefore = board.loop.requests;
  let discarded = 0;
  const sink = new Listener({
    stack: pc, clock: () => net.now, port: 9,
    onReadable(requests: number): void {
      for (let i = 0; i < requests; i++) {
        const from = this.read();
        if (from === undefined) break;
        new TCP({ from, onReadable(count: number): void { const d = this.read(count); if (d !== undefined) discarded += d.byteLength; } });
      }
    },
  });
  let writable = false;
  const out = new TCP({ address: "192.0.2.10", port: 9, onWritable(): void { writable = true; } }); // the board's default stack
  const t0 = net.now;
  sb.run(() => writable, 5000, "the board's outgoing connection");
  const connectMs = net.now - t0;
  const t1 = net.now;
  out.write(new Uint8Array(100)); // outside any turn
  sb.run(() => discarded === 100, 5000, "100 bytes written from outside a turn");
  const writeMs = net.now - t1;
  out.close();
  sink.close();
  const appWrites = { connectMs, writeMs, requests: board.loop.requests - requestsBefore };

  // 8. Close: the interface is closed, the loop stops, late frames are dropped as "closed".
  const stats = board.driver.stats();
  const turns = { wakes: board.loop.wakes, timers: board.loop.timers, errors: board.loop.errors };
  board.close();
  const f = arpBurstFrame(0);
  sb.endpoint.input(f, f.length);
  net.runFor(2000);
  servers.close();

  return {
    netif: args.netif,
    nativeKind: sb.native().kind,
    nativeArgs: sb.native().args,
    address,
    addressAtMs,
    addresses: sb.addresses,
    links: sb.links,
    http,
    httpOk: http === HELLO,
    echoOk: e1.ok,
    echoReceived: e1.received,
    burst,
    echoAfterRefusals: e2.ok,
    txNoRoom,
    downSeen,
    http2Ok: http2 === HELLO,
    rxAccepted: stats[STAT_RX_ACCEPTED],
    rxDropFull: stats[STAT_RX_DROP_FULL],
    txFrames: stats[STAT_TX_FRAMES],
    maxQueued: sb.native().maxQueued,
    closedDrops: sb.native().counters[STAT_RX_DROP_CLOSED],
    closed: board.driver.closed,
    armedAfterClose: sb.endpoint.scheduler === null || sb.endpoint.scheduler.at === Infinity ? "disarmed" : sb.endpoint.scheduler.at,
    turns,
    onWakeHooked: hooked,
    appWrites,
    onWakeAfterClose: board.stack.onWake === null,
    loopErrors: board.loop.errors,
    internalErrors: board.stack.internalErrors,
    servers: servers.counts,
    serverLogs,
    logs: sb.logs,
  };
}

/** Kept alive so a heap measurement after bringUp() sees everything it made. */
const keep: unknown[] = [];

/**
 * Only the bring-up: a board with the stack (static address, so no DHCP server node) and the example's
 * servers, kept alive. glue.test.ts measures the XS slots it adds (the device's RAM heap, since the
 * modules themselves are preloaded into flash there).
 */
export function bringUp(startServers: StartServers, args: { netif: "ethernet" | "wifi" }): Record<string, unknown> {
  const config: Record<string, unknown> = args.netif === "wifi"
    ? { netif: "wifi", ssid: "TestNet", password: "x", ip: "192.0.2.50" }
    : { netif: "ethernet", ip: "192.0.2.50" };
  const sb = simBoard(1, config);
  sb.run(() => sb.board.driver.linkUp, 1000, "link");
  const servers = startServers({});
  keep.push(sb, servers);
  return { arenaBytes: sb.board.stack.arena.buffer.byteLength };
}
