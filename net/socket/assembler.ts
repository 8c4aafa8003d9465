// Sorted, disjoint [start, end) ranges of u32 offsets in caller memory: which
// bytes past a point have arrived (TCP out-of-order data relative to
// RCV.NXT, IPv4 fragments relative to the datagram start) or have been
// SACKed. Layout: count u32, then start/end pairs; `max` pairs fit.

// @ts-ignore: decorator
@inline export function asmCount(a: usize): u32 {
  return load<u32>(a);
}
// @ts-ignore: decorator
@inline export function asmStart(a: usize, i: u32): u32 {
  return load<u32>(a + 4 + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline export function asmEnd(a: usize, i: u32): u32 {
  return load<u32>(a + 8 + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function setRange(a: usize, i: u32, start: u32, end: u32): void {
  store<u32>(a + 4 + (<usize>i << 3), start);
  store<u32>(a + 8 + (<usize>i << 3), end);
}

export function asmBytes(max: u32): usize {
  return 4 + (<usize>max << 3);
}

export function asmClear(a: usize): void {
  store<u32>(a, 0);
}

/** Adds [start, end), merging with what it touches. False (and unchanged) if more than `max` ranges would result. */
export function asmAdd(a: usize, max: u32, start: u32, end: u32): bool {
  if (end <= start) return true;
  let n = asmCount(a);
  // First range that ends at or after start, and last that starts at or before end.
  let i: u32 = 0;
  while (i < n && asmEnd(a, i) < start) i++;
  let j = i;
  while (j < n && asmStart(a, j) <= end) j++;
  // Ranges [i, j) touch the new one: they merge into one.
  if (i == j) {
    if (n >= max) return false;
    for (let k = n; k > i; k--) setRange(a, k, asmStart(a, k - 1), asmEnd(a, k - 1));
    setRange(a, i, start, end);
    store<u32>(a, n + 1);
    return true;
  }
  let s = asmStart(a, i) < start ? asmStart(a, i) : start;
  let e = asmEnd(a, j - 1) > end ? asmEnd(a, j - 1) : end;
  setRange(a, i, s, e);
  let removed = j - i - 1;
  if (removed != 0) {
    for (let k = j; k < n; k++) setRange(a, k - removed, asmStart(a, k), asmEnd(a, k));
    store<u32>(a, n - removed);
  }
  return true;
}

/** Shifts every offset down by `delta`, dropping what falls below 0. */
export function asmShift(a: usize, delta: u32): void {
  let n = asmCount(a);
  let out: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let s = asmStart(a, i);
    let e = asmEnd(a, i);
    if (e <= delta) continue;
    setRange(a, out, s > delta ? s - delta : 0, e - delta);
    out++;
  }
  store<u32>(a, out);
}

/** End of the range that starts at 0 (how far the data is contiguous), or 0. */
export function asmFront(a: usize): u32 {
  return asmCount(a) != 0 && asmStart(a, 0) == 0 ? asmEnd(a, 0) : 0;
}

/** Index of the range containing [start, end), or -1. */
export function asmFind(a: usize, start: u32, end: u32): i32 {
  let n = asmCount(a);
  for (let i: u32 = 0; i < n; i++) if (asmStart(a, i) <= start && asmEnd(a, i) >= end) return <i32>i;
  return -1;
}

/** Bytes covered by ranges. */
export function asmTotal(a: usize): u32 {
  let n = asmCount(a);
  let t: u32 = 0;
  for (let i: u32 = 0; i < n; i++) t += asmEnd(a, i) - asmStart(a, i);
  return t;
}
