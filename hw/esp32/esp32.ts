/**
 * The ESP32 entry point for apps: `start(config, hooks)` brings up the interface chosen in mc/config
 * with this stack on it, and makes it the default stack of embedded:io/socket/*. XS only: it supplies
 * Moddable's Timer and Time.ticks and the native interfaces to board.ts, which holds the logic (and is
 * what the host tests run).
 *
 *   import config from "mc/config";
 *   import { start } from "xs-tcpip/hw/esp32/esp32";
 *   start(config, { log: (text) => trace(text + "\n") });
 */
import Time from "time";
import Timer from "timer";
import { startNetwork, type Board, type BoardHooks } from "./board.js";
import type { Scheduler } from "./loop.js";
import { EthernetNative, fillRandom, WiFiNative } from "./native.js";

export type { Board, BoardHooks } from "./board.js";

/** A repeat interval that never comes due: the timer is re-armed by every turn. About 12 days. */
const FAR = 0x3fffffff;

/**
 * One Moddable timer, created once and re-armed with Timer.schedule. It is a repeating timer (with a
 * far interval) because a one-shot timer is freed after it fires and could not be re-armed.
 */
class TimerScheduler implements Scheduler {
  readonly #timer: Timer;
  constructor(fire: () => void) {
    this.#timer = Timer.repeat(() => fire(), FAR);
  }
  arm(delayMs: number): void {
    Timer.schedule(this.#timer, delayMs, FAR);
  }
  disarm(): void {
    Timer.schedule(this.#timer);
  }
}

export function start(config: { readonly [key: string]: unknown }, hooks: BoardHooks = {}): Board {
  return startNetwork(config, {
    openEthernet: (onWake, slots, e) =>
      new EthernetNative(onWake, slots, e.phyAddress, e.phyReset, e.mdc, e.mdio, e.clockMode, e.clockGpio),
    openWiFi: (onWake, slots, ssid, password) => new WiFiNative(onWake, slots, ssid, password),
    random: (into) => fillRandom(into),
    scheduler: (fire) => new TimerScheduler(fire),
    ticks: () => Time.ticks,
  }, hooks);
}
