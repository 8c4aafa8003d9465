// Split virtqueue layout and index arithmetic (virtio 1.2, 2.7). Pure
// functions over numbers and memory, shared by the driver and the unit tests.
//
//   descriptor table  16 bytes each: addr u64, len u32, flags u16, next u16
//   available ring    flags u16, idx u16, ring[N] u16, used_event u16
//   used ring         flags u16, idx u16, ring[N] {id u32, len u32}, avail_event u16
// Indices are free-running u16 counters; slot = idx & (N - 1).

export const VRING_DESC_F_NEXT: u32 = 1;
export const VRING_DESC_F_WRITE: u32 = 2;
export const VRING_DESC_F_INDIRECT: u32 = 4;
export const VRING_AVAIL_F_NO_INTERRUPT: u32 = 1;
export const VRING_USED_F_NO_NOTIFY: u32 = 1;

export const DESC_BYTES: usize = 16;

export function descTableBytes(size: u32): usize {
  return <usize>size * DESC_BYTES;
}

/** Available ring with used_event, rounded up to 4 bytes. */
export function availRingBytes(size: u32): usize {
  return (<usize>6 + <usize>size * 2 + 3) & ~(<usize>3);
}

/** Used ring with avail_event, rounded up to 8 bytes (avail_event is read as a 32-bit word). */
export function usedRingBytes(size: u32): usize {
  return (<usize>6 + <usize>size * 8 + 7) & ~(<usize>7);
}

/** Queue sizes are powers of two in split rings, 1 to 32768. */
export function queueSizeValid(size: u32): bool {
  return size != 0 && size <= 32768 && (size & (size - 1)) == 0;
}

/** The queue size to use: the device's maximum, capped at `cap` (a power of two). */
export function chooseQueueSize(deviceMax: u32, cap: u32): u32 {
  if (deviceMax == 0) return 0;
  let size = deviceMax < cap ? deviceMax : cap;
  // A legacy-style non power of two maximum: round down.
  while ((size & (size - 1)) != 0) size &= size - 1;
  return size;
}

/**
 * vring_need_event: must the other side be told, now that the index moved
 * from `oldIdx` to `newIdx`, when it asked to hear once it passes `eventIdx`?
 * All three are u16 counters; the comparison is modulo 2^16.
 */
export function vringNeedEvent(eventIdx: u32, newIdx: u32, oldIdx: u32): bool {
  return <u16>(newIdx - eventIdx - 1) < <u16>(newIdx - oldIdx);
}

/** Entries between `from` and `to` on a u16 ring counter. */
export function ringDistance(from: u32, to: u32): u32 {
  return <u32>(<u16>(to - from));
}

export function writeDesc(table: usize, index: u32, address: u64, length: u32, flags: u32, next: u32): void {
  let d = table + <usize>index * DESC_BYTES;
  store<u64>(d, address);
  store<u32>(d, length, 8);
  store<u16>(d, <u16>flags, 12);
  store<u16>(d, <u16>next, 14);
}

export function descFlags(table: usize, index: u32): u32 {
  return <u32>load<u16>(table + <usize>index * DESC_BYTES, 12);
}

export function descNext(table: usize, index: u32): u32 {
  return <u32>load<u16>(table + <usize>index * DESC_BYTES, 14);
}

export function setDescNext(table: usize, index: u32, next: u32): void {
  store<u16>(table + <usize>index * DESC_BYTES, <u16>next, 14);
}

/** Address of used_event in the available ring of `size` entries. */
export function usedEventAddress(avail: usize, size: u32): usize {
  return avail + 4 + <usize>size * 2;
}

/** Address of avail_event in the used ring of `size` entries. */
export function availEventAddress(used: usize, size: u32): usize {
  return used + 4 + <usize>size * 8;
}
