/**
 * StackConfig: the one object every size and timing of the stack comes from (DESIGN.md §4).
 *
 * Everything is allocated once from it in `new Stack(config, driver)`. Units are in the names or the
 * docs. Presets follow the ranks of ESP-IDF's lwIP configurations (research/anchors.md §2):
 * `minimal` (smallest RAM), `default`, `throughput` (large windows, window scaling).
 */
import { parseIp } from "./wire/bytes.js";

/** What the user passes: every field optional; `preset` picks the base values. */
export interface StackOptions {
  /** Base values: "minimal" | "default" | "throughput". Default "default". */
  readonly preset?: PresetName;
  /** Our IPv4 address, dotted quad or uint32. "0.0.0.0" = none yet (e.g. DHCP will set it). */
  readonly address?: string | number;
  /** Netmask, dotted quad or uint32. Default 255.255.255.0. */
  readonly netmask?: string | number;
  /** Default gateway, dotted quad or uint32. "0.0.0.0" = none (only the local subnet is reachable). */
  readonly gateway?: string | number;
  /** IP time-to-live for packets we send. Default 64. */
  readonly ttl?: number;

  /** ARP cache entries. Default 8. */
  readonly arpEntries?: number;
  /** Lifetime of a resolved ARP entry, ms. Default 60000 (smoltcp, Linux reachable time order). */
  readonly arpLifetimeMs?: number;
  /** Minimum interval between two ARP requests for the same address, ms. Default 1000. */
  readonly arpRetryMs?: number;
  /** Requests sent for one address before frames waiting for it are dropped. Default 3. */
  readonly arpMaxTries?: number;
  /** Frames that may wait for ARP resolution at once (shared by all destinations). Default 4. */
  readonly arpPendingFrames?: number;

  /** TCP connection blocks (active connections, incl. SYN-RECEIVED handed to a listener). Default 8. */
  readonly maxConnections?: number;
  /** Listening ports. Default 4. */
  readonly maxListeners?: number;
  /** Half-open (SYN-RECEIVED) connections per listener; beyond it, SYN cookies. Default half of maxConnections. */
  readonly synQueue?: number;
  /** Answer SYNs with SYN cookies when the SYN queue is full (no state kept until the ACK). Default true. */
  readonly synCookies?: boolean;
  /** TIME-WAIT records (compact, 55 bytes each). Default 16. */
  readonly timeWaitEntries?: number;
  /** Per-connection send buffer, bytes. Must be >= 2 * MSS. */
  readonly sendBufBytes?: number;
  /** Per-connection receive buffer, bytes. Must be >= 2 * MSS. The window we offer is at most this. */
  readonly recvBufBytes?: number;
  /** Upper bound for our MSS, bytes; the effective MSS is also bounded by driver.mtu - 40. Default 1460. */
  readonly mss?: number;
  /** Offer RFC 7323 window scaling. Default: true when recvBufBytes > 65535. */
  readonly windowScale?: boolean;
  /** Offer RFC 7323 timestamps. Default true. */
  readonly timestamps?: boolean;
  /** Offer RFC 2018 SACK. Default true. */
  readonly sack?: boolean;

  /** Initial retransmission timeout, ms (RFC 6298 §2.1 says 1000). Default 1000. */
  readonly rtoInitialMs?: number;
  /** Lower bound of the RTO, ms. RFC 6298 §2.4 says 1000; Linux uses 200. Default 200. */
  readonly rtoMinMs?: number;
  /** Upper bound of the RTO, ms (RFC 6298 §2.5 allows >= 60000). Default 60000. */
  readonly rtoMaxMs?: number;
  /** Retransmissions of one segment before the connection is aborted with onError. Default 12. */
  readonly maxRetries?: number;
  /** SYN retransmissions before a connect fails. Default 6. */
  readonly synRetries?: number;
  /** Delayed-ACK timeout, ms (RFC 9293 §3.8.6.3: < 500; the issue: <= 200). Default 40. */
  readonly delayedAckMs?: number;
  /** TIME-WAIT duration (2*MSL), ms. Default 60000 (Linux). */
  readonly timeWaitMs?: number;
  /** FIN-WAIT-2 timeout once the application has closed, ms. Default 60000 (Linux tcp_fin_timeout). */
  readonly finWait2Ms?: number;
  /** Keepalive: probes sent before the connection is declared dead. Default 9 (RFC 1122 / Linux). */
  readonly keepAliveProbes?: number;
  /** Keepalive: interval between unanswered probes, ms. Default 75000 (Linux). */
  readonly keepAliveIntervalMs?: number;
  /** Challenge ACKs (RFC 5961 §7) allowed per second, all connections together. Default 10. */
  readonly challengeAckPerSec?: number;
  /** Largest zero-window probe interval, ms. Default 60000. */
  readonly persistMaxMs?: number;
  /** ICMP errors (port unreachable) sent per second at most. Default 10. */
  readonly icmpErrorsPerSec?: number;
  /** Frames kept in the trace ring for the console (0 = tracing unavailable). Default 0. */
  readonly traceFrames?: number;
  /** Bytes of each frame kept in the trace ring. Default 128. */
  readonly traceSnapBytes?: number;

  /** UDP sockets the application may open at once (DHCP and DNS have their own). 0..64. Default 4. */
  readonly udpSockets?: number;
  /** Datagrams each UDP socket queues until read() (more are dropped, counted). 1..1024. Default 4. */
  readonly udpQueueDatagrams?: number;
  /** Bytes of datagram data each UDP socket queues (a larger datagram is dropped, counted). 64..1 MiB. Default 2048. */
  readonly udpQueueBytes?: number;

  /** Get address, netmask, gateway and DNS servers by DHCP (RFC 2131); `address` must then be unset. Default false. */
  readonly dhcp?: boolean;
  /** DHCP: first retransmission timeout, ms; doubles per try (RFC 2131 §4.1: 4 s). 100..600000. Default 4000. */
  readonly dhcpRetryMs?: number;
  /** DHCP: largest retransmission timeout, ms (RFC 2131 §4.1: 64 s). 100..600000. Default 64000. */
  readonly dhcpRetryMaxMs?: number;
  /** DHCP: ARP probe time before using an offered address, ms (RFC 2131 §4.4.1, RFC 5227); 0 = no check. 0..10000. Default 500. */
  readonly dhcpProbeMs?: number;

  /** DNS servers, dotted quads or uint32, at most 3 (RFC 1035 resolvers' MAXNS). Used when DHCP gives none. Default none. */
  readonly dnsServers?: readonly (string | number)[];
  /** DNS queries in flight at once. 1..64. Default 2. */
  readonly dnsQueries?: number;
  /** DNS cache entries (name + A record, ~270 bytes each); 0 = no cache. 0..256. Default 4. */
  readonly dnsCacheEntries?: number;
  /** DNS: time to wait for one answer before retrying, ms. 100..60000. Default 2000. */
  readonly dnsTimeoutMs?: number;
  /** DNS: retransmissions of one query (each to the next server in turn). 0..10. Default 3. */
  readonly dnsRetries?: number;
  /** DNS: longest time an answer is cached, s, whatever its TTL. 0..604800. Default 3600. */
  readonly dnsMaxTtlS?: number;
}

export type PresetName = "minimal" | "default" | "throughput";

/** The validated, complete configuration the stack runs with. Addresses are uint32. */
export interface StackConfig {
  readonly preset: PresetName;
  readonly address: number;
  readonly netmask: number;
  readonly gateway: number;
  readonly ttl: number;
  readonly arpEntries: number;
  readonly arpLifetimeMs: number;
  readonly arpRetryMs: number;
  readonly arpMaxTries: number;
  readonly arpPendingFrames: number;
  readonly maxConnections: number;
  readonly maxListeners: number;
  readonly synQueue: number;
  readonly synCookies: boolean;
  readonly timeWaitEntries: number;
  readonly sendBufBytes: number;
  readonly recvBufBytes: number;
  readonly mss: number;
  readonly windowScale: boolean;
  readonly timestamps: boolean;
  readonly sack: boolean;
  readonly rtoInitialMs: number;
  readonly rtoMinMs: number;
  readonly rtoMaxMs: number;
  readonly maxRetries: number;
  readonly synRetries: number;
  readonly delayedAckMs: number;
  readonly timeWaitMs: number;
  readonly finWait2Ms: number;
  readonly keepAliveProbes: number;
  readonly keepAliveIntervalMs: number;
  readonly challengeAckPerSec: number;
  readonly persistMaxMs: number;
  readonly icmpErrorsPerSec: number;
  readonly traceFrames: number;
  readonly traceSnapBytes: number;
  readonly udpSockets: number;
  readonly udpQueueDatagrams: number;
  readonly udpQueueBytes: number;
  readonly dhcp: boolean;
  readonly dhcpRetryMs: number;
  readonly dhcpRetryMaxMs: number;
  readonly dhcpProbeMs: number;
  /** uint32 addresses, at most 3. */
  readonly dnsServers: readonly number[];
  readonly dnsQueries: number;
  readonly dnsCacheEntries: number;
  readonly dnsTimeoutMs: number;
  readonly dnsRetries: number;
  readonly dnsMaxTtlS: number;
}

type Numeric = { [K in keyof StackConfig]: StackConfig[K] extends number ? K : never }[keyof StackConfig];

const common = {
  ttl: 64,
  arpEntries: 8,
  arpLifetimeMs: 60000,
  arpRetryMs: 1000,
  arpMaxTries: 3,
  mss: 1460,
  timestamps: true,
  synCookies: true,
  sack: true,
  rtoInitialMs: 1000,
  rtoMinMs: 200,
  rtoMaxMs: 60000,
  maxRetries: 12,
  synRetries: 6,
  delayedAckMs: 40,
  timeWaitMs: 60000,
  finWait2Ms: 60000,
  keepAliveProbes: 9,
  keepAliveIntervalMs: 75000,
  challengeAckPerSec: 10,
  persistMaxMs: 60000,
  icmpErrorsPerSec: 10,
  traceFrames: 0,
  traceSnapBytes: 128,
  udpSockets: 4,
  udpQueueDatagrams: 4,
  udpQueueBytes: 2048,
  dhcp: false,
  dhcpRetryMs: 4000,
  dhcpRetryMaxMs: 64000,
  dhcpProbeMs: 500,
  dnsServers: [],
  dnsQueries: 2,
  dnsCacheEntries: 4,
  dnsTimeoutMs: 2000,
  dnsRetries: 3,
  dnsMaxTtlS: 3600,
} as const;

/** Preset values; `address`/`netmask`/`gateway` come from the options. */
export const presets: { readonly [P in PresetName]: Omit<StackConfig, "preset" | "address" | "netmask" | "gateway" | "windowScale"> } = {
  /** lwIP "Minimum" rank: 4 connections, 2 MSS buffers. */
  minimal: { ...common, arpEntries: 4, arpPendingFrames: 2, maxConnections: 4, maxListeners: 2, synQueue: 2,
    timeWaitEntries: 8, sendBufBytes: 2920, recvBufBytes: 2920 },
  /** lwIP "Default" rank: 4 MSS buffers (ESP-IDF TCP_WND = SND_BUF = 5744). */
  default: { ...common, arpPendingFrames: 4, maxConnections: 8, maxListeners: 4, synQueue: 4,
    timeWaitEntries: 16, sendBufBytes: 5840, recvBufBytes: 5840 },
  /** lwIP "Iperf" rank: 64 KiB windows, window scaling. */
  throughput: { ...common, arpPendingFrames: 8, maxConnections: 8, maxListeners: 4, synQueue: 4,
    timeWaitEntries: 32, sendBufBytes: 65536, recvBufBytes: 65536 },
};

const limits: { readonly [K in Numeric]: readonly [number, number] } = {
  address: [0, 0xffffffff], netmask: [0, 0xffffffff], gateway: [0, 0xffffffff],
  ttl: [1, 255],
  arpEntries: [1, 1024], arpLifetimeMs: [1000, 3600000], arpRetryMs: [10, 60000], arpMaxTries: [1, 100],
  arpPendingFrames: [1, 256],
  maxConnections: [1, 4096], maxListeners: [1, 256], synQueue: [1, 4096], timeWaitEntries: [1, 65536],
  sendBufBytes: [64, 1 << 30], recvBufBytes: [64, 1 << 30], mss: [64, 9000],
  rtoInitialMs: [1, 600000], rtoMinMs: [1, 600000], rtoMaxMs: [1, 3600000],
  maxRetries: [1, 100], synRetries: [1, 100], delayedAckMs: [1, 200],
  timeWaitMs: [0, 600000], finWait2Ms: [0, 3600000],
  keepAliveProbes: [1, 100], keepAliveIntervalMs: [1, 3600000],
  challengeAckPerSec: [1, 100000], persistMaxMs: [100, 3600000], icmpErrorsPerSec: [0, 100000],
  traceFrames: [0, 65536], traceSnapBytes: [14, 1514],
  udpSockets: [0, 64], udpQueueDatagrams: [1, 1024], udpQueueBytes: [64, 1 << 20],
  dhcpRetryMs: [100, 600000], dhcpRetryMaxMs: [100, 600000], dhcpProbeMs: [0, 10000],
  dnsQueries: [1, 64], dnsCacheEntries: [0, 256], dnsTimeoutMs: [100, 60000], dnsRetries: [0, 10],
  dnsMaxTtlS: [0, 604800],
};

function address(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name}: not a uint32 IPv4 address`);
    return v >>> 0;
  }
  if (typeof v !== "string") throw new TypeError(`${name}: expected a dotted-quad string or a number`);
  const ip = parseIp(v);
  if (ip < 0) throw new RangeError(`${name}: "${v}" is not an IPv4 dotted quad`);
  return ip;
}

/** `dnsServers`: an array of at most 3 addresses, frozen. */
function dnsServerList(v: unknown): readonly number[] {
  if (v === undefined) return Object.freeze([]);
  if (!Array.isArray(v)) throw new TypeError("config.dnsServers: expected an array of addresses");
  if (v.length > 3) throw new RangeError("config.dnsServers: at most 3 servers");
  const list: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const ip = address(`config.dnsServers[${i}]`, v[i], 0);
    if (ip === 0 || ip === 0xffffffff) throw new RangeError(`config.dnsServers[${i}]: not a unicast address`);
    list.push(ip);
  }
  return Object.freeze(list);
}

/** Validate `options` and return a complete config. Throws TypeError / RangeError with a clear message. */
export function makeConfig(options: StackOptions = {}): StackConfig {
  if (options === null || typeof options !== "object") throw new TypeError("config: expected an object");
  const presetName = options.preset ?? "default";
  if (typeof presetName !== "string" || !Object.prototype.hasOwnProperty.call(presets, presetName))
    throw new RangeError(`config.preset: "${String(presetName)}" is not one of minimal, default, throughput`);
  const base = presets[presetName];
  const out: Record<string, number | boolean | string | readonly number[]> = { ...base, preset: presetName };
  out.address = address("config.address", options.address, 0);
  out.netmask = address("config.netmask", options.netmask, 0xffffff00);
  out.gateway = address("config.gateway", options.gateway, 0);
  const opts = options as Record<string, unknown>;
  for (const key of Object.keys(limits) as Numeric[]) {
    if (key === "address" || key === "netmask" || key === "gateway") continue;
    const v = opts[key];
    if (v === undefined) continue;
    if (typeof v !== "number") throw new TypeError(`config.${key}: expected a number`);
    const [lo, hi] = limits[key];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`config.${key}: ${v} is outside ${lo}..${hi}`);
    out[key] = v;
  }
  for (const key of ["timestamps", "sack", "windowScale", "dhcp", "synCookies"] as const) {
    const v = opts[key];
    if (v === undefined) continue;
    if (typeof v !== "boolean") throw new TypeError(`config.${key}: expected a boolean`);
    out[key] = v;
  }
  const c = out as unknown as StackConfig & { windowScale?: boolean };
  if (options.windowScale === undefined) out.windowScale = c.recvBufBytes > 65535;
  if (options.synQueue === undefined) out.synQueue = Math.max(1, c.maxConnections >> 1);
  // Netmask must be contiguous ones then zeros.
  const inv = (~c.netmask) >>> 0;
  if (((inv + 1) & inv) !== 0) throw new RangeError("config.netmask: not a contiguous mask");
  if (c.sendBufBytes < 2 * c.mss) throw new RangeError(`config.sendBufBytes: ${c.sendBufBytes} < 2 * mss (${2 * c.mss})`);
  if (c.recvBufBytes < 2 * c.mss) throw new RangeError(`config.recvBufBytes: ${c.recvBufBytes} < 2 * mss (${2 * c.mss})`);
  if (!out.windowScale && c.recvBufBytes > 65535)
    throw new RangeError("config.recvBufBytes: > 65535 needs windowScale");
  if (c.rtoMinMs > c.rtoMaxMs) throw new RangeError("config.rtoMinMs > rtoMaxMs");
  out.dnsServers = dnsServerList(opts.dnsServers);
  if (c.dhcp && c.address !== 0) throw new RangeError("config.address: must be unset when dhcp is true");
  if (c.dhcpRetryMs > c.dhcpRetryMaxMs) throw new RangeError("config.dhcpRetryMs > dhcpRetryMaxMs");
  return Object.freeze(out) as unknown as StackConfig;
}
