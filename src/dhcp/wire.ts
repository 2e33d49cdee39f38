/**
 * DHCP messages (RFC 2131 §2 format, RFC 2132 options, RFC 951 BOOTP): field offsets, a parser of the
 * options we use into fixed numeric fields, and emitters. Every read is bounded by the message length;
 * nothing allocates.
 */
import { get16, get32, put16, put32 } from "../wire/bytes.js";

/** Ports (RFC 2131 §4.1). */
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

/** Fixed part of a message, up to and including the magic cookie. */
export const DHCP_FIXED_LEN = 240;
/** BOOTP messages are at least 300 bytes (RFC 1542 §2.1); we pad ours to this. */
export const DHCP_MIN_LEN = 300;

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const HTYPE_ETHERNET = 1;

// Field offsets (RFC 2131 Figure 1).
export const OP = 0, HTYPE = 1, HLEN = 2, HOPS = 3, XID = 4, SECS = 8, FLAGS = 10;
export const CIADDR = 12, YIADDR = 16, SIADDR = 20, GIADDR = 24, CHADDR = 28, SNAME = 44, FILE = 108, COOKIE = 236;
export const SNAME_LEN = 64, FILE_LEN = 128;
/** 99.130.83.99 (RFC 2131 §3). */
export const MAGIC_COOKIE = 0x63825363;

// Message types (option 53, RFC 2132 §9.6).
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

// Options (RFC 2132).
export const OPT_PAD = 0;
export const OPT_SUBNET_MASK = 1;
export const OPT_ROUTER = 3;
export const OPT_DNS = 6;
export const OPT_HOSTNAME = 12;
export const OPT_REQUESTED_IP = 50;
export const OPT_LEASE_TIME = 51;
export const OPT_OVERLOAD = 52;
export const OPT_MSG_TYPE = 53;
export const OPT_SERVER_ID = 54;
export const OPT_PARAM_LIST = 55;
export const OPT_MAX_SIZE = 57;
export const OPT_T1 = 58;
export const OPT_T2 = 59;
export const OPT_CLIENT_ID = 61;
export const OPT_END = 255;

/** DNS servers kept from option 6. */
export const DHCP_MAX_DNS = 3;

/** parseDhcp() results. */
export const DHCP_OK = 0;
/** Shorter than 240 bytes, bad cookie, or an option running past its field. */
export const DHCP_MALFORMED = 1;
/** An option we use has the wrong length. */
export const DHCP_BAD_OPTION = 2;

/** The options of one message we care about; -1 (or count 0) = absent. Reused for every message. */
export class DhcpOptions {
  msgType = -1;
  serverId = -1;
  subnetMask = -1;
  router = -1;
  readonly dns = new Uint32Array(DHCP_MAX_DNS);
  dnsCount = 0;
  /** Seconds; 0xffffffff = infinite. */
  leaseTime = -1;
  t1 = -1;
  t2 = -1;
  requestedIp = -1;
  overload = 0;

  clear(): void {
    this.msgType = -1; this.serverId = -1; this.subnetMask = -1; this.router = -1; this.dnsCount = 0;
    this.leaseTime = -1; this.t1 = -1; this.t2 = -1; this.requestedIp = -1; this.overload = 0;
  }
}

/**
 * Parses the option area b[at .. end) into `o` (RFC 2132 §2: Pad and End are one byte, every other
 * option is code, length, data). `main`: the options field proper, where Option Overload may appear.
 * Returns DHCP_OK, DHCP_MALFORMED or DHCP_BAD_OPTION.
 */
export function parseOptionArea(b: Uint8Array, at: number, end: number, o: DhcpOptions, main: boolean): number {
  let p = at;
  while (p < end) {
    const code = b[p];
    if (code === OPT_PAD) { p++; continue; }
    if (code === OPT_END) return DHCP_OK;
    if (p + 2 > end) return DHCP_MALFORMED;
    const len = b[p + 1];
    const d = p + 2;
    if (d + len > end) return DHCP_MALFORMED;
    switch (code) {
      case OPT_MSG_TYPE:
        if (len !== 1) return DHCP_BAD_OPTION;
        o.msgType = b[d];
        break;
      case OPT_SERVER_ID:
        if (len !== 4) return DHCP_BAD_OPTION;
        o.serverId = get32(b, d);
        break;
      case OPT_SUBNET_MASK:
        if (len !== 4) return DHCP_BAD_OPTION;
        o.subnetMask = get32(b, d);
        break;
      case OPT_ROUTER:
        // A list, in order of preference: the first one is ours.
        if (len < 4 || (len & 3) !== 0) return DHCP_BAD_OPTION;
        if (o.router < 0) o.router = get32(b, d);
        break;
      case OPT_DNS:
        // A list; repeated instances concatenate (RFC 3396).
        if (len < 4 || (len & 3) !== 0) return DHCP_BAD_OPTION;
        for (let k = 0; k < len && o.dnsCount < DHCP_MAX_DNS; k += 4) o.dns[o.dnsCount++] = get32(b, d + k);
        break;
      case OPT_LEASE_TIME:
        if (len !== 4) return DHCP_BAD_OPTION;
        o.leaseTime = get32(b, d);
        break;
      case OPT_T1:
        if (len !== 4) return DHCP_BAD_OPTION;
        o.t1 = get32(b, d);
        break;
      case OPT_T2:
        if (len !== 4) return DHCP_BAD_OPTION;
        o.t2 = get32(b, d);
        break;
      case OPT_REQUESTED_IP:
        if (len !== 4) return DHCP_BAD_OPTION;
        o.requestedIp = get32(b, d);
        break;
      case OPT_OVERLOAD:
        // Only meaningful in the options field itself (RFC 2132 §9.3).
        if (len !== 1 || b[d] < 1 || b[d] > 3) return DHCP_BAD_OPTION;
        if (main) o.overload = b[d];
        break;
      default:
        break;
    }
    p = d + len;
  }
  // No End before the field ran out: accepted (servers pad differently); a cut option was caught above.
  return DHCP_OK;
}

/**
 * Checks the fixed part of b[at .. at+len) and parses its options (including the file and sname
 * fields when Option Overload says so, in that order: RFC 2131 §4.1) into `o`.
 */
export function parseDhcp(b: Uint8Array, at: number, len: number, o: DhcpOptions): number {
  o.clear();
  if (len < DHCP_FIXED_LEN) return DHCP_MALFORMED;
  if (get32(b, at + COOKIE) !== MAGIC_COOKIE) return DHCP_MALFORMED;
  let r = parseOptionArea(b, at + DHCP_FIXED_LEN, at + len, o, true);
  if (r !== DHCP_OK) return r;
  if ((o.overload & 1) !== 0) {
    r = parseOptionArea(b, at + FILE, at + FILE + FILE_LEN, o, false);
    if (r !== DHCP_OK) return r;
  }
  if ((o.overload & 2) !== 0) {
    r = parseOptionArea(b, at + SNAME, at + SNAME + SNAME_LEN, o, false);
    if (r !== DHCP_OK) return r;
  }
  return DHCP_OK;
}

/** True when the 6 bytes of chaddr equal mac[0..6). */
export function chaddrIs(b: Uint8Array, at: number, mac: Uint8Array): boolean {
  for (let k = 0; k < 6; k++) if (b[at + CHADDR + k] !== mac[k]) return false;
  return true;
}

/**
 * Writes the fixed part of a client message at b[at] (op BOOTREQUEST, Ethernet, the cookie; sname,
 * file and the rest of chaddr zero). Returns the offset where options start.
 */
export function emitDhcpHeader(b: Uint8Array, at: number, xid: number, secs: number, ciaddr: number, mac: Uint8Array): number {
  b.fill(0, at, at + DHCP_FIXED_LEN);
  b[at + OP] = BOOTREQUEST;
  b[at + HTYPE] = HTYPE_ETHERNET;
  b[at + HLEN] = 6;
  put32(b, at + XID, xid);
  put16(b, at + SECS, secs);
  put32(b, at + CIADDR, ciaddr);
  for (let k = 0; k < 6; k++) b[at + CHADDR + k] = mac[k];
  put32(b, at + COOKIE, MAGIC_COOKIE);
  return at + DHCP_FIXED_LEN;
}

/** Option with a one-byte value at b[p]; returns the next offset. */
export function putOption8(b: Uint8Array, p: number, code: number, v: number): number {
  b[p] = code; b[p + 1] = 1; b[p + 2] = v;
  return p + 3;
}

/** Option with a two-byte value. */
export function putOption16(b: Uint8Array, p: number, code: number, v: number): number {
  b[p] = code; b[p + 1] = 2; put16(b, p + 2, v);
  return p + 4;
}

/** Option with a four-byte value (an address or a time). */
export function putOption32(b: Uint8Array, p: number, code: number, v: number): number {
  b[p] = code; b[p + 1] = 4; put32(b, p + 2, v);
  return p + 6;
}

/** Reads: xid, yiaddr, flags, message op/htype/hlen of the message at b[at]. */
export function dhcpXid(b: Uint8Array, at: number): number { return get32(b, at + XID); }
export function dhcpYiaddr(b: Uint8Array, at: number): number { return get32(b, at + YIADDR); }
export function dhcpCiaddr(b: Uint8Array, at: number): number { return get32(b, at + CIADDR); }
export function dhcpFlags(b: Uint8Array, at: number): number { return get16(b, at + FLAGS); }
