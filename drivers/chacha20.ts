// The ChaCha20 block function (RFC 8439, 2.3): 64 bytes of keystream from
// a 32-byte key, a 32-bit block counter and a 12-byte nonce. Pure, for the
// entropy pool and its unit test.

const state = memory.data(64, 8);
const working = memory.data(64, 8);

// @ts-ignore: decorator
@inline function rotl(x: u32, n: u32): u32 {
  return (x << n) | (x >>> (32 - n));
}

function quarterRound(a: usize, b: usize, c: usize, d: usize): void {
  let w = working;
  let va = load<u32>(w + a * 4), vb = load<u32>(w + b * 4), vc = load<u32>(w + c * 4), vd = load<u32>(w + d * 4);
  va += vb; vd = rotl(vd ^ va, 16);
  vc += vd; vb = rotl(vb ^ vc, 12);
  va += vb; vd = rotl(vd ^ va, 8);
  vc += vd; vb = rotl(vb ^ vc, 7);
  store<u32>(w + a * 4, va);
  store<u32>(w + b * 4, vb);
  store<u32>(w + c * 4, vc);
  store<u32>(w + d * 4, vd);
}

/** Writes the 64-byte block for (key, counter, nonce) to `out`. Not reentrant: callers lock. */
export function chacha20Block(key: usize, counter: u32, nonce: usize, out: usize): void {
  store<u32>(state, 0x61707865);
  store<u32>(state, 0x3320646e, 4);
  store<u32>(state, 0x79622d32, 8);
  store<u32>(state, 0x6b206574, 12);
  for (let i: usize = 0; i < 8; i++) store<u32>(state + 16 + i * 4, load<u32>(key + i * 4));
  store<u32>(state, counter, 48);
  for (let i: usize = 0; i < 3; i++) store<u32>(state + 52 + i * 4, load<u32>(nonce + i * 4));
  memory.copy(working, state, 64);
  for (let round = 0; round < 10; round++) {
    quarterRound(0, 4, 8, 12);
    quarterRound(1, 5, 9, 13);
    quarterRound(2, 6, 10, 14);
    quarterRound(3, 7, 11, 15);
    quarterRound(0, 5, 10, 15);
    quarterRound(1, 6, 11, 12);
    quarterRound(2, 7, 8, 13);
    quarterRound(3, 4, 9, 14);
  }
  for (let i: usize = 0; i < 16; i++) store<u32>(out + i * 4, load<u32>(working + i * 4) + load<u32>(state + i * 4));
}
