// The stack's memory: kernel heap blocks charged to the "net" tag, so
// heapBytesInUse(TAG_NET) is exactly what the stack holds. Allocation happens
// when objects are created (stacks, interfaces, sockets, their buffers,
// reassembly buffers), never per packet.
import { TAG_NET, heapAlloc, heapFree } from "../kernel/mm/heap";

/** `size` zeroed bytes, 16-byte aligned; 0 when out of memory. */
export function netAlloc(size: usize): usize {
  return heapAlloc(size, TAG_NET);
}

export function netFree(p: usize): void {
  heapFree(p);
}
