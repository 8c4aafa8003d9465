// Wisp's AssemblyScript runtime (asc --runtime): no garbage collector. Objects
// come from the kernel heap (kernel/mm/heap.ts, tag "runtime") and are freed
// explicitly; the GC hooks the compiler emits (__link, __pin, __visit,
// __collect) do nothing.
import { OBJECT, OBJECT_OVERHEAD, OBJECT_MAXSIZE, BLOCK_OVERHEAD } from "rt/common";
import { heapAlloc, heapFree, heapUsableSize, TAG_RUNTIME } from "../mm/heap";

// The heap tracks block sizes itself. AS expects BLOCK_OVERHEAD (4) bytes in
// front of what __alloc returns, and __new's payload (that + 16) 16-byte
// aligned; heap blocks are 16-byte aligned, so keep a 16-byte prefix.
const PREFIX: usize = 16;

// @ts-ignore: decorator
@unsafe @global
export function __alloc(size: usize): usize {
  let block = heapAlloc(PREFIX + size, TAG_RUNTIME);
  if (block == 0) abort("out of memory in the AS runtime");
  return block + PREFIX;
}

// @ts-ignore: decorator
@unsafe @global
export function __realloc(ptr: usize, size: usize): usize {
  let oldSize = heapUsableSize(ptr - PREFIX) - PREFIX;
  if (size <= oldSize) return ptr;
  let newPtr = __alloc(size);
  memory.copy(newPtr, ptr, oldSize);
  __free(ptr);
  return newPtr;
}

// @ts-ignore: decorator
@unsafe @global
export function __free(ptr: usize): void {
  if (ptr != 0) heapFree(ptr - PREFIX);
}

// @ts-ignore: decorator
@unsafe @global
export function __new(size: usize, id: u32): usize {
  if (size > OBJECT_MAXSIZE) abort("object too large");
  let ptr = __alloc(OBJECT_OVERHEAD + size);
  let object = changetype<OBJECT>(ptr - BLOCK_OVERHEAD);
  object.gcInfo = 0;
  object.gcInfo2 = 0;
  object.rtId = id;
  object.rtSize = <u32>size;
  return ptr + OBJECT_OVERHEAD;
}

// @ts-ignore: decorator
@unsafe @global
export function __renew(oldPtr: usize, size: usize): usize {
  if (size > OBJECT_MAXSIZE) abort("object too large");
  let newPtr = __realloc(oldPtr - OBJECT_OVERHEAD, OBJECT_OVERHEAD + size);
  changetype<OBJECT>(newPtr - BLOCK_OVERHEAD).rtSize = <u32>size;
  return newPtr + OBJECT_OVERHEAD;
}

// @ts-ignore: decorator
@global @unsafe
export function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {}

// @ts-ignore: decorator
@global @unsafe
export function __pin(ptr: usize): usize {
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
export function __unpin(ptr: usize): void {}

// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: u32): void {}

// @ts-ignore: decorator
@global @unsafe
export function __collect(): void {}
