// The Linux memory system calls on an AddressSpace: mmap, munmap, mprotect,
// mremap, madvise and brk, with Linux's argument checks and errno values
// (mm/mmap.c, mm/mremap.c, mm/mprotect.c, mm/madvise.c and the man pages).
// Each returns the address or 0 on success, -errno on failure (brk returns
// the break, as the raw system call does).
//
// Anonymous memory only until the VFS lands (file mappings: -ENODEV). Pages
// are allocated on first touch (kernel/mm/fault.ts) unless MAP_POPULATE,
// MAP_LOCKED or MADV_POPULATE_* ask for them earlier. There is no fork, so a
// shared anonymous area's pages are referenced by that area alone: the
// difference from private memory is that MADV_DONTNEED keeps their contents
// (as Linux does for shmem) and that separately created shared areas never
// merge. Not supported: mremap of a shared area with old_size 0 (a second
// mapping of the same pages: -EINVAL), MAP_HUGETLB (-ENOMEM, as a Linux
// whose huge page pool is empty), MAP_SYNC and MAP_DROPPABLE.
import {
  gatherBegin, gatherFlush, pageTableMoveRange, pageTableProtectRange, pageTableUnmapRange, UNMAP_RELEASE,
} from "../../arch/x86_64/pagetable";
import { allocPageZeroed, freePage } from "./physical";
import {
  AddressSpace, ADDRESS_SPACE_GATHER, DEFAULT_MMAP_BASE, MMAP_MIN_ADDR, PAGE, PROT_EXEC, PROT_NONE, PROT_READ,
  PROT_WRITE, spaceLock, spaceUnlock, TASK_SIZE, Vma, VMA_GROWSDOWN, VMA_GUARD, VMA_HEAP,
  VMA_MAX_COUNT, VMA_SHARED, VMA_STACK, vmaAt, vmaFind, vmaFindGap, vmaInsert, vmaIsolate, vmaLowerBound,
  vmaMergeAround, vmaRangeFree, vmaRangeMapped, vmaReleaseAll, vmaRemoveRange, vmaReserve, vmaStartGap,
} from "./vma";
import { ACCESS_READ, ACCESS_WRITE, FAULT_HANDLED, FAULT_OUT_OF_MEMORY, pteFlagsFor, resolveFaultLocked } from "./fault";

const EPERM: i64 = 1;
const ENOMEM: i64 = 12;
const EFAULT: i64 = 14;
const EEXIST: i64 = 17;
const ENODEV: i64 = 19;
const EINVAL: i64 = 22;

export const PROT_SEM: u32 = 0x8;
export const PROT_GROWSDOWN: u32 = 0x01000000;
export const PROT_GROWSUP: u32 = 0x02000000;

export const MAP_SHARED: u32 = 0x01;
export const MAP_PRIVATE: u32 = 0x02;
export const MAP_SHARED_VALIDATE: u32 = 0x03;
export const MAP_TYPE: u32 = 0x0f;
export const MAP_FIXED: u32 = 0x10;
export const MAP_ANONYMOUS: u32 = 0x20;
export const MAP_32BIT: u32 = 0x40;
export const MAP_GROWSDOWN: u32 = 0x100;
export const MAP_DENYWRITE: u32 = 0x800;
export const MAP_EXECUTABLE: u32 = 0x1000;
export const MAP_LOCKED: u32 = 0x2000;
export const MAP_NORESERVE: u32 = 0x4000;
export const MAP_POPULATE: u32 = 0x8000;
export const MAP_NONBLOCK: u32 = 0x10000;
export const MAP_STACK: u32 = 0x20000;
export const MAP_HUGETLB: u32 = 0x40000;
export const MAP_SYNC: u32 = 0x80000;
export const MAP_FIXED_NOREPLACE: u32 = 0x100000;

export const MREMAP_MAYMOVE: u32 = 1;
export const MREMAP_FIXED: u32 = 2;
export const MREMAP_DONTUNMAP: u32 = 4;

export const MADV_NORMAL: u32 = 0;
export const MADV_RANDOM: u32 = 1;
export const MADV_SEQUENTIAL: u32 = 2;
export const MADV_WILLNEED: u32 = 3;
export const MADV_DONTNEED: u32 = 4;
export const MADV_FREE: u32 = 8;
export const MADV_REMOVE: u32 = 9;
export const MADV_DONTFORK: u32 = 10;
export const MADV_DOFORK: u32 = 11;
export const MADV_MERGEABLE: u32 = 12;
export const MADV_UNMERGEABLE: u32 = 13;
export const MADV_HUGEPAGE: u32 = 14;
export const MADV_NOHUGEPAGE: u32 = 15;
export const MADV_DONTDUMP: u32 = 16;
export const MADV_DODUMP: u32 = 17;
export const MADV_WIPEONFORK: u32 = 18;
export const MADV_KEEPONFORK: u32 = 19;
export const MADV_COLD: u32 = 20;
export const MADV_PAGEOUT: u32 = 21;
export const MADV_POPULATE_READ: u32 = 22;
export const MADV_POPULATE_WRITE: u32 = 23;
export const MADV_DONTNEED_LOCKED: u32 = 24;
export const MADV_COLLAPSE: u32 = 25;

/** Where bottom-up placement starts when the top-down search finds nothing
 * (Linux TASK_UNMAPPED_BASE: a third of the address space). */
export const TASK_UNMAPPED_BASE: u64 = ((TASK_SIZE / 3) + PAGE - 1) & ~(PAGE - 1);
/** MAP_32BIT places areas in [1 GiB, 2 GiB), as Linux on x86-64. */
const MAP_32BIT_START: u64 = 0x40000000;
const MAP_32BIT_END: u64 = 0x80000000;

@inline function pageAlign(length: u64): u64 {
  return (length + PAGE - 1) & ~(PAGE - 1);
}

@inline function gatherOf(space: AddressSpace): usize {
  return changetype<usize>(space) + ADDRESS_SPACE_GATHER;
}

// ---------------------------------------------------------------------------
// Address spaces

/** A new, empty address space over the page table at `root` (physical), or
 * null when out of memory. */
export function addressSpaceCreate(root: usize): AddressSpace | null {
  let page = allocPageZeroed();
  if (page == 0) return null;
  let space = changetype<AddressSpace>(page);
  space.root = root;
  space.mmapBase = DEFAULT_MMAP_BASE;
  space.nextObject = 1;
  return space;
}

/** Unmaps every area (freeing its pages and emptied page tables) and frees
 * the address space itself. */
export function addressSpaceDestroy(space: AddressSpace): void {
  let flags = spaceLock(space);
  let gather = gatherOf(space);
  gatherBegin(gather, space.root);
  for (let i: i32 = 0; i < <i32>space.count; i++) {
    let vma = vmaAt(space, i);
    pageTableUnmapRange(space.root, vma.start, vma.end, UNMAP_RELEASE, gather);
  }
  gatherFlush(gather);
  vmaReleaseAll(space);
  spaceUnlock(space, flags);
  freePage(changetype<usize>(space));
}

/** Sets where the brk heap starts (the end of the program's data, from the
 * ELF loader). */
export function brkInit(space: AddressSpace, start: u64): void {
  let flags = spaceLock(space);
  space.brkStart = start;
  space.brk = start;
  spaceUnlock(space, flags);
}

// ---------------------------------------------------------------------------
// Helpers (lock held)

/** Removes [start, end) from the page tables (freeing the pages) and from the
 * area set. Room for 2 more areas must be reserved. */
function unmapLocked(space: AddressSpace, start: u64, end: u64): void {
  if (vmaRangeFree(space, start, end)) return;
  let gather = gatherOf(space);
  gatherBegin(gather, space.root);
  pageTableUnmapRange(space.root, start, end, UNMAP_RELEASE, gather);
  gatherFlush(gather);
  vmaRemoveRange(space, start, end);
}

/** Drops the pages of [start, end) but keeps the areas (MADV_DONTNEED). */
function dropPagesLocked(space: AddressSpace, start: u64, end: u64): void {
  let gather = gatherOf(space);
  gatherBegin(gather, space.root);
  pageTableUnmapRange(space.root, start, end, UNMAP_RELEASE, gather);
  gatherFlush(gather);
}

/** Faults in every page of [start, end): 0, -ENOMEM, or -EFAULT where an
 * access would fault. */
function populateLocked(space: AddressSpace, start: u64, end: u64, write: bool): i64 {
  for (let page = start; page < end; page += PAGE) {
    let code = resolveFaultLocked(space, page, write ? ACCESS_WRITE : ACCESS_READ);
    if (code == FAULT_OUT_OF_MEMORY) return -ENOMEM;
    if (code != FAULT_HANDLED) return -EFAULT;
  }
  return 0;
}

/** Nothing (including the gap a grows-down area keeps below it) is within
 * [address, address + length). */
function hintFree(space: AddressSpace, address: u64, length: u64): bool {
  let next = vmaLowerBound(space, address);
  return next >= <i32>space.count || address + length <= vmaStartGap(vmaAt(space, next));
}

/** Linux's get_unmapped_area for x86-64 (top-down layout): MAP_FIXED takes
 * the address as is; a hint is used if the range is free; otherwise the
 * highest gap below mmapBase, then the lowest above TASK_UNMAPPED_BASE. */
function unmappedArea(space: AddressSpace, address: u64, length: u64, fixed: bool, low32: bool): i64 {
  if (length > TASK_SIZE) return -ENOMEM;
  let result = address;
  if (!fixed) {
    result = 0;
    if (low32) {
      result = vmaFindGap(space, length, MAP_32BIT_START, MAP_32BIT_END, false);
    } else {
      if (address != 0 && address <= TASK_SIZE - length && hintFree(space, address, length)) result = address;
      if (result == 0) result = vmaFindGap(space, length, MMAP_MIN_ADDR, space.mmapBase, true);
      if (result == 0) result = vmaFindGap(space, length, TASK_UNMAPPED_BASE, TASK_SIZE, false);
    }
    if (result == 0) return -ENOMEM;
  }
  if (result > TASK_SIZE - length) return -ENOMEM;
  if ((result & (PAGE - 1)) != 0) return -EINVAL;
  if (result < MMAP_MIN_ADDR) return -EPERM;
  return <i64>result;
}

// ---------------------------------------------------------------------------
// mmap

export function mmap(space: AddressSpace, address: u64, length: u64, prot: u32, flags: u32, fd: i32, offset: u64): i64 {
  if ((offset & (PAGE - 1)) != 0) return -EINVAL;
  // File mappings come with the VFS.
  if ((flags & MAP_ANONYMOUS) == 0) return -ENODEV;
  // Anonymous huge pages come from the hugetlb pool, which is empty.
  if ((flags & MAP_HUGETLB) != 0) return -ENOMEM;
  if (length == 0) return -EINVAL;
  let fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
  if (!fixed) {
    address &= ~(PAGE - 1);
    if (address != 0 && address < MMAP_MIN_ADDR) address = MMAP_MIN_ADDR;
  }
  let len = pageAlign(length);
  if (len == 0) return -ENOMEM;
  let lockFlags = spaceLock(space);
  let result = mmapLocked(space, address, len, prot, flags, fixed);
  spaceUnlock(space, lockFlags);
  return result;
}

function mmapLocked(space: AddressSpace, address: u64, len: u64, prot: u32, flags: u32, fixed: bool): i64 {
  if (space.count >= VMA_MAX_COUNT) return -ENOMEM;
  let placed = unmappedArea(space, address, len, fixed, (flags & MAP_32BIT) != 0);
  if (placed < 0) return placed;
  let start = <u64>placed;
  let end = start + len;
  if ((flags & MAP_FIXED_NOREPLACE) != 0 && !vmaRangeFree(space, start, end)) return -EEXIST;
  let type = flags & MAP_TYPE;
  let vmaFlags: u32 = 0;
  if ((flags & MAP_GROWSDOWN) != 0) vmaFlags |= VMA_GROWSDOWN;
  if ((flags & MAP_STACK) != 0) vmaFlags |= VMA_STACK;
  if (type == MAP_SHARED) {
    if ((vmaFlags & VMA_GROWSDOWN) != 0) return -EINVAL;
    vmaFlags |= VMA_SHARED;
  } else if (type != MAP_PRIVATE) {
    return -EINVAL;
  }
  if (vmaReserve(space, 3) < 0) return -ENOMEM;
  if (fixed) unmapLocked(space, start, end);
  let object: u32 = 0;
  if ((vmaFlags & VMA_SHARED) != 0) object = space.nextObject++;
  vmaInsert(space, start, end, prot & (PROT_READ | PROT_WRITE | PROT_EXEC), vmaFlags, object, 0);
  if ((flags & MAP_LOCKED) != 0 || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE) {
    // Best effort, as in Linux: pages that cannot be had now fault in later.
    if (prot != PROT_NONE) populateLocked(space, start, end, (prot & PROT_WRITE) != 0);
  }
  return <i64>start;
}

/** A thread stack of `size` bytes with a `guard`-byte guard area below it,
 * placed top-down. Returns the stack's lowest address (its top is that plus
 * `size`) or -errno. A touch of the guard area is reported as a stack
 * guard page fault. */
export function mmapStack(space: AddressSpace, size: u64, guard: u64): i64 {
  let len = pageAlign(size);
  let guardLen = pageAlign(guard);
  if (len == 0 || guardLen == 0 || len > TASK_SIZE || guardLen > TASK_SIZE - len) return -EINVAL;
  let lockFlags = spaceLock(space);
  let result: i64 = -ENOMEM;
  let placed = unmappedArea(space, 0, guardLen + len, false, false);
  if (placed < 0) {
    result = placed;
  } else if (vmaReserve(space, 2) == 0) {
    let base = <u64>placed;
    vmaInsert(space, base, base + guardLen, PROT_NONE, VMA_GUARD, 0, 0);
    vmaInsert(space, base + guardLen, base + guardLen + len, PROT_READ | PROT_WRITE, VMA_STACK, 0, 0);
    result = <i64>(base + guardLen);
  }
  spaceUnlock(space, lockFlags);
  return result;
}

// ---------------------------------------------------------------------------
// munmap

export function munmap(space: AddressSpace, address: u64, length: u64): i64 {
  if ((address & (PAGE - 1)) != 0 || address > TASK_SIZE || length > TASK_SIZE - address) return -EINVAL;
  let len = pageAlign(length);
  if (len == 0) return -EINVAL;
  let lockFlags = spaceLock(space);
  let result: i64 = 0;
  if (vmaReserve(space, 2) < 0) result = -ENOMEM;
  else unmapLocked(space, address, address + len);
  spaceUnlock(space, lockFlags);
  return result;
}

// ---------------------------------------------------------------------------
// mprotect

export function mprotect(space: AddressSpace, address: u64, length: u64, protection: u32): i64 {
  let grows = protection & (PROT_GROWSDOWN | PROT_GROWSUP);
  let prot = protection & ~grows;
  if (grows == (PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
  if ((address & (PAGE - 1)) != 0) return -EINVAL;
  if (length == 0) return 0;
  let len = pageAlign(length);
  let end = address + len;
  if (end <= address) return -ENOMEM;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) != 0) return -EINVAL;
  prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
  let lockFlags = spaceLock(space);
  let result = mprotectLocked(space, address, end, prot, grows);
  spaceUnlock(space, lockFlags);
  return result;
}

function mprotectLocked(space: AddressSpace, address: u64, end: u64, prot: u32, grows: u32): i64 {
  let start = address;
  let index = vmaLowerBound(space, start);
  if (index >= <i32>space.count) return -ENOMEM;
  let vma = vmaAt(space, index);
  if ((grows & PROT_GROWSDOWN) != 0) {
    if (vma.start >= end) return -ENOMEM;
    start = vma.start;
    if ((vma.flags & VMA_GROWSDOWN) == 0) return -EINVAL;
  } else if (vma.start > start) {
    return -ENOMEM;
  }
  // x86-64 has no grows-up areas.
  if ((grows & PROT_GROWSUP) != 0) return -EINVAL;
  // All or nothing: Linux changes the areas before the first hole, then fails.
  if (!vmaRangeMapped(space, start, end)) return -ENOMEM;
  if (vmaReserve(space, 2) < 0) return -ENOMEM;
  let first = vmaIsolate(space, start, end);
  let last = first;
  while (last < <i32>space.count && vmaAt(space, last).start < end) {
    vmaAt(space, last).prot = prot;
    last++;
  }
  let gather = gatherOf(space);
  gatherBegin(gather, space.root);
  pageTableProtectRange(space.root, start, end, pteFlagsFor(prot), gather);
  gatherFlush(gather);
  vmaMergeAround(space, first, last - 1);
  return 0;
}

// ---------------------------------------------------------------------------
// mremap

export function mremap(space: AddressSpace, oldAddress: u64, oldSize: u64, newSize: u64, flags: u32, newAddress: u64): i64 {
  if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) return -EINVAL;
  if ((flags & MREMAP_FIXED) != 0 && (flags & MREMAP_MAYMOVE) == 0) return -EINVAL;
  if ((flags & MREMAP_DONTUNMAP) != 0 && ((flags & MREMAP_MAYMOVE) == 0 || oldSize != newSize)) return -EINVAL;
  if ((oldAddress & (PAGE - 1)) != 0) return -EINVAL;
  let oldLen = pageAlign(oldSize);
  let newLen = pageAlign(newSize);
  if (newLen == 0) return -EINVAL;
  let lockFlags = spaceLock(space);
  let result = mremapLocked(space, oldAddress, oldLen, newLen, flags, newAddress);
  spaceUnlock(space, lockFlags);
  return result;
}

/** Linux's vma_to_resize: the area holding [address, address + oldLen), or -errno. */
function resizableArea(space: AddressSpace, address: u64, oldLen: u64): i32 {
  let index = vmaFind(space, address);
  if (index < 0) return <i32>-EFAULT;
  // old_size 0 asks for a second mapping of the same pages: not supported
  // for shared areas here, invalid for private ones in Linux too.
  if (oldLen == 0) return <i32>-EINVAL;
  if (oldLen > vmaAt(space, index).end - address) return <i32>-EFAULT;
  return index;
}

function mremapLocked(space: AddressSpace, address: u64, oldLen: u64, newLen: u64, flags: u32, newAddress: u64): i64 {
  if (vmaFind(space, address) < 0) return -EFAULT;
  if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) return remapToLocked(space, address, oldLen, newLen, flags, newAddress);
  // Shrinking always works: it unmaps the tail.
  if (oldLen >= newLen) {
    if (oldLen > newLen) {
      if (vmaReserve(space, 2) < 0) return -ENOMEM;
      unmapLocked(space, address + newLen, address + oldLen);
    }
    return <i64>address;
  }
  let index = resizableArea(space, address, oldLen);
  if (index < 0) return index;
  let vma = vmaAt(space, index);
  // Grow in place when the range ends the area and the space after it is free.
  if (oldLen == vma.end - address) {
    let newEnd = address + newLen;
    if (newEnd > address && newEnd <= TASK_SIZE && vmaRangeFree(space, vma.end, newEnd)) {
      vma.end = newEnd;
      vmaMergeAround(space, index, index);
      return <i64>address;
    }
  }
  if ((flags & MREMAP_MAYMOVE) == 0) return -ENOMEM;
  let placed = unmappedArea(space, 0, newLen, false, false);
  if (placed < 0) return placed;
  return moveLocked(space, index, address, oldLen, <u64>placed, newLen, flags);
}

/** mremap with MREMAP_FIXED or MREMAP_DONTUNMAP (Linux's mremap_to). */
function remapToLocked(space: AddressSpace, address: u64, oldLen: u64, newLen: u64, flags: u32, newAddress: u64): i64 {
  if ((newAddress & (PAGE - 1)) != 0) return -EINVAL;
  if (newLen > TASK_SIZE || newAddress > TASK_SIZE - newLen) return -EINVAL;
  if (address + oldLen > newAddress && newAddress + newLen > address) return -EINVAL;
  // As Linux 5.7-5.12: MREMAP_DONTUNMAP for private areas only (a shared
  // area's old range would have to keep showing the moved pages).
  if ((flags & MREMAP_DONTUNMAP) != 0 && (vmaAt(space, vmaFind(space, address)).flags & VMA_SHARED) != 0) return -EINVAL;
  let fixed = (flags & MREMAP_FIXED) != 0;
  if (fixed) {
    let check = unmappedArea(space, newAddress, newLen, true, false);
    if (check < 0) return check;
  }
  if (vmaReserve(space, 4) < 0) return -ENOMEM;
  if (fixed) unmapLocked(space, newAddress, newAddress + newLen);
  if (oldLen > newLen) {
    unmapLocked(space, address + newLen, address + oldLen);
    oldLen = newLen;
  }
  let index = resizableArea(space, address, oldLen);
  if (index < 0) return index;
  let target = newAddress;
  if (!fixed) {
    let placed = unmappedArea(space, newAddress, newLen, false, false);
    if (placed < 0) return placed;
    target = <u64>placed;
  }
  return moveLocked(space, index, address, oldLen, target, newLen, flags);
}

/** Moves [address, address + oldLen) of area `index` to a new area of
 * `newLen` bytes at `target` (free), keeping every page. */
function moveLocked(space: AddressSpace, index: i32, address: u64, oldLen: u64, target: u64, newLen: u64, flags: u32): i64 {
  if (vmaReserve(space, 3) < 0) return -ENOMEM;
  let vma = vmaAt(space, index);
  let prot = vma.prot;
  let vmaFlags = vma.flags;
  let object = vma.object;
  let offset = vma.offset + (address - vma.start);
  let gather = gatherOf(space);
  gatherBegin(gather, space.root);
  let moved = pageTableMoveRange(space.root, address, target, oldLen, gather);
  gatherFlush(gather);
  if (moved < 0) return -ENOMEM;
  // With MREMAP_DONTUNMAP the old range stays mapped, its pages now gone:
  // the next touch reads zeros.
  if ((flags & MREMAP_DONTUNMAP) == 0) vmaRemoveRange(space, address, address + oldLen);
  vmaInsert(space, target, target + newLen, prot, vmaFlags, object, offset);
  return <i64>target;
}

// ---------------------------------------------------------------------------
// madvise

function adviceKnown(advice: u32): bool {
  return advice <= MADV_WILLNEED || advice == MADV_DONTNEED ||
    (advice >= MADV_FREE && advice <= MADV_COLLAPSE);
}

/** Whether `advice` may be applied to `vma`: 0, or -errno. */
function adviceAllowed(vma: Vma, advice: u32): i64 {
  let shared = (vma.flags & VMA_SHARED) != 0;
  if (advice == MADV_FREE || advice == MADV_WIPEONFORK) return shared ? -EINVAL : 0;
  if (advice == MADV_REMOVE) return shared ? 0 : -EINVAL;
  if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE) {
    if (vma.prot == PROT_NONE || (vma.flags & VMA_GUARD) != 0) return -EFAULT;
    if (advice == MADV_POPULATE_WRITE && (vma.prot & PROT_WRITE) == 0) return -EFAULT;
  }
  return 0;
}

/**
 * Whether every page of [start, end) (page-aligned, start < end) is
 * mapped: 0, or -ENOMEM at the first hole (what mlock and msync answer).
 */
export function mappedRange(space: AddressSpace, start: u64, end: u64): i64 {
  let lockFlags = spaceLock(space);
  let mapped = vmaRangeMapped(space, start, end);
  spaceUnlock(space, lockFlags);
  return mapped ? 0 : -ENOMEM;
}

export function madvise(space: AddressSpace, address: u64, length: u64, advice: u32): i64 {
  if (!adviceKnown(advice)) return -EINVAL;
  if ((address & (PAGE - 1)) != 0) return -EINVAL;
  let len = pageAlign(length);
  if (length != 0 && len == 0) return -EINVAL;
  let end = address + len;
  if (end < address) return -EINVAL;
  if (end == address) return 0;
  let lockFlags = spaceLock(space);
  let result = madviseLocked(space, address, end, advice);
  spaceUnlock(space, lockFlags);
  return result;
}

function madviseLocked(space: AddressSpace, start: u64, end: u64, advice: u32): i64 {
  // Check every area first, so that invalid advice changes nothing.
  let first = vmaLowerBound(space, start);
  let holes = false;
  let covered = start;
  let index = first;
  while (index < <i32>space.count && vmaAt(space, index).start < end) {
    let vma = vmaAt(space, index);
    if (vma.start > covered) holes = true;
    let allowed = adviceAllowed(vma, advice);
    if (allowed < 0) return allowed;
    covered = vma.end;
    index++;
  }
  if (covered < end) holes = true;
  if (holes && index == first) return -ENOMEM;
  for (let i = first; i < index; i++) {
    let vma = vmaAt(space, i);
    let s = max(start, vma.start);
    let e = min(end, vma.end);
    let shared = (vma.flags & VMA_SHARED) != 0;
    if (advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED || advice == MADV_FREE) {
      // Private pages are dropped: the next touch reads zeros. A shared
      // area's pages are its object's contents, which Linux keeps.
      if (!shared) dropPagesLocked(space, s, e);
    } else if (advice == MADV_REMOVE) {
      dropPagesLocked(space, s, e);
    } else if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE) {
      let populated = populateLocked(space, s, e, advice == MADV_POPULATE_WRITE);
      if (populated < 0) return populated;
    }
    // Everything else is a hint without effect here: no swap, no fork, no
    // huge-page promotion, no core dumps.
  }
  return holes ? -ENOMEM : 0;
}

// ---------------------------------------------------------------------------
// brk

/** The brk system call: moves the program break to `address` if possible and
 * returns the break in effect afterwards (brk(0) asks for it). */
export function brk(space: AddressSpace, address: u64): i64 {
  let lockFlags = spaceLock(space);
  let result = brkLocked(space, address);
  spaceUnlock(space, lockFlags);
  return result;
}

function brkLocked(space: AddressSpace, address: u64): i64 {
  let current = space.brk;
  if (space.brkStart == 0 || address < space.brkStart || address > TASK_SIZE) return <i64>current;
  let newEnd = pageAlign(address);
  let oldEnd = pageAlign(current);
  if (newEnd == oldEnd) {
    space.brk = address;
    return <i64>address;
  }
  if (address <= current) {
    if (vmaReserve(space, 2) < 0) return <i64>current;
    unmapLocked(space, newEnd, oldEnd);
    space.brk = address;
    return <i64>address;
  }
  // Growing: the new heap pages and one page above them must be free.
  let next = vmaLowerBound(space, oldEnd);
  if (next < <i32>space.count && newEnd + PAGE > vmaStartGap(vmaAt(space, next))) return <i64>current;
  if (vmaReserve(space, 1) < 0) return <i64>current;
  vmaInsert(space, oldEnd, newEnd, PROT_READ | PROT_WRITE, VMA_HEAP, 0, 0);
  space.brk = address;
  return <i64>address;
}
