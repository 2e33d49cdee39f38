/**
 * The console's output framing: one self-checking line per record, so records survive being mixed
 * with any other console text, and with Moddable's xsbug `<log>` wrapping in debug builds.
 *
 *   line  = "@xt" SP kind SP seq SP body SP crc CR LF
 *   kind  = one uppercase letter (below)
 *   seq   = 4 lowercase hex digits: line number mod 65536 (a gap = lines lost on the way)
 *   body  = printable ASCII 0x20..0x7e (never CR or LF); frame records carry base64
 *   crc   = 8 lowercase hex digits: CRC-32/ISO-HDLC (zlib) of every byte from "@" through the SP
 *           before crc
 *
 * A reader looks for "@xt " anywhere in a line (other text may precede it), takes the rest of the
 * line, and drops it (counted) unless the CRC matches. Nothing in a record needs XML escaping, so
 * inside xsbug `<log>` the text is unchanged once `&#10;` and the other entities are decoded.
 *
 * Kinds and bodies:
 *   H  hello:   "xstcp <version> mac:<mac> ip:<ip> trace:<frames>x<snap>"  (on start and `info`)
 *   B  begin:   "<tag> <command line as received>"
 *   T  text:    one line of a command's response
 *   E  end:     "<tag> ok[ <details>]" or "<tag> err <message>"
 *   F  frame:   base64 (RFC 4648, padded) of a frame record, below
 *   D  drops:   "dropped:<n> captured:<n>", totals since `trace on`, before the next F after a drop
 *
 * Frame record (big-endian):
 *   0  u8   version (1)
 *   1  u8   flags: 1 = transmitted by us (else received), 2 = driver refused it, 4 = truncated
 *   2  u32  frame number since `trace on` (dropped frames use numbers too: a gap = a drop)
 *   6  u32  timestamp, seconds        (the platform clock; virtual time in the simulator)
 *   10 u32  timestamp, microseconds
 *   14 u16  length of the frame on the wire
 *   16 ...  the first min(length, traceSnapBytes) bytes of the Ethernet frame (no FCS)
 */

export const MARKER = "@xt";
export const VERSION = 1;

export const KIND_HELLO = 0x48; // H
export const KIND_BEGIN = 0x42; // B
export const KIND_TEXT = 0x54; // T
export const KIND_END = 0x45; // E
export const KIND_FRAME = 0x46; // F
export const KIND_DROPS = 0x44; // D

export const FLAG_TX = 1;
export const FLAG_REFUSED = 2;
export const FLAG_TRUNCATED = 4;

/** Bytes of a frame record before the frame bytes. */
export const FRAME_HEADER = 16;
/** "@xt K ssss " */
export const LINE_PREFIX = 11;
/** " cccccccc\r\n" */
export const LINE_SUFFIX = 11;

/** Characters in the base64 text of n bytes. */
export function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

/** Longest frame line for a snap length. */
export function frameLineBytes(snap: number): number {
  return LINE_PREFIX + base64Length(FRAME_HEADER + snap) + LINE_SUFFIX;
}
