// Virtual memory set-up: gives the page-table code its frame allocator and
// creates the application's address space over the live page table (the one
// table the kernel and the application share).
import { currentRoot, PAGE_GATHER_BYTES, pageTableUseAllocator } from "../../arch/x86_64/pagetable";
import { allocPageZeroed, freePage, freePages } from "./physical";
import { AddressSpace, ADDRESS_SPACE_GATHER, activeAddressSpace, setActiveAddressSpace, Vma, VMA_BYTES } from "./vma";
import { addressSpaceCreate } from "./mmap";

function tableFrame(): usize {
  return allocPageZeroed();
}

function releaseFrames(address: usize, order: u32): void {
  if (order == 0) freePage(address);
  else freePages(address, order);
}

/** Records fit where the code puts them (compile-time sizes, checked once). */
export function vmLayoutOk(): bool {
  return offsetof<Vma>() <= VMA_BYTES && offsetof<AddressSpace>() <= ADDRESS_SPACE_GATHER &&
    ADDRESS_SPACE_GATHER + PAGE_GATHER_BYTES <= 4096;
}

/** Call once the physical allocator works. False when out of memory. */
export function vmInit(): bool {
  if (!vmLayoutOk()) abort("vm: record layout");
  pageTableUseAllocator(tableFrame, releaseFrames);
  if (activeAddressSpace() != 0) return true;
  let space = addressSpaceCreate(currentRoot());
  if (space == null) return false;
  setActiveAddressSpace(changetype<usize>(space));
  return true;
}

/** The application's address space (after vmInit). */
export function applicationSpace(): AddressSpace {
  return changetype<AddressSpace>(activeAddressSpace());
}
