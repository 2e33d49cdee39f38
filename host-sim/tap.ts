/**
 * TapDriver: one stack on a Linux TAP device, the real kernel as the peer (DESIGN.md §3, §7).
 *
 * Frames move through the native addon (native/tap/tap.c, built by `npm install` via binding.gyp):
 * the kernel → one fixed receive buffer → `endpoint.input(frame, length, now)`, and
 * `transmit()` → one `write()` per frame. After each batch of received frames the platform loop runs
 * `deadline = endpoint.poll(now)` and arms ONE timer for that deadline.
 *
 * The caller makes the namespace and configures the kernel side (see host-sim/netns.ts, TAP.md).
 * Open the TAP first, then `ip link set tap0 up` (research/peers.md §1).
 */
import { createRequire } from "node:module";
import { randomFillSync } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Driver } from "../src/driver.js";

/** The native addon's surface (native/tap/tap.c). */
export interface TapAddon {
  open(name: string): number;
  ifname(fd: number): string;
  watch(
    fd: number,
    buffer: Uint8Array,
    onFrame: (length: number) => void,
    onBatch: (frames: number, errno: number) => void,
  ): void;
  write(fd: number, frame: Uint8Array, length: number): boolean;
  ref(fd: number, on: boolean): boolean;
  close(fd: number): boolean;
  readonly MAX_BATCH: number;
}

let addon: TapAddon | undefined;
/** Loads build/Release/tap.node (path relative to dist/host-sim/). Throws with a hint if missing. */
export function loadTapAddon(): TapAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = require("../../build/Release/tap.node") as TapAddon;
  } catch (e) {
    throw new Error(
      `TAP addon not built (build/Release/tap.node): run \`npm install\` or ` +
        `\`npm_config_nodedir=/usr npx node-gyp rebuild\` (${(e as Error).message})`,
    );
  }
  return addon;
}

/** What runs on the TAP: the Stack, or anything with the same two methods. */
export interface TapEndpoint {
  input(frame: Uint8Array, length: number, now: number): void;
  /** Returns the next absolute deadline in ms on the `now` clock (Infinity = none). */
  poll(now: number): number;
}

/** Called with each frame handed on. `frame` may be reused after the call returns: copy to keep it. */
export type Deliver = (frame: Uint8Array, length: number, now: number) => void;

/**
 * The seam for a fault injector (host-sim/faults.ts): sits between the TAP and the stack.
 * `process` receives every frame and calls `deliver` zero, one or more times, now or later
 * (it must copy a frame it keeps: the driver reuses its buffers). Whatever it drops it counts itself.
 */
export interface FrameFaults {
  process(frame: Uint8Array, length: number, now: number, deliver: Deliver): void;
}

export interface TapOptions {
  /** Interface name (default "tap0"); the kernel may pick another for "tap%d": see `name`. */
  name?: string;
  /** Our MAC: 6 bytes or "02:00:00:00:00:02" (the default). */
  mac?: Uint8Array | string;
  /** IP MTU (default 1500). */
  mtu?: number;
  /** Kernel → stack fault seam. */
  faults?: FrameFaults;
  /** Stack → kernel fault seam. With it, `transmit` returns true once the injector took the frame. */
  txFaults?: FrameFaults;
  /** Start unref'd: the TAP and its timer do not keep the process alive (default false). */
  unref?: boolean;
  /** Longest single timer in ms (default 60 s; a later deadline is re-armed when it fires). */
  maxTimerMs?: number;
}

export const DEFAULT_TAP_MAC = "02:00:00:00:00:02";

export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`bad MAC address: ${mac}`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Big enough for any frame the kernel can hand a TAP (IP max 65535 + Ethernet header + VLAN). */
const RX_BUFFER_BYTES = 65535 + 18;

export class TapDriver implements Driver {
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** The kernel's name for the device. */
  readonly name: string;
  readonly fd: number;

  /** Frames read from the TAP. */
  rxFrames = 0;
  /** Wake-ups that read at least one frame. */
  rxBatches = 0;
  /** Frames handed to `endpoint.input` (after faults; equals rxFrames without a fault injector). */
  rxDelivered = 0;
  /** Frames that arrived while no endpoint was attached (cannot happen: we read only once attached). */
  rxUnattached = 0;
  /** Frames whose `endpoint.input` threw (the exception is re-thrown). */
  rxInputErrors = 0;
  /** Frames the kernel accepted. */
  txFrames = 0;
  /** Frames the kernel refused (EAGAIN/ENOBUFS/EIO/ENETDOWN) or sent after close. */
  txRefused = 0;
  /** Bytes moved each way. */
  rxBytes = 0;
  txBytes = 0;
  /** `endpoint.poll` calls and timer wake-ups. */
  polls = 0;
  timerFires = 0;
  /** errno that stopped the reader (0 = none). */
  rxError = 0;

  private readonly native: TapAddon;
  private readonly rxBuffer = new Uint8Array(RX_BUFFER_BYTES);
  private readonly faults: FrameFaults | undefined;
  private readonly txFaults: FrameFaults | undefined;
  private readonly maxTimerMs: number;
  private endpoint: TapEndpoint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline = Infinity;
  private referenced: boolean;
  private inBatch = false;
  private closed = false;
  private readonly deliverRx: Deliver;
  private readonly deliverTx: Deliver;

  constructor(options: TapOptions = {}) {
    this.native = loadTapAddon();
    const mac = options.mac ?? DEFAULT_TAP_MAC;
    this.mac = typeof mac === "string" ? parseMac(mac) : Uint8Array.from(mac.subarray(0, 6));
    if (this.mac.length !== 6) throw new Error("mac must be 6 bytes");
    this.mtu = options.mtu ?? 1500;
    this.faults = options.faults;
    this.txFaults = options.txFaults;
    this.maxTimerMs = Math.max(1, Math.min(options.maxTimerMs ?? 60_000, 2 ** 31 - 1));
    this.referenced = !options.unref;
    this.fd = this.native.open(options.name ?? "tap0");
    this.name = this.native.ifname(this.fd);

    this.deliverRx = (frame, length, now) => this.deliverToEndpoint(frame, length, now);
    this.deliverTx = (frame, length) => {
      this.writeFrame(frame, length);
    };
  }

  /** Driver: copy one frame to the kernel. False (and counted) when the kernel refuses it now. */
  transmit(frame: Uint8Array, length: number): boolean {
    if (this.txFaults && !this.closed) {
      this.txFaults.process(frame, length, performance.now(), this.deliverTx);
      return true;
    }
    return this.writeFrame(frame, length);
  }

  /** Driver: entropy from the OS. */
  random(into: Uint8Array): void {
    randomFillSync(into);
  }

  get linkUp(): boolean {
    return !this.closed && this.rxError === 0;
  }

  /**
   * Runs the platform loop for `endpoint`: frames → `input`; after each batch `poll` and one timer.
   * Frames that arrived before `attach` wait in the kernel's TAP queue (the kernel counts overflow
   * as tx_dropped on the TAP). Call once.
   */
  attach(endpoint: TapEndpoint): void {
    if (this.closed) throw new Error("TapDriver closed");
    if (this.endpoint) throw new Error("TapDriver already attached");
    this.endpoint = endpoint;
    this.native.watch(
      this.fd,
      this.rxBuffer,
      (length) => this.onFrame(length),
      (frames, errno) => this.onBatch(frames, errno),
    );
    if (!this.referenced) this.native.ref(this.fd, false);
    // Let the endpoint start its own timers (ARP, retransmissions, ...).
    this.runPoll(performance.now());
  }

  /** Tell the loop that something outside frames and timers changed (e.g. the app queued data). */
  kick(): void {
    if (this.endpoint && !this.closed && !this.inBatch) this.runPoll(performance.now());
  }

  /** The TAP and the timer keep the process alive (the default). */
  ref(): void {
    this.referenced = true;
    if (this.endpoint && !this.closed) this.native.ref(this.fd, true);
    this.timer?.ref();
  }

  /** Neither the TAP nor the timer keeps the process alive. */
  unref(): void {
    this.referenced = false;
    if (this.endpoint && !this.closed) this.native.ref(this.fd, false);
    this.timer?.unref();
  }

  /** Stops the loop and closes the device (the kernel deletes a non-persistent TAP). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDeadline = Infinity;
    this.native.close(this.fd);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** All counters, for logs and tests. */
  counters(): Record<string, number> {
    return {
      rxFrames: this.rxFrames,
      rxBatches: this.rxBatches,
      rxDelivered: this.rxDelivered,
      rxUnattached: this.rxUnattached,
      rxInputErrors: this.rxInputErrors,
      rxBytes: this.rxBytes,
      txFrames: this.txFrames,
      txRefused: this.txRefused,
      txBytes: this.txBytes,
      polls: this.polls,
      timerFires: this.timerFires,
      rxError: this.rxError,
    };
  }

  // ---- internals -----------------------------------------------------------------------------

  private writeFrame(frame: Uint8Array, length: number): boolean {
    if (this.closed) {
      this.txRefused++;
      return false;
    }
    if (this.native.write(this.fd, frame, length)) {
      this.txFrames++;
      this.txBytes += length;
      return true;
    }
    this.txRefused++;
    return false;
  }

  private onFrame(length: number): void {
    if (!this.inBatch) {
      this.inBatch = true;
      this.rxBatches++;
    }
    this.rxFrames++;
    this.rxBytes += length;
    const now = performance.now();
    if (this.faults) this.faults.process(this.rxBuffer, length, now, this.deliverRx);
    else this.deliverToEndpoint(this.rxBuffer, length, now);
  }

  private deliverToEndpoint(frame: Uint8Array, length: number, now: number): void {
    const endpoint = this.endpoint;
    if (!endpoint || this.closed) {
      this.rxUnattached++;
      return;
    }
    this.rxDelivered++;
    try {
      endpoint.input(frame, length, now);
    } catch (e) {
      this.rxInputErrors++;
      throw e;
    }
    // A fault injector delivering later (from its own timer) is outside a batch: poll now.
    if (!this.inBatch) this.runPoll(performance.now());
  }

  private onBatch(_frames: number, errno: number): void {
    this.inBatch = false;
    if (errno !== 0) this.rxError = errno;
    if (!this.closed) this.runPoll(performance.now());
  }

  private runPoll(now: number): void {
    const endpoint = this.endpoint;
    if (!endpoint || this.closed) return;
    this.polls++;
    const deadline = endpoint.poll(now);
    if (!this.closed) this.arm(deadline, now);
  }

  private arm(deadline: number, now: number): void {
    if (!(deadline < Infinity) || Number.isNaN(deadline)) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerDeadline = Infinity;
      return;
    }
    if (this.timer && deadline === this.timerDeadline) return; // already armed for it
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, Math.ceil(deadline - now)), this.maxTimerMs);
    this.timerDeadline = deadline;
    this.timer = setTimeout(this.onTimer, delay);
    if (!this.referenced) this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerDeadline = Infinity;
    this.timerFires++;
    this.runPoll(performance.now());
  };
}
