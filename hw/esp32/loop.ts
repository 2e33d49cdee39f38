/**
 * The platform loop on the ESP32 (DESIGN.md §2): on a native wake-up (frames in the ring, or a link
 * change) or when the timer fires, drain the ring into stack.input, then stack.poll(now), then arm the
 * one timer at the deadline poll returned. Everything runs in the XS task; nothing here allocates
 * per turn.
 *
 * - The timer is a Scheduler (Moddable's Timer on the board, see esp32.ts; a virtual one in tests).
 * - A drain takes at most `drainMax` frames, so a flood cannot starve timers; when it hits the limit
 *   the timer is armed for "now".
 * - Stack.onWake (work queued by a socket method outside a turn) arms the timer for "now": the turn
 *   runs from the event loop, never inside the socket method that asked.
 * - The sleep between turns is capped at `maxSleepMs`: a wake-up lost because Moddable's message queue
 *   was full (counted natively as wakeFailures) delays frames by at most that much.
 * - monotonic(): Moddable's Time.ticks is a 32-bit millisecond count (it wraps after 49.7 days, and
 *   reads negative after 24.8); the stack needs a clock that never goes back.
 */
import type { EspDriver, FrameSink } from "./driver.js";

/** One re-armable timer. */
export interface Scheduler {
  /** Fire once, `delayMs` from now (0: as soon as possible); replaces any earlier arming. */
  arm(delayMs: number): void;
  /** Do not fire. */
  disarm(): void;
}

/** What the loop drives: the Stack's sans-I/O surface. */
export interface PollTarget extends FrameSink {
  poll(now: number): number;
}

export interface LoopOptions {
  /** Frames taken from the ring per turn. Default 32. */
  readonly drainMax?: number;
  /** Longest sleep between turns, ms. Default 1000. */
  readonly maxSleepMs?: number;
  /** Called (from a turn) when the driver's link state changes. */
  readonly onLink?: ((up: boolean) => void) | null;
  /** Called after every turn (e.g. to watch the stack's address). Must not throw. */
  readonly afterTurn?: ((now: number) => void) | null;
}

export class PlatformLoop {
  readonly stack: PollTarget;
  readonly driver: EspDriver;
  readonly clock: () => number;
  /** Turns run, by cause. */
  wakes = 0;
  timers = 0;
  /** Stack.onWake requests that armed the timer for "now". */
  requests = 0;
  /** Exceptions caught in a turn (callbacks; the stack itself never throws). */
  errors = 0;
  lastError: unknown = null;
  /** The delay last given to the scheduler (Infinity: disarmed). */
  armedDelay = Infinity;
  #scheduler: Scheduler | null = null;
  readonly #drainMax: number;
  readonly #maxSleep: number;
  readonly #onLink: ((up: boolean) => void) | null;
  readonly #afterTurn: ((now: number) => void) | null;
  #link = false;
  #running = false;
  #again = false;
  #stopped = false;

  constructor(stack: PollTarget, driver: EspDriver, clock: () => number, options: LoopOptions = {}) {
    const drainMax = options.drainMax ?? 32;
    const maxSleep = options.maxSleepMs ?? 1000;
    if (!Number.isInteger(drainMax) || drainMax < 1 || drainMax > 4096) throw new RangeError("drainMax: an integer in 1..4096");
    if (!(maxSleep >= 1 && maxSleep <= 3600000)) throw new RangeError("maxSleepMs: 1..3600000");
    if (typeof clock !== "function") throw new TypeError("clock must be a function");
    this.stack = stack;
    this.driver = driver;
    this.clock = clock;
    this.#drainMax = drainMax;
    this.#maxSleep = maxSleep;
    this.#onLink = options.onLink ?? null;
    this.#afterTurn = options.afterTurn ?? null;
  }

  /** Attach the timer and run the first turn. */
  start(scheduler: Scheduler): void {
    this.#scheduler = scheduler;
    this.#stopped = false;
    this.turn();
  }

  /** The native wake-up: the ring went non-empty, or the link changed. */
  wake(): void {
    this.wakes++;
    this.turn();
  }

  /**
   * Work became pending outside a turn (Stack.onWake: e.g. app code wrote to a socket from its own
   * timer): run a turn soon, never from inside the caller (a socket method).
   */
  request(): void {
    if (this.#stopped || this.#scheduler === null) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.requests++;
    this.armedDelay = 0;
    this.#scheduler.arm(0);
  }

  /** The timer fired. */
  fire(): void {
    this.timers++;
    this.turn();
  }

  /** Stop turning (the driver is not closed here). */
  stop(): void {
    this.#stopped = true;
    this.#scheduler?.disarm();
    this.armedDelay = Infinity;
  }

  /** One turn: drain, poll, re-arm. Re-entrant calls (a callback closing a socket...) run after it. */
  turn(): void {
    if (this.#stopped || this.#scheduler === null) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        this.#once();
      } while (this.#again && !this.#stopped);
    } finally {
      this.#running = false;
    }
  }

  #once(): void {
    const now = this.clock();
    let delay: number;
    try {
      const link = this.driver.linkUp;
      if (link !== this.#link) {
        this.#link = link;
        if (this.#onLink !== null) this.#onLink(link);
      }
      const drained = this.driver.drain(this.stack, now, this.#drainMax);
      const deadline = this.stack.poll(this.clock());
      delay = drained === this.#drainMax ? 0 : deadline - this.clock();
      if (this.#afterTurn !== null) this.#afterTurn(now);
    } catch (e) {
      this.errors++;
      this.lastError = e;
      delay = this.#maxSleep;
    }
    if (!(delay > 0)) delay = 0; // also NaN
    if (delay > this.#maxSleep) delay = this.#maxSleep;
    delay = Math.ceil(delay);
    this.armedDelay = delay;
    if (!this.#stopped) (this.#scheduler as Scheduler).arm(delay);
  }
}

/**
 * A clock that never goes back, from a 32-bit millisecond tick count (Moddable's Time.ticks, an int32
 * that wraps). It must be read at least once every 49 days: the loop reads it at least every maxSleepMs.
 */
export function monotonic(ticks: () => number): () => number {
  let last = ticks() | 0;
  let now = last >>> 0;
  return (): number => {
    const raw = ticks() | 0;
    now += (raw - last) >>> 0;
    last = raw;
    return now;
  };
}
