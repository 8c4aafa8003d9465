// A FIFO of whole frames in one byte ring (loopback, the host pipe test
// device): records of [length u32][flags u32][bytes, padded to 8]; a record
// that does not fit before the end starts again at 0 behind a wrap marker.
// Bounded by bytes; a push that does not fit fails (the frame is dropped).
import { netAlloc, netFree } from "../mem";

const WRAP: u32 = 0xffffffff;
const RECORD_HEADER: u32 = 8;

@final @unmanaged
export class FrameRing {
  buf: usize;
  cap: u32;
  head: u32;
  tail: u32;
  count: u32;
  /** Flags of the frame the last pop returned. */
  lastFlags: u32;
  dropped: u64;
}

/** A ring of `bytes` (rounded up to 8); null when out of memory. */
export function frameRingCreate(bytes: u32): FrameRing | null {
  let r = changetype<FrameRing>(netAlloc(offsetof<FrameRing>()));
  if (changetype<usize>(r) == 0) return null;
  let cap = (bytes + 7) & ~7;
  r.buf = netAlloc(cap);
  if (r.buf == 0) {
    netFree(changetype<usize>(r));
    return null;
  }
  r.cap = cap;
  return r;
}

export function frameRingDestroy(r: FrameRing): void {
  netFree(r.buf);
  netFree(changetype<usize>(r));
}

// @ts-ignore: decorator
@inline function recordBytes(len: u32): u32 {
  return RECORD_HEADER + ((len + 7) & ~7);
}

export function frameRingPush(r: FrameRing, frame: usize, len: u32, flags: u32): bool {
  let need = recordBytes(len);
  let at: u32;
  if (r.count == 0) {
    r.head = 0;
    r.tail = 0;
    if (need > r.cap) {
      r.dropped++;
      return false;
    }
    at = 0;
  } else if (r.tail > r.head) {
    if (r.cap - r.tail >= need) at = r.tail;
    else if (r.head > need) {
      if (r.cap - r.tail >= RECORD_HEADER) store<u32>(r.buf + r.tail, WRAP);
      at = 0;
    } else {
      r.dropped++;
      return false;
    }
  } else {
    // tail <= head: the free gap is [tail, head); keep it non-empty.
    if (r.head - r.tail > need) at = r.tail;
    else {
      r.dropped++;
      return false;
    }
  }
  let p = r.buf + at;
  store<u32>(p, len);
  store<u32>(p, flags, 4);
  memory.copy(p + RECORD_HEADER, frame, len);
  r.tail = at + need;
  r.count++;
  return true;
}

/** Length of the next frame, or -1 when empty. */
export function frameRingPeekLength(r: FrameRing): i32 {
  if (r.count == 0) return -1;
  if (r.cap - r.head < RECORD_HEADER || load<u32>(r.buf + r.head) == WRAP) r.head = 0;
  return <i32>load<u32>(r.buf + r.head);
}

/** Copies the next frame (truncated to outCap) to `out`: its length, 0 when empty. */
export function frameRingPop(r: FrameRing, out: usize, outCap: u32): u32 {
  let len = frameRingPeekLength(r);
  if (len < 0) return 0;
  let p = r.buf + r.head;
  r.lastFlags = load<u32>(p, 4);
  let n = <u32>len < outCap ? <u32>len : outCap;
  memory.copy(out, p + RECORD_HEADER, n);
  r.head += recordBytes(<u32>len);
  r.count--;
  if (r.count == 0) {
    r.head = 0;
    r.tail = 0;
  }
  return n;
}
