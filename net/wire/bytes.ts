// Byte-order helpers for the wire views. Multi-byte fields go on the wire
// big-endian; IPv4 addresses are u32 in numeric order (10.0.2.15 is
// 0x0a00020f); MAC addresses are u64 holding the 6 wire bytes in memory order
// (byte 0 in bits 0-7), as drivers/netdev.ts stores them.

// @ts-ignore: decorator
@inline export function be16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}

// @ts-ignore: decorator
@inline export function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

// @ts-ignore: decorator
@inline export function setBe16(p: usize, v: u32): void {
  store<u16>(p, bswap<u16>(<u16>v));
}

// @ts-ignore: decorator
@inline export function setBe32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

// @ts-ignore: decorator
@inline export function loadMac(p: usize): u64 {
  return <u64>load<u32>(p) | (<u64>load<u16>(p, 4) << 32);
}

// @ts-ignore: decorator
@inline export function storeMac(p: usize, mac: u64): void {
  store<u32>(p, <u32>mac);
  store<u16>(p, <u16>(mac >> 32), 4);
}

export const MAC_BROADCAST: u64 = 0xffffffffffff;
export const MAC_NONE: u64 = 0;

/** Group (multicast or broadcast) bit: the lowest bit of the first byte. */
// @ts-ignore: decorator
@inline export function macIsMulticast(mac: u64): bool {
  return (mac & 1) != 0;
}

export const IP_ANY: u32 = 0;
export const IP_BROADCAST: u32 = 0xffffffff;
export const IP_LOOPBACK: u32 = 0x7f000001;

// @ts-ignore: decorator
@inline export function ipIsLoopback(a: u32): bool {
  return (a >> 24) == 127;
}

// @ts-ignore: decorator
@inline export function ipIsMulticast(a: u32): bool {
  return (a >> 28) == 0xe;
}

/** Addresses that may never be a packet's source: multicast, class E and the limited broadcast. */
// @ts-ignore: decorator
@inline export function ipIsMartianSource(a: u32): bool {
  return (a >> 28) >= 0xe;
}

/** a.b.c.d as the stack's u32. */
// @ts-ignore: decorator
@inline export function ipv4(a: u32, b: u32, c: u32, d: u32): u32 {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

/** Netmask of a prefix length 0-32. */
export function prefixMask(bits: u32): u32 {
  if (bits == 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return ~(<u32>0xffffffff >> bits);
}

/** TCP sequence-space comparisons (modulo 2^32, RFC 9293 3.4). */
// @ts-ignore: decorator
@inline export function seqLt(a: u32, b: u32): bool {
  return <i32>(a - b) < 0;
}
// @ts-ignore: decorator
@inline export function seqLe(a: u32, b: u32): bool {
  return <i32>(a - b) <= 0;
}
// @ts-ignore: decorator
@inline export function seqGt(a: u32, b: u32): bool {
  return <i32>(a - b) > 0;
}
// @ts-ignore: decorator
@inline export function seqGe(a: u32, b: u32): bool {
  return <i32>(a - b) >= 0;
}
// @ts-ignore: decorator
@inline export function seqMax(a: u32, b: u32): u32 {
  return seqGt(a, b) ? a : b;
}
// @ts-ignore: decorator
@inline export function seqMin(a: u32, b: u32): u32 {
  return seqLt(a, b) ? a : b;
}
