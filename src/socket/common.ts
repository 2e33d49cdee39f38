/**
 * Shared pieces of the ECMA-419 socket classes (ECMA-419 3rd edition §8-9, the class pattern): option
 * checks that throw before anything is allocated, callback lookup, the stack/clock choice, and a
 * reusable byte view so `write(buffer)` and `read(buffer)` allocate nothing in steady state.
 */
import { Stack } from "../stack.js";
import { parseIp } from "../wire/bytes.js";
import { type Clock, defaultClock, defaultStack } from "./default-stack.js";

/** The options object as the constructors see it: never mutated. */
export type OptionBag = { readonly [key: string]: unknown };

/** The options argument is required and must be an object (ECMA-419 §9.2). */
export function optionBag(options: unknown): OptionBag {
  if (options === null || typeof options !== "object") throw new TypeError("options required");
  return options as OptionBag;
}

/** undefined/null: absent; a function: the callback; anything else throws (Moddable builtinGetCallback). */
export function callbackOption(o: OptionBag, name: string): ((this: unknown, ...args: number[]) => void) | null {
  const f = o[name];
  if (f === undefined || f === null) return null;
  if (typeof f !== "function") throw new TypeError(`${name} must be a function`);
  return f as (this: unknown, ...args: number[]) => void;
}

/** An optional boolean option: undefined when absent. */
export function booleanOption(o: OptionBag, name: string): boolean | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new TypeError(`${name} must be a boolean`);
  return v;
}

/** A port number in [min, 65535]. */
export function portValue(v: unknown, min: number): number {
  if (typeof v !== "number") throw new TypeError("invalid port");
  if (!Number.isInteger(v) || v < min || v > 65535) throw new RangeError("invalid port");
  return v;
}

/** A dotted-quad IPv4 address string to a uint32. */
export function addressValue(v: unknown): number {
  if (typeof v !== "string") throw new TypeError("invalid address");
  const ip = parseIp(v);
  if (ip < 0) throw new RangeError("invalid address");
  return ip;
}

/** Which stack and clock a socket uses: options `stack`/`clock`, else the platform default. */
export interface StackChoice { stack: Stack; clock: Clock }

export function stackOption(o: OptionBag): StackChoice {
  const s = o.stack, c = o.clock;
  if (s !== undefined && !(s instanceof Stack)) throw new TypeError("stack must be a Stack");
  if (c !== undefined && typeof c !== "function") throw new TypeError("clock must be a function");
  const stack = s ?? defaultStack();
  if (stack === null) throw new Error("no stack (setDefaultStack() or options.stack)");
  const clock = (c as Clock | undefined) ?? defaultClock();
  if (clock === null) throw new Error("no clock (setDefaultStack() or options.clock)");
  return { stack, clock };
}

const EMPTY = new Uint8Array(0);

/**
 * A byte view aimed at the caller's ArrayBuffer / SharedArrayBuffer / ArrayBufferView. A Uint8Array
 * is used as is; for anything else one Uint8Array over the whole underlying buffer is made and kept,
 * so an app that reuses its buffer allocates nothing after the first call.
 */
export class ByteRef {
  view: Uint8Array = EMPTY;
  at = 0;
  len = 0;
  #buffer: ArrayBufferLike | null = null;
  #whole: Uint8Array = EMPTY;

  /** false: `data` is not a byte buffer. */
  aim(data: unknown): boolean {
    if (data instanceof Uint8Array) {
      this.view = data; this.at = 0; this.len = data.length;
      return true;
    }
    let buffer: ArrayBufferLike, at: number, len: number;
    if (ArrayBuffer.isView(data)) {
      buffer = data.buffer; at = data.byteOffset; len = data.byteLength;
    } else if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer)) {
      buffer = data; at = 0; len = data.byteLength;
    } else return false;
    if (buffer !== this.#buffer || this.#whole.byteLength < at + len) {
      this.#whole = new Uint8Array(buffer);
      this.#buffer = buffer;
    }
    this.view = this.#whole; this.at = at; this.len = len;
    return true;
  }

  /** Drop the references to the app's buffers. */
  clear(): void {
    this.view = EMPTY; this.#whole = EMPTY; this.#buffer = null; this.at = 0; this.len = 0;
  }
}
