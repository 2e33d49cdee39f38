/**
 * The Internet checksum, RFC 1071: ones'-complement sum of 16-bit big-endian
 * words. Accumulators are plain non-negative integers; sum() folds its result
 * so chaining calls can never overflow 2^53.
 */

/** Folds carries (end-around carry, RFC 1071 §2(C)) until the value fits 17 bits or less. */
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return acc;
}

/**
 * Adds the 16-bit big-endian words of b[at, at+len) to acc (RFC 1071 §4.1); an odd
 * trailing byte is padded with a zero byte. Returns the new (folded) accumulator.
 */
export function sum(b: Uint8Array, at: number, len: number, acc: number): number {
  let s = 0;
  const end = at + len - 1;
  let i = at;
  // Each word <= 0xffff; 2^37 words would be needed to overflow 2^53.
  for (; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i === end) s += b[i] << 8;
  return fold(fold(acc) + fold(s));
}

/**
 * Accumulator for the IPv4 pseudo-header: source, destination, zero, protocol,
 * length (RFC 9293 §3.1, RFC 768).
 */
export function pseudo(src: number, dst: number, proto: number, len: number): number {
  src = src >>> 0;
  dst = dst >>> 0;
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (proto & 0xff) + (len & 0xffff);
}

/**
 * Folds acc and returns its ones' complement: the 16-bit value to store in a
 * checksum field. Over a received packet (checksum field included) the result is
 * 0 when valid, i.e. when the folded sum is 0xffff; so a stored 0xffff and a
 * stored 0x0000 (the two ones'-complement zeros) both verify.
 */
export function finish(acc: number): number {
  return ~fold(acc) & 0xffff;
}
