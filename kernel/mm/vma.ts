// The application's address space as virtual memory areas (VMAs): a sorted
// array of non-overlapping [start, end) ranges with their protection and
// flags, with binary search, insert, split, merge of compatible neighbours
// and the placement search mmap uses when the caller does not fix an address.
//
// A sorted array rather than a tree: applications have tens to a few
// thousand areas, lookups are a binary search over contiguous memory and an
// insert moves at most a few tens of KiB. Capacity doubles on demand (page
// allocations of order 0..VMA_MAX_ORDER) up to VMA_MAX_COUNT areas (Linux's
// default vm.max_map_count is 65530); beyond it operations fail with -ENOMEM,
// as Linux does past its limit. Every operation that may add records first
// calls vmaReserve, so the edits that follow cannot fail half-way.
//
// This file knows nothing of page tables; kernel/mm/mmap.ts keeps both in
// step. Callers hold the address space lock (spaceLock).
import { allocPages, freePages } from "./physical";
import { pause } from "../../arch/x86_64/cpu";
import { tlbShootdownInterrupt } from "../../arch/x86_64/tlbshootdown";
import { spinTryLock, spinUnlock } from "../sync/spinlock";

export const PROT_NONE: u32 = 0;
export const PROT_READ: u32 = 1;
export const PROT_WRITE: u32 = 2;
export const PROT_EXEC: u32 = 4;

/** MAP_SHARED: pages belong to the area's object (shared anonymous memory). */
export const VMA_SHARED: u32 = 1;
/** MAP_GROWSDOWN: a fault just below the area extends it (main stacks). */
export const VMA_GROWSDOWN: u32 = 2;
/** MAP_STACK: a thread stack; inaccessible parts of it are its guard. */
export const VMA_STACK: u32 = 4;
/** A guard area: never accessible; a fault in it is a stack overflow. */
export const VMA_GUARD: u32 = 8;
/** The brk heap. */
export const VMA_HEAP: u32 = 16;

export const PAGE: u64 = 4096;
/** Lowest address an application may map (Linux vm.mmap_min_addr). */
export const MMAP_MIN_ADDR: u64 = 0x10000;
/** End of the application's addresses (Linux x86-64 TASK_SIZE: the last
 * page below the canonical hole stays unmapped). */
export const TASK_SIZE: u64 = 0x7ffffffff000;
/** mmap without an address places areas top-down below this. */
export const DEFAULT_MMAP_BASE: u64 = 0x7f0000000000;
/** Kept free below a grows-down area (Linux stack_guard_gap: 256 pages). */
export const STACK_GUARD_GAP: u64 = 256 * PAGE;

@unmanaged
export class Vma {
  start: u64;
  end: u64;
  /** For shared areas: byte offset of `start` in the object. */
  offset: u64;
  /** Shared areas: the object their pages belong to (0 for private ones). */
  object: u32;
  prot: u32;
  flags: u32;
}

export const VMA_BYTES: usize = 40;
export const VMA_MAX_ORDER: u32 = 8;
export const VMA_MAX_COUNT: u32 = <u32>(((<usize>4096) << VMA_MAX_ORDER) / VMA_BYTES);

@unmanaged
export class AddressSpace {
  /** Physical address of the top-level page table. */
  root: usize;
  /** Spinlock word: held for every change and by the page-fault handler. */
  lock: u32;
  /** The Vma array (pages of order arrayOrder), 0 before the first area. */
  vmas: usize;
  count: u32;
  capacity: u32;
  arrayOrder: u32;
  /** Next shared-object id. */
  nextObject: u32;
  mmapBase: u64;
  brkStart: u64;
  brk: u64;
}

/** Where the address space's PageGather sits in its page. */
export const ADDRESS_SPACE_GATHER: usize = 64;

let active: usize = 0;

/** The address space application faults and system calls act on. */
export function activeAddressSpace(): usize {
  return active;
}

export function setActiveAddressSpace(space: usize): void {
  active = space;
}

/** Takes the address space lock (interrupts off while held). The holder may
 * flush TLBs on every CPU and wait for their answers, so a CPU waiting here
 * (perhaps in the page-fault handler, interrupts off) answers shootdowns
 * while it spins instead of deadlocking the holder. */
export function spaceLock(space: AddressSpace): u64 {
  let lock = changetype<usize>(space) + offsetof<AddressSpace>("lock");
  while (true) {
    let token = spinTryLock(lock);
    if (token != 0) return token & ~(<u64>1 << 63);
    tlbShootdownInterrupt();
    pause();
  }
  return 0;
}

export function spaceUnlock(space: AddressSpace, flags: u64): void {
  spinUnlock(changetype<usize>(space) + offsetof<AddressSpace>("lock"), flags);
}

@inline export function vmaAt(space: AddressSpace, index: i32): Vma {
  return changetype<Vma>(space.vmas + <usize>index * VMA_BYTES);
}

/** Makes room for `extra` more areas; 0 or -ENOMEM. */
export function vmaReserve(space: AddressSpace, extra: u32): i32 {
  let needed = space.count + extra;
  if (needed <= space.capacity) return 0;
  if (needed > VMA_MAX_COUNT) return -12;
  let order: u32 = space.vmas == 0 ? 0 : space.arrayOrder + 1;
  while (<u32>((<usize>4096 << order) / VMA_BYTES) < needed) order++;
  let array = allocPages(order);
  if (array == 0) return -12;
  if (space.vmas != 0) {
    memory.copy(array, space.vmas, <usize>space.count * VMA_BYTES);
    freePages(space.vmas, space.arrayOrder);
  }
  space.vmas = array;
  space.arrayOrder = order;
  space.capacity = <u32>((<usize>4096 << order) / VMA_BYTES);
  return 0;
}

/** Frees the area array (the areas must be gone from the page tables). */
export function vmaReleaseAll(space: AddressSpace): void {
  if (space.vmas != 0) freePages(space.vmas, space.arrayOrder);
  space.vmas = 0;
  space.count = 0;
  space.capacity = 0;
  space.arrayOrder = 0;
}

/** Index of the first area that ends above `address` (count if none). */
export function vmaLowerBound(space: AddressSpace, address: u64): i32 {
  let low: i32 = 0;
  let high = <i32>space.count;
  while (low < high) {
    let middle = (low + high) >>> 1;
    if (vmaAt(space, middle).end <= address) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Index of the area containing `address`, or -1. */
export function vmaFind(space: AddressSpace, address: u64): i32 {
  let index = vmaLowerBound(space, address);
  if (index < <i32>space.count && vmaAt(space, index).start <= address) return index;
  return -1;
}

/** No area overlaps [start, end). */
export function vmaRangeFree(space: AddressSpace, start: u64, end: u64): bool {
  let index = vmaLowerBound(space, start);
  return index >= <i32>space.count || vmaAt(space, index).start >= end;
}

/** Areas cover every byte of [start, end). */
export function vmaRangeMapped(space: AddressSpace, start: u64, end: u64): bool {
  let index = vmaLowerBound(space, start);
  let covered = start;
  while (covered < end) {
    if (index >= <i32>space.count) return false;
    let vma = vmaAt(space, index);
    if (vma.start > covered) return false;
    covered = vma.end;
    index++;
  }
  return true;
}

function openSlot(space: AddressSpace, index: i32): void {
  let at = space.vmas + <usize>index * VMA_BYTES;
  memory.copy(at + VMA_BYTES, at, <usize>(<i32>space.count - index) * VMA_BYTES);
  space.count++;
}

/** Removes `n` records from `index` (records only: page tables are the caller's). */
export function vmaRemoveAt(space: AddressSpace, index: i32, n: i32): void {
  let at = space.vmas + <usize>index * VMA_BYTES;
  let tail = <i32>space.count - index - n;
  memory.copy(at, at + <usize>n * VMA_BYTES, <usize>tail * VMA_BYTES);
  space.count -= <u32>n;
}

/** Writes a record at `index`, shifting the ones above up (room reserved). */
export function vmaInsertAt(space: AddressSpace, index: i32, start: u64, end: u64, prot: u32, flags: u32, object: u32, offset: u64): void {
  openSlot(space, index);
  let vma = vmaAt(space, index);
  vma.start = start;
  vma.end = end;
  vma.offset = offset;
  vma.object = object;
  vma.prot = prot;
  vma.flags = flags;
}

/** Splits area `index` at `address` (strictly inside it; room reserved). */
export function vmaSplit(space: AddressSpace, index: i32, address: u64): void {
  let vma = vmaAt(space, index);
  let end = vma.end;
  let offset = vma.offset + (address - vma.start);
  vma.end = address;
  vmaInsertAt(space, index + 1, address, end, vma.prot, vma.flags, vma.object, offset);
}

/** Splits the areas that straddle `start` or `end` so that [start, end) is
 * covered by whole areas; needs room for 2. Returns the index of the first
 * area at or above `start`. */
export function vmaIsolate(space: AddressSpace, start: u64, end: u64): i32 {
  let index = vmaLowerBound(space, start);
  if (index < <i32>space.count && vmaAt(space, index).start < start) {
    vmaSplit(space, index, start);
    index++;
  }
  let last = vmaLowerBound(space, end);
  if (last < <i32>space.count && vmaAt(space, last).start < end) vmaSplit(space, last, end);
  return index;
}

/** Removes [start, end) from the area set, splitting areas it cuts; needs
 * room for 2. */
export function vmaRemoveRange(space: AddressSpace, start: u64, end: u64): void {
  let first = vmaIsolate(space, start, end);
  let last = first;
  while (last < <i32>space.count && vmaAt(space, last).end <= end) last++;
  if (last > first) vmaRemoveAt(space, first, last - first);
}

/** `a` and `b` touch and could be one area. */
export function vmaCompatible(a: Vma, b: Vma): bool {
  if (a.end != b.start || a.prot != b.prot || a.flags != b.flags || a.object != b.object) return false;
  return a.object == 0 || a.offset + (a.end - a.start) == b.offset;
}

/** Merges compatible neighbours among areas first-1 .. last+1. */
export function vmaMergeAround(space: AddressSpace, first: i32, last: i32): void {
  let index = first > 0 ? first - 1 : 0;
  let stop = last + 1;
  while (index < stop && index + 1 < <i32>space.count) {
    let a = vmaAt(space, index);
    let b = vmaAt(space, index + 1);
    if (vmaCompatible(a, b)) {
      a.end = b.end;
      vmaRemoveAt(space, index + 1, 1);
      stop--;
    } else {
      index++;
    }
  }
}

/** Adds the area [start, end) (free, room for 1 reserved) and merges it
 * with compatible neighbours. Returns the index of the area now holding it. */
export function vmaInsert(space: AddressSpace, start: u64, end: u64, prot: u32, flags: u32, object: u32, offset: u64): i32 {
  let index = vmaLowerBound(space, start);
  vmaInsertAt(space, index, start, end, prot, flags, object, offset);
  vmaMergeAround(space, index, index);
  return vmaFind(space, start);
}

/** Lowest address a neighbour below `vma` may reach: grows-down areas keep
 * STACK_GUARD_GAP free beneath them. */
export function vmaStartGap(vma: Vma): u64 {
  if ((vma.flags & VMA_GROWSDOWN) == 0) return vma.start;
  return vma.start > STACK_GUARD_GAP ? vma.start - STACK_GUARD_GAP : 0;
}

/** A free, page-aligned place for `length` bytes inside [low, high): the
 * highest if `topDown`, else the lowest. 0 if there is none. */
export function vmaFindGap(space: AddressSpace, length: u64, low: u64, high: u64, topDown: bool): u64 {
  if (length == 0 || high <= low || high - low < length) return 0;
  let count = <i32>space.count;
  if (topDown) {
    let index = vmaLowerBound(space, high);
    while (true) {
      let top = index < count ? min(high, vmaStartGap(vmaAt(space, index))) : high;
      let bottom = index > 0 ? max(low, vmaAt(space, index - 1).end) : low;
      if (top > bottom && top - bottom >= length) return top - length;
      if (index == 0 || vmaAt(space, index - 1).end <= low) return 0;
      index--;
    }
  } else {
    let index = vmaLowerBound(space, low);
    let bottom = low;
    while (bottom < high) {
      let top = index < count ? min(high, vmaStartGap(vmaAt(space, index))) : high;
      if (top > bottom && top - bottom >= length) return bottom;
      if (index >= count) return 0;
      bottom = max(bottom, vmaAt(space, index).end);
      index++;
    }
  }
  return 0;
}
