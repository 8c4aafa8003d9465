// Page table walks over the tables the boot code built (CR3). The memory
// manager (core kernel issue) takes page tables over; for now the kernel
// only needs to unmap the null page.
import { invalidatePage, readCr3 } from "./cpu";
import { DIRECT_MAP_BASE } from "./layout";

const PRESENT: u64 = 1;
const LARGE: u64 = 0x80;
const ADDRESS_MASK: u64 = 0x000ffffffffff000;

/** Physical address of the 4 KiB page table entry mapping `virt`, or 0 when
 * that address is not mapped by a 4 KiB page. */
export function pageTableEntry(virt: u64): usize {
  let table = readCr3() & ADDRESS_MASK;
  for (let level = 3; level >= 1; level--) {
    let index = (virt >> (12 + 9 * <u64>level)) & 511;
    let entry = load<u64>(<usize>(table + index * 8));
    if ((entry & PRESENT) == 0 || (entry & LARGE) != 0) return 0;
    table = entry & ADDRESS_MASK;
  }
  return <usize>(table + ((virt >> 12) & 511) * 8);
}

/** Unmaps physical page 0 in the direct map, so that an AS null pointer
 * dereference faults. Call once boot data in that page has been copied. */
export function unmapNullPage(): bool {
  let pte = pageTableEntry(DIRECT_MAP_BASE);
  if (pte == 0) return false;
  store<u64>(pte, 0);
  invalidatePage(DIRECT_MAP_BASE);
  return true;
}
