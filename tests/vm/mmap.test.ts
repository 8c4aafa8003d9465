// kernel/mm/mmap.ts, vma.ts and fault.ts: the Linux memory system calls with
// their errno cases, the area set they leave (splits, merges, placement), and
// what the application sees through the simulated MMU.
import { beforeEach, describe, expect, it } from "vitest";
import { EFAULT, PAGE, Vm } from "./harness.ts";

const PROT_NONE = 0;
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const PROT_SEM = 8;
const RW = PROT_READ | PROT_WRITE;
const PROT_GROWSDOWN = 0x01000000;
const PROT_GROWSUP = 0x02000000;

const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_SHARED_VALIDATE = 0x03;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_32BIT = 0x40;
const MAP_GROWSDOWN = 0x100;
const MAP_NORESERVE = 0x4000;
const MAP_POPULATE = 0x8000;
const MAP_STACK = 0x20000;
const MAP_HUGETLB = 0x40000;
const MAP_SYNC = 0x80000;
const MAP_FIXED_NOREPLACE = 0x100000;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const MREMAP_DONTUNMAP = 4;

const MADV_NORMAL = 0;
const MADV_WILLNEED = 3;
const MADV_DONTNEED = 4;
const MADV_FREE = 8;
const MADV_REMOVE = 9;
const MADV_HUGEPAGE = 14;
const MADV_POPULATE_READ = 22;
const MADV_POPULATE_WRITE = 23;

const EPERM = -1n;
const ENOMEM = -12n;
const EEXIST = -17n;
const ENODEV = -19n;
const EINVAL = -22n;

const VMA_SHARED = 1;
const VMA_GROWSDOWN = 2;
const VMA_STACK = 4;
const VMA_GUARD = 8;
const VMA_HEAP = 16;

const TASK_SIZE = 0x7ffffffff000n;
const MMAP_BASE = 0x7f0000000000n;
const GUARD_GAP = 256n * PAGE;

let vm: Vm;
let space: number;

beforeEach(async () => {
  vm = await Vm.create();
  space = vm.newSpace();
});

const mmap = (address: bigint, length: bigint, prot: number, flags: number, fd = -1, offset = 0n) =>
  vm.exports.mmap(space, address, length, prot, flags, fd, offset);
const munmap = (address: bigint, length: bigint) => vm.exports.munmap(space, address, length);
const mprotect = (address: bigint, length: bigint, prot: number) => vm.exports.mprotect(space, address, length, prot);
const mremap = (address: bigint, oldSize: bigint, newSize: bigint, flags: number, newAddress = 0n) =>
  vm.exports.mremap(space, address, oldSize, newSize, flags, newAddress);
const madvise = (address: bigint, length: bigint, advice: number) => vm.exports.madvise(space, address, length, advice);
const brk = (address: bigint) => vm.exports.brk(space, address);
const pages = (n: number) => BigInt(n) * PAGE;
const ranges = () => vm.vmas(space).map((v) => [v.start, v.end, v.prot]);

describe("errno cases (as Linux x86-64)", () => {
  it("mmap", () => {
    const taken = mmap(0x10000000n, PAGE, RW, ANON | MAP_FIXED);
    expect(taken).toBe(0x10000000n);
    const cases: [string, () => bigint, bigint][] = [
      ["unaligned offset", () => mmap(0n, PAGE, RW, ANON, -1, 100n), EINVAL],
      ["file mapping (no VFS yet)", () => mmap(0n, PAGE, PROT_READ, MAP_PRIVATE, 3), ENODEV],
      ["zero length", () => mmap(0n, 0n, RW, ANON), EINVAL],
      ["length that wraps when rounded up", () => mmap(0n, -100n & 0xffffffffffffffffn, RW, ANON), ENOMEM],
      ["length beyond the address space", () => mmap(0n, 1n << 47n, RW, ANON), ENOMEM],
      ["MAP_FIXED, unaligned", () => mmap(0x20000010n, PAGE, RW, ANON | MAP_FIXED), EINVAL],
      ["MAP_FIXED at 0", () => mmap(0n, PAGE, RW, ANON | MAP_FIXED), EPERM],
      ["MAP_FIXED below mmap_min_addr", () => mmap(0xf000n, PAGE, RW, ANON | MAP_FIXED), EPERM],
      ["MAP_FIXED in the kernel half", () => mmap(0xffff800000000000n, PAGE, RW, ANON | MAP_FIXED), ENOMEM],
      ["MAP_FIXED past TASK_SIZE", () => mmap(TASK_SIZE - PAGE, pages(2), RW, ANON | MAP_FIXED), ENOMEM],
      ["neither shared nor private", () => mmap(0n, PAGE, RW, MAP_ANONYMOUS), EINVAL],
      ["MAP_SHARED_VALIDATE, anonymous", () => mmap(0n, PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS), EINVAL],
      ["shared and grows-down", () => mmap(0n, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN), EINVAL],
      ["MAP_FIXED_NOREPLACE over a mapping", () => mmap(0x10000000n, PAGE, RW, ANON | MAP_FIXED_NOREPLACE), EEXIST],
      ["MAP_HUGETLB (empty pool)", () => mmap(0n, 0x200000n, RW, ANON | MAP_HUGETLB), ENOMEM],
    ];
    for (const [name, call, expected] of cases) expect(call(), name).toBe(expected);
    expect(ranges()).toEqual([[0x10000000n, 0x10001000n, RW]]);
  });

  it("mmap accepts", () => {
    expect(mmap(TASK_SIZE - PAGE, PAGE, RW, ANON | MAP_FIXED)).toBe(TASK_SIZE - PAGE);
    // Unaligned hints round down; hints under mmap_min_addr move up to it.
    expect(mmap(0x30000123n, PAGE, RW, ANON)).toBe(0x30000000n);
    expect(mmap(0x1000n, PAGE, RW, ANON)).toBe(0x10000n);
    expect(mmap(0x11000n, PAGE, RW, ANON | MAP_FIXED)).toBe(0x11000n);
    // An occupied hint is ignored.
    expect(mmap(0x30000000n, PAGE, RW, ANON)).toBe(MMAP_BASE - PAGE);
    // Flags Linux ignores with MAP_PRIVATE, and MAP_NORESERVE, MAP_STACK.
    expect(mmap(0n, PAGE, RW, ANON | MAP_SYNC | MAP_NORESERVE | 0x80000000)).toBe(MMAP_BASE - pages(2));
    expect(mmap(0n, 100n, PROT_READ | PROT_EXEC, ANON | MAP_STACK)).toBe(MMAP_BASE - pages(3));
    const low = mmap(0n, PAGE, RW, ANON | MAP_32BIT);
    expect(low >= 0x40000000n && low < 0x80000000n).toBe(true);
  });

  it("munmap", () => {
    expect(mmap(0x10000000n, pages(4), RW, ANON | MAP_FIXED)).toBe(0x10000000n);
    expect(munmap(0x10000001n, PAGE)).toBe(EINVAL);
    expect(munmap(0x10000000n, 0n)).toBe(EINVAL);
    expect(munmap(0xffff800000000000n, PAGE)).toBe(EINVAL);
    expect(munmap(0x10000000n, TASK_SIZE)).toBe(EINVAL);
    expect(munmap(0x50000000n, PAGE)).toBe(0n);
    expect(munmap(0x10000000n, 1n)).toBe(0n);
    expect(ranges()).toEqual([[0x10001000n, 0x10004000n, RW]]);
  });

  it("mprotect", () => {
    expect(mmap(0x10000000n, pages(4), RW, ANON | MAP_FIXED)).toBe(0x10000000n);
    expect(mmap(0x10005000n, pages(1), RW, ANON | MAP_FIXED)).toBe(0x10005000n);
    const cases: [string, () => bigint, bigint][] = [
      ["unaligned", () => mprotect(0x10000800n, PAGE, PROT_READ), EINVAL],
      ["zero length, even unmapped", () => mprotect(0x50000000n, 0n, PROT_READ), 0n],
      ["unmapped", () => mprotect(0x50000000n, PAGE, PROT_READ), ENOMEM],
      ["range with a hole", () => mprotect(0x10000000n, pages(6), PROT_READ), ENOMEM],
      ["wrapping range", () => mprotect(0x10000000n, -PAGE & 0xffffffffffffffffn, PROT_READ), ENOMEM],
      ["unknown protection bit", () => mprotect(0x10000000n, PAGE, 0x10), EINVAL],
      ["grows down and up", () => mprotect(0x10000000n, PAGE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), EINVAL],
      ["grows up (no such areas on x86)", () => mprotect(0x10000000n, PAGE, PROT_READ | PROT_GROWSUP), EINVAL],
      ["grows down on a plain area", () => mprotect(0x10000000n, PAGE, PROT_READ | PROT_GROWSDOWN), EINVAL],
    ];
    for (const [name, call, expected] of cases) expect(call(), name).toBe(expected);
    // Nothing changed, not even before the hole.
    expect(ranges()).toEqual([[0x10000000n, 0x10004000n, RW], [0x10005000n, 0x10006000n, RW]]);
    expect(mprotect(0x10000000n, PAGE, PROT_READ | PROT_SEM)).toBe(0n);
    expect(ranges()[0]).toEqual([0x10000000n, 0x10001000n, PROT_READ]);
  });

  it("mprotect with PROT_GROWSDOWN reaches down to the start of a grows-down area", () => {
    const stack = mmap(0x20000000n, pages(8), RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
    expect(mprotect(stack + pages(6), PAGE, PROT_READ | PROT_GROWSDOWN)).toBe(0n);
    expect(ranges()).toEqual([[stack, stack + pages(7), PROT_READ], [stack + pages(7), stack + pages(8), RW]]);
  });

  it("mremap", () => {
    const a = mmap(0x10000000n, pages(4), RW, ANON | MAP_FIXED);
    mmap(0x10004000n, PAGE, PROT_READ, ANON | MAP_FIXED);
    const cases: [string, () => bigint, bigint][] = [
      ["unknown flag", () => mremap(a, PAGE, PAGE, 8), EINVAL],
      ["MREMAP_FIXED without MREMAP_MAYMOVE", () => mremap(a, PAGE, PAGE, MREMAP_FIXED, 0x20000000n), EINVAL],
      ["MREMAP_DONTUNMAP without MREMAP_MAYMOVE", () => mremap(a, PAGE, PAGE, MREMAP_DONTUNMAP), EINVAL],
      ["MREMAP_DONTUNMAP changing the size", () => mremap(a, PAGE, pages(2), MREMAP_DONTUNMAP | MREMAP_MAYMOVE), EINVAL],
      ["unaligned old address", () => mremap(a + 8n, PAGE, pages(2), MREMAP_MAYMOVE), EINVAL],
      ["new size 0", () => mremap(a, PAGE, 0n, MREMAP_MAYMOVE), EINVAL],
      ["old address unmapped", () => mremap(0x50000000n, PAGE, pages(2), MREMAP_MAYMOVE), -14n],
      ["old range beyond its area", () => mremap(a, pages(5), pages(6), MREMAP_MAYMOVE), -14n],
      ["old size 0 (duplicate a private mapping)", () => mremap(a, 0n, PAGE, MREMAP_MAYMOVE), EINVAL],
      ["MREMAP_FIXED, unaligned target", () => mremap(a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x20000010n), EINVAL],
      ["MREMAP_FIXED, overlapping target", () => mremap(a, pages(2), pages(2), MREMAP_MAYMOVE | MREMAP_FIXED, a + PAGE), EINVAL],
      ["MREMAP_FIXED, beyond TASK_SIZE", () => mremap(a, PAGE, pages(2), MREMAP_MAYMOVE | MREMAP_FIXED, TASK_SIZE - PAGE), EINVAL],
      ["growing into a neighbour, no MREMAP_MAYMOVE", () => mremap(a, pages(4), pages(5), 0), ENOMEM],
    ];
    for (const [name, call, expected] of cases) expect(call(), name).toBe(expected);
    expect(ranges()).toEqual([[a, a + pages(4), RW], [a + pages(4), a + pages(5), PROT_READ]]);
    expect(mremap(a, pages(4), pages(4), 0)).toBe(a);
    expect(mremap(a, pages(4), pages(2), 0)).toBe(a);
    expect(ranges()).toEqual([[a, a + pages(2), RW], [a + pages(4), a + pages(5), PROT_READ]]);
  });

  it("madvise", () => {
    const a = mmap(0x10000000n, pages(4), PROT_READ, ANON | MAP_FIXED);
    const s = mmap(0x20000000n, pages(2), RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    const none = mmap(0x30000000n, PAGE, PROT_NONE, ANON | MAP_FIXED);
    const cases: [string, () => bigint, bigint][] = [
      ["unknown advice", () => madvise(a, PAGE, 7), EINVAL],
      ["hardware poisoning", () => madvise(a, PAGE, 100), EINVAL],
      ["unaligned", () => madvise(a + 1n, PAGE, MADV_NORMAL), EINVAL],
      ["zero length", () => madvise(0x50000000n, 0n, MADV_DONTNEED), 0n],
      ["length that wraps when rounded up", () => madvise(a, -1n & 0xffffffffffffffffn, MADV_NORMAL), EINVAL],
      ["unmapped", () => madvise(0x50000000n, PAGE, MADV_DONTNEED), ENOMEM],
      ["partly unmapped", () => madvise(a, pages(5), MADV_WILLNEED), ENOMEM],
      ["MADV_FREE on shared memory", () => madvise(s, PAGE, MADV_FREE), EINVAL],
      ["MADV_REMOVE on private memory", () => madvise(a, PAGE, MADV_REMOVE), EINVAL],
      ["MADV_POPULATE_WRITE on read-only memory", () => madvise(a, PAGE, MADV_POPULATE_WRITE), -14n],
      ["MADV_POPULATE_READ on PROT_NONE memory", () => madvise(none, PAGE, MADV_POPULATE_READ), -14n],
      ["a hint without effect", () => madvise(a, PAGE, MADV_HUGEPAGE), 0n],
      ["MADV_POPULATE_READ", () => madvise(a, pages(4), MADV_POPULATE_READ), 0n],
    ];
    for (const [name, call, expected] of cases) expect(call(), name).toBe(expected);
    expect(vm.exports.pageTableTranslate(vm.root, a + pages(3))).not.toBe(-1n);
  });

  it("brk", () => {
    const start = 0x1000000n;
    vm.exports.brkInit(space, start);
    expect(brk(0n)).toBe(start);
    expect(brk(start - 1n)).toBe(start);
    expect(brk(TASK_SIZE + PAGE)).toBe(start);
    expect(brk(start + 10n)).toBe(start + 10n);
    expect(ranges()).toEqual([[start, start + PAGE, RW]]);
    expect(vm.vmas(space)[0].flags).toBe(VMA_HEAP);
    // The heap keeps one free page below the next mapping.
    mmap(start + pages(4), PAGE, RW, ANON | MAP_FIXED);
    expect(brk(start + pages(4))).toBe(start + 10n);
    expect(brk(start + pages(3) + 1n)).toBe(start + 10n);
    expect(brk(start + pages(3))).toBe(start + pages(3));
    expect(ranges()).toEqual([[start, start + pages(3), RW], [start + pages(4), start + pages(5), RW]]);
    expect(brk(start + PAGE)).toBe(start + PAGE);
    expect(ranges()).toEqual([[start, start + PAGE, RW], [start + pages(4), start + pages(5), RW]]);
    expect(vm.exports.spaceBrk(space)).toBe(start + PAGE);
  });
});

describe("areas", () => {
  it("merges neighbours that match and keeps shared mappings apart", () => {
    mmap(0x10000000n, PAGE, RW, ANON | MAP_FIXED);
    mmap(0x10001000n, PAGE, RW, ANON | MAP_FIXED);
    mmap(0x10002000n, PAGE, PROT_READ, ANON | MAP_FIXED);
    mmap(0x10003000n, PAGE, PROT_READ, ANON | MAP_FIXED | MAP_STACK);
    mmap(0x20000000n, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    mmap(0x20001000n, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    expect(ranges()).toEqual([
      [0x10000000n, 0x10002000n, RW],
      [0x10002000n, 0x10003000n, PROT_READ],
      [0x10003000n, 0x10004000n, PROT_READ],
      [0x20000000n, 0x20001000n, RW],
      [0x20001000n, 0x20002000n, RW],
    ]);
    const flags = vm.vmas(space).map((v) => v.flags);
    expect(flags).toEqual([0, 0, VMA_STACK, VMA_SHARED, VMA_SHARED]);
  });

  it("splits on mprotect and munmap and merges back", () => {
    const a = mmap(0x10000000n, pages(8), RW, ANON | MAP_FIXED);
    expect(mprotect(a + pages(2), pages(2), PROT_READ)).toBe(0n);
    expect(ranges()).toEqual([[a, a + pages(2), RW], [a + pages(2), a + pages(4), PROT_READ], [a + pages(4), a + pages(8), RW]]);
    expect(mprotect(a + pages(2), pages(2), RW)).toBe(0n);
    expect(ranges()).toEqual([[a, a + pages(8), RW]]);
    expect(munmap(a + pages(3), PAGE)).toBe(0n);
    expect(ranges()).toEqual([[a, a + pages(3), RW], [a + pages(4), a + pages(8), RW]]);
    expect(mmap(a + pages(3), PAGE, RW, ANON | MAP_FIXED)).toBe(a + pages(3));
    expect(ranges()).toEqual([[a, a + pages(8), RW]]);
  });

  it("shared areas split by mprotect merge back (same object, contiguous offsets)", () => {
    const s = mmap(0n, pages(4), RW, MAP_SHARED | MAP_ANONYMOUS);
    expect(mprotect(s + PAGE, PAGE, PROT_READ)).toBe(0n);
    expect(vm.vmas(space).map((v) => v.offset)).toEqual([0n, PAGE, pages(2)]);
    expect(mprotect(s + PAGE, PAGE, RW)).toBe(0n);
    expect(ranges()).toEqual([[s, s + pages(4), RW]]);
  });

  it("places top-down below the mmap base and fills the highest hole first", () => {
    const a = mmap(0n, pages(2), RW, ANON);
    const b = mmap(0n, pages(2), PROT_READ, ANON);
    const c = mmap(0n, pages(2), RW, ANON);
    expect([a, b, c]).toEqual([MMAP_BASE - pages(2), MMAP_BASE - pages(4), MMAP_BASE - pages(6)]);
    expect(munmap(b, pages(2))).toBe(0n);
    expect(mmap(0n, PAGE, PROT_EXEC, ANON)).toBe(b + PAGE);
    expect(mmap(0n, pages(2), PROT_EXEC, ANON)).toBe(c - pages(2));
    expect(vm.exports.vmaFindGap(space, pages(2), 0x10000n, 0x20000n, 0)).toBe(0x10000n);
    expect(vm.exports.vmaFindGap(space, pages(17), 0x10000n, 0x20000n, 1)).toBe(0n);
  });

  it("falls back to bottom-up placement when nothing fits below the base", () => {
    vm.exports.setMmapBase(space, 0x100000n);
    mmap(0x10000n, 0xf0000n, RW, ANON | MAP_FIXED);
    expect(mmap(0n, PAGE, RW, ANON)).toBe(0x2aaaaaaab000n);
  });

  it("keeps the stack guard gap below grows-down areas free", () => {
    const stack = MMAP_BASE - pages(16);
    expect(mmap(stack, pages(16), RW, ANON | MAP_FIXED | MAP_GROWSDOWN)).toBe(stack);
    expect(mmap(0n, PAGE, RW, ANON)).toBe(stack - GUARD_GAP - PAGE);
    expect(mmap(stack - PAGE, PAGE, RW, ANON)).not.toBe(stack - PAGE);
  });

  it("grows the array beyond one page and gives it back", () => {
    const used = vm.usedFrames();
    for (let i = 0n; i < 300n; i++) {
      expect(mmap(0x10000000n + i * PAGE, PAGE, i % 2n === 0n ? RW : PROT_READ, ANON | MAP_FIXED)).toBe(0x10000000n + i * PAGE);
    }
    expect(vm.vmas(space).length).toBe(300);
    expect(munmap(0x10000000n, pages(300))).toBe(0n);
    expect(vm.vmas(space).length).toBe(0);
    vm.exports.addressSpaceDestroy(space);
    expect(vm.usedFrames()).toBe(used - 1);
  });

  it("fails with ENOMEM when the area array cannot grow", () => {
    // 40-byte records: one page holds 102, two 204. Each call first makes
    // room for the most areas it may need (mmap 3, munmap and mprotect 2).
    const area = (i: number) => 0x10000000n + BigInt(i) * pages(2);
    for (let i = 0; i < 202; i++) expect(mmap(area(i), pages(2), i % 2 === 0 ? RW : PROT_READ, ANON | MAP_FIXED)).toBe(area(i));
    vm.exports.testFramesFailAfter(0);
    expect(mmap(0x20000000n, PAGE, RW, ANON | MAP_FIXED)).toBe(ENOMEM);
    expect(mprotect(area(10), PAGE, PROT_EXEC)).toBe(0n);
    expect(munmap(area(20), PAGE)).toBe(ENOMEM);
    expect(mremap(area(30), pages(2), PAGE, 0)).toBe(ENOMEM);
    vm.exports.testFramesFailAfter(-1);
    expect(vm.vmas(space).length).toBe(203);
    expect(munmap(area(20), PAGE)).toBe(0n);
  });
});

describe("what the application sees", () => {
  it("demand paging: zeros on first touch, values kept, faults only inside areas", () => {
    const a = mmap(0n, pages(4), RW, ANON);
    expect(vm.exports.pageTableTranslate(vm.root, a)).toBe(-1n);
    expect(vm.read(a + 8n)).toBe(0n);
    expect(vm.write(a + pages(3), 99)).toBe(0n);
    expect(vm.read(a + pages(3))).toBe(99n);
    expect(vm.read(a + pages(4))).toBe(EFAULT);
    expect(vm.read(a - PAGE)).toBe(EFAULT);
    const ro = mmap(0n, PAGE, PROT_READ, ANON);
    expect(vm.read(ro)).toBe(0n);
    expect(vm.write(ro, 1)).toBe(EFAULT);
  });

  it("MAP_FIXED over data gives fresh zero pages", () => {
    const a = mmap(0n, pages(2), RW, ANON);
    vm.write(a, 1);
    vm.write(a + PAGE, 2);
    expect(mmap(a, PAGE, RW, ANON | MAP_FIXED)).toBe(a);
    expect(vm.read(a)).toBe(0n);
    expect(vm.read(a + PAGE)).toBe(2n);
  });

  it("mremap moves pages, MREMAP_FIXED replaces the target, MREMAP_DONTUNMAP leaves zeros", () => {
    const a = mmap(0x10000000n, pages(3), RW, ANON | MAP_FIXED);
    for (let i = 0n; i < 3n; i++) vm.write(a + i * PAGE, 10 + Number(i));
    const target = mmap(0x20000000n, pages(8), PROT_READ, ANON | MAP_FIXED);
    expect(mremap(a, pages(3), pages(4), MREMAP_MAYMOVE | MREMAP_FIXED, target + PAGE)).toBe(target + PAGE);
    expect(ranges()).toEqual([[target, target + PAGE, PROT_READ], [target + PAGE, target + pages(5), RW], [target + pages(5), target + pages(8), PROT_READ]]);
    expect([vm.read(target + PAGE), vm.read(target + pages(3)), vm.read(target + pages(4))]).toEqual([10n, 12n, 0n]);
    expect(vm.read(a)).toBe(EFAULT);
    const b = target + PAGE;
    const moved = mremap(b, pages(2), pages(2), MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0x30000000n);
    expect(moved).toBe(0x30000000n);
    expect([vm.read(moved), vm.read(moved + PAGE), vm.read(b), vm.read(b + PAGE), vm.read(b + pages(2))]).toEqual([10n, 11n, 0n, 0n, 12n]);
    // Shrinking a moved copy in the middle of a remap keeps the first part.
    expect(mremap(b + pages(2), pages(2), PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x40000000n)).toBe(0x40000000n);
    expect(vm.read(0x40000000n)).toBe(12n);
    expect(vm.read(b + pages(3))).toBe(EFAULT);
  });

  it("madvise drops private pages but keeps shared ones; PROT_NONE keeps contents", () => {
    const p = mmap(0n, PAGE, RW, ANON);
    const s = mmap(0n, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    vm.write(p, 5);
    vm.write(s, 6);
    expect(madvise(p, PAGE, MADV_DONTNEED)).toBe(0n);
    expect(madvise(s, PAGE, MADV_DONTNEED)).toBe(0n);
    expect([vm.read(p), vm.read(s)]).toEqual([0n, 6n]);
    expect(madvise(s, PAGE, MADV_REMOVE)).toBe(0n);
    expect(vm.read(s)).toBe(0n);
    vm.write(p, 7);
    expect(madvise(p, PAGE, MADV_FREE)).toBe(0n);
    expect(vm.read(p)).toBe(0n);
    vm.write(p, 8);
    expect(mprotect(p, PAGE, PROT_NONE)).toBe(0n);
    expect(vm.read(p)).toBe(EFAULT);
    expect(mprotect(p, PAGE, PROT_READ)).toBe(0n);
    expect(vm.read(p)).toBe(8n);
  });

  it("grows a grows-down stack on faults below it, up to the guard gap", () => {
    const stack = mmap(0x40000000n, pages(4), RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
    expect(vm.write(stack - pages(3), 1)).toBe(0n);
    expect(ranges()).toEqual([[stack - pages(3), stack + pages(4), RW]]);
    mmap(stack - pages(3) - GUARD_GAP - PAGE, PAGE, RW, ANON | MAP_FIXED);
    expect(vm.write(stack - pages(4), 1)).toBe(EFAULT);
    expect(vm.exports.handlePageFault(stack - pages(4), 2n, 0n)).toBe(-5);
    expect(vm.exports.handlePageFault(stack - pages(3) - GUARD_GAP, 2n, 0n)).toBe(-5);
    expect(vm.exports.handlePageFault(stack - pages(3) - GUARD_GAP - pages(2), 2n, 0n)).toBe(-1);
  });

  it("classifies faults", () => {
    const ro = mmap(0n, PAGE, PROT_READ, ANON);
    const none = mmap(0n, PAGE, PROT_NONE, ANON);
    const guardStack = mmap(0n, pages(2), PROT_NONE, ANON | MAP_STACK);
    const stack = vm.exports.mmapStack(space, pages(4), PAGE);
    expect(vm.exports.handlePageFault(0x50000000n, 0n, 0n)).toBe(-1);
    expect(vm.exports.handlePageFault(ro, 2n, 0n)).toBe(-2);
    expect(vm.exports.handlePageFault(none, 0n, 0n)).toBe(-3);
    expect(vm.exports.handlePageFault(guardStack, 0n, 0n)).toBe(-5);
    expect(vm.exports.handlePageFault(stack - 1n, 2n, 0n)).toBe(-5);
    expect(vm.vmas(space).find((v) => v.end === stack)?.flags).toBe(VMA_GUARD);
    expect(vm.exports.handlePageFault(0xffff800000001000n, 0n, 0n)).toBe(-7);
    expect(vm.exports.handlePageFault(ro, 8n, 0n)).toBe(-8);
    // Execution needs PROT_EXEC only when NX is on.
    expect(vm.exports.handlePageFault(ro, 16n, 0n)).toBe(0);
    vm.exports.pageTableSetNoExecute(1);
    vm.mmu.noExecute = true;
    const data = mmap(0n, PAGE, RW, ANON);
    expect(vm.exports.handlePageFault(data, 16n, 0n)).toBe(-4);
    const code = mmap(0n, PAGE, PROT_READ | PROT_EXEC, ANON);
    expect(vm.exports.handlePageFault(code, 16n, 0n)).toBe(0);
    expect(vm.exports.pageTableEntry(vm.root, code) >> 63n).toBe(0n);
    expect(vm.write(data, 1)).toBe(0n);
    expect(BigInt.asUintN(64, vm.exports.pageTableEntry(vm.root, data)) >> 63n).toBe(1n);
  });

  it("populates with MAP_POPULATE and fails softly without memory", () => {
    const a = mmap(0n, pages(3), RW, ANON | MAP_POPULATE);
    for (let i = 0n; i < 3n; i++) expect(vm.exports.pageTableTranslate(vm.root, a + i * PAGE)).not.toBe(-1n);
    const b = mmap(0n, PAGE, RW, ANON);
    vm.exports.testFramesFailAfter(0);
    expect(vm.exports.handlePageFault(b, 2n, 0n)).toBe(-6);
    expect(madvise(b, PAGE, MADV_POPULATE_WRITE)).toBe(ENOMEM);
    const c = mmap(0n, PAGE, RW, ANON | MAP_POPULATE);
    expect(c > 0n).toBe(true);
    vm.exports.testFramesFailAfter(-1);
    expect(vm.read(b)).toBe(0n);
  });

  it("gives every frame back when the address space goes away", () => {
    const used = vm.usedFrames();
    const a = mmap(0n, pages(64), RW, ANON | MAP_POPULATE);
    const s = mmap(0x100000000n, pages(8), RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE);
    mprotect(a, pages(3), PROT_NONE);
    vm.exports.brkInit(space, 0x1000000n);
    brk(0x1000000n + pages(5));
    vm.write(0x1000000n, 3);
    expect(s).toBe(0x100000000n);
    expect(vm.usedFrames()).toBeGreaterThan(used + 72);
    vm.exports.addressSpaceDestroy(space);
    vm.exports.setActiveAddressSpace(0);
    expect(vm.usedFrames()).toBe(used - 1);
    expect(vm.tableCount()).toBe(0);
  });
});
