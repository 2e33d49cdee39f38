/**
 * `embedded:io/socket/tcp` (ECMA-419 3rd edition, TCP socket; DESIGN.md §6) on our TCP core.
 *
 * - Options are checked in full before the connection is made; the options object is never mutated;
 *   unknown keys and `io` are ignored; `target` is copied onto the instance.
 * - Callbacks run only from Stack.poll() (Conn.deliver), never inside a method or the constructor,
 *   with `this` = the instance. Nothing fires after close().
 * - onError (peer FIN, reset, refused, timeout) waits until every received byte has been read.
 * - Deviations, as in Moddable's lwIP socket (research/moddable.md): write() before the connection
 *   is established throws Error("not ready"); write() that does not fit throws Error("would block").
 *   `nodelay` is accepted beside the spec's `noDelay`. read(buffer) returns undefined (not 0) when
 *   nothing is available, like every other read form.
 * - `host` (when `address` is absent) is resolved by the stack's DNS resolver first; the connect
 *   starts from poll() when the answer comes, and a failure is reported with onError.
 */
import type { Stack } from "../stack.js";
import type { Tcp } from "../tcp/tcp.js";
import {
  CLOSE_WAIT, CLOSED, ESTABLISHED, EV_ERROR, EV_READABLE, EV_WRITABLE, SYN_RECEIVED, SYN_SENT, type Tcb, type TcbOwner,
} from "../tcp/tcb.js";
import { ipToString } from "../wire/bytes.js";
import { DNS_OK, type DnsOwner } from "../dns/resolver.js";
import type { Clock } from "./default-stack.js";
import {
  addressValue, booleanOption, ByteRef, callbackOption, type OptionBag, optionBag, portValue, stackOption,
} from "./common.js";

const FORMAT_BUFFER = 0;
const FORMAT_NUMBER = 1;

export type TCPFormat = "buffer" | "number";

/** Callbacks: `this` is the socket. */
export type TCPReadableCallback = (this: TCP, bytes: number) => void;
export type TCPWritableCallback = (this: TCP, bytes: number) => void;
export type TCPErrorCallback = (this: TCP) => void;

export interface TCPOptions {
  /** Remote IPv4 address, dotted quad. Required unless `from`. */
  address?: string;
  /** Remote host name, resolved by the stack's DNS resolver when `address` is absent (failure: onError). */
  host?: string;
  /** Remote port, 1..65535. Required unless `from`. */
  port?: number;
  /** Disable Nagle (ECMA-419 spelling). */
  noDelay?: boolean;
  /** Disable Nagle (Moddable spelling). */
  nodelay?: boolean;
  /** Keepalive idle time, ms (positive integer); absent = off. */
  keepAlive?: number;
  /** Adopt the connection of another TCP instance (Listener.read()); that instance is closed. */
  from?: TCP;
  onReadable?: TCPReadableCallback | null;
  onWritable?: TCPWritableCallback | null;
  onError?: TCPErrorCallback | null;
  format?: TCPFormat;
  target?: unknown;
  /** Our extension: the stack to use (default: setDefaultStack()). */
  stack?: Stack;
  /** Our extension: ms clock for `stack` (default: the registered clock). */
  clock?: Clock;
}

export interface TCPWriteOptions {
  /** More data follows: do not push yet. */
  more?: boolean;
  /** Total bytes of the more:true ... more:false run (a hint). */
  byteLength?: number;
}

/** State a connection can take writes in. */
function writable(state: number): boolean { return state === ESTABLISHED || state === CLOSE_WAIT; }

/**
 * The connection behind one TCP instance: the Tcb owner. Kept apart from the public class so the
 * instance carries only the ECMA-419 members.
 */
class Conn implements TcbOwner, DnsOwner {
  readonly self: TCP;
  readonly stack: Stack;
  readonly tcp: Tcp;
  readonly clock: Clock;
  t: Tcb | null = null;
  gen = 0;
  onReadable: TCPReadableCallback | null = null;
  onWritable: TCPWritableCallback | null = null;
  onError: TCPErrorCallback | null = null;
  format = FORMAT_BUFFER;
  closed = false;
  /** Made by Listener.read(): no callbacks; events are kept in `held` and replayed on adoption. */
  shell = false;
  held = 0;
  /** The connection ended while data was unread: onError waits for the app to drain it. */
  errDeferred = false;
  /** onError has been called (or is owed to nobody): it fires at most once. */
  errDone = false;
  /** Inside deliver(): a drain by read() is noticed at the end of deliver, not by a new event. */
  delivering = false;
  remoteAddress: string | undefined = undefined;
  remotePort: number | undefined = undefined;
  readonly one = new Uint8Array(1);
  readonly ref = new ByteRef();
  /** `host` given: the DNS handle while the name resolves (-1 otherwise), and what connect needs. */
  dnsHandle = -1;
  pendingPort = 0;
  pendingNoDelay = false;
  pendingKeepAlive = 0;

  constructor(self: TCP, stack: Stack, clock: Clock) {
    this.self = self;
    this.stack = stack;
    this.tcp = stack.tcp;
    this.clock = clock;
  }

  /** Bind to t (owner, handle, remote address). */
  bind(t: Tcb): void {
    this.t = t;
    this.gen = t.gen;
    t.owner = this;
    this.remoteAddress = ipToString(t.remoteIp);
    this.remotePort = t.remotePort;
  }

  /** The Tcb, or null once it is gone (closed by us or reused: a changed gen). */
  live(): Tcb | null {
    const t = this.t;
    return t !== null && t.gen === this.gen && t.owner === this ? t : null;
  }

  /** Called from Stack.poll() only. */
  deliver(ev: number): void {
    const t = this.live();
    if (t === null || this.closed) return;
    if (this.shell) { this.held |= ev; return; }
    this.delivering = true;
    try {
      if ((ev & EV_WRITABLE) !== 0 && this.onWritable !== null && writable(t.state) && !this.errDone) {
        const n = t.sndSpace();
        if (n > 0) {
          this.onWritable.call(this.self, n);
          if (this.closed) return;
        }
      }
      if ((ev & EV_READABLE) !== 0 && this.onReadable !== null && t.rcvLen > 0) {
        this.onReadable.call(this.self, t.rcvLen);
        if (this.closed) return;
      }
      if ((ev & EV_ERROR) !== 0 || this.errDeferred) this.ended(t);
    } finally {
      this.delivering = false;
    }
  }

  /** The connection is over (FIN, reset, refused, timeout): onError once the received data is read. */
  private ended(t: Tcb): void {
    if (this.errDone) return;
    if (t.rcvLen > 0) { this.errDeferred = true; return; }
    this.errDeferred = false;
    this.errDone = true;
    if (this.onError !== null) this.onError.call(this.self);
  }

  /** After a read: the last byte of an ended connection was taken outside deliver(): owe onError. */
  drained(t: Tcb): void {
    if (this.errDeferred && t.rcvLen === 0 && !this.delivering) {
      t.events |= EV_ERROR;
      this.tcp.requestPoll();
    }
  }

  /**
   * The name of `host` resolved (from Stack.poll(), DnsOwner): connect now, or report the failure
   * with onError (ECMA-419: errors of a connection in progress are reported, not thrown).
   */
  dnsResolved(handle: number, status: number, address: number): void {
    if (handle !== this.dnsHandle || this.closed) return;
    this.dnsHandle = -1;
    const now = this.clock();
    const t = status === DNS_OK ? this.tcp.connect(this, address, this.pendingPort, now) : null;
    if (t === null) {
      this.errDone = true;
      if (this.onError !== null) this.onError.call(this.self);
      return;
    }
    this.bind(t);
    if (this.pendingNoDelay) t.noDelay = true;
    if (this.pendingKeepAlive > 0) { t.keepAliveMs = this.pendingKeepAlive; this.tcp.armKeepAlive(t); }
  }

  /** Forget everything; the Tcb (if any) was handed on or closed by the caller. */
  detach(): void {
    if (this.dnsHandle >= 0) { this.stack.dns.release(this.dnsHandle); this.dnsHandle = -1; }
    this.closed = true;
    this.t = null;
    this.onReadable = null;
    this.onWritable = null;
    this.onError = null;
    this.ref.clear();
  }
}

/** Set by acceptedTCP() for the constructor: the Tcb a Listener hands over. */
let adopting: { t: Tcb; stack: Stack; clock: Clock } | null = null;
const SHELL: OptionBag = Object.freeze({});

export class TCP {
  readonly #c: Conn;
  /** Copied from options.target (only when given). */
  declare target?: unknown;

  constructor(options: TCPOptions) {
    if ((options as unknown) === SHELL && adopting !== null) {
      const a = adopting;
      adopting = null;
      const c = new Conn(this, a.stack, a.clock);
      c.shell = true;
      c.bind(a.t);
      this.#c = c;
      return;
    }
    const o = optionBag(options);
    // Check everything first (ECMA-419 §9.2): nothing is allocated until all options pass.
    const onReadable = callbackOption(o, "onReadable") as TCPReadableCallback | null;
    const onWritable = callbackOption(o, "onWritable") as TCPWritableCallback | null;
    const onError = callbackOption(o, "onError") as TCPErrorCallback | null;
    const format = formatValue(o.format === undefined ? "buffer" : o.format);
    const nd1 = booleanOption(o, "noDelay"), nd2 = booleanOption(o, "nodelay");
    const noDelay = nd1 ?? nd2 ?? false;
    const ka = o.keepAlive;
    let keepAlive = 0;
    if (ka !== undefined && ka !== null) {
      if (typeof ka !== "number") throw new TypeError("invalid keepAlive");
      if (!Number.isInteger(ka) || ka <= 0) throw new RangeError("invalid keepAlive");
      keepAlive = ka;
    }
    const from = o.from;
    let c: Conn;
    let t: Tcb;
    if (from !== undefined && from !== null) {
      if (typeof from !== "object" || !(#c in from)) throw new TypeError("from must be a TCP socket");
      const old = (from as TCP).#c;
      const ot = old.live();
      if (old.closed || ot === null) throw new Error("from: socket closed");
      c = new Conn(this, old.stack, old.clock);
      t = ot;
      c.errDeferred = old.errDeferred;
      c.errDone = old.errDone;
      const held = old.held;
      old.detach(); // the old instance is closed; its Tcb moves over
      c.bind(t);
      // Replay what the old instance saw or would have: writable space, unread data, the end.
      let ev = held;
      if (writable(t.state)) ev |= EV_WRITABLE;
      if (t.rcvLen > 0) ev |= EV_READABLE;
      if (t.state === CLOSED || t.finRcvd) ev |= EV_ERROR;
      t.events |= ev;
      if (ev !== 0) c.tcp.requestPoll();
    } else {
      const port = portValue(o.port, 1);
      const { stack, clock } = stackOption(o);
      if (o.address === undefined && o.host !== undefined) {
        // Resolve first (src/dns); the connect starts from poll() in Conn.dnsResolved.
        if (typeof o.host !== "string") throw new TypeError("invalid host");
        c = new Conn(this, stack, clock);
        c.dnsHandle = stack.dns.resolve(o.host, c, clock());
        c.pendingPort = port;
        c.pendingNoDelay = noDelay;
        c.pendingKeepAlive = keepAlive;
        c.onReadable = onReadable;
        c.onWritable = onWritable;
        c.onError = onError;
        c.format = format;
        if (o.target !== undefined) this.target = o.target;
        this.#c = c;
        return;
      }
      const ip = remoteAddress(o);
      c = new Conn(this, stack, clock);
      const nt = stack.tcp.connect(c, ip, port, clock());
      if (nt === null) throw new Error("no free connection");
      t = nt;
      c.bind(t);
    }
    c.onReadable = onReadable;
    c.onWritable = onWritable;
    c.onError = onError;
    c.format = format;
    if (noDelay) t.noDelay = true;
    if (keepAlive > 0) { t.keepAliveMs = keepAlive; c.tcp.armKeepAlive(t); }
    if (o.target !== undefined) this.target = o.target;
    this.#c = c;
  }

  /** Remote IPv4 address (dotted quad); undefined after close. */
  get remoteAddress(): string | undefined { return this.#c.remoteAddress; }
  /** Remote port; undefined after close. */
  get remotePort(): number | undefined { return this.#c.remotePort; }

  get format(): TCPFormat { return this.#c.format === FORMAT_NUMBER ? "number" : "buffer"; }
  set format(v: TCPFormat) {
    const c = this.#c;
    if (c.closed) throw new Error("closed");
    c.format = formatValue(v);
  }

  /**
   * Buffer format: read() returns every readable byte as a new ArrayBuffer; read(n) at most n bytes
   * (n a positive integer, clamped to what is available); read(buffer) fills buffer and returns the
   * count. Number format: read() returns one byte. undefined when nothing is available.
   */
  read(): ArrayBuffer | number | undefined;
  read(count: number): ArrayBuffer | undefined;
  read(buffer: ArrayBufferLike | ArrayBufferView): number | undefined;
  read(arg?: number | ArrayBufferLike | ArrayBufferView): ArrayBuffer | number | undefined {
    const c = this.#c;
    if (c.closed) throw new Error("closed");
    if (c.dnsHandle >= 0) return undefined; // still resolving `host`: nothing to read yet
    const t = c.live();
    if (t === null) throw new Error("closed");
    if (c.format === FORMAT_NUMBER) {
      if (arg !== undefined) throw new TypeError("number format: read() takes no argument");
      if (t.rcvLen === 0) return undefined;
      c.tcp.read(t, c.one, 0, 1, c.clock());
      c.drained(t);
      return c.one[0];
    }
    let n: number;
    if (arg === undefined) n = t.rcvLen;
    else if (typeof arg === "number") {
      if (!Number.isInteger(arg) || arg <= 0) throw new RangeError("invalid count");
      n = arg < t.rcvLen ? arg : t.rcvLen;
    } else {
      const r = c.ref;
      if (!r.aim(arg)) throw new TypeError("invalid buffer");
      if (t.rcvLen === 0) return undefined;
      const got = c.tcp.read(t, r.view, r.at, r.len, c.clock());
      c.drained(t);
      return got;
    }
    if (n === 0) return undefined;
    const out = new Uint8Array(n);
    c.tcp.read(t, out, 0, n, c.clock());
    c.drained(t);
    return out.buffer;
  }

  /**
   * Queue bytes (buffer format: ArrayBuffer / view; number format: one byte). All or nothing: throws
   * Error("would block") and writes nothing when they do not fit. Returns the writable byte count.
   * `more: true` holds the data back for the next segment (not pushed now).
   */
  write(data: ArrayBufferLike | ArrayBufferView | number, options?: TCPWriteOptions): number {
    const c = this.#c;
    if (c.closed) throw new Error("closed");
    if (c.dnsHandle >= 0) throw new Error("not ready");
    const t = c.live();
    if (t === null) throw new Error("closed");
    let src: Uint8Array, at = 0, len: number;
    if (c.format === FORMAT_NUMBER) {
      if (typeof data !== "number") throw new TypeError("number format: write a byte");
      if (!Number.isInteger(data) || data < 0 || data > 255) throw new RangeError("invalid byte");
      c.one[0] = data;
      src = c.one; len = 1;
    } else {
      const r = c.ref;
      if (!r.aim(data)) throw new TypeError("invalid buffer");
      src = r.view; at = r.at; len = r.len;
    }
    let push = true;
    if (options !== undefined && options !== null) {
      if (typeof options !== "object") throw new TypeError("invalid write options");
      const more = options.more, total = options.byteLength;
      if (more !== undefined) {
        if (typeof more !== "boolean") throw new TypeError("more must be a boolean");
        push = !more;
      }
      if (total !== undefined) {
        if (typeof total !== "number") throw new TypeError("invalid byteLength");
        if (!Number.isInteger(total) || total < len) throw new RangeError("invalid byteLength");
      }
    }
    const st = t.state;
    if (st === SYN_SENT || st === SYN_RECEIVED) throw new Error("not ready");
    if (!writable(st)) throw new Error("disconnected");
    if (len > t.sndSpace()) throw new Error("would block");
    c.tcp.write(t, src, at, len, c.clock(), push);
    return t.sndSpace();
  }

  /** Graceful close: every byte written is still delivered, then FIN. Twice is fine. */
  close(): void {
    const c = this.#c;
    if (c.closed) return;
    const t = c.live();
    c.detach();
    c.remoteAddress = undefined;
    c.remotePort = undefined;
    if (t !== null) c.tcp.close(t, c.clock(), true);
  }
}

function formatValue(v: unknown): number {
  if (v === "buffer") return FORMAT_BUFFER;
  if (v === "number") return FORMAT_NUMBER;
  throw new RangeError("invalid format");
}

/** The remote address: `address` (a dotted quad) wins over `host`, which is resolved by DNS. */
function remoteAddress(o: OptionBag): number {
  if (o.address !== undefined) return addressValue(o.address);
  throw new TypeError("address or host required");
}

/** For Listener.read(): a connected TCP instance with no callbacks, owning `t`. */
export function acceptedTCP(t: Tcb, stack: Stack, clock: Clock): TCP {
  adopting = { t, stack, clock };
  try {
    return new TCP(SHELL as TCPOptions);
  } finally {
    adopting = null;
  }
}
