/**
 * The native halves of the two interfaces, implemented in C (xstcp_xs.c). XS only: `Native(name)` and
 * `native(name)` are compiled by Moddable's xsc into host-class and host-function bytecode (the same as
 * the `@` syntax). The host tests replace these classes with fakes (test/hw/glue.test.ts).
 *
 * One instance per interface may be open at a time (the ESP32 has one EMAC and one station). An open
 * instance stays alive until close(), even if the app drops it: ESP-IDF can still call into it.
 */
import type { NativeInterface } from "./driver.js";

/** The internal EMAC with a generic PHY. clockMode: 0 = RMII clock in on clockGpio (GPIO0), 1 = out (GPIO16/17). */
export class EthernetNative extends Native("xs_xstcp_destructor") implements NativeInterface {
  constructor(onWake: () => void, slots: number, phyAddress: number, phyReset: number, mdc: number, mdio: number,
    clockMode: number, clockGpio: number) {
    super();
    native("xs_xstcp_ethernet").call(this, onWake, slots, phyAddress, phyReset, mdc, mdio, clockMode, clockGpio);
  }
  receive(into: Uint8Array): number { return native("xs_xstcp_receive").call(this, into); }
  transmit(frame: Uint8Array, length: number): number { return native("xs_xstcp_transmit").call(this, frame, length); }
  readMac(into: Uint8Array): void { native("xs_xstcp_mac").call(this, into); }
  linkUp(): boolean { return native("xs_xstcp_link").call(this); }
  stats(into: Uint32Array): void { native("xs_xstcp_stats").call(this, into); }
  close(): void { native("xs_xstcp_close").call(this); }
}

/** The Wi-Fi station, raw frames; no esp_netif. */
export class WiFiNative extends Native("xs_xstcp_destructor") implements NativeInterface {
  constructor(onWake: () => void, slots: number, ssid: string, password: string) {
    super();
    native("xs_xstcp_wifi").call(this, onWake, slots, ssid, password);
  }
  receive(into: Uint8Array): number { return native("xs_xstcp_receive").call(this, into); }
  transmit(frame: Uint8Array, length: number): number { return native("xs_xstcp_transmit").call(this, frame, length); }
  readMac(into: Uint8Array): void { native("xs_xstcp_mac").call(this, into); }
  linkUp(): boolean { return native("xs_xstcp_link").call(this); }
  stats(into: Uint32Array): void { native("xs_xstcp_stats").call(this, into); }
  close(): void { native("xs_xstcp_close").call(this); }
}

/** Fill `into` from the hardware RNG (esp_fill_random). */
export function fillRandom(this: unknown, into: Uint8Array): void {
  native("xs_xstcp_random").call(this, into);
}
