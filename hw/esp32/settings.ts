/**
 * Board settings from Moddable's `mc/config` (the manifest's "config", overridden on the mcconfig
 * command line as key=value, where every value arrives as a string). Checked here, once, with clear
 * errors, before anything is allocated or any ESP-IDF call is made.
 *
 *   key             default          meaning
 *   netif           "ethernet"       "ethernet" (internal EMAC) or "wifi" (station)
 *   ssid, password  -                Wi-Fi network (password "" = open network)
 *   ip              "dhcp"           "dhcp", or a dotted quad for a static address
 *   netmask         "255.255.255.0"  static address only
 *   gateway         "0.0.0.0"        static address only
 *   preset          "minimal"        StackConfig preset: "minimal" | "default" | "throughput"
 *   rxSlots         8                receive ring slots (1514 bytes each), a power of two, 1..256
 *   ethPhyAddress   1                PHY address 0..31, or -1 to probe
 *   ethPhyReset     16               PHY reset / enable GPIO (-1: none). WT32-ETH01: 16 (oscillator enable)
 *   ethMdc, ethMdio 23, 18           SMI pins
 *   ethClock        "in"             RMII clock: "in" = 50 MHz oscillator into ethClockGpio (must be 0);
 *                                    "out" = ESP32 drives it on ethClockGpio (16 or 17)
 *   ethClockGpio    0
 *
 * The defaults are the WT32-ETH01 (LAN8720A at address 1, oscillator enabled by GPIO16, clock into GPIO0).
 */
import { presets, type PresetName } from "../../src/config.js";
import { parseIp } from "../../src/wire/bytes.js";

export const NETIF_ETHERNET = "ethernet";
export const NETIF_WIFI = "wifi";

export interface EthernetSettings {
  readonly phyAddress: number;
  readonly phyReset: number;
  readonly mdc: number;
  readonly mdio: number;
  /** 0 = clock in (EMAC_CLK_EXT_IN), 1 = clock out (EMAC_CLK_OUT); xstcp_drivers.h XSTCP_ETH_CLOCK_*. */
  readonly clockMode: number;
  readonly clockGpio: number;
}

export interface BoardSettings {
  readonly netif: "ethernet" | "wifi";
  readonly ssid: string;
  readonly password: string;
  /** true: address by DHCP. */
  readonly dhcp: boolean;
  readonly address: string;
  readonly netmask: string;
  readonly gateway: string;
  readonly preset: PresetName;
  readonly rxSlots: number;
  readonly ethernet: EthernetSettings;
}

type Config = { readonly [key: string]: unknown };

function text(config: Config, key: string, fallback: string): string {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "string") throw new TypeError(`config.${key}: expected a string`);
  return v;
}

function integer(config: Config, key: string, fallback: number, lo: number, hi: number): number {
  let v = config[key];
  if (v === undefined || v === null || v === "") return fallback;
  if (typeof v === "string") {
    if (!/^-?\d+$/.test(v)) throw new TypeError(`config.${key}: "${v}" is not an integer`);
    v = Number(v);
  }
  if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`config.${key}: expected an integer`);
  if (v < lo || v > hi) throw new RangeError(`config.${key}: ${v} is outside ${lo}..${hi}`);
  return v;
}

function gpio(config: Config, key: string, fallback: number, allowNone: boolean): number {
  // ESP32 GPIOs are 0..39; 34..39 are input-only, so never an output such as MDC or a reset line.
  const v = integer(config, key, fallback, allowNone ? -1 : 0, 33);
  return v;
}

function quad(config: Config, key: string, fallback: string): string {
  const v = text(config, key, fallback);
  if (parseIp(v) < 0) throw new RangeError(`config.${key}: "${v}" is not a dotted-quad IPv4 address`);
  return v;
}

/** Validate `config` (mc/config) into BoardSettings. Throws TypeError / RangeError naming the key. */
export function boardSettings(config: Config): BoardSettings {
  if (config === null || typeof config !== "object") throw new TypeError("config: expected an object");
  const netif = text(config, "netif", NETIF_ETHERNET);
  if (netif !== NETIF_ETHERNET && netif !== NETIF_WIFI) throw new RangeError(`config.netif: "${netif}" is not "ethernet" or "wifi"`);
  const ssid = text(config, "ssid", "");
  const password = text(config, "password", "");
  if (netif === NETIF_WIFI) {
    if (ssid.length < 1 || ssid.length > 32) throw new RangeError("config.ssid: 1..32 characters required for Wi-Fi");
    if (password.length > 63) throw new RangeError("config.password: at most 63 characters");
  }
  const ip = text(config, "ip", "dhcp");
  const dhcp = ip === "dhcp";
  if (!dhcp && parseIp(ip) <= 0) throw new RangeError(`config.ip: "${ip}" is neither "dhcp" nor a dotted-quad address`);
  const preset = text(config, "preset", "minimal");
  if (!Object.prototype.hasOwnProperty.call(presets, preset)) throw new RangeError(`config.preset: "${preset}" is not minimal, default or throughput`);
  const rxSlots = integer(config, "rxSlots", 8, 1, 256);
  if ((rxSlots & (rxSlots - 1)) !== 0) throw new RangeError(`config.rxSlots: ${rxSlots} is not a power of two`);
  const clock = text(config, "ethClock", "in");
  if (clock !== "in" && clock !== "out") throw new RangeError(`config.ethClock: "${clock}" is not "in" or "out"`);
  const clockGpio = gpio(config, "ethClockGpio", clock === "in" ? 0 : 17, false);
  if (clock === "in" && clockGpio !== 0) throw new RangeError("config.ethClockGpio: the ESP32 takes an external RMII clock on GPIO0 only");
  if (clock === "out" && clockGpio !== 16 && clockGpio !== 17) throw new RangeError("config.ethClockGpio: the ESP32 outputs the RMII clock on GPIO16 or GPIO17 only");
  const ethernet: EthernetSettings = Object.freeze({
    phyAddress: integer(config, "ethPhyAddress", 1, -1, 31),
    phyReset: gpio(config, "ethPhyReset", 16, true),
    mdc: gpio(config, "ethMdc", 23, false),
    mdio: gpio(config, "ethMdio", 18, false),
    clockMode: clock === "in" ? 0 : 1,
    clockGpio,
  });
  return Object.freeze({
    netif,
    ssid,
    password,
    dhcp,
    address: dhcp ? "0.0.0.0" : ip,
    netmask: dhcp ? "255.255.255.0" : quad(config, "netmask", "255.255.255.0"),
    gateway: dhcp ? "0.0.0.0" : quad(config, "gateway", "0.0.0.0"),
    preset: preset as PresetName,
    rxSlots,
    ethernet,
  });
}
