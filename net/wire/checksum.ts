// The Internet checksum (RFC 1071): a one's-complement sum of 16-bit words.
// The sum is independent of byte order, so it is accumulated in memory
// (little-endian) order, 32 bits at a time into a 64-bit accumulator, and
// stored back with a plain u16 store, which puts the bytes in wire order.
// Partial sums combine by addition as long as each starts at an even offset
// of the packet. In the kernel this is the hot loop a C import may replace.

/** Adds `len` bytes at `p` to the running sum `acc`. */
export function checksumAdd(acc: u64, p: usize, len: usize): u64 {
  let end = p + len;
  while (p + 16 <= end) {
    acc += <u64>load<u32>(p) + <u64>load<u32>(p, 4) + <u64>load<u32>(p, 8) + <u64>load<u32>(p, 12);
    p += 16;
  }
  while (p + 4 <= end) {
    acc += <u64>load<u32>(p);
    p += 4;
  }
  if (p + 2 <= end) {
    acc += <u64>load<u16>(p);
    p += 2;
  }
  if (p < end) acc += <u64>load<u8>(p);
  return acc;
}

/** The sum folded to 16 bits (memory order), not complemented. */
export function checksumFold(acc: u64): u32 {
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffffffff) + (acc >> 32);
  let s = <u32>acc;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return s;
}

/** The checksum field value (memory order) for a running sum: ~fold. */
// @ts-ignore: decorator
@inline export function checksumFinish(acc: u64): u32 {
  return ~checksumFold(acc) & 0xffff;
}

/** Checksum of a buffer, memory order (store with store<u16>). */
export function checksum(p: usize, len: usize): u32 {
  return checksumFinish(checksumAdd(0, p, len));
}

/** True if the buffer (its checksum field included) sums to all ones. */
export function checksumValid(p: usize, len: usize, acc: u64): bool {
  return checksumFold(checksumAdd(acc, p, len)) == 0xffff;
}

/** Sum of the IPv4 pseudo-header for TCP and UDP (RFC 793, 768). */
export function pseudoHeaderSum(src: u32, dst: u32, protocol: u32, length: u32): u64 {
  return <u64>bswap<u32>(src) + <u64>bswap<u32>(dst) + <u64>bswap<u32>((protocol << 16) | (length & 0xffff));
}
