// x86-64 4-level page tables (PML4 -> PDPT -> PD -> PT) over physical memory:
// map, unmap, protect, move and translate 4 KiB and 2 MiB pages in the table
// whose root (physical address of the PML4) the caller names. Tables are AS
// pointers (physical addresses below 4 GiB, reached through the direct map).
//
// Frames come from the allocator the memory manager registers with
// pageTableUseAllocator. Frames that an operation releases (data pages and
// emptied tables) are queued in a PageGather and freed only after the TLB
// flush (a shootdown on every online CPU, arch/x86_64/tlbshootdown.ts), so no
// CPU can still reach a page through a stale translation when it is handed
// out again.
//
// Not locked: the caller serializes operations on one table (the address
// space lock). Entries of the kernel half (PML4 index >= 256) point at the
// boot tables, which are never freed; range operations refuse ranges that
// cross between the halves, and only empty tables of the lower half are freed.
//
// Applications run at ring 0, so application pages never carry PTE_USER (with
// SMEP a ring-0 fetch from a user page would fault). PTE_NO_EXECUTE is only
// written when EFER.NXE is on (pageTableSetNoExecute): otherwise bit 63 is
// reserved and would make the CPU raise reserved-bit page faults.
import { readCr3 } from "./cpu";
import { flushTlbRange } from "./tlbshootdown";

export const PAGE_4K: u64 = 0x1000;
export const PAGE_2M: u64 = 0x200000;

export const PTE_PRESENT: u64 = 1 << 0;
export const PTE_WRITABLE: u64 = 1 << 1;
export const PTE_USER: u64 = 1 << 2;
export const PTE_WRITE_THROUGH: u64 = 1 << 3;
export const PTE_CACHE_DISABLE: u64 = 1 << 4;
export const PTE_ACCESSED: u64 = 1 << 5;
export const PTE_DIRTY: u64 = 1 << 6;
/** PS: in a PD (or PDPT) entry, the entry maps a 2 MiB (1 GiB) page. */
export const PTE_LARGE: u64 = 1 << 7;
export const PTE_GLOBAL: u64 = 1 << 8;
/** Software bit (the CPU ignores bits 9-11): the entry keeps its frame but
 * grants no access; PTE_PRESENT is clear. This is how PROT_NONE pages keep
 * their contents. */
export const PTE_HELD: u64 = 1 << 9;
/** Software bit: a 4 KiB piece of a split 2 MiB page. The frame belongs to
 * whoever mapped the 2 MiB page (the buddy allocator frees blocks whole), so
 * UNMAP_RELEASE does not free pieces. */
export const PTE_PIECE: u64 = 1 << 10;
export const PTE_NO_EXECUTE: u64 = <u64>1 << 63;

/** Start of the kernel half; the application owns [0, USER_END). */
export const USER_END: u64 = 0x0000800000000000;
const KERNEL_START: u64 = 0xffff800000000000;
/** What pageTableTranslate returns for an address without a present mapping. */
export const NOT_MAPPED: u64 = 0xffffffffffffffff;

const ADDRESS_MASK: u64 = 0x000ffffffffff000;
const LARGE_ADDRESS_MASK: u64 = 0x000fffffffe00000;
const HUGE_ADDRESS_MASK: u64 = 0x000fffffc0000000;
const PAT_4K: u64 = 1 << 7;
const PAT_LARGE: u64 = 1 << 12;
const MAX_PHYSICAL: u64 = 0x000fffffffffffff;
/** The flags a caller may set on a leaf. */
const LEAF_FLAGS: u64 = PTE_PRESENT | PTE_WRITABLE | PTE_USER | PTE_WRITE_THROUGH |
  PTE_CACHE_DISABLE | PTE_GLOBAL | PTE_NO_EXECUTE;

const EINVAL: i32 = 22;
const ENOMEM: i32 = 12;
const EEXIST: i32 = 17;

// ---------------------------------------------------------------------------
// Frames

function missingAllocator(): usize {
  abort("page tables: no frame allocator registered");
  return 0;
}

function missingFree(address: usize, order: u32): void {
  abort("page tables: no frame allocator registered");
}

let allocZeroedFrame: () => usize = missingAllocator;
let freeFrames: (address: usize, order: u32) => void = missingFree;
let noExecute = false;

/** Registers where page tables come from (zeroed 4 KiB frames, 0 when out of
 * memory) and where released frames go (order 0: 4 KiB, 9: 2 MiB). */
export function pageTableUseAllocator(allocZeroed: () => usize, free: (address: usize, order: u32) => void): void {
  allocZeroedFrame = allocZeroed;
  freeFrames = free;
}

/** Call with true once EFER.NXE is set; until then PTE_NO_EXECUTE is dropped. */
export function pageTableSetNoExecute(enabled: bool): void {
  noExecute = enabled;
}

export function pageTableNoExecute(): bool {
  return noExecute;
}

/** Physical address of the live top-level table (CR3 without its flags). */
export function currentRoot(): usize {
  return <usize>(readCr3() & ADDRESS_MASK);
}

// ---------------------------------------------------------------------------
// Deferred frees and TLB flushes

/** Frames one gather holds before it flushes early. */
export const GATHER_FRAMES: u32 = 60;

@unmanaged
export class PageGather {
  /** 1 when the root is this CPU's live table, so flushes are needed. */
  live: u32;
  frameCount: u32;
  /** Virtual range whose translations may be cached; empty when start >= end. */
  flushStart: u64;
  flushEnd: u64;
  // followed by GATHER_FRAMES u64: frame address | order
}

const GATHER_HEADER: usize = 24;
/** Bytes to reserve for a PageGather. */
export const PAGE_GATHER_BYTES: usize = GATHER_HEADER + <usize>GATHER_FRAMES * 8;

/** Starts a batch of changes to the table at `root`. */
export function gatherBegin(gather: usize, root: usize): void {
  let g = changetype<PageGather>(gather);
  g.live = root == currentRoot() ? 1 : 0;
  g.frameCount = 0;
  g.flushStart = NOT_MAPPED;
  g.flushEnd = 0;
}

function gatherAddFlush(gather: usize, start: u64, end: u64): void {
  let g = changetype<PageGather>(gather);
  if (g.live == 0) return;
  if (start < g.flushStart) g.flushStart = start;
  if (end > g.flushEnd) g.flushEnd = end;
}

function gatherAddFrame(gather: usize, address: usize, order: u32): void {
  let g = changetype<PageGather>(gather);
  if (g.frameCount == GATHER_FRAMES) gatherFlush(gather);
  store<u64>(gather + GATHER_HEADER + <usize>g.frameCount * 8, <u64>address | <u64>order);
  g.frameCount++;
}

/** Flushes the TLB for everything changed so far, then frees the queued
 * frames. Call at the end of a batch; the gather can be reused afterwards. */
export function gatherFlush(gather: usize): void {
  let g = changetype<PageGather>(gather);
  if (g.flushStart < g.flushEnd) {
    flushTlbRange(g.flushStart, (g.flushEnd - g.flushStart) >> 12);
    g.flushStart = NOT_MAPPED;
    g.flushEnd = 0;
  }
  for (let i: u32 = 0; i < g.frameCount; i++) {
    let entry = load<u64>(gather + GATHER_HEADER + <usize>i * 8);
    freeFrames(<usize>(entry & ~<u64>0xfff), <u32>(entry & 0xfff));
  }
  g.frameCount = 0;
}

// ---------------------------------------------------------------------------
// Walking

@inline function shiftOf(level: u32): u64 {
  return 12 + 9 * (<u64>level - 1);
}

@inline function spanOf(level: u32): u64 {
  return <u64>1 << shiftOf(level);
}

@inline function slotOf(table: usize, virt: u64, level: u32): usize {
  return table + <usize>((virt >> shiftOf(level)) & 511) * 8;
}

/** The entry maps memory (present, or held without access). */
@inline function isBacked(entry: u64): bool {
  return (entry & (PTE_PRESENT | PTE_HELD)) != 0;
}

/** A PD or PDPT entry that maps a page instead of pointing at a table. */
@inline function isLargeLeaf(entry: u64): bool {
  return (entry & PTE_LARGE) != 0 && isBacked(entry);
}

/** A PML4, PDPT or PD entry that points at a table. */
@inline function isTable(entry: u64): bool {
  return (entry & (PTE_PRESENT | PTE_LARGE)) == PTE_PRESENT;
}

@inline function tableOf(entry: u64): usize {
  return <usize>(entry & ADDRESS_MASK);
}

function frameMask(level: u32): u64 {
  return level == 1 ? ADDRESS_MASK : level == 2 ? LARGE_ADDRESS_MASK : HUGE_ADDRESS_MASK;
}

export function isCanonical(virt: u64): bool {
  return virt < USER_END || virt >= KERNEL_START;
}

/** End of the 2^shift-aligned block holding `virt`, or `limit` if that comes first
 * (also when the block ends at the top of the address space). */
@inline function blockEnd(virt: u64, span: u64, limit: u64): u64 {
  let end = (virt & ~(span - 1)) + span;
  return end != 0 && end < limit ? end : limit;
}

function tableEmpty(table: usize): bool {
  for (let i: usize = 0; i < 4096; i += 8) {
    if (load<u64>(table + i) != 0) return false;
  }
  return true;
}

/** Leaf bits for `flags`: present, or held (no access) when PTE_PRESENT is absent. */
function leafBits(flags: u64): u64 {
  let bits = flags & LEAF_FLAGS;
  if (!noExecute) bits &= ~PTE_NO_EXECUTE;
  if ((bits & PTE_PRESENT) == 0) bits |= PTE_HELD;
  return bits;
}

const DESCEND_NO_MEMORY: usize = 0;
/** A large page (or, for a large mapping, a table) is in the way. */
const DESCEND_BLOCKED: usize = 1;

/** The table the entry at `slot` points to, allocating it if `allocate`.
 * DESCEND_NO_MEMORY when absent and not allocated, DESCEND_BLOCKED when the
 * entry maps a large page. */
function descend(slot: usize, userFlag: u64, allocate: bool): usize {
  let entry = load<u64>(slot);
  if (isTable(entry)) return tableOf(entry);
  if (isBacked(entry)) return DESCEND_BLOCKED;
  if (!allocate) return DESCEND_NO_MEMORY;
  let table = allocZeroedFrame();
  if (table == 0) return DESCEND_NO_MEMORY;
  store<u64>(slot, <u64>table | PTE_PRESENT | PTE_WRITABLE | userFlag);
  return table;
}

/** Slot of the level-`level` entry for `virt` (1: PT, 2: PD), creating the
 * tables above it if `allocate`. 0 when a table is missing (or out of
 * memory), 1 when a large page is in the way. */
function slotFor(root: usize, virt: u64, level: u32, allocate: bool, userFlag: u64): usize {
  let table = root;
  for (let l: u32 = 4; l > level; l--) {
    table = descend(slotOf(table, virt, l), userFlag, allocate);
    if (table <= DESCEND_BLOCKED) return table;
  }
  return slotOf(table, virt, level);
}

/** Slot of the leaf (present or held) that maps `virt` with its level in the
 * low bits (1: 4 KiB, 2: 2 MiB, 3: 1 GiB), or 0. See slotAddress, slotLevel. */
export function pageTableLeafSlot(root: usize, virt: u64): usize {
  if (!isCanonical(virt)) return 0;
  let table = root;
  for (let level: u32 = 4; level >= 1; level--) {
    let slot = slotOf(table, virt, level);
    let entry = load<u64>(slot);
    if (level == 1) return isBacked(entry) ? slot | 1 : 0;
    if (level <= 3 && isLargeLeaf(entry)) return slot | <usize>level;
    if (!isTable(entry)) return 0;
    table = tableOf(entry);
  }
  return 0;
}

@inline export function slotAddress(slot: usize): usize {
  return slot & ~<usize>7;
}

@inline export function slotLevel(slot: usize): u32 {
  return <u32>(slot & 7);
}

/** The leaf entry mapping `virt` (present or held), or 0. */
export function pageTableEntry(root: usize, virt: u64): u64 {
  let slot = pageTableLeafSlot(root, virt);
  return slot == 0 ? 0 : load<u64>(slotAddress(slot));
}

/** Size of the page mapping `virt` (present or held), or 0 when unmapped. */
export function pageTableLeafSize(root: usize, virt: u64): u64 {
  let slot = pageTableLeafSlot(root, virt);
  return slot == 0 ? 0 : spanOf(slotLevel(slot));
}

/** Physical address `virt` translates to, or NOT_MAPPED when no present
 * mapping covers it (held PROT_NONE pages count as not mapped). */
export function pageTableTranslate(root: usize, virt: u64): u64 {
  let slot = pageTableLeafSlot(root, virt);
  if (slot == 0) return NOT_MAPPED;
  let entry = load<u64>(slotAddress(slot));
  if ((entry & PTE_PRESENT) == 0) return NOT_MAPPED;
  let level = slotLevel(slot);
  return (entry & frameMask(level)) + (virt & (spanOf(level) - 1));
}

// ---------------------------------------------------------------------------
// Map

/** Maps one page: 4 KiB, or 2 MiB if `large`. `flags` are PTE_* bits; without
 * PTE_PRESENT the page is held with no access. -EINVAL for misaligned or
 * non-canonical addresses, -EEXIST if something is mapped there (or a large
 * page covers it), -ENOMEM if a table cannot be allocated (tables this call
 * created are then queued in `gather` for freeing). No TLB flush is needed for
 * the new entry: CPUs do not cache not-present entries. Between gatherBegin
 * and gatherFlush, like every operation that takes a gather. */
export function pageTableMap(root: usize, virt: u64, phys: u64, large: bool, flags: u64, gather: usize): i32 {
  let size = large ? PAGE_2M : PAGE_4K;
  if ((virt & (size - 1)) != 0 || (phys & (size - 1)) != 0 || phys > MAX_PHYSICAL) return -EINVAL;
  if (!isCanonical(virt) || (virt < USER_END && virt + size > USER_END)) return -EINVAL;
  let level: u32 = large ? 2 : 1;
  let slot = slotFor(root, virt, level, true, flags & PTE_USER);
  if (slot == DESCEND_BLOCKED) return -EEXIST;
  if (slot == DESCEND_NO_MEMORY) {
    // Free whatever tables this call created on the way down.
    if (virt < USER_END) walkRange(root, 4, virt, virt + size, OP_PRUNE, 0, gather, true);
    return -ENOMEM;
  }
  // A large mapping over a page table (even an empty one) is refused.
  if (load<u64>(slot) != 0) return -EEXIST;
  store<u64>(slot, phys | leafBits(flags) | (large ? PTE_LARGE : 0));
  return 0;
}

// ---------------------------------------------------------------------------
// Range operations: unmap and protect

const OP_UNMAP: u32 = 1;
const OP_PROTECT: u32 = 2;
/** Only free the empty tables of the range (lower half). */
const OP_PRUNE: u32 = 3;
/** For OP_UNMAP: also queue the mapped frames for freeing. */
export const UNMAP_RELEASE: u64 = 1;

/** Replaces the 2 MiB leaf at `slot` (mapping `virt`'s block) with a table of
 * 512 4 KiB entries with the same frames and flags. */
function splitLarge(slot: usize, virt: u64, gather: usize): i32 {
  let entry = load<u64>(slot);
  let table = allocZeroedFrame();
  if (table == 0) return -ENOMEM;
  let phys = entry & LARGE_ADDRESS_MASK;
  let flags = (entry & ~(LARGE_ADDRESS_MASK | PTE_LARGE | PAT_LARGE)) | PTE_PIECE;
  if ((entry & PAT_LARGE) != 0) flags |= PAT_4K;
  for (let i: u64 = 0; i < 512; i++) {
    store<u64>(table + <usize>i * 8, (phys + (i << 12)) | flags);
  }
  store<u64>(slot, <u64>table | PTE_PRESENT | PTE_WRITABLE | (entry & PTE_USER));
  // The TLB may hold the 2 MiB translation: the SDM asks for an invalidation
  // when a page's size changes.
  if ((entry & PTE_PRESENT) != 0) {
    let start = virt & ~(PAGE_2M - 1);
    gatherAddFlush(gather, start, start + PAGE_2M);
  }
  return 0;
}

/** Applies `op` to the leaf at `slot` mapping [virt, virt + size); returns pages. */
function leafOp(slot: usize, level: u32, virt: u64, op: u32, arg: u64, gather: usize): i64 {
  let entry = load<u64>(slot);
  let size = spanOf(level);
  if (op == OP_UNMAP) {
    store<u64>(slot, 0);
    if ((entry & PTE_PRESENT) != 0) gatherAddFlush(gather, virt, virt + size);
    if ((arg & UNMAP_RELEASE) != 0 && (entry & PTE_PIECE) == 0) {
      gatherAddFrame(gather, <usize>(entry & frameMask(level)), level == 1 ? 0 : 9);
    }
  } else {
    let keep = entry & (frameMask(level) | PTE_ACCESSED | PTE_DIRTY | PTE_PIECE);
    keep |= level == 1 ? entry & PAT_4K : entry & (PTE_LARGE | PAT_LARGE);
    let updated = keep | leafBits(arg);
    if (updated != entry) {
      store<u64>(slot, updated);
      if ((entry & PTE_PRESENT) != 0) gatherAddFlush(gather, virt, virt + size);
    }
  }
  return <i64>(size >> 12);
}

/** Applies `op` to every leaf of `table` (at `level`) within [start, end),
 * splitting 2 MiB leaves the range covers only in part. `prune`: free tables
 * that end up empty (lower half only). Returns 4 KiB pages affected, or -errno. */
function walkRange(table: usize, level: u32, start: u64, end: u64, op: u32, arg: u64, gather: usize, prune: bool): i64 {
  let span = spanOf(level);
  let pages: i64 = 0;
  let virt = start;
  while (virt < end) {
    let blockStart = virt & ~(span - 1);
    let next = blockEnd(virt, span, end);
    let slot = slotOf(table, virt, level);
    let entry = load<u64>(slot);
    if (level == 1) {
      if (op != OP_PRUNE && isBacked(entry)) pages += leafOp(slot, 1, virt, op, arg, gather);
      virt = next;
      continue;
    }
    if (op == OP_PRUNE) {
      // Leaves stay as they are; only tables are visited.
    } else if (isLargeLeaf(entry)) {
      if (virt == blockStart && next - blockStart == span) {
        if (level == 3) return -EINVAL; // 1 GiB pages are not managed here
        pages += leafOp(slot, level, virt, op, arg, gather);
      } else {
        if (level == 3) return -EINVAL;
        let error = splitLarge(slot, virt, gather);
        if (error < 0) return error;
        entry = load<u64>(slot);
      }
    }
    if (isTable(entry)) {
      let child = tableOf(entry);
      let done = walkRange(child, level - 1, virt, next, op, arg, gather, prune);
      if (done < 0) return done;
      pages += done;
      if (prune && op != OP_PROTECT && tableEmpty(child)) {
        store<u64>(slot, 0);
        // Paging-structure caches may point at the table: flush before reuse.
        gatherAddFlush(gather, blockStart, blockStart + PAGE_4K);
        gatherAddFrame(gather, child, 0);
      }
    }
    virt = next;
  }
  return pages;
}

function rangeValid(start: u64, end: u64): bool {
  if (((start | end) & (PAGE_4K - 1)) != 0 || end <= start) return false;
  if (start < USER_END) return end <= USER_END;
  return start >= KERNEL_START;
}

/** Unmaps every page in [start, end) (4 KiB aligned, within one half),
 * splitting 2 MiB pages cut by the range. With UNMAP_RELEASE in `options`, the
 * frames of 4 KiB pages and whole 2 MiB pages are freed after the TLB flush;
 * pieces of a split 2 MiB page are not (see PTE_PIECE). Empty tables of the
 * lower half are freed. Returns the 4 KiB pages unmapped, or -errno. Call gatherBegin before
 * and gatherFlush after (several calls can share one batch). */
export function pageTableUnmapRange(root: usize, start: u64, end: u64, options: u64, gather: usize): i64 {
  if (!rangeValid(start, end)) return -EINVAL;
  return walkRange(root, 4, start, end, OP_UNMAP, options, gather, start < USER_END);
}

/** Sets the flags (PTE_* bits; without PTE_PRESENT: held, no access) of every
 * page mapped in [start, end), splitting 2 MiB pages cut by the range.
 * Returns the 4 KiB pages changed or visited, or -errno. */
export function pageTableProtectRange(root: usize, start: u64, end: u64, flags: u64, gather: usize): i64 {
  if (!rangeValid(start, end)) return -EINVAL;
  return walkRange(root, 4, start, end, OP_PROTECT, flags, gather, false);
}

/** Splits the 2 MiB page that maps `virt` into 4 KiB pages. 0 (also when
 * there is nothing to split), -ENOMEM, or -EINVAL for a 1 GiB page. */
export function pageTableSplit(root: usize, virt: u64, gather: usize): i32 {
  let slot = pageTableLeafSlot(root, virt);
  if (slot == 0 || slotLevel(slot) == 1) return 0;
  if (slotLevel(slot) != 2) return -EINVAL;
  return splitLarge(slotAddress(slot), virt, gather);
}

// ---------------------------------------------------------------------------
// Move (mremap)

/** First address in [virt, end) inside a leaf of `table`, or `end`. */
function nextBackedIn(table: usize, level: u32, virt: u64, end: u64): u64 {
  let span = spanOf(level);
  while (virt < end) {
    let next = blockEnd(virt, span, end);
    let entry = load<u64>(slotOf(table, virt, level));
    if (level == 1) {
      if (isBacked(entry)) return virt;
    } else if (isLargeLeaf(entry)) {
      return virt;
    } else if (isTable(entry)) {
      let found = nextBackedIn(tableOf(entry), level - 1, virt, next);
      if (found < next) return found;
    }
    virt = next;
  }
  return end;
}

/** The first mapped (present or held) address in [start, end), or `end`. */
export function pageTableNextMapped(root: usize, start: u64, end: u64): u64 {
  if (!rangeValid(start, end)) return end;
  return nextBackedIn(root, 4, start, end);
}

/** Moves the pages mapped in [from, from + length) to the same offsets from
 * `to` (both 4 KiB aligned in the lower half, not overlapping; the
 * destination must hold no pages). 2 MiB pages stay whole when both sides are
 * aligned, otherwise they are split. Either every page moves, or (-ENOMEM,
 * -EEXIST) none does. */
export function pageTableMoveRange(root: usize, from: u64, to: u64, length: u64, gather: usize): i32 {
  if (length == 0) return 0;
  if (!rangeValid(from, from + length) || !rangeValid(to, to + length) || from + length > USER_END) return -EINVAL;
  if (to < from + length && from < to + length) return -EINVAL;
  let end = from + length;
  // Pass 1: split what cannot move whole and create the destination tables.
  let error: i32 = 0;
  let virt = nextBackedIn(root, 4, from, end);
  while (virt < end) {
    let slot = pageTableLeafSlot(root, virt);
    let level = slotLevel(slot);
    let dest = to + (virt - from);
    if (level == 2) {
      let whole = (virt & (PAGE_2M - 1)) == 0 && end - virt >= PAGE_2M && (dest & (PAGE_2M - 1)) == 0;
      let destSlot = whole ? slotFor(root, dest, 2, true, 0) : DESCEND_BLOCKED;
      if (destSlot == DESCEND_NO_MEMORY) { error = -ENOMEM; break; }
      if (destSlot != DESCEND_BLOCKED && load<u64>(destSlot) == 0) {
        virt = nextBackedIn(root, 4, virt + PAGE_2M, end);
        continue;
      }
      error = splitLarge(slotAddress(slot), virt, gather);
      if (error < 0) break;
      continue;
    }
    if (level != 1) { error = -EINVAL; break; }
    let destSlot = slotFor(root, dest, 1, true, 0);
    if (destSlot == DESCEND_NO_MEMORY) { error = -ENOMEM; break; }
    if (destSlot == DESCEND_BLOCKED || load<u64>(destSlot) != 0) { error = -EEXIST; break; }
    virt = nextBackedIn(root, 4, virt + PAGE_4K, end);
  }
  if (error < 0) {
    // Give back the destination tables pass 1 created.
    walkRange(root, 4, to, to + length, OP_PRUNE, 0, gather, true);
    return error;
  }
  // Pass 2: move the entries; every destination slot exists and is empty.
  virt = nextBackedIn(root, 4, from, end);
  while (virt < end) {
    let slot = pageTableLeafSlot(root, virt);
    let level = slotLevel(slot);
    let source = slotAddress(slot);
    let entry = load<u64>(source);
    let destSlot = slotFor(root, to + (virt - from), level, false, 0);
    store<u64>(destSlot, entry);
    store<u64>(source, 0);
    if ((entry & PTE_PRESENT) != 0) gatherAddFlush(gather, virt, virt + spanOf(level));
    virt = nextBackedIn(root, 4, virt + spanOf(level), end);
  }
  // Free the source tables that are now empty.
  walkRange(root, 4, from, end, OP_PRUNE, 0, gather, true);
  return 0;
}
