// The kernel heap: size-class slabs for blocks up to 2048 bytes, page runs
// from the physical allocator above that, 16-byte alignment, zeroed memory,
// and bytes in use per subsystem (tag). A block's size and tag come from the
// page it lives in: the physical allocator's owner word of that page points
// at the slab header (or at the large block's header, bit 0 set), so small
// blocks carry no header of their own. Design: docs/memory-allocators.md.
import { atomicAdd32, atomicLoad32 } from "../../arch/x86_64/atomic";
import { spinLock, spinUnlock } from "../sync/spinlock";
import {
  PAGE_SHIFT, PAGE_SIZE, allocContiguous, allocPage, allocPages, freeContiguous, freePage, freePages,
  pageOwner, setPageOwner,
} from "./physical";

export const TAG_RUNTIME: u32 = 0;
export const TAG_KERNEL: u32 = 1;
export const TAG_VM: u32 = 2;
export const TAG_SCHED: u32 = 3;
export const TAG_DRIVERS: u32 = 4;
export const TAG_NET: u32 = 5;
export const TAG_FS: u32 = 6;
export const TAG_LIBC: u32 = 7;
export const TAG_COUNT: u32 = 8;

/** Largest size served from slabs; larger blocks are page runs. */
export const HEAP_SMALL_MAX: usize = 2048;
/** Largest size heapAlloc accepts (it returns 0 above). */
export const HEAP_MAX: usize = 0x40000000;
export const HEAP_ALIGNMENT: usize = 16;

// Size classes: 16..128 in steps of 16 (classes 0-7), then four per power of
// two: 160 192 224 256, 320 ... 512, 640 ... 1024, 1280 ... 2048 (classes 8-23).
const CLASS_COUNT: u32 = 24;
// Slab size per class as a page order: the smallest of 4, 8, 16, 32 KiB whose
// unused tail (after the 64-byte header and whole objects) is at most ~6%.
const slabOrders = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 1,
  1, 1, 1, 2, 2, 2, 2, 3,
]);

// Slab header, at the start of the slab's first page:
const SLAB_MAGIC: u32 = 0x5ab5ab01;
const SLAB_CLASS: usize = 4; // u8
const SLAB_TAG: usize = 5; // u8
const SLAB_ORDER: usize = 6; // u8
const SLAB_IN_USE: usize = 8; // u16
const SLAB_CAPACITY: usize = 10; // u16
const SLAB_OBJECT_SIZE: usize = 12; // u32
const SLAB_NEXT: usize = 16; // u32: partial list of its cache
const SLAB_PREV: usize = 20; // u32
const SLAB_BITMAP: usize = 32; // 8 x u32, bit set = slot in use (or beyond capacity)
const SLAB_HEADER: usize = 64; // first object
const SLAB_MAX_OBJECTS: u32 = 256;

// Large block header, 16 bytes before the pointer handed out:
const LARGE_MAGIC: u32 = 0x1a26eb10;
const LARGE_TAG: usize = 4; // u32
const LARGE_PAGES: usize = 8; // u32
const LARGE_HEADER: usize = 16;

// One cache per (tag, class), CACHE_BYTES each: lock u32 @0, first partial
// slab u32 @4, empty slabs kept u32 @8, bytes in use u32 @12.
const CACHE_LOCK: usize = 0;
const CACHE_PARTIAL: usize = 4;
const CACHE_EMPTY: usize = 8;
const CACHE_BYTES_IN_USE: usize = 12;
const CACHE_BYTES: usize = 32;
/** Empty slabs a cache keeps (avoids page churn on alloc/free of one object). */
const EMPTY_SLABS_KEPT: u32 = 1;
const caches = memory.data(<i32>(<usize>TAG_COUNT * <usize>CLASS_COUNT * CACHE_BYTES), 64);
// Per tag: bytes of large blocks in use (atomic). Then pages held by the heap.
const largeBytes = memory.data(<i32>(TAG_COUNT << 2), 4);
const heapPages = memory.data(4, 4);

// ---- size classes ----

/** Class of a size in [0, HEAP_SMALL_MAX]. */
// @ts-ignore: decorator
@inline function classOf(size: usize): u32 {
  if (size <= 128) return size == 0 ? 0 : (<u32>size + 15 >> 4) - 1;
  let last = <u32>size - 1;
  let power = <u32>31 - clz<u32>(last); // 7..10
  return 8 + ((power - 7) << 2) + ((last >> (power - 2)) - 4);
}

// @ts-ignore: decorator
@inline function classSize(index: u32): u32 {
  if (index < 8) return (index + 1) << 4;
  let step = index - 8;
  return (5 + (step & 3)) << ((step >> 2) + 5);
}

// @ts-ignore: decorator
@inline function cacheOf(tag: u32, index: u32): usize {
  return caches + (<usize>(tag * CLASS_COUNT + index)) * CACHE_BYTES;
}

function addBytes(cache: usize, delta: i32): void {
  store<u32>(cache, load<u32>(cache, CACHE_BYTES_IN_USE) + <u32>delta, CACHE_BYTES_IN_USE);
}

// ---- slabs (cache lock held) ----

function partialPush(cache: usize, slab: usize): void {
  let head = load<u32>(cache, CACHE_PARTIAL);
  store<u32>(slab, head, SLAB_NEXT);
  store<u32>(slab, 0, SLAB_PREV);
  if (head != 0) store<u32>(<usize>head, <u32>slab, SLAB_PREV);
  store<u32>(cache, <u32>slab, CACHE_PARTIAL);
}

function partialRemove(cache: usize, slab: usize): void {
  let next = load<u32>(slab, SLAB_NEXT);
  let prev = load<u32>(slab, SLAB_PREV);
  if (prev != 0) store<u32>(<usize>prev, next, SLAB_NEXT);
  else store<u32>(cache, next, CACHE_PARTIAL);
  if (next != 0) store<u32>(<usize>next, prev, SLAB_PREV);
}

/** A new empty slab for `index` and `tag`; 0 when out of memory. */
function slabCreate(tag: u32, index: u32): usize {
  let order = <u32>load<u8>(slabOrders + <usize>index);
  let slab = order == 0 ? allocPage() : allocPages(order);
  if (slab == 0) return 0;
  let size = classSize(index);
  let capacity = <u32>(((PAGE_SIZE << order) - SLAB_HEADER) / <usize>size);
  if (capacity > SLAB_MAX_OBJECTS) capacity = SLAB_MAX_OBJECTS;
  store<u32>(slab, SLAB_MAGIC);
  store<u8>(slab, <u8>index, SLAB_CLASS);
  store<u8>(slab, <u8>tag, SLAB_TAG);
  store<u8>(slab, <u8>order, SLAB_ORDER);
  store<u16>(slab, 0, SLAB_IN_USE);
  store<u16>(slab, <u16>capacity, SLAB_CAPACITY);
  store<u32>(slab, size, SLAB_OBJECT_SIZE);
  store<u32>(slab, 0, SLAB_NEXT);
  store<u32>(slab, 0, SLAB_PREV);
  // Slots at or beyond the capacity are marked in use, so they are never handed out.
  for (let word: u32 = 0; word < 8; word++) {
    let firstSlot = word << 5;
    let bits: u32 = 0;
    if (firstSlot >= capacity) bits = 0xffffffff;
    else if (capacity - firstSlot < 32) bits = ~((<u32>1 << (capacity - firstSlot)) - 1);
    store<u32>(slab + SLAB_BITMAP + (<usize>word << 2), bits);
  }
  let pages = <usize>1 << order;
  for (let i: usize = 0; i < pages; i++) setPageOwner(slab + (i << PAGE_SHIFT), <u32>slab);
  atomicAdd32(heapPages, <u32>pages);
  return slab;
}

function slabDestroy(slab: usize): void {
  let order = <u32>load<u8>(slab, SLAB_ORDER);
  let pages = <usize>1 << order;
  store<u32>(slab, 0); // the magic: stale pointers into it no longer pass
  for (let i: usize = 0; i < pages; i++) setPageOwner(slab + (i << PAGE_SHIFT), 0);
  atomicAdd32(heapPages, <u32>0 - <u32>pages);
  if (order == 0) freePage(slab);
  else freePages(slab, order);
}

/** Takes a free slot of a slab with one (cache lock held). */
function slabTake(slab: usize): usize {
  for (let word: usize = 0; word < 8; word++) {
    let address = slab + SLAB_BITMAP + (word << 2);
    let bits = load<u32>(address);
    if (bits == 0xffffffff) continue;
    let bit = ctz<u32>(~bits);
    store<u32>(address, bits | (<u32>1 << bit));
    let slot = (word << 5) + <usize>bit;
    return slab + SLAB_HEADER + slot * <usize>load<u32>(slab, SLAB_OBJECT_SIZE);
  }
  abort("heap: partial slab without a free slot (corruption)");
  return 0;
}

function smallAlloc(size: usize, tag: u32): usize {
  let index = classOf(size);
  let cache = cacheOf(tag, index);
  let flags = spinLock(cache + CACHE_LOCK);
  let slab = <usize>load<u32>(cache, CACHE_PARTIAL);
  if (slab == 0) {
    slab = slabCreate(tag, index);
    if (slab == 0) {
      spinUnlock(cache + CACHE_LOCK, flags);
      return 0;
    }
    partialPush(cache, slab);
    store<u32>(cache, load<u32>(cache, CACHE_EMPTY) + 1, CACHE_EMPTY);
  }
  let block = slabTake(slab);
  let inUse = <u32>load<u16>(slab, SLAB_IN_USE) + 1;
  store<u16>(slab, <u16>inUse, SLAB_IN_USE);
  if (inUse == 1) store<u32>(cache, load<u32>(cache, CACHE_EMPTY) - 1, CACHE_EMPTY);
  if (inUse == <u32>load<u16>(slab, SLAB_CAPACITY)) partialRemove(cache, slab);
  let objectSize = load<u32>(slab, SLAB_OBJECT_SIZE);
  addBytes(cache, <i32>objectSize);
  spinUnlock(cache + CACHE_LOCK, flags);
  memory.fill(block, 0, <usize>objectSize);
  return block;
}

/** Slot index of `address` in `slab`; aborts unless it is the start of a slot. */
function slotOf(slab: usize, address: usize): u32 {
  if (load<u32>(slab) != SLAB_MAGIC) abort("heap: pointer into a page whose slab header is corrupt");
  let first = slab + SLAB_HEADER;
  if (address < first) abort("heap: pointer into a slab header, not from heapAlloc");
  let offset = address - first;
  let objectSize = <usize>load<u32>(slab, SLAB_OBJECT_SIZE);
  let slot = offset / objectSize;
  if (slot * objectSize != offset || slot >= <usize>load<u16>(slab, SLAB_CAPACITY)) {
    abort("heap: pointer not at the start of a heap block");
  }
  return <u32>slot;
}

function smallFree(slab: usize, address: usize): void {
  if (load<u32>(slab) != SLAB_MAGIC) abort("heapFree: pointer into a page whose slab header is corrupt");
  let cache = cacheOf(<u32>load<u8>(slab, SLAB_TAG), <u32>load<u8>(slab, SLAB_CLASS));
  let flags = spinLock(cache + CACHE_LOCK);
  let slot = slotOf(slab, address);
  let wordAddress = slab + SLAB_BITMAP + (<usize>(slot >> 5) << 2);
  let bits = load<u32>(wordAddress);
  let mask = <u32>1 << (slot & 31);
  if ((bits & mask) == 0) abort("heapFree: double free");
  store<u32>(wordAddress, bits & ~mask);
  let capacity = <u32>load<u16>(slab, SLAB_CAPACITY);
  let inUse = <u32>load<u16>(slab, SLAB_IN_USE) - 1;
  store<u16>(slab, <u16>inUse, SLAB_IN_USE);
  addBytes(cache, -<i32>load<u32>(slab, SLAB_OBJECT_SIZE));
  if (inUse + 1 == capacity) partialPush(cache, slab); // was full
  if (inUse == 0) {
    let empty = load<u32>(cache, CACHE_EMPTY);
    if (empty >= EMPTY_SLABS_KEPT) {
      partialRemove(cache, slab);
      slabDestroy(slab);
    } else {
      store<u32>(cache, empty + 1, CACHE_EMPTY);
    }
  }
  spinUnlock(cache + CACHE_LOCK, flags);
}

// ---- large blocks ----

function largeAlloc(size: usize, tag: u32): usize {
  let pages = (size + LARGE_HEADER + PAGE_SIZE - 1) >> PAGE_SHIFT;
  let base = allocContiguous(pages);
  if (base == 0) return 0;
  store<u32>(base, LARGE_MAGIC);
  store<u32>(base, tag, LARGE_TAG);
  store<u32>(base, <u32>pages, LARGE_PAGES);
  store<u32>(base, 0, 12);
  setPageOwner(base, <u32>base | 1);
  let usable = (pages << PAGE_SHIFT) - LARGE_HEADER;
  atomicAdd32(largeBytes + (<usize>tag << 2), <u32>usable);
  atomicAdd32(heapPages, <u32>pages);
  memory.fill(base + LARGE_HEADER, 0, usable);
  return base + LARGE_HEADER;
}

/** Header of the large block `address` points to; aborts unless it is the block's start. */
function largeHeader(owner: u32, address: usize): usize {
  let base = <usize>(owner & ~1);
  if (load<u32>(base) != LARGE_MAGIC) abort("heap: pointer into a page whose large-block header is corrupt");
  if (address != base + LARGE_HEADER) abort("heap: pointer inside a large heap block, not at its start");
  return base;
}

function largeFree(owner: u32, address: usize): void {
  let base = largeHeader(owner, address);
  let tag = load<u32>(base, LARGE_TAG);
  let pages = <usize>load<u32>(base, LARGE_PAGES);
  store<u32>(base, 0); // the magic
  setPageOwner(base, 0);
  let usable = (pages << PAGE_SHIFT) - LARGE_HEADER;
  atomicAdd32(largeBytes + (<usize>tag << 2), <u32>0 - <u32>usable);
  atomicAdd32(heapPages, <u32>0 - <u32>pages);
  freeContiguous(base, pages);
}

// ---- the interface ----

/** `size` bytes, 16-byte aligned and zeroed, charged to `tag`; 0 when out of memory. */
export function heapAlloc(size: usize, tag: u32): usize {
  if (tag >= TAG_COUNT) abort("heapAlloc: unknown tag");
  if (size <= HEAP_SMALL_MAX) return smallAlloc(size, tag);
  if (size > HEAP_MAX) return 0;
  return largeAlloc(size, tag);
}

/** Frees a block from heapAlloc (0 is ignored). Aborts on pointers heapAlloc
 * did not return and on double frees it can see. */
export function heapFree(address: usize): void {
  if (address == 0) return;
  if ((address & (HEAP_ALIGNMENT - 1)) != 0) abort("heapFree: pointer not 16-byte aligned, not from heapAlloc");
  let owner = pageOwner(address & ~(PAGE_SIZE - 1));
  if (owner == 0) abort("heapFree: pointer not from heapAlloc (or already freed)");
  if ((owner & 1) != 0) largeFree(owner, address);
  else smallFree(<usize>owner, address);
}

/** Bytes usable at `address` (at least the size asked for). */
export function heapUsableSize(address: usize): usize {
  if ((address & (HEAP_ALIGNMENT - 1)) != 0) abort("heapUsableSize: pointer not 16-byte aligned, not from heapAlloc");
  let owner = pageOwner(address & ~(PAGE_SIZE - 1));
  if (owner == 0) abort("heapUsableSize: pointer not from heapAlloc (or freed)");
  if ((owner & 1) != 0) {
    let base = largeHeader(owner, address);
    return (<usize>load<u32>(base, LARGE_PAGES) << PAGE_SHIFT) - LARGE_HEADER;
  }
  let slab = <usize>owner;
  let slot = slotOf(slab, address);
  let bits = load<u32>(slab + SLAB_BITMAP + (<usize>(slot >> 5) << 2));
  if ((bits & (<u32>1 << (slot & 31))) == 0) abort("heapUsableSize: block is free");
  return <usize>load<u32>(slab, SLAB_OBJECT_SIZE);
}

/** Bytes in use charged to `tag`: usable sizes of its live blocks (0 for an unknown tag). */
export function heapBytesInUse(tag: u32): usize {
  if (tag >= TAG_COUNT) return 0;
  let total = <usize>atomicLoad32(largeBytes + (<usize>tag << 2));
  for (let index: u32 = 0; index < CLASS_COUNT; index++) total += load<u32>(cacheOf(tag, index), CACHE_BYTES_IN_USE);
  return total;
}

/** Pages the heap holds from the physical allocator (slabs, partly used or kept empty, and large blocks). */
export function heapPagesHeld(): usize {
  return <usize>atomicLoad32(heapPages);
}

/** Returns every empty slab the caches keep to the physical allocator. */
export function heapTrim(): void {
  for (let tag: u32 = 0; tag < TAG_COUNT; tag++) {
    for (let index: u32 = 0; index < CLASS_COUNT; index++) {
      let cache = cacheOf(tag, index);
      if (load<u32>(cache, CACHE_EMPTY) == 0) continue;
      let flags = spinLock(cache + CACHE_LOCK);
      let slab = <usize>load<u32>(cache, CACHE_PARTIAL);
      while (slab != 0) {
        let next = <usize>load<u32>(slab, SLAB_NEXT);
        if (load<u16>(slab, SLAB_IN_USE) == 0) {
          partialRemove(cache, slab);
          slabDestroy(slab);
        }
        slab = next;
      }
      store<u32>(cache, 0, CACHE_EMPTY);
      spinUnlock(cache + CACHE_LOCK, flags);
    }
  }
}

export function heapTagName(tag: u32): string {
  switch (tag) {
    case TAG_RUNTIME: return "runtime";
    case TAG_KERNEL: return "kernel";
    case TAG_VM: return "vm";
    case TAG_SCHED: return "sched";
    case TAG_DRIVERS: return "drivers";
    case TAG_NET: return "net";
    case TAG_FS: return "fs";
    case TAG_LIBC: return "libc";
  }
  return "unknown";
}
