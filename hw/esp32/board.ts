/**
 * Bring up one ESP32 interface with the stack on it: settings from mc/config, the native interface,
 * the Driver, the Stack, the platform loop, and the default stack for the ECMA-419 socket classes.
 *
 * Everything Moddable- or ESP-IDF-specific comes in through BoardDeps, so the tests run this very code
 * on the host with a fake native layer fed by the simulator (test/hw/glue.test.ts); esp32.ts supplies
 * the real ones (Timer, Time.ticks, EthernetNative/WiFiNative, fillRandom).
 */
import type { StackOptions } from "../../src/config.js";
import { setDefaultStack } from "../../src/socket/default-stack.js";
import { Stack } from "../../src/stack.js";
import { ipToString } from "../../src/wire/bytes.js";
import { EspDriver, type NativeInterface } from "./driver.js";
import { monotonic, PlatformLoop, type Scheduler } from "./loop.js";
import { boardSettings, type BoardSettings, type EthernetSettings, NETIF_WIFI } from "./settings.js";

export interface BoardDeps {
  /** Open the EMAC (EthernetNative on the board). `onWake` must only be called later, from the event loop. */
  openEthernet(onWake: () => void, slots: number, ethernet: EthernetSettings): NativeInterface;
  /** Open the Wi-Fi station (WiFiNative on the board). */
  openWiFi(onWake: () => void, slots: number, ssid: string, password: string): NativeInterface;
  /** Hardware entropy (fillRandom). */
  random(into: Uint8Array): void;
  /** One re-armable timer calling `fire` (Moddable's Timer on the board). */
  scheduler(fire: () => void): Scheduler;
  /** Milliseconds, a 32-bit count that may wrap (Moddable's Time.ticks). */
  ticks(): number;
}

export interface BoardHooks {
  /** Link up / down (Ethernet cable, Wi-Fi association). */
  readonly onLink?: ((up: boolean) => void) | null;
  /** The stack's address changed (DHCP acquired or lost: "0.0.0.0"). */
  readonly onAddress?: ((address: string) => void) | null;
  /** Progress messages (trace on the board). */
  readonly log?: ((text: string) => void) | null;
}

export interface Board {
  readonly settings: BoardSettings;
  readonly stack: Stack;
  readonly driver: EspDriver;
  readonly loop: PlatformLoop;
  readonly clock: () => number;
  /** Stop the loop and close the interface (ESP-IDF callbacks unregistered, ring freed). */
  close(): void;
}

/** Start the network described by `config` (mc/config). Throws before touching hardware on bad settings. */
export function startNetwork(config: { readonly [key: string]: unknown }, deps: BoardDeps, hooks: BoardHooks = {}): Board {
  const settings = boardSettings(config);
  const log = hooks.log ?? null;
  let loop: PlatformLoop | null = null;
  const onWake = (): void => {
    if (loop !== null) loop.wake();
  };
  const native = settings.netif === NETIF_WIFI
    ? deps.openWiFi(onWake, settings.rxSlots, settings.ssid, settings.password)
    : deps.openEthernet(onWake, settings.rxSlots, settings.ethernet);
  let driver: EspDriver;
  let stack: Stack;
  try {
    driver = new EspDriver(native, deps.random);
    const options: StackOptions = settings.dhcp
      ? { preset: settings.preset, dhcp: true }
      : { preset: settings.preset, address: settings.address, netmask: settings.netmask, gateway: settings.gateway };
    stack = new Stack(options, driver);
  } catch (e) {
    native.close();
    throw e;
  }
  const clock = monotonic(deps.ticks);
  let address = stack.address;
  const onLink = (up: boolean): void => {
    if (log !== null) log(`${settings.netif} link ${up ? "up" : "down"}`);
    // A new link may be a new network: ask for an address at once instead of at the next retry.
    if (up && stack.dhcp !== null && !stack.dhcp.bound) stack.dhcp.start(clock());
    if (hooks.onLink) hooks.onLink(up);
  };
  const afterTurn = (): void => {
    if (stack.address === address) return;
    address = stack.address;
    const text = ipToString(address);
    if (log !== null) log(`${settings.netif} address ${text}`);
    if (hooks.onAddress) hooks.onAddress(text);
  };
  const platformLoop = new PlatformLoop(stack, driver, clock, { onLink, afterTurn });
  loop = platformLoop;
  stack.onWake = (): void => platformLoop.request();
  setDefaultStack(stack, clock);
  if (log !== null) {
    const m = Array.from(driver.mac, (b) => (b < 16 ? "0" : "") + b.toString(16)).join(":");
    log(`${settings.netif} up: mac ${m}, ${settings.dhcp ? "dhcp" : settings.address}, preset ${settings.preset}, ` +
      `${Stack.footprint(stack.config, driver.mtu).arenaBytes} arena bytes, ${settings.rxSlots} rx slots`);
  }
  platformLoop.start(deps.scheduler(() => platformLoop.fire()));
  return {
    settings,
    stack,
    driver,
    loop: platformLoop,
    clock,
    close(): void {
      stack.onWake = null;
      platformLoop.stop();
      driver.close();
    },
  };
}
