/**
 * `embedded:io/socket/listener` (ECMA-419 3rd edition; DESIGN.md §6): accepts TCP connections.
 * read() hands out a connected TCP instance with no callbacks; the app adopts it with
 * `new TCP({from: socket, onReadable, ...})`. Callbacks run only from Stack.poll().
 *
 * Options: `port` (0..65535, default 0 = an ephemeral port; the real one is `port` afterwards),
 * `address` (checked, otherwise ignored: the stack has one address), `onReadable(requests)`,
 * `onError()`, `format` ("socket/tcp" only), `target`; our extensions `backlog` (default 4) and
 * `stack`/`clock`.
 */
import type { Stack } from "../stack.js";
import type { ListenerOwner, Tcp } from "../tcp/tcp.js";
import { EV_ACCEPT, EV_ERROR } from "../tcp/tcb.js";
import type { Clock } from "./default-stack.js";
import { addressValue, callbackOption, optionBag, portValue, stackOption } from "./common.js";
import { acceptedTCP, type TCP } from "./tcp.js";

export type ListenerReadableCallback = (this: Listener, requests: number) => void;
export type ListenerErrorCallback = (this: Listener) => void;

export interface ListenerOptions {
  /** Local port, 0..65535; 0 (default) picks a free one. */
  port?: number;
  /** Local address (dotted quad): checked, otherwise ignored. */
  address?: string;
  onReadable?: ListenerReadableCallback | null;
  onError?: ListenerErrorCallback | null;
  format?: "socket/tcp";
  target?: unknown;
  /** Our extension: connections waiting to be read (incl. half-open), 1..65535. Default 4. */
  backlog?: number;
  /** Our extension: the stack to use (default: setDefaultStack()). */
  stack?: Stack;
  /** Our extension: ms clock for `stack`. */
  clock?: Clock;
}

class Port implements ListenerOwner {
  readonly self: Listener;
  readonly stack: Stack;
  readonly tcp: Tcp;
  readonly clock: Clock;
  l = -1;
  port = 0;
  closed = false;
  onReadable: ListenerReadableCallback | null = null;
  onError: ListenerErrorCallback | null = null;

  constructor(self: Listener, stack: Stack, clock: Clock) {
    this.self = self;
    this.stack = stack;
    this.tcp = stack.tcp;
    this.clock = clock;
  }

  /** Called from Stack.poll() only. */
  deliver(ev: number): void {
    if (this.closed) return;
    if ((ev & EV_ACCEPT) !== 0 && this.onReadable !== null) {
      const n = this.tcp.acceptable(this.l);
      if (n > 0) {
        this.onReadable.call(this.self, n);
        if (this.closed) return;
      }
    }
    if ((ev & EV_ERROR) !== 0 && this.onError !== null) this.onError.call(this.self);
  }
}

export class Listener {
  readonly #p: Port;
  /** Copied from options.target (only when given). */
  declare target?: unknown;

  constructor(options: ListenerOptions) {
    const o = optionBag(options);
    const port = o.port === undefined ? 0 : portValue(o.port, 0);
    if (o.address !== undefined) addressValue(o.address);
    const onReadable = callbackOption(o, "onReadable") as ListenerReadableCallback | null;
    const onError = callbackOption(o, "onError") as ListenerErrorCallback | null;
    if (o.format !== undefined && o.format !== "socket/tcp") throw new RangeError("invalid format");
    let backlog = 4;
    if (o.backlog !== undefined) {
      if (typeof o.backlog !== "number") throw new TypeError("invalid backlog");
      if (!Number.isInteger(o.backlog) || o.backlog < 1 || o.backlog > 65535) throw new RangeError("invalid backlog");
      backlog = o.backlog;
    }
    const { stack, clock } = stackOption(o);
    const p = new Port(this, stack, clock);
    p.l = stack.tcp.listen(p, port, backlog); // throws when the port is taken or no listener is free
    p.port = stack.tcp.lPort[p.l];
    p.onReadable = onReadable;
    p.onError = onError;
    if (o.target !== undefined) this.target = o.target;
    this.#p = p;
  }

  /** The port listened on (the one picked when 0 was asked). */
  get port(): number { return this.#p.port; }

  get format(): "socket/tcp" { return "socket/tcp"; }
  set format(v: "socket/tcp") {
    if (this.#p.closed) throw new Error("closed");
    if (v !== "socket/tcp") throw new RangeError("invalid format");
  }

  /** The oldest established connection as a TCP instance with no callbacks, or undefined. */
  read(): TCP | undefined {
    const p = this.#p;
    if (p.closed) throw new Error("closed");
    const t = p.tcp.accept(p.l);
    if (t === null) return undefined;
    return acceptedTCP(t, p.stack, p.clock);
  }

  /** Stop listening; connections not yet read are reset. Twice is fine. */
  close(): void {
    const p = this.#p;
    if (p.closed) return;
    p.closed = true;
    p.onReadable = null;
    p.onError = null;
    p.tcp.unlisten(p.l, p.clock());
  }
}
