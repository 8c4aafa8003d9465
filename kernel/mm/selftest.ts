// Virtual-memory self-tests on the live page tables: the system calls, demand
// paging through real page faults (application memory is touched with the
// fault-tolerant accesses of arch/x86_64/access.ts), and page-table
// operations with 2 MiB pages. Each check prints one line
// `vm-selftest: <check>: ok|FAIL`, then `vm-selftest: <n> passed, <m> failed`.
// The tests use their own address space over the live table and give back
// every page they took.
import { accessRead32, accessWrite32 } from "../../arch/x86_64/access";
import {
  currentRoot, gatherBegin, gatherFlush, NOT_MAPPED, PAGE_2M, pageTableEntry, pageTableLeafSize, pageTableMap,
  pageTableProtectRange, pageTableTranslate, pageTableUnmapRange, PTE_PRESENT, PTE_WRITABLE,
} from "../../arch/x86_64/pagetable";
import { Log } from "../log";
import { allocPages, freePageCount, freePages } from "./physical";
import {
  activeAddressSpace, AddressSpace, ADDRESS_SPACE_GATHER, DEFAULT_MMAP_BASE, PAGE, PROT_NONE, PROT_READ,
  PROT_WRITE, setActiveAddressSpace, vmaFind,
} from "./vma";
import {
  addressSpaceCreate, addressSpaceDestroy, brk, brkInit, madvise, MADV_DONTNEED, MAP_ANONYMOUS, MAP_FIXED,
  MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, mmap, mmapStack, mprotect, mremap,
  MREMAP_MAYMOVE, munmap,
} from "./mmap";
import { FAULT_GUARD_PAGE, handlePageFault } from "./fault";
import { vmInit } from "./vm";

/** A read of 8 bytes at any address that does not expect to fault: a fault
 * goes through the page-fault handler like an application's access. */
@external("arch", "probeRead64") declare function probeRead64(address: u64): u64;

const EFAULT: i64 = -14;
const RW: u32 = PROT_READ | PROT_WRITE;
const ANON: u32 = MAP_PRIVATE | MAP_ANONYMOUS;

let passed: u32 = 0;
let failed: u32 = 0;

function check(name: string, ok: bool): bool {
  Log.str("vm-selftest: ");
  Log.str(name);
  Log.str(ok ? ": ok" : ": FAIL");
  Log.newline();
  if (ok) passed++;
  else failed++;
  return ok;
}

@inline function pageAt(base: u64, index: u64): u64 {
  return base + index * PAGE;
}

/** A value that differs per page and per round. */
@inline function pattern(index: u64, round: u32): u32 {
  return <u32>(index * 0x01010101) ^ (round << 28) ^ 0x5a5a;
}

function allUnmapped(root: usize, base: u64, pages: u64): bool {
  for (let i: u64 = 0; i < pages; i++) {
    if (pageTableTranslate(root, pageAt(base, i)) != NOT_MAPPED) return false;
  }
  return true;
}

function allMapped(root: usize, base: u64, pages: u64): bool {
  for (let i: u64 = 0; i < pages; i++) {
    if (pageTableTranslate(root, pageAt(base, i)) == NOT_MAPPED) return false;
  }
  return true;
}

/** Every page of the range reads `round`'s pattern (or 0 when round is 0). */
function readsPattern(base: u64, pages: u64, round: u32): bool {
  for (let i: u64 = 0; i < pages; i++) {
    let expected: i64 = round == 0 ? 0 : <i64>pattern(i, round);
    if (accessRead32(pageAt(base, i) + 0x40) != expected) return false;
  }
  return true;
}

function writePattern(base: u64, pages: u64, round: u32): bool {
  for (let i: u64 = 0; i < pages; i++) {
    if (accessWrite32(pageAt(base, i) + 0x40, pattern(i, round)) != 0) return false;
  }
  return true;
}

function demandPaging(space: AddressSpace): void {
  let root = space.root;
  let base = mmap(space, 0, 16 * PAGE, RW, ANON, -1, 0);
  check("mmap places top-down below the mmap base", base == <i64>(DEFAULT_MMAP_BASE - 16 * PAGE));
  let a = <u64>base;
  check("untouched pages are not mapped", allUnmapped(root, a, 16));
  check("first touch reads zeros", readsPattern(a, 16, 0));
  check("touched pages are mapped", allMapped(root, a, 16));
  check("written values stay", writePattern(a, 16, 1) && readsPattern(a, 16, 1));

  check("munmap of a middle range", munmap(space, pageAt(a, 4), 4 * PAGE) == 0);
  check("unmapped pages are gone from the page table", allUnmapped(root, pageAt(a, 4), 4));
  check("unmapped pages fault (EFAULT)", accessRead32(pageAt(a, 5)) == EFAULT);
  check("munmap splits the area", vmaFind(space, pageAt(a, 3)) >= 0 && vmaFind(space, pageAt(a, 8)) >= 0 &&
    vmaFind(space, pageAt(a, 4)) < 0 && space.count == 2);
  check("pages around the hole keep their values",
    accessRead32(pageAt(a, 3) + 0x40) == <i64>pattern(3, 1) && accessRead32(pageAt(a, 8) + 0x40) == <i64>pattern(8, 1));

  // mprotect read-only, then back.
  check("mprotect read-only", mprotect(space, pageAt(a, 8), 8 * PAGE, PROT_READ) == 0);
  let entry = pageTableEntry(root, pageAt(a, 9));
  check("read-only PTE is present and not writable", (entry & PTE_PRESENT) != 0 && (entry & PTE_WRITABLE) == 0);
  check("write to read-only memory is refused (EFAULT)", accessWrite32(pageAt(a, 9) + 0x40, 1) == EFAULT);
  check("read-only memory still reads", accessRead32(pageAt(a, 9) + 0x40) == <i64>pattern(9, 1));
  check("mprotect back to read-write merges the areas", mprotect(space, pageAt(a, 8), 8 * PAGE, RW) == 0 &&
    space.count == 2 && (pageTableEntry(root, pageAt(a, 9)) & PTE_WRITABLE) != 0);

  // PROT_NONE keeps contents.
  check("mprotect PROT_NONE", mprotect(space, a, 4 * PAGE, PROT_NONE) == 0 && allUnmapped(root, a, 4));
  check("PROT_NONE memory faults (EFAULT)", accessRead32(a + 0x40) == EFAULT);
  check("PROT_NONE keeps contents", mprotect(space, a, 4 * PAGE, RW) == 0 && readsPattern(a, 4, 1));

  // MADV_DONTNEED: zeros on the next touch.
  check("madvise(MADV_DONTNEED)", madvise(space, pageAt(a, 8), 4 * PAGE, MADV_DONTNEED) == 0);
  check("MADV_DONTNEED drops the pages", allUnmapped(root, pageAt(a, 8), 4));
  check("MADV_DONTNEED pages read zeros", readsPattern(pageAt(a, 8), 4, 0) &&
    accessRead32(pageAt(a, 12) + 0x40) == <i64>pattern(12, 1));

  check("munmap of the rest", munmap(space, a, 16 * PAGE) == 0 && space.count == 0 && allUnmapped(root, a, 16));
}

function remap(space: AddressSpace): void {
  let root = space.root;
  let b = <u64>mmap(space, 0, 8 * PAGE, RW, ANON, -1, 0);
  munmap(space, pageAt(b, 2), 6 * PAGE);
  writePattern(b, 2, 2);
  check("mremap grows in place", mremap(space, b, 2 * PAGE, 4 * PAGE, 0, 0) == <i64>b && space.count == 1);
  check("grown area keeps its values and reads zeros beyond", readsPattern(b, 2, 2) && readsPattern(pageAt(b, 2), 2, 0));
  // Something right above blocks further growth in place.
  let blocker = mmap(space, pageAt(b, 4), PAGE, PROT_READ, ANON | MAP_FIXED, -1, 0);
  check("mremap that cannot grow in place fails without MREMAP_MAYMOVE (ENOMEM)",
    blocker == <i64>pageAt(b, 4) && mremap(space, b, 4 * PAGE, 16 * PAGE, 0, 0) == -12);
  let moved = mremap(space, b, 4 * PAGE, 16 * PAGE, MREMAP_MAYMOVE, 0);
  check("mremap with MREMAP_MAYMOVE moves", moved > 0 && <u64>moved != b);
  let m = <u64>moved;
  check("moved area keeps its values", readsPattern(m, 2, 2) && readsPattern(pageAt(m, 2), 14, 0));
  check("old range is unmapped after the move", allUnmapped(root, b, 4) && vmaFind(space, b) < 0);
  check("mremap shrinks", mremap(space, m, 16 * PAGE, 2 * PAGE, 0, 0) == <i64>m && vmaFind(space, pageAt(m, 2)) < 0 &&
    readsPattern(m, 2, 2));
  munmap(space, m, 2 * PAGE);
  munmap(space, <u64>blocker, PAGE);
  check("mremap leaves nothing behind", space.count == 0);
}

function fixedAndPopulate(space: AddressSpace): void {
  let root = space.root;
  let a = <u64>mmap(space, 0, 4 * PAGE, RW, ANON | MAP_POPULATE, -1, 0);
  check("MAP_POPULATE maps every page at once", allMapped(root, a, 4) && readsPattern(a, 4, 0));
  writePattern(a, 4, 3);
  check("MAP_FIXED_NOREPLACE over a mapping fails (EEXIST)",
    mmap(space, pageAt(a, 1), PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0) == -17);
  check("MAP_FIXED replaces part of a mapping", mmap(space, pageAt(a, 1), PAGE, RW, ANON | MAP_FIXED, -1, 0) == <i64>pageAt(a, 1) &&
    accessRead32(pageAt(a, 1) + 0x40) == 0 && accessRead32(pageAt(a, 2) + 0x40) == <i64>pattern(2, 3));
  let shared = <u64>mmap(space, 0, 2 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  accessWrite32(shared, 77);
  check("MADV_DONTNEED keeps shared anonymous contents",
    madvise(space, shared, 2 * PAGE, MADV_DONTNEED) == 0 && accessRead32(shared) == 77);
  munmap(space, shared, 2 * PAGE);
  munmap(space, a, 4 * PAGE);
}

function errors(space: AddressSpace): void {
  check("munmap of an unaligned address fails (EINVAL)", munmap(space, 0x10001000 + 1, PAGE) == -22);
  check("munmap of length 0 fails (EINVAL)", munmap(space, 0x10000000, 0) == -22);
  check("mmap of length 0 fails (EINVAL)", mmap(space, 0, 0, RW, ANON, -1, 0) == -22);
  check("mmap MAP_FIXED in the kernel half fails (ENOMEM)",
    mmap(space, 0xffff800000000000, PAGE, RW, ANON | MAP_FIXED, -1, 0) == -12);
  check("mmap of a file fails (ENODEV) until the VFS", mmap(space, 0, PAGE, PROT_READ, MAP_PRIVATE, 3, 0) == -19);
  check("mprotect of unmapped memory fails (ENOMEM)", mprotect(space, 0x10000000, PAGE, PROT_READ) == -12);
  check("mremap of unmapped memory fails (EFAULT)", mremap(space, 0x10000000, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0) == -14);
}

function heap(space: AddressSpace): void {
  let root = space.root;
  let start: u64 = 0x20000000;
  brkInit(space, start);
  check("brk(0) returns the break", brk(space, 0) == <i64>start);
  check("brk grows the heap", brk(space, start + 3 * PAGE + 100) == <i64>(start + 3 * PAGE + 100));
  check("heap pages read zeros and keep values", readsPattern(start, 4, 0) && writePattern(start, 4, 4) && readsPattern(start, 4, 4));
  check("brk shrinks the heap", brk(space, start + PAGE) == <i64>(start + PAGE) && allUnmapped(root, pageAt(start, 1), 3) &&
    accessRead32(pageAt(start, 2)) == EFAULT);
  check("brk below the start is refused", brk(space, start - PAGE) == <i64>(start + PAGE));
  brk(space, start);
}

function stackGuard(space: AddressSpace): void {
  let stack = mmapStack(space, 4 * PAGE, PAGE);
  check("thread stack with a guard page", stack > 0);
  let base = <u64>stack;
  check("stack pages are usable", accessWrite32(pageAt(base, 3), 9) == 0 && accessRead32(pageAt(base, 3)) == 9);
  check("guard page fault is classified", handlePageFault(base - 8, 2, 0) == FAULT_GUARD_PAGE);
  check("guard page access fails cleanly (EFAULT)", accessRead32(base - 8) == EFAULT);
  munmap(space, base - PAGE, 5 * PAGE);
}

function largePages(space: AddressSpace): void {
  let root = space.root;
  let gather = changetype<usize>(space) + ADDRESS_SPACE_GATHER;
  let frame = allocPages(9);
  if (!check("2 MiB frame", frame != 0)) return;
  let virt: u64 = 0x40000000;
  store<u32>(frame + 0x3000, 0xfeedf00d);
  gatherBegin(gather, root);
  let mapped = pageTableMap(root, virt, <u64>frame, true, PTE_PRESENT | PTE_WRITABLE, gather);
  gatherFlush(gather);
  check("map a 2 MiB page", mapped == 0 && pageTableLeafSize(root, virt + 0x3000) == PAGE_2M);
  check("2 MiB page translates", pageTableTranslate(root, virt + 0x3004) == <u64>frame + 0x3004);
  check("2 MiB page reads through the MMU", accessRead32(virt + 0x3000) == 0xfeedf00d);
  gatherBegin(gather, root);
  let changed = pageTableProtectRange(root, virt + 0x3000, virt + 0x4000, PTE_PRESENT, gather);
  gatherFlush(gather);
  check("protect of 4 KiB splits the 2 MiB page", changed == 1 && pageTableLeafSize(root, virt) == PAGE &&
    pageTableTranslate(root, virt + 0x1ff000) == <u64>frame + 0x1ff000);
  check("split page: the 4 KiB piece is read-only", accessWrite32(virt + 0x3000, 1) == EFAULT &&
    accessWrite32(virt + 0x2000, 5) == 0 && load<u32>(frame + 0x2000) == 5);
  gatherBegin(gather, root);
  let unmapped = pageTableUnmapRange(root, virt, virt + PAGE_2M, 0, gather);
  gatherFlush(gather);
  check("unmap the split page", unmapped == 512 && allUnmapped(root, virt, 512) && accessRead32(virt) == EFAULT);
  freePages(frame, 9);
}

/** Runs every check; true when all pass. */
export function vmSelfTest(): bool {
  passed = 0;
  failed = 0;
  vmInit();
  let before = freePageCount();
  let previous = activeAddressSpace();
  let created = addressSpaceCreate(currentRoot());
  if (created == null) {
    check("address space", false);
  } else {
    let space = changetype<AddressSpace>(created);
    setActiveAddressSpace(changetype<usize>(space));
    demandPaging(space);
    remap(space);
    fixedAndPopulate(space);
    errors(space);
    heap(space);
    stackGuard(space);
    largePages(space);
    setActiveAddressSpace(previous);
    addressSpaceDestroy(space);
  }
  check("free page count is back to its value before the tests", freePageCount() == before);
  Log.str("vm-selftest: ");
  Log.dec(passed);
  Log.str(" passed, ");
  Log.dec(failed);
  Log.str(" failed");
  Log.newline();
  return failed == 0;
}

/** Touches the guard page below a new thread stack in the application's
 * address space with an access that expects no fault. The page-fault path
 * must print `wisp: segmentation fault at ... (stack guard page) ...` and end
 * the program; reaching the line after the touch is a failure. */
export function vmGuardPageTouch(): void {
  vmInit();
  let space = changetype<AddressSpace>(activeAddressSpace());
  let stack = mmapStack(space, 4 * PAGE, PAGE);
  if (stack < 0) {
    check("guard page touch: thread stack", false);
    return;
  }
  let guard = <u64>stack - 16;
  Log.str("vm-selftest: touching the stack guard page at ");
  Log.hex(guard);
  Log.newline();
  let value = probeRead64(guard);
  Log.str("vm-selftest: read ");
  Log.hex(value);
  Log.newline();
  check("guard page touch faults", false);
}
