// Randomness the stack needs (initial sequence numbers, ephemeral ports, IP
// identifiers, DHCP transaction ids, the hashing secret), from a function the
// owner supplies: the kernel passes one over drivers/entropy.ts randomU64();
// without one, a seeded xorshift64* generator stands in (tests). Also
// SipHash-2-4, the keyed hash behind ISNs (RFC 6528) and port choice.

@final @unmanaged
export class NetRandom {
  /** (arg) => u64, or 0 for the seeded generator. */
  fn: usize;
  arg: usize;
  state: u64;
}

export function randomInit(r: NetRandom, fn: usize, arg: usize, seed: u64): void {
  r.fn = fn;
  r.arg = arg;
  r.state = seed != 0 ? seed : 0x9e3779b97f4a7c15;
}

export function randomU64(r: NetRandom): u64 {
  if (r.fn != 0) return changetype<(arg: usize) => u64>(r.fn)(r.arg);
  let x = r.state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r.state = x;
  return x * 0x2545f4914f6cdd1d;
}

export function randomU32(r: NetRandom): u32 {
  return <u32>(randomU64(r) >> 32);
}

/** A number in [0, bound). */
export function randomBelow(r: NetRandom, bound: u32): u32 {
  if (bound == 0) return 0;
  return <u32>(((randomU64(r) >> 32) * <u64>bound) >> 32);
}

// @ts-ignore: decorator
@inline function rotl(x: u64, b: u64): u64 {
  return (x << b) | (x >> (64 - b));
}

/** SipHash-2-4 of two 64-bit words under the key (k0, k1). */
export function siphash2(k0: u64, k1: u64, m0: u64, m1: u64): u64 {
  let v0 = k0 ^ 0x736f6d6570736575;
  let v1 = k1 ^ 0x646f72616e646f6d;
  let v2 = k0 ^ 0x6c7967656e657261;
  let v3 = k1 ^ 0x7465646279746573;
  for (let w = 0; w < 3; w++) {
    let m: u64 = w == 0 ? m0 : w == 1 ? m1 : <u64>16 << 56;
    v3 ^= m;
    for (let r = 0; r < 2; r++) {
      v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
      v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
      v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
      v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    }
    v0 ^= m;
  }
  v2 ^= 0xff;
  for (let r = 0; r < 4; r++) {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }
  return v0 ^ v1 ^ v2 ^ v3;
}
