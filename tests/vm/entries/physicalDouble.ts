// Test double for kernel/mm/physical.ts (the VM tests compile it in that
// file's place): the same functions over a window of the wasm memory, strict
// about misuse (double frees, wrong orders, pieces of blocks abort) and
// filling non-zeroed allocations with garbage so that code relying on zeros
// it did not ask for fails.
export const PAGE_SIZE: usize = 4096;

const MAX_PAGES: usize = 65536; // 256 MiB of wasm memory at most
const FREE: u8 = 1;
const HEAD: u8 = 2;
const TAIL: u8 = 3;

// Per page: 0 unmanaged, FREE, HEAD (first page of an allocation), TAIL.
const states = memory.data(<i32>MAX_PAGES);
// Per HEAD page: the allocation's order.
const orders = memory.data(<i32>MAX_PAGES);
let firstPage: usize = 0;
let endPage: usize = 0;
let cursor: usize = 0;
let freeCount: usize = 0;
let failAfter: i32 = -1;

/** Manages [start, end) (page aligned). */
export function testFramesInit(start: usize, end: usize): void {
  memory.fill(states, 0, MAX_PAGES);
  firstPage = start >> 12;
  endPage = end >> 12;
  cursor = firstPage;
  freeCount = endPage - firstPage;
  memory.fill(states + firstPage, FREE, freeCount);
  failAfter = -1;
}

/** After `count` more successful allocations, every allocation fails (-1: never). */
export function testFramesFailAfter(count: i32): void {
  failAfter = count;
}

export function testFramesStates(): usize {
  return states;
}

function allowed(): bool {
  if (failAfter == 0) return false;
  if (failAfter > 0) failAfter--;
  return true;
}

function take(page: usize, order: u32): usize {
  let count = <usize>1 << order;
  store<u8>(states + page, HEAD);
  store<u8>(orders + page, <u8>order);
  for (let i: usize = 1; i < count; i++) store<u8>(states + page + i, TAIL);
  freeCount -= count;
  let address = page << 12;
  memory.fill(address, 0xa5, count << 12);
  return address;
}

export function allocPages(order: u32): usize {
  if (!allowed()) return 0;
  let count = <usize>1 << order;
  let page = (firstPage + count - 1) & ~(count - 1);
  while (page + count <= endPage) {
    let free = true;
    for (let i: usize = 0; i < count; i++) {
      if (load<u8>(states + page + i) != FREE) { free = false; break; }
    }
    if (free) return take(page, order);
    page += count;
  }
  return 0;
}

export function allocPage(): usize {
  if (!allowed()) return 0;
  for (let n: usize = firstPage; n < endPage; n++) {
    if (cursor >= endPage) cursor = firstPage;
    let page = cursor++;
    if (load<u8>(states + page) == FREE) return take(page, 0);
  }
  return 0;
}

export function allocPageZeroed(): usize {
  let address = allocPage();
  if (address != 0) memory.fill(address, 0, PAGE_SIZE);
  return address;
}

export function freePages(address: usize, order: u32): void {
  let page = address >> 12;
  if ((address & 0xfff) != 0 || page < firstPage || page >= endPage) abort("double: free of an unmanaged address");
  if (load<u8>(states + page) != HEAD) abort("double: free of a page that is not an allocation's first");
  if (load<u8>(orders + page) != <u8>order) abort("double: free with another order than allocated");
  let count = <usize>1 << order;
  memory.fill(states + page, FREE, count);
  memory.fill(address, 0xdd, count << 12);
  freeCount += count;
}

export function freePage(address: usize): void {
  freePages(address, 0);
}

export function freePageCount(): usize {
  return freeCount;
}
