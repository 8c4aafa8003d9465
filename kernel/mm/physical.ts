// The physical page allocator: one binary buddy system over all managed RAM
// below 4 GiB (what an AS pointer reaches), in 4 KiB pages, plus a per-CPU
// cache of single pages in front of it. Everything takes pages from here: the
// kernel heap, page tables, DMA buffers, application memory.
// Design, costs and limits: docs/memory-allocators.md.
import { cpuIndex } from "../../arch/x86_64/atomic";
import { spinLock, spinUnlock } from "../sync/spinlock";

export const PAGE_SIZE: usize = 4096;
export const PAGE_SHIFT: u32 = 12;
/** Largest block: 2^MAX_ORDER pages (4 MiB). At most 15: the order field has 4 bits. */
export const MAX_ORDER: u32 = 10;
export const MAX_CPUS: u32 = 64;
/** Single pages a per-CPU cache holds at most. */
export const CPU_CACHE_CAPACITY: u32 = 64;
/** Pages moved between a per-CPU cache and the buddy lists at once. */
export const CPU_CACHE_BATCH: u32 = 16;

// AS pointers are u32: memory at or above 4 GiB cannot be managed here.
const ADDRESS_LIMIT: u64 = 0x100000000;
const MAX_BLOCK_PAGES: u32 = 1 << MAX_ORDER;

// One 8-byte entry per page frame, indexed by page number (address >> 12):
//   word 0: FREE head: page number of the next free block of its order (0 = end);
//           ALLOCATED head or TAIL: the owner word (setPageOwner), 0 when unowned.
//   word 1: bits 0-23: FREE head: page number of the previous free block (0 = none);
//           bits 24-27: the block's order (heads); bits 28-31: the state.
// Page 0 is never managed, so page number 0 doubles as "none".
const ENTRY_SHIFT: u32 = 3;
const ORDER_SHIFT: u32 = 24;
const STATE_SHIFT: u32 = 28;
const PREV_MASK: u32 = 0xffffff;

/** Not managed: never added (hole, reserved, metadata, beyond RAM). */
const STATE_RESERVED: u32 = 0;
/** Inside a block (free or allocated) whose head is a lower page. */
const STATE_TAIL: u32 = 1;
/** Head of a free block, on the free list of its order. */
const STATE_FREE: u32 = 2;
/** Head of an allocated block (or of one chunk of a contiguous run). */
const STATE_ALLOCATED: u32 = 3;
/** A single page parked in a per-CPU cache. */
const STATE_CACHED: u32 = 4;

// Per-CPU caches: MAX_CPUS records of CACHE_BYTES at the start of the metadata,
// each 64-byte aligned: lock u32 @0, count u32 @4, page numbers u32 @64 (a
// stack: the most recently freed, cache-hot page is on top).
const CACHE_ENTRIES: usize = 64;
const CACHE_BYTES: usize = CACHE_ENTRIES + (<usize>CPU_CACHE_CAPACITY << 2);
const CACHE_AREA: usize = <usize>MAX_CPUS * CACHE_BYTES;

let pageTable: usize = 0; // the page entries; 0 until physicalInit
let cpuCaches: usize = 0;
let pageLimit: u32 = 0; // entries exist for pages [0, pageLimit)
let metadataStart: usize = 0;
let metadataEnd: usize = 0;
let buddyFreePages: usize = 0; // pages on the free lists (not in caches)
let managedPages: usize = 0;

// The buddy lock guards the free lists, buddyFreePages and every page state
// change except ALLOCATED <-> CACHED of single pages (their CPU cache's lock).
// Lock order: a CPU cache lock, then the buddy lock.
const buddyLock = memory.data(64, 64);
const freeHeads = memory.data(<i32>((MAX_ORDER + 1) << 2), 4);
const freeBlocks = memory.data(<i32>((MAX_ORDER + 1) << 2), 4);

// ---- page entries ----

// @ts-ignore: decorator
@inline function entryOf(page: u32): usize {
  return pageTable + (<usize>page << ENTRY_SHIFT);
}

// @ts-ignore: decorator
@inline function infoOf(page: u32): u32 {
  return load<u32>(entryOf(page), 4);
}

/** Sets state and order, clears the link / owner word and the prev field. */
// @ts-ignore: decorator
@inline function setPage(page: u32, state: u32, order: u32): void {
  store<u64>(entryOf(page), <u64>((state << STATE_SHIFT) | (order << ORDER_SHIFT)) << 32);
}

// @ts-ignore: decorator
@inline function headTag(state: u32, order: u32): u32 {
  return (state << 4) | order;
}

/** Order of the largest aligned chunk starting at `page` that fits in `remaining` pages. */
// @ts-ignore: decorator
@inline function chunkOrder(page: u32, remaining: usize): u32 {
  let aligned = min<u32>(ctz<u32>(page), MAX_ORDER);
  let fits = <u32>31 - clz<u32>(<u32>remaining);
  return min<u32>(aligned, fits);
}

// ---- free lists (buddy lock held) ----

function listPush(page: u32, order: u32): void {
  let headAddress = freeHeads + (<usize>order << 2);
  let head = load<u32>(headAddress);
  let entry = entryOf(page);
  store<u32>(entry, head);
  store<u32>(entry, (STATE_FREE << STATE_SHIFT) | (order << ORDER_SHIFT), 4);
  if (head != 0) {
    let headEntry = entryOf(head);
    store<u32>(headEntry, (load<u32>(headEntry, 4) & ~PREV_MASK) | page, 4);
  }
  store<u32>(headAddress, page);
  let countAddress = freeBlocks + (<usize>order << 2);
  store<u32>(countAddress, load<u32>(countAddress) + 1);
}

function listRemove(page: u32, order: u32): void {
  let entry = entryOf(page);
  let next = load<u32>(entry);
  let prev = load<u32>(entry, 4) & PREV_MASK;
  if (prev != 0) store<u32>(entryOf(prev), next);
  else store<u32>(freeHeads + (<usize>order << 2), next);
  if (next != 0) {
    let nextEntry = entryOf(next);
    store<u32>(nextEntry, (load<u32>(nextEntry, 4) & ~PREV_MASK) | prev, 4);
  }
  let countAddress = freeBlocks + (<usize>order << 2);
  store<u32>(countAddress, load<u32>(countAddress) - 1);
}

/** Takes a free block of 2^order pages, splitting a larger one if needed; 0 if none. */
function buddyAllocLocked(order: u32): u32 {
  let found = order;
  while (found <= MAX_ORDER && load<u32>(freeHeads + (<usize>found << 2)) == 0) found++;
  if (found > MAX_ORDER) return 0;
  let page = load<u32>(freeHeads + (<usize>found << 2));
  listRemove(page, found);
  while (found > order) {
    found--;
    listPush(page + (<u32>1 << found), found); // the upper half goes back
  }
  setPage(page, STATE_ALLOCATED, order);
  buddyFreePages -= <usize>1 << order;
  return page;
}

/** Returns the block [page, page + 2^order) to the free lists, merging it
 * with its buddy as long as the buddy is a free block of the same order. */
function buddyFreeLocked(page: u32, order: u32): void {
  buddyFreePages += <usize>1 << order;
  while (order < MAX_ORDER) {
    let buddy = page ^ (<u32>1 << order);
    if (buddy >= pageLimit) break;
    if ((infoOf(buddy) >>> ORDER_SHIFT) != headTag(STATE_FREE, order)) break;
    listRemove(buddy, order);
    setPage(page | (<u32>1 << order), STATE_TAIL, 0); // the upper half's head
    page &= ~(<u32>1 << order);
    order++;
  }
  listPush(page, order);
}

/** Takes a run of free MAX_ORDER blocks covering `count` pages; 0 if there is none. */
function maxBlockRunLocked(count: usize): u32 {
  let blocks = <u32>((count + MAX_BLOCK_PAGES - 1) >> MAX_ORDER);
  let start: u32 = 0;
  let run: u32 = 0;
  let wanted = headTag(STATE_FREE, MAX_ORDER);
  if (pageLimit < MAX_BLOCK_PAGES << 1) return 0;
  // Block 0 holds page 0, which is never free.
  for (let page = MAX_BLOCK_PAGES; page <= pageLimit - MAX_BLOCK_PAGES; page += MAX_BLOCK_PAGES) {
    if ((infoOf(page) >>> ORDER_SHIFT) != wanted) {
      run = 0;
      continue;
    }
    if (run == 0) start = page;
    run++;
    if (run == blocks) {
      for (let i: u32 = 0; i < blocks; i++) {
        let head = start + (i << MAX_ORDER);
        listRemove(head, MAX_ORDER);
        setPage(head, STATE_ALLOCATED, MAX_ORDER);
      }
      buddyFreePages -= <usize>blocks << MAX_ORDER;
      return start;
    }
  }
  return 0;
}

// ---- checks on frees ----

/** Page number of `address`, which must be page aligned and managed. */
function pageOfFreed(address: usize): u32 {
  if ((address & (PAGE_SIZE - 1)) != 0) abort("physical: freeing an address that is not page aligned");
  let page = address >>> PAGE_SHIFT;
  if (page == 0 || page >= <usize>pageLimit) abort("physical: freeing an address outside managed memory");
  return <u32>page;
}

/** Aborts unless `page` heads an allocated block of exactly `order` with no owner. */
function checkAllocated(page: u32, order: u32): void {
  if ((page & ((<u32>1 << order) - 1)) != 0) abort("physical: freeing an address not aligned to its block size");
  let info = infoOf(page);
  let state = info >>> STATE_SHIFT;
  if (state == STATE_ALLOCATED) {
    if (((info >>> ORDER_SHIFT) & 15) != order) {
      abort("physical: freeing a block with another order or count than it was allocated with");
    }
    if (load<u32>(entryOf(page)) != 0) abort("physical: freeing a page that still has an owner (setPageOwner)");
    return;
  }
  if (state == STATE_FREE || state == STATE_CACHED) abort("physical: double free");
  if (state == STATE_TAIL) abort("physical: freeing a page that does not start an allocated block (double free?)");
  abort("physical: freeing a page the allocator does not manage");
}

// ---- set-up ----

/** Bytes of metadata for managing memory below `maxAddress`, a multiple of PAGE_SIZE. */
export function physicalMetadataBytes(maxAddress: u64): usize {
  let limit = maxAddress < ADDRESS_LIMIT ? maxAddress : ADDRESS_LIMIT;
  let bytes = CACHE_AREA + (<usize>(limit >> PAGE_SHIFT) << ENTRY_SHIFT);
  return (bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/** Sets up the bookkeeping in [metadata, metadata + physicalMetadataBytes(maxAddress))
 * (64-byte aligned) for pages below `maxAddress` (an exclusive end, clamped to 4 GiB).
 * No memory is free until physicalAddFree. */
export function physicalInit(metadata: usize, maxAddress: u64): void {
  if ((metadata & 63) != 0) abort("physicalInit: metadata must be 64-byte aligned");
  if (maxAddress > ADDRESS_LIMIT) maxAddress = ADDRESS_LIMIT;
  let bytes = physicalMetadataBytes(maxAddress);
  memory.fill(metadata, 0, bytes);
  cpuCaches = metadata;
  pageTable = metadata + CACHE_AREA;
  pageLimit = <u32>(maxAddress >> PAGE_SHIFT);
  metadataStart = metadata;
  metadataEnd = metadata + bytes;
  buddyFreePages = 0;
  managedPages = 0;
  store<u32>(buddyLock, 0);
  memory.fill(freeHeads, 0, (<usize>MAX_ORDER + 1) << 2);
  memory.fill(freeBlocks, 0, (<usize>MAX_ORDER + 1) << 2);
}

/** Adds free RAM [start, end), rounded inward to pages and clipped to the
 * managed limit; page 0 is never added (0 means failure). The range must not
 * overlap the metadata or memory added before. */
export function physicalAddFree(start: u64, end: u64): void {
  if (pageTable == 0) abort("physicalAddFree: called before physicalInit");
  let limit = <u64>pageLimit << PAGE_SHIFT;
  if (end > limit) end = limit;
  if (start >= end) return;
  let first = <u32>((start + PAGE_SIZE - 1) >> PAGE_SHIFT);
  let last = <u32>(end >> PAGE_SHIFT);
  if (first == 0) first = 1;
  if (first >= last) return;
  if ((<usize>first << PAGE_SHIFT) < metadataEnd && metadataStart < (<usize>last << PAGE_SHIFT)) {
    abort("physicalAddFree: range overlaps the allocator's metadata");
  }
  let flags = spinLock(buddyLock);
  for (let page = first; page < last; page++) {
    if ((infoOf(page) >>> STATE_SHIFT) != STATE_RESERVED) abort("physicalAddFree: range overlaps memory added before");
    setPage(page, STATE_TAIL, 0);
  }
  let page = first;
  while (page < last) {
    let order = chunkOrder(page, <usize>(last - page));
    buddyFreeLocked(page, order);
    page += <u32>1 << order;
  }
  managedPages += <usize>(last - first);
  spinUnlock(buddyLock, flags);
}

// ---- blocks of 2^order pages ----

function buddyAlloc(order: u32): u32 {
  let flags = spinLock(buddyLock);
  let page = buddyAllocLocked(order);
  spinUnlock(buddyLock, flags);
  return page;
}

function cachedPages(): usize {
  let total: usize = 0;
  if (cpuCaches == 0) return 0;
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) total += load<u32>(cpuCaches + <usize>cpu * CACHE_BYTES, 4);
  return total;
}

/** 2^order contiguous pages aligned to their size; 0 when out of memory. */
export function allocPages(order: u32): usize {
  if (order > MAX_ORDER) abort("allocPages: order > MAX_ORDER");
  let page = buddyAlloc(order);
  if (page == 0 && cachedPages() != 0) {
    physicalDrainCaches();
    page = buddyAlloc(order);
  }
  return <usize>page << PAGE_SHIFT;
}

export function freePages(address: usize, order: u32): void {
  if (order > MAX_ORDER) abort("freePages: order > MAX_ORDER");
  let page = pageOfFreed(address);
  let flags = spinLock(buddyLock);
  checkAllocated(page, order);
  buddyFreeLocked(page, order);
  spinUnlock(buddyLock, flags);
}

// ---- single pages through the per-CPU caches ----

function cacheOf(cpu: u32): usize {
  if (cpuCaches == 0) abort("physical: page allocator used before physicalInit");
  if (cpu >= MAX_CPUS) abort("physical: cpuIndex() >= MAX_CPUS");
  return cpuCaches + <usize>cpu * CACHE_BYTES;
}

/** Moves up to CPU_CACHE_BATCH pages from the buddy lists into `cache` (its lock held); returns the new count. */
function refillLocked(cache: usize, count: u32): u32 {
  let flags = spinLock(buddyLock);
  for (let i: u32 = 0; i < CPU_CACHE_BATCH; i++) {
    let page = buddyAllocLocked(0);
    if (page == 0) break;
    setPage(page, STATE_CACHED, 0);
    store<u32>(cache + CACHE_ENTRIES + (<usize>count << 2), page);
    count++;
  }
  spinUnlock(buddyLock, flags);
  return count;
}

/** Returns the `drain` oldest pages of `cache` (its lock held) to the buddy lists; returns the new count. */
function drainLocked(cache: usize, count: u32, drain: u32): u32 {
  let entries = cache + CACHE_ENTRIES;
  let flags = spinLock(buddyLock);
  for (let i: u32 = 0; i < drain; i++) {
    let page = load<u32>(entries + (<usize>i << 2));
    if ((infoOf(page) >>> STATE_SHIFT) != STATE_CACHED) abort("physical: per-CPU cache holds a page that is not cached (corruption)");
    buddyFreeLocked(page, 0);
  }
  spinUnlock(buddyLock, flags);
  count -= drain;
  memory.copy(entries, entries + (<usize>drain << 2), <usize>count << 2);
  return count;
}

/** One page (order 0), from this CPU's cache; 0 when out of memory. */
export function allocPage(): usize {
  let cache = cacheOf(cpuIndex());
  let flags = spinLock(cache);
  let count = load<u32>(cache, 4);
  if (count == 0) count = refillLocked(cache, 0);
  if (count == 0) {
    // The buddy lists are empty: other CPUs' caches may still hold pages.
    spinUnlock(cache, flags);
    return allocPages(0);
  }
  count--;
  let page = load<u32>(cache + CACHE_ENTRIES + (<usize>count << 2));
  store<u32>(cache, count, 4);
  setPage(page, STATE_ALLOCATED, 0);
  spinUnlock(cache, flags);
  return <usize>page << PAGE_SHIFT;
}

export function allocPageZeroed(): usize {
  let address = allocPage();
  if (address != 0) memory.fill(address, 0, PAGE_SIZE);
  return address;
}

/** Frees one page (from allocPage, allocPages(0) or a one-page allocContiguous) into this CPU's cache. */
export function freePage(address: usize): void {
  let page = pageOfFreed(address);
  let cache = cacheOf(cpuIndex());
  let flags = spinLock(cache);
  checkAllocated(page, 0);
  setPage(page, STATE_CACHED, 0);
  let count = load<u32>(cache, 4);
  store<u32>(cache + CACHE_ENTRIES + (<usize>count << 2), page);
  count++;
  if (count >= CPU_CACHE_CAPACITY) count = drainLocked(cache, count, CPU_CACHE_BATCH);
  store<u32>(cache, count, 4);
  spinUnlock(cache, flags);
}

/** Returns every page parked in a per-CPU cache to the buddy lists. */
export function physicalDrainCaches(): void {
  if (cpuCaches == 0) return;
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) {
    let cache = cpuCaches + <usize>cpu * CACHE_BYTES;
    if (load<u32>(cache, 4) == 0) continue;
    let flags = spinLock(cache);
    let count = load<u32>(cache, 4);
    store<u32>(cache, drainLocked(cache, count, count), 4);
    spinUnlock(cache, flags);
  }
}

// ---- contiguous runs of any length ----

/** Marks [page, page + count) as allocated chunks (the split freeContiguous checks). */
function markRunLocked(page: u32, count: usize): void {
  while (count != 0) {
    let order = chunkOrder(page, count);
    setPage(page, STATE_ALLOCATED, order);
    page += <u32>1 << order;
    count -= <usize>1 << order;
  }
}

/** Frees [page, page + count) chunk by chunk (chunks marked by markRunLocked). */
function freeRunLocked(page: u32, count: usize): void {
  while (count != 0) {
    let order = chunkOrder(page, count);
    buddyFreeLocked(page, order);
    page += <u32>1 << order;
    count -= <usize>1 << order;
  }
}

/** Fallback when no aligned block fits: finds `count` pages made of adjacent
 * free blocks of any size and alignment and takes them, giving back what lies
 * beyond `count`; 0 if there is no such run. O(pages) in the worst case. */
function anyRunLocked(count: usize): u32 {
  let start: u32 = 0;
  let run: usize = 0;
  let page: u32 = 1;
  while (page < pageLimit) {
    let info = infoOf(page);
    let state = info >>> STATE_SHIFT;
    let size: u32 = 1;
    if (state == STATE_FREE || state == STATE_ALLOCATED) size = <u32>1 << ((info >>> ORDER_SHIFT) & 15);
    if (state != STATE_FREE) {
      run = 0;
      page += size;
      continue;
    }
    if (run == 0) start = page;
    run += <usize>size;
    page += size;
    if (run < count) continue;
    let block = start;
    while (block < page) {
      let order = (infoOf(block) >>> ORDER_SHIFT) & 15;
      listRemove(block, order);
      setPage(block, STATE_TAIL, 0);
      block += <u32>1 << order;
    }
    buddyFreePages -= run;
    markRunLocked(start, count);
    freeRunLocked(start + <u32>count, run - count);
    return start;
  }
  return 0;
}

function contiguousAlloc(count: usize): u32 {
  let flags = spinLock(buddyLock);
  let page: u32;
  let span: usize;
  if (count <= <usize>MAX_BLOCK_PAGES) {
    let order = count == 1 ? 0 : <u32>32 - clz<u32>(<u32>count - 1);
    page = buddyAllocLocked(order);
    span = <usize>1 << order;
  } else {
    page = maxBlockRunLocked(count);
    span = (count + MAX_BLOCK_PAGES - 1) & ~(<usize>MAX_BLOCK_PAGES - 1);
  }
  if (page != 0) {
    // Pages inside the span are tails: mark the kept chunks, free the rest.
    markRunLocked(page, count);
    freeRunLocked(page + <u32>count, span - count);
  } else {
    page = anyRunLocked(count);
  }
  spinUnlock(buddyLock, flags);
  return page;
}

/** `count` contiguous pages (any count >= 1; the tail beyond `count` of the
 * underlying block goes back to the pool); 0 on failure. Aligned to the next
 * power of two >= count (to 4 MiB above 4 MiB) while such a block is free;
 * otherwise only page aligned, from a scan for adjacent free blocks. */
export function allocContiguous(count: usize): usize {
  if (count == 0 || count > <usize>pageLimit) return 0;
  let page = contiguousAlloc(count);
  if (page == 0 && cachedPages() != 0) {
    physicalDrainCaches();
    page = contiguousAlloc(count);
  }
  return <usize>page << PAGE_SHIFT;
}

export function freeContiguous(address: usize, count: usize): void {
  if (count == 0) abort("freeContiguous: count is 0");
  let first = pageOfFreed(address);
  if (count > <usize>pageLimit - <usize>first) abort("freeContiguous: run extends beyond managed memory");
  let flags = spinLock(buddyLock);
  // Check every chunk before freeing any, so a bad count frees nothing.
  let page = first;
  let remaining = count;
  while (remaining != 0) {
    let order = chunkOrder(page, remaining);
    checkAllocated(page, order);
    page += <u32>1 << order;
    remaining -= <usize>1 << order;
  }
  freeRunLocked(first, count);
  spinUnlock(buddyLock, flags);
}

// ---- owners and statistics ----

/** The owner word of an allocated page (0 if none, or if the page is not
 * allocated or not managed). The kernel heap records its slabs here. */
export function pageOwner(address: usize): u32 {
  let page = address >>> PAGE_SHIFT;
  if (page == 0 || page >= <usize>pageLimit) return 0;
  let state = infoOf(<u32>page) >>> STATE_SHIFT;
  if (state != STATE_ALLOCATED && state != STATE_TAIL) return 0;
  return load<u32>(entryOf(<u32>page));
}

/** Sets the owner word of a page the caller allocated (any page of its
 * block). The owner must set it back to 0 before freeing the block. */
export function setPageOwner(address: usize, owner: u32): void {
  let page = address >>> PAGE_SHIFT;
  if (page == 0 || page >= <usize>pageLimit) abort("setPageOwner: address outside managed memory");
  let state = infoOf(<u32>page) >>> STATE_SHIFT;
  if (state != STATE_ALLOCATED && state != STATE_TAIL) abort("setPageOwner: page is not allocated");
  store<u32>(entryOf(<u32>page), owner);
}

/** Free pages, including those parked in per-CPU caches. */
export function freePageCount(): usize {
  return buddyFreePages + cachedPages();
}

/** Pages ever added with physicalAddFree. */
export function totalPageCount(): usize {
  return managedPages;
}

/** Free blocks of exactly 2^order pages on the buddy lists. */
export function physicalFreeBlocks(order: u32): usize {
  if (order > MAX_ORDER) return 0;
  return load<u32>(freeBlocks + (<usize>order << 2));
}

/** Pages parked in `cpu`'s cache. */
export function physicalCachedPages(cpu: u32): usize {
  if (cpuCaches == 0 || cpu >= MAX_CPUS) return 0;
  return load<u32>(cpuCaches + <usize>cpu * CACHE_BYTES, 4);
}
