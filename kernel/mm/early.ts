// The early allocator: hands out memory from one usable RAM range above the
// kernel image, bump style. Frees only the most recent allocation. Serves the
// AS runtime until the page allocator takes over (core kernel issue).

let next: usize = 0;
let limit: usize = 0;
let bytesInUse: usize = 0;

/** Gives the allocator the physical range [start, end). */
export function earlyAllocInit(start: usize, end: usize): void {
  next = (start + 15) & ~15;
  limit = end;
}

export function earlyAlloc(size: usize): usize {
  let aligned = (size + 15) & ~15;
  if (next == 0) abort("allocation before the early allocator was set up");
  if (aligned > limit - next) abort("early allocator out of memory");
  let block = next;
  next += aligned;
  bytesInUse += aligned;
  memory.fill(block, 0, aligned);
  return block;
}

export function earlyFree(block: usize, size: usize): void {
  let aligned = (size + 15) & ~15;
  if (block + aligned == next) next = block;
  bytesInUse -= aligned;
}

export function earlyBytesInUse(): usize {
  return bytesInUse;
}
