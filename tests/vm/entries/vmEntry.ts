// Test entry: the virtual-memory code compiled for Node. tests/vm/harness.ts
// substitutes tests/vm/entries/physicalDouble.ts for kernel/mm/physical.ts
// (unless it asks for the real allocator) and mocks the "arch" imports.
import { AddressSpace, VMA_BYTES } from "../../../kernel/mm/vma";
import { PAGE_GATHER_BYTES } from "../../../arch/x86_64/pagetable";

export {
  pageTableMap, pageTableUnmapRange, pageTableProtectRange, pageTableTranslate, pageTableEntry,
  pageTableLeafSize, pageTableSplit, pageTableMoveRange, pageTableNextMapped, pageTableSetNoExecute,
  gatherBegin, gatherFlush,
} from "../../../arch/x86_64/pagetable";
export {
  allocPageZeroed, freePages, freePageCount, testFramesInit, testFramesFailAfter, testFramesStates,
} from "../../../kernel/mm/physical";
export {
  addressSpaceCreate, addressSpaceDestroy, brk, brkInit, madvise, mmap, mmapStack, mprotect, mremap, munmap,
} from "../../../kernel/mm/mmap";
export { activeAddressSpace, setActiveAddressSpace, vmaFindGap } from "../../../kernel/mm/vma";
export { handlePageFault, reportSegfault } from "../../../kernel/mm/fault";
export { vmInit } from "../../../kernel/mm/vm";
export { vmSelfTest, vmGuardPageTouch } from "../../../kernel/mm/selftest";

const gatherArea = memory.data(<i32>PAGE_GATHER_BYTES, 16);

/** A PageGather for direct page-table tests. */
export function testGather(): usize {
  return gatherArea;
}

export function vmaRecordBytes(): usize {
  return VMA_BYTES;
}

export function spaceVmas(space: AddressSpace): usize {
  return space.vmas;
}

export function spaceVmaCount(space: AddressSpace): u32 {
  return space.count;
}

export function spaceRoot(space: AddressSpace): usize {
  return space.root;
}

export function spaceBrk(space: AddressSpace): u64 {
  return space.brk;
}

export function setMmapBase(space: AddressSpace, base: u64): void {
  space.mmapBase = base;
}
