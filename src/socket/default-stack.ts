/**
 * The platform's default Stack for the ECMA-419 socket classes (DESIGN.md §6). The platform sets it
 * once at start-up (host-sim: the simulated node's stack and the virtual clock; the board: its stack and
 * Moddable's `Time.ticks`). Sockets use it unless they are given a `stack` option (tests with several
 * stacks). The clock returns milliseconds from a monotonic source; the core needs it for every call
 * that may send, and the Stack itself keeps no time.
 */
import type { Stack } from "../stack.js";

/** Milliseconds from a monotonic clock. */
export type Clock = () => number;

let defStack: Stack | null = null;
let defClock: Clock | null = null;

/** Register the platform's stack and clock (replaces a previous registration). */
export function setDefaultStack(stack: Stack, clock: Clock): void {
  if (typeof clock !== "function") throw new TypeError("clock must be a function");
  defStack = stack;
  defClock = clock;
}

/** Forget the registration (tests). */
export function clearDefaultStack(): void {
  defStack = null;
  defClock = null;
}

/** The registered stack, or null. */
export function defaultStack(): Stack | null { return defStack; }

/** The registered clock, or null. */
export function defaultClock(): Clock | null { return defClock; }
