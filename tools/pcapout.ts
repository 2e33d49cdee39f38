/**
 * Classic libpcap output for trace frames (the format host-sim/pcap.ts writes and tshark reads):
 * little-endian, version 2.4, microsecond timestamps, LINKTYPE_ETHERNET. Written one record at a
 * time, so it can be a live stream (`wireshark -k -i -`).
 */
import type { FrameRecord } from "./decoder.js";

export const LINKTYPE_ETHERNET = 1;

export function pcapHeader(snaplen: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeInt32LE(0, 8);
  h.writeUInt32LE(0, 12);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return h;
}

/** One record; `offsetUs` is added to the device timestamp (0: device clock as is). */
export function pcapRecord(f: FrameRecord, offsetUs = 0): Buffer {
  let sec = f.sec, usec = f.usec;
  if (offsetUs !== 0) {
    const total = sec * 1e6 + usec + offsetUs;
    sec = Math.floor(total / 1e6);
    usec = total - sec * 1e6;
  }
  const r = Buffer.alloc(16 + f.data.length);
  r.writeUInt32LE(sec >>> 0, 0);
  r.writeUInt32LE(usec >>> 0, 4);
  r.writeUInt32LE(f.data.length, 8);
  r.writeUInt32LE(f.wireLength, 12);
  r.set(f.data, 16);
  return r;
}
