// Demand paging. Application memory is mapped lazily: mmap records an area,
// and the first touch of each page faults here, gets a zeroed frame and
// returns to retry the access. Faults the area's protection forbids, faults
// outside every area and faults on guard pages return a negative code; the
// trap handler then ends the program with reportSegfault's line (SIGSEGV
// semantics), or tries its fixups for kernel accesses that expect faults.
import {
  pageTableLeafSlot, pageTableMap, pageTableNoExecute, pageTableProtectRange, gatherBegin, gatherFlush,
  PTE_NO_EXECUTE, PTE_PRESENT, PTE_WRITABLE, USER_END,
} from "../../arch/x86_64/pagetable";
import { invalidatePage } from "../../arch/x86_64/cpu";
import { allocPageZeroed, freePage } from "./physical";
import {
  activeAddressSpace, AddressSpace, ADDRESS_SPACE_GATHER, MMAP_MIN_ADDR, PAGE, PROT_EXEC, PROT_NONE,
  PROT_WRITE, spaceLock, spaceUnlock, STACK_GUARD_GAP, VMA_GROWSDOWN, VMA_GUARD, VMA_STACK, vmaAt, vmaFind,
  vmaLowerBound,
} from "./vma";
import { Log } from "../log";

export const FAULT_HANDLED: i32 = 0;
/** No area contains the address (SIGSEGV, SEGV_MAPERR). */
export const FAULT_NO_MAPPING: i32 = -1;
/** A write to an area without PROT_WRITE (SIGSEGV, SEGV_ACCERR). */
export const FAULT_WRITE_READ_ONLY: i32 = -2;
/** Any access to a PROT_NONE area (SEGV_ACCERR). */
export const FAULT_NO_ACCESS: i32 = -3;
/** An instruction fetch from an area without PROT_EXEC (only with NX on). */
export const FAULT_NO_EXECUTE: i32 = -4;
/** A guard page below a stack, or the gap a grows-down stack may not cross. */
export const FAULT_GUARD_PAGE: i32 = -5;
/** No frame for the page (Linux would invoke the OOM killer). */
export const FAULT_OUT_OF_MEMORY: i32 = -6;
/** The address is in the kernel half: not an application fault. */
export const FAULT_KERNEL_ADDRESS: i32 = -7;
/** The CPU found a reserved bit set in a page-table entry: a kernel bug. */
export const FAULT_RESERVED_BIT: i32 = -8;

// Page-fault error code bits (Intel SDM 4.7).
const PF_WRITE: u64 = 2;
const PF_RESERVED: u64 = 8;
const PF_FETCH: u64 = 16;

export const ACCESS_READ: u32 = 1;
export const ACCESS_WRITE: u32 = 2;
export const ACCESS_EXECUTE: u32 = 4;

/** Largest size a grows-down area reaches by faults (RLIMIT_STACK's default). */
export const STACK_LIMIT: u64 = 8 << 20;

/** Page-table flags for an area's protection (no PTE_PRESENT: held, no access). */
export function pteFlagsFor(prot: u32): u64 {
  if (prot == PROT_NONE) return 0;
  let flags = PTE_PRESENT;
  if ((prot & PROT_WRITE) != 0) flags |= PTE_WRITABLE;
  if ((prot & PROT_EXEC) == 0) flags |= PTE_NO_EXECUTE;
  return flags;
}

/** The fault is the application's (end it with a report), not the kernel's. */
export function faultIsApplication(code: i32): bool {
  return code <= FAULT_NO_MAPPING && code >= FAULT_OUT_OF_MEMORY;
}

export function faultReason(code: i32): string {
  switch (code) {
    case FAULT_NO_MAPPING: return "address not mapped";
    case FAULT_WRITE_READ_ONLY: return "write to read-only memory";
    case FAULT_NO_ACCESS: return "access to inaccessible memory";
    case FAULT_NO_EXECUTE: return "execution of non-executable memory";
    case FAULT_GUARD_PAGE: return "stack guard page";
    case FAULT_OUT_OF_MEMORY: return "out of memory";
    case FAULT_KERNEL_ADDRESS: return "kernel address";
    case FAULT_RESERVED_BIT: return "reserved bit in page table";
  }
  return "unknown";
}

/** One line for the console: `wisp: segmentation fault at <address> (<reason>) rip <rip>`. */
export function reportSegfault(address: u64, code: i32, rip: u64): void {
  Log.str("wisp: segmentation fault at ");
  Log.hex(address);
  Log.str(" (");
  Log.str(faultReason(code));
  Log.str(") rip ");
  Log.hex(rip);
  Log.newline();
}

/** Called for vector 14 with CR2, the error code and the faulting RIP.
 * FAULT_HANDLED when the access can be retried, else a negative FAULT_* code. */
export function handlePageFault(address: u64, errorCode: u64, rip: u64): i32 {
  if (address >= USER_END) return FAULT_KERNEL_ADDRESS;
  if ((errorCode & PF_RESERVED) != 0) return FAULT_RESERVED_BIT;
  let spaceAddress = activeAddressSpace();
  if (spaceAddress == 0) return FAULT_NO_MAPPING;
  let access = ACCESS_READ;
  if ((errorCode & PF_WRITE) != 0) access = ACCESS_WRITE;
  if ((errorCode & PF_FETCH) != 0) access = ACCESS_EXECUTE;
  let space = changetype<AddressSpace>(spaceAddress);
  let flags = spaceLock(space);
  let code = resolveFaultLocked(space, address & ~(PAGE - 1), access);
  spaceUnlock(space, flags);
  return code;
}

/** Extends grows-down area `index` down to `page`, as Linux's expand_stack:
 * up to STACK_LIMIT, keeping STACK_GUARD_GAP above an accessible area below. */
function growStackLocked(space: AddressSpace, index: i32, page: u64): i32 {
  let vma = vmaAt(space, index);
  let tooFar = vma.end - page > STACK_LIMIT || page < MMAP_MIN_ADDR;
  if (!tooFar && index > 0) {
    let below = vmaAt(space, index - 1);
    if (below.prot != PROT_NONE && (below.flags & VMA_GROWSDOWN) == 0 && page - below.end < STACK_GUARD_GAP) tooFar = true;
  }
  if (tooFar) return vma.start - page <= STACK_GUARD_GAP ? FAULT_GUARD_PAGE : FAULT_NO_MAPPING;
  vma.start = page;
  return FAULT_HANDLED;
}

/** Resolves a fault on `page` for `access` in `space` (lock held). Also the
 * way MAP_POPULATE and MADV_POPULATE_* fault pages in ahead of time. */
export function resolveFaultLocked(space: AddressSpace, page: u64, access: u32): i32 {
  let index = vmaFind(space, page);
  if (index < 0) {
    let above = vmaLowerBound(space, page);
    if (above >= <i32>space.count || (vmaAt(space, above).flags & VMA_GROWSDOWN) == 0) return FAULT_NO_MAPPING;
    let grown = growStackLocked(space, above, page);
    if (grown != FAULT_HANDLED) return grown;
    index = above;
  }
  let vma = vmaAt(space, index);
  if ((vma.flags & VMA_GUARD) != 0) return FAULT_GUARD_PAGE;
  if (vma.prot == PROT_NONE) return (vma.flags & VMA_STACK) != 0 ? FAULT_GUARD_PAGE : FAULT_NO_ACCESS;
  if ((access & ACCESS_WRITE) != 0 && (vma.prot & PROT_WRITE) == 0) return FAULT_WRITE_READ_ONLY;
  if ((access & ACCESS_EXECUTE) != 0 && (vma.prot & PROT_EXEC) == 0 && pageTableNoExecute()) return FAULT_NO_EXECUTE;
  // x86 pages are readable whenever present: any protection but none allows reads.
  let root = space.root;
  let gather = changetype<usize>(space) + ADDRESS_SPACE_GATHER;
  let wanted = pteFlagsFor(vma.prot);
  gatherBegin(gather, root);
  if (pageTableLeafSlot(root, page) != 0) {
    // Already mapped: a stale translation (rights were raised since this CPU
    // cached it) or a held page whose area became accessible again.
    let error = pageTableProtectRange(root, page, page + PAGE, wanted, gather);
    gatherFlush(gather);
    invalidatePage(page);
    return error < 0 ? FAULT_OUT_OF_MEMORY : FAULT_HANDLED;
  }
  let frame = allocPageZeroed();
  if (frame == 0) return FAULT_OUT_OF_MEMORY;
  let error = pageTableMap(root, page, <u64>frame, false, wanted, gather);
  gatherFlush(gather);
  if (error < 0) {
    freePage(frame);
    return FAULT_OUT_OF_MEMORY;
  }
  return FAULT_HANDLED;
}
