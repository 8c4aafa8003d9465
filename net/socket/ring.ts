// Byte ring buffers: a socket's send and receive buffers. A Ring is four
// words (data pointer, capacity, read offset, length) embedded in its socket;
// the data is one heap block of the configured size. Beyond the readable
// bytes, the receive ring also holds out-of-order TCP data at its sequence
// offset (writeAt), which the assembler tracks.

@final @unmanaged
export class Ring {
  buf: usize;
  cap: u32;
  head: u32;
  len: u32;
}

// @ts-ignore: decorator
@inline export function ringFree(r: Ring): u32 {
  return r.cap - r.len;
}

/** Copies `n` bytes at logical offset `off` past the read position, from `src` (wrapping). */
export function ringWriteAt(r: Ring, off: u32, src: usize, n: u32): void {
  if (n == 0) return;
  let pos = r.head + off;
  if (pos >= r.cap) pos -= r.cap;
  let first = r.cap - pos;
  if (first >= n) memory.copy(r.buf + pos, src, n);
  else {
    memory.copy(r.buf + pos, src, first);
    memory.copy(r.buf, src + first, n - first);
  }
}

/** Copies `n` bytes at logical offset `off` past the read position to `dst`. */
export function ringReadAt(r: Ring, off: u32, dst: usize, n: u32): void {
  if (n == 0) return;
  let pos = r.head + off;
  if (pos >= r.cap) pos -= r.cap;
  let first = r.cap - pos;
  if (first >= n) memory.copy(dst, r.buf + pos, n);
  else {
    memory.copy(dst, r.buf + pos, first);
    memory.copy(dst + first, r.buf, n - first);
  }
}

/** Appends up to `n` bytes; returns how many fit. */
export function ringPush(r: Ring, src: usize, n: u32): u32 {
  let room = r.cap - r.len;
  if (n > room) n = room;
  ringWriteAt(r, r.len, src, n);
  r.len += n;
  return n;
}

/** Drops `n` bytes (at most len) from the front. */
export function ringConsume(r: Ring, n: u32): void {
  if (n > r.len) n = r.len;
  // The head only moves forward: out-of-order data beyond len keeps its place.
  r.len -= n;
  let h = r.head + n;
  r.head = h >= r.cap ? h - r.cap : h;
}

/** Copies out and consumes up to `n` bytes; returns how many. */
export function ringPop(r: Ring, dst: usize, n: u32): u32 {
  if (n > r.len) n = r.len;
  ringReadAt(r, 0, dst, n);
  ringConsume(r, n);
  return n;
}

/** The u32 at logical offset `off` (little-endian, may wrap). */
export function ringLoadU32(r: Ring, off: u32): u32 {
  let pos = r.head + off;
  if (pos >= r.cap) pos -= r.cap;
  if (pos + 4 <= r.cap) return load<u32>(r.buf + pos);
  let v: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    let q = pos + i;
    if (q >= r.cap) q -= r.cap;
    v |= <u32>load<u8>(r.buf + q) << (i << 3);
  }
  return v;
}

/** Appends a u32 (little-endian); the caller checked there is room. */
export function ringPushU32(r: Ring, v: u32): void {
  let pos = r.head + r.len;
  if (pos >= r.cap) pos -= r.cap;
  if (pos + 4 <= r.cap) store<u32>(r.buf + pos, v);
  else {
    for (let i: u32 = 0; i < 4; i++) {
      let q = pos + i;
      if (q >= r.cap) q -= r.cap;
      store<u8>(r.buf + q, <u8>(v >> (i << 3)));
    }
  }
  r.len += 4;
}
