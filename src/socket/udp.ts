/**
 * `embedded:io/socket/udp` (ECMA-419 3rd edition, UDP socket; DESIGN.md §6) on our UDP layer.
 *
 * - Options: `port` (0..65535; absent or 0 = an ephemeral port), `address` (local address to bind,
 *   dotted quad; absent = any), `onReadable(packets)`, `onWritable`, `onError`, `format` ("buffer"
 *   only), `target`; our extensions `stack` and `clock`. Checked in full before anything is bound;
 *   the options object is never mutated; unknown keys and `io` are ignored.
 * - read() returns the oldest datagram as a new ArrayBuffer with `address` (string) and `port`
 *   properties (the one allocation ECMA-419 requires); read(buffer) copies it into a Byte Buffer,
 *   sets `address`/`port` on that buffer and returns the byte count, or throws RangeError when the
 *   buffer is too small (the datagram stays queued). undefined when nothing is queued.
 * - write(data, address, port) sends one datagram: TypeError for a non-buffer / non-string address /
 *   non-number port, RangeError for a bad address, port 0 or a datagram over MTU - 28 bytes, Error when
 *   it cannot be sent now (no route, driver full). Moddable's lwIP order write(address, port, data)
 *   is accepted too (its examples use it).
 * - onReadable(packets) runs from Stack.poll() only, once per poll that saw new datagrams, with the
 *   number queued. onWritable and onError are accepted and checked, never called: UDP has no send
 *   buffer to wait for and no connection to lose.
 * - Fixed memory: the receive queue is the slot's ring in the UDP layer (udpQueueDatagrams,
 *   udpQueueBytes); a datagram that does not fit is dropped and counted.
 * - Not implemented: multicast add()/remove() (no IGMP in the stack).
 */
import type { Stack } from "../stack.js";
import { UDP_ERR_NO_SLOT, type UdpLayer, type UdpOwner } from "../udp/udp.js";
import { ipToString } from "../wire/bytes.js";
import type { Clock } from "./default-stack.js";
import { addressValue, ByteRef, callbackOption, type OptionBag, optionBag, portValue, stackOption } from "./common.js";

export type UDPReadableCallback = (this: UDP, packets: number) => void;
export type UDPWritableCallback = (this: UDP, bytes: number) => void;
export type UDPErrorCallback = (this: UDP) => void;

/** What read() returns: the datagram with its sender. */
export type UDPPacket = ArrayBuffer & { address: string; port: number };

export interface UDPOptions {
  /** Local port, 0..65535; absent or 0: an ephemeral port (see `port` after construction). */
  port?: number;
  /** Local address to bind, dotted quad; absent: any. */
  address?: string;
  onReadable?: UDPReadableCallback | null;
  onWritable?: UDPWritableCallback | null;
  onError?: UDPErrorCallback | null;
  format?: "buffer";
  target?: unknown;
  /** Our extension: the stack to use (default: setDefaultStack()). */
  stack?: Stack;
  /** Our extension: ms clock for `stack` (default: the registered clock). */
  clock?: Clock;
}

/** The binding behind one UDP instance: the UdpOwner the layer calls from poll(). */
class Binding implements UdpOwner {
  readonly self: UDP;
  readonly stack: Stack;
  readonly layer: UdpLayer;
  readonly clock: Clock;
  slot = -1;
  closed = false;
  onReadable: UDPReadableCallback | null = null;
  readonly ref = new ByteRef();

  constructor(self: UDP, stack: Stack, clock: Clock) {
    this.self = self;
    this.stack = stack;
    this.layer = stack.udpLayer;
    this.clock = clock;
  }

  /** Called from Stack.poll() only. */
  deliver(datagrams: number): void {
    if (this.closed || this.onReadable === null) return;
    this.onReadable.call(this.self, datagrams);
  }
}

export class UDP {
  readonly #b: Binding;
  /** Copied from options.target (only when given). */
  declare target?: unknown;

  constructor(options: UDPOptions) {
    const o: OptionBag = optionBag(options);
    // Check everything first (ECMA-419 §9.2): nothing is bound until all options pass.
    const port = o.port === undefined ? 0 : portValue(o.port, 0);
    const addr = o.address === undefined ? 0 : addressValue(o.address);
    const onReadable = callbackOption(o, "onReadable") as UDPReadableCallback | null;
    callbackOption(o, "onWritable");
    callbackOption(o, "onError");
    if (o.format !== undefined && o.format !== "buffer") throw new RangeError("invalid format");
    const { stack, clock } = stackOption(o);
    const b = new Binding(this, stack, clock);
    const s = b.layer.openSocket(port, addr, b);
    if (s < 0) throw new Error(s === UDP_ERR_NO_SLOT ? "no free UDP socket" : "port in use");
    b.slot = s;
    b.onReadable = onReadable;
    if (o.target !== undefined) this.target = o.target;
    this.#b = b;
  }

  /** The local port (the ephemeral one when none was asked for). */
  get port(): number {
    const b = this.#b;
    if (b.closed) throw new Error("closed");
    return b.layer.port[b.slot];
  }

  /** The local address bound to ("0.0.0.0" = any). */
  get address(): string {
    const b = this.#b;
    if (b.closed) throw new Error("closed");
    return ipToString(b.layer.addr[b.slot]);
  }

  get format(): "buffer" {
    if (this.#b.closed) throw new Error("closed");
    return "buffer";
  }
  set format(v: "buffer") {
    if (this.#b.closed) throw new Error("closed");
    if (v !== "buffer") throw new RangeError("invalid format");
  }

  /**
   * The oldest datagram: read() as a new ArrayBuffer, read(buffer) copied into `buffer` (returns the
   * count). Both carry `address` and `port` of the sender. undefined when nothing is queued.
   */
  read(): UDPPacket | undefined;
  read(buffer: ArrayBufferLike | ArrayBufferView): number | undefined;
  read(buffer?: ArrayBufferLike | ArrayBufferView): UDPPacket | number | undefined {
    const b = this.#b;
    if (b.closed) throw new Error("closed");
    const layer = b.layer, s = b.slot;
    if (buffer === undefined) {
      if (layer.queued(s) === 0) return undefined;
      const len = layer.headLength(s);
      const address = ipToString(layer.headSource(s)), port = layer.headPort(s);
      const out = new Uint8Array(len);
      layer.take(s, out, 0);
      const ab = out.buffer as UDPPacket;
      ab.address = address;
      ab.port = port;
      return ab;
    }
    const r = b.ref;
    if (!r.aim(buffer)) throw new TypeError("invalid buffer");
    if (layer.queued(s) === 0) return undefined;
    const len = layer.headLength(s);
    if (len > r.len) throw new RangeError("buffer too small");
    const address = ipToString(layer.headSource(s)), port = layer.headPort(s);
    layer.take(s, r.view, r.at);
    const tagged = buffer as unknown as { address: string; port: number };
    tagged.address = address;
    tagged.port = port;
    return len;
  }

  /**
   * Send one datagram to address:port. ECMA-419 order write(data, address, port); Moddable's
   * write(address, port, data) also works.
   */
  write(data: ArrayBufferLike | ArrayBufferView, address: string, port: number): void;
  write(address: string, port: number, data: ArrayBufferLike | ArrayBufferView): void;
  write(a: unknown, b2: unknown, c: unknown): void {
    const b = this.#b;
    if (b.closed) throw new Error("closed");
    let data: unknown = a, address: unknown = b2, port: unknown = c;
    if (typeof a === "string") { address = a; port = b2; data = c; }
    const r = b.ref;
    if (!r.aim(data)) throw new TypeError("invalid buffer");
    const dst = addressValue(address);
    const p = portValue(port, 1);
    if (dst === 0) throw new RangeError("invalid address");
    if (r.len > b.layer.maxPayload()) throw new RangeError("datagram too large");
    // The ByteRef keeps its view of the app's buffer (no allocation when the app reuses it).
    if (!b.layer.send(b.slot, dst, p, r.view, r.at, r.len, b.clock())) throw new Error("UDP send failed");
  }

  /** Unbind and drop queued datagrams. Twice is fine; no callback runs afterwards. */
  close(): void {
    const b = this.#b;
    if (b.closed) return;
    b.closed = true;
    b.onReadable = null;
    b.layer.close(b.slot);
    b.ref.clear();
  }
}

export default UDP;
