/**
 * Hand-written Ethernet/IPv4/ICMP/UDP bytes for the TAP smoke tests (the real stack replaces this).
 */

export function checksum(b: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) sum += b[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}

export function ip4(s: string): number[] {
  return s.split(".").map(Number);
}

/**
 * If `frame` is an ICMP echo request to `ourIp`, turns it into the reply in place and returns its
 * length; else returns 0.
 */
export function echoReplyInPlace(frame: Uint8Array, length: number, ourMac: Uint8Array, ourIp: number[]): number {
  if (length < 14 + 20 + 8 || frame[12] !== 0x08 || frame[13] !== 0x00) return 0;
  const ihl = (frame[14]! & 0x0f) * 4;
  if (frame[14]! >> 4 !== 4 || ihl < 20 || frame[14 + 9] !== 1) return 0;
  const totalLen = (frame[16]! << 8) | frame[17]!;
  if (totalLen < ihl + 8 || 14 + totalLen > length) return 0;
  for (let i = 0; i < 4; i++) if (frame[30 + i] !== ourIp[i]) return 0;
  const icmp = 14 + ihl;
  if (frame[icmp] !== 8 || checksum(frame, 14, 14 + ihl) !== 0) return 0;
  // Ethernet: to the sender, from us.
  frame.copyWithin(0, 6, 12);
  frame.set(ourMac, 6);
  // IPv4: swap addresses, fresh TTL and checksum.
  const src = frame.slice(26, 30);
  frame.copyWithin(26, 30, 34);
  frame.set(src, 30);
  frame[14 + 8] = 64;
  put16(frame, 24, 0);
  put16(frame, 24, checksum(frame, 14, 14 + ihl));
  // ICMP: echo reply, same id/seq/data.
  frame[icmp] = 0;
  put16(frame, icmp + 2, 0);
  put16(frame, icmp + 2, checksum(frame, icmp, 14 + totalLen));
  return 14 + totalLen;
}

/** One Ethernet/IPv4/UDP frame with `payloadLength` bytes of payload, checksums filled in. */
export function udpFrame(
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  payloadLength: number,
): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + payloadLength);
  f.set(dstMac, 0);
  f.set(srcMac, 6);
  put16(f, 12, 0x0800);
  f[14] = 0x45;
  put16(f, 16, 20 + 8 + payloadLength);
  f[14 + 6] = 0x40; // DF
  f[14 + 8] = 64;
  f[14 + 9] = 17;
  f.set(ip4(src), 26);
  f.set(ip4(dst), 30);
  put16(f, 24, checksum(f, 14, 34));
  put16(f, 34, srcPort);
  put16(f, 36, dstPort);
  put16(f, 38, 8 + payloadLength);
  for (let i = 0; i < payloadLength; i++) f[42 + i] = i & 0xff;
  // UDP checksum over the pseudo-header + UDP.
  const pseudo = new Uint8Array(12 + 8 + payloadLength);
  pseudo.set(f.subarray(26, 34), 0);
  pseudo[9] = 17;
  put16(pseudo, 10, 8 + payloadLength);
  pseudo.set(f.subarray(34), 12);
  put16(f, 40, checksum(pseudo, 0, pseudo.length) || 0xffff);
  return f;
}

export function macOf(s: string): Uint8Array {
  return Uint8Array.from(s.split(":"), (p) => parseInt(p, 16));
}
