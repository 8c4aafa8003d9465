// Test double for kernel/mm/heap.ts: the ELF loader frees the interpreter's
// buffer; the test records that it does, once.
export const TAG_LIBC: u32 = 7;

@external("test", "heapFree") declare function testHeapFree(address: usize): void;

export function heapFree(address: usize): void {
  testHeapFree(address);
}
