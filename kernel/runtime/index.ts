// Wisp's AssemblyScript runtime (asc --runtime): no garbage collector. Objects
// come from the kernel heap (kernel/mm/heap.ts, tag "runtime") and are freed
// explicitly; the GC hooks the compiler emits (__link, __pin, __visit,
// __collect) do nothing.
import { OBJECT, OBJECT_OVERHEAD, OBJECT_MAXSIZE, BLOCK_OVERHEAD } from "rt/common";
import { heapAlloc, heapFree, heapUsableSize, TAG_RUNTIME } from "../mm/heap";

// The heap tracks block sizes itself; the BLOCK header AS expects in front
// of an object is kept (BLOCK_OVERHEAD bytes) so that rt/common's layout holds.

// @ts-ignore: decorator
@unsafe @global
export function __alloc(size: usize): usize {
  let block = heapAlloc(BLOCK_OVERHEAD + size, TAG_RUNTIME);
  if (block == 0) abort("out of memory in the AS runtime");
  return block + BLOCK_OVERHEAD;
}

// @ts-ignore: decorator
@unsafe @global
export function __realloc(ptr: usize, size: usize): usize {
  let oldSize = heapUsableSize(ptr - BLOCK_OVERHEAD) - BLOCK_OVERHEAD;
  if (size <= oldSize) return ptr;
  let newPtr = __alloc(size);
  memory.copy(newPtr, ptr, oldSize);
  __free(ptr);
  return newPtr;
}

// @ts-ignore: decorator
@unsafe @global
export function __free(ptr: usize): void {
  if (ptr != 0) heapFree(ptr - BLOCK_OVERHEAD);
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
