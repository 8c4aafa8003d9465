// arch/x86_64/pagetable.ts on page tables in wasm memory: map, translate,
// protect, unmap and move with 4 KiB and 2 MiB pages, splitting, freeing of
// emptied tables, TLB flushes, and allocation failures.
import { beforeEach, describe, expect, it } from "vitest";
import { Vm } from "./harness.ts";

const PRESENT = 1n;
const WRITABLE = 2n;
const LARGE = 0x80n;
const HELD = 0x200n;
const PIECE = 0x400n;
const NX = 1n << 63n;
const NOT_MAPPED = -1n; // u64 all-ones, as a signed i64 result
const MB2 = 0x200000n;
const RELEASE = 1n;
const EINVAL = -22;
const ENOMEM = -12;
const EEXIST = -17;

let vm: Vm;
let root: number;
let gather: number;
let framesBefore: number;

beforeEach(async () => {
  vm = await Vm.create();
  root = vm.root;
  gather = vm.exports.testGather();
  framesBefore = vm.usedFrames();
});

/** Runs `op` between gatherBegin and gatherFlush. */
function batch<T>(op: () => T): T {
  vm.exports.gatherBegin(gather, root);
  const result = op();
  vm.exports.gatherFlush(gather);
  return result;
}

function map(virt: bigint, phys: bigint, large: boolean, flags: bigint): number {
  return batch(() => vm.exports.pageTableMap(root, virt, phys, large ? 1 : 0, flags, gather));
}

function unmap(start: bigint, end: bigint, options = 0n): bigint {
  return batch(() => vm.exports.pageTableUnmapRange(root, start, end, options, gather));
}

function protect(start: bigint, end: bigint, flags: bigint): bigint {
  return batch(() => vm.exports.pageTableProtectRange(root, start, end, flags, gather));
}

function frame(): bigint {
  return BigInt(vm.exports.allocPageZeroed());
}

/** A 2 MiB frame outside the allocator's window (see harness.ts). */
function largeFrame(): bigint {
  return 0x3000000n;
}

describe("map and translate", () => {
  it("maps a 4 KiB page and translates every byte of it", () => {
    const phys = frame();
    expect(map(0x400000n, phys, false, PRESENT | WRITABLE)).toBe(0);
    expect(vm.exports.pageTableTranslate(root, 0x400000n)).toBe(phys);
    expect(vm.exports.pageTableTranslate(root, 0x400abcn)).toBe(phys + 0xabcn);
    expect(vm.exports.pageTableTranslate(root, 0x401000n)).toBe(NOT_MAPPED);
    expect(vm.exports.pageTableEntry(root, 0x400000n)).toBe(phys | PRESENT | WRITABLE);
    expect(vm.exports.pageTableLeafSize(root, 0x400000n)).toBe(4096n);
    expect(vm.tableCount()).toBe(3);
    expect(vm.read(0x400010n)).toBe(0n);
    expect(vm.write(0x400010n, 42)).toBe(0n);
    expect(vm.view().getUint32(Number(phys) + 0x10, true)).toBe(42);
  });

  it("refuses misaligned, non-canonical and occupied addresses", () => {
    const phys = frame();
    expect(map(0x400800n, phys, false, PRESENT)).toBe(EINVAL);
    expect(map(0x400000n, phys + 8n, false, PRESENT)).toBe(EINVAL);
    expect(map(0x0000900000000000n, phys, false, PRESENT)).toBe(EINVAL);
    expect(map(0x400000n, phys, false, PRESENT)).toBe(0);
    expect(map(0x400000n, phys, false, PRESENT)).toBe(EEXIST);
    expect(map(0x600000n, largeFrame(), true, PRESENT)).toBe(0);
    expect(map(0x601000n, phys, false, PRESENT)).toBe(EEXIST);
    expect(map(0x600000n, largeFrame(), true, PRESENT)).toBe(EEXIST);
    // A 2 MiB mapping over a page table is refused too.
    expect(map(0x400000n, largeFrame(), true, PRESENT)).toBe(EEXIST);
    expect(map(0x401000n, largeFrame() + MB2, true, PRESENT)).toBe(EINVAL);
  });

  it("leaves out the no-execute bit until NX is enabled", () => {
    expect(map(0x400000n, frame(), false, PRESENT | NX)).toBe(0);
    expect(vm.exports.pageTableEntry(root, 0x400000n) & NX).toBe(0n);
    expect(vm.read(0x400000n)).toBe(0n);
    vm.exports.pageTableSetNoExecute(1);
    vm.mmu.noExecute = true;
    expect(map(0x401000n, frame(), false, PRESENT | NX)).toBe(0);
    expect(vm.exports.pageTableEntry(root, 0x401000n) & NX).toBe(NX);
    expect(vm.read(0x401000n)).toBe(0n);
  });

  it("maps and translates 2 MiB pages", () => {
    const phys = largeFrame();
    expect(map(0x40000000n, phys, true, PRESENT | WRITABLE)).toBe(0);
    expect(vm.exports.pageTableLeafSize(root, 0x40123000n)).toBe(MB2);
    expect(vm.exports.pageTableTranslate(root, 0x401fffffn)).toBe(phys + 0x1fffffn);
    expect(vm.exports.pageTableEntry(root, 0x40000000n)).toBe(phys | PRESENT | WRITABLE | LARGE);
    expect(vm.write(0x40100000n, 7)).toBe(0n);
    expect(vm.view().getUint32(Number(phys) + 0x100000, true)).toBe(7);
  });

  it("maps in the kernel half but never frees kernel-half tables", () => {
    const phys = frame();
    const kernel = 0xffff800040000000n;
    expect(map(kernel, phys, false, PRESENT)).toBe(0);
    expect(vm.exports.pageTableTranslate(root, kernel + 4n)).toBe(phys + 4n);
    const tables = vm.tableCount();
    expect(unmap(kernel, kernel + 4096n)).toBe(1n);
    expect(vm.exports.pageTableTranslate(root, kernel)).toBe(NOT_MAPPED);
    expect(vm.tableCount()).toBe(tables);
    // Ranges may not cross between the halves.
    expect(unmap(0x7ffffffff000n, 0xffff800000001000n)).toBe(BigInt(EINVAL));
  });
});

describe("unmap", () => {
  it("frees frames with UNMAP_RELEASE and emptied tables always", () => {
    for (const virt of [0x400000n, 0x401000n, 0x7f0000000000n, 0x10000000000n]) {
      expect(map(virt, frame(), false, PRESENT | WRITABLE)).toBe(0);
    }
    expect(vm.tableCount()).toBe(3 + 3 + 3);
    expect(unmap(0x400000n, 0x401000n, RELEASE)).toBe(1n);
    expect(vm.exports.pageTableTranslate(root, 0x401000n)).not.toBe(NOT_MAPPED);
    expect(unmap(0x1000n, 0x7ffffffff000n, RELEASE)).toBe(3n);
    expect(vm.tableCount()).toBe(0);
    expect(vm.usedFrames()).toBe(framesBefore);
  });

  it("splits a 2 MiB page cut by the range and keeps the rest", () => {
    const phys = largeFrame();
    expect(map(0x40000000n, phys, true, PRESENT | WRITABLE)).toBe(0);
    expect(unmap(0x40010000n, 0x40020000n)).toBe(16n);
    expect(vm.exports.pageTableLeafSize(root, 0x40000000n)).toBe(4096n);
    expect(vm.exports.pageTableTranslate(root, 0x40010000n)).toBe(NOT_MAPPED);
    expect(vm.exports.pageTableTranslate(root, 0x4000f000n)).toBe(phys + 0xf000n);
    expect(vm.exports.pageTableTranslate(root, 0x40020000n)).toBe(phys + 0x20000n);
    expect(vm.exports.pageTableEntry(root, 0x40020000n)).toBe((phys + 0x20000n) | PRESENT | WRITABLE | PIECE);
    // Pieces of a split page are not freed one by one (the double would abort).
    expect(unmap(0x40000000n, 0x40200000n, RELEASE)).toBe(512n - 16n);
    expect(vm.tableCount()).toBe(0);
    expect(vm.usedFrames()).toBe(framesBefore);
  });

  it("unmaps a whole 2 MiB page without splitting it", () => {
    expect(map(0x40200000n, largeFrame(), true, PRESENT)).toBe(0);
    const before = vm.usedFrames();
    expect(unmap(0x40000000n, 0x40400000n)).toBe(512n);
    expect(vm.usedFrames()).toBe(before - 2);
  });

  it("flushes the TLB: invlpg for a few pages, a CR3 reload for many", () => {
    for (let i = 0n; i < 40n; i++) expect(map(0x400000n + i * 4096n, frame(), false, PRESENT | WRITABLE)).toBe(0);
    for (let i = 0n; i < 40n; i++) expect(vm.read(0x400000n + i * 4096n)).toBe(0n);
    expect(vm.mmu.tlb.size).toBe(40);
    vm.mmu.invalidated = [];
    unmap(0x401000n, 0x403000n, RELEASE);
    expect(vm.mmu.invalidated).toEqual([0x401000n, 0x402000n]);
    expect(vm.mmu.tlb.has(0x401n)).toBe(false);
    const reloads = vm.mmu.cr3Reloads;
    unmap(0x400000n, 0x500000n, RELEASE);
    expect(vm.mmu.cr3Reloads).toBe(reloads + 1);
    expect(vm.mmu.tlb.size).toBe(0);
    expect(vm.usedFrames()).toBe(framesBefore);
  });

  it("does not flush when the table is not the live one", () => {
    vm.mmu.cr3 = vm.exports.allocPageZeroed();
    expect(map(0x400000n, frame(), false, PRESENT)).toBe(0);
    vm.mmu.invalidated = [];
    unmap(0x400000n, 0x401000n, RELEASE);
    expect(vm.mmu.invalidated).toEqual([]);
  });
});

describe("protect", () => {
  it("changes flags, keeps frames, and holds PROT_NONE pages", () => {
    const phys = frame();
    expect(map(0x400000n, phys, false, PRESENT | WRITABLE)).toBe(0);
    expect(vm.write(0x400000n, 5)).toBe(0n);
    expect(protect(0x400000n, 0x401000n, PRESENT)).toBe(1n);
    expect(vm.exports.pageTableEntry(root, 0x400000n)).toBe(phys | PRESENT);
    // The TLB entry was dropped: the write faults (the handler finds no area).
    expect(vm.write(0x400000n, 6)).toBe(-14n);
    expect(protect(0x400000n, 0x401000n, 0n)).toBe(1n);
    expect(vm.exports.pageTableTranslate(root, 0x400000n)).toBe(NOT_MAPPED);
    expect(vm.exports.pageTableEntry(root, 0x400000n) & (HELD | PRESENT)).toBe(HELD);
    expect(vm.read(0x400000n)).toBe(-14n);
    expect(protect(0x400000n, 0x401000n, PRESENT | WRITABLE)).toBe(1n);
    expect(vm.read(0x400000n)).toBe(5n);
    // Held pages are unmapped and released like present ones.
    protect(0x400000n, 0x401000n, 0n);
    expect(unmap(0x400000n, 0x401000n, RELEASE)).toBe(1n);
    expect(vm.usedFrames()).toBe(framesBefore);
  });

  it("splits a 2 MiB page when 4 KiB of it change", () => {
    const phys = largeFrame();
    expect(map(0x40000000n, phys, true, PRESENT | WRITABLE)).toBe(0);
    expect(vm.write(0x40005000n, 1)).toBe(0n);
    expect(protect(0x40005000n, 0x40006000n, PRESENT)).toBe(1n);
    expect(vm.exports.pageTableLeafSize(root, 0x40005000n)).toBe(4096n);
    for (let i = 0n; i < 512n; i++) {
      expect(vm.exports.pageTableTranslate(root, 0x40000000n + i * 4096n)).toBe(phys + i * 4096n);
    }
    expect(vm.write(0x40005000n, 2)).toBe(-14n);
    expect(vm.write(0x40006000n, 2)).toBe(0n);
    // The whole 2 MiB range was flushed (its size changed).
    expect(vm.mmu.tlb.size).toBe(1);
    expect(vm.exports.pageTableSplit(root, 0x40000000n, gather)).toBe(0);
  });

  it("protects a whole 2 MiB page in place", () => {
    expect(map(0x40000000n, largeFrame(), true, PRESENT | WRITABLE)).toBe(0);
    expect(protect(0x40000000n, 0x40200000n, PRESENT)).toBe(512n);
    expect(vm.exports.pageTableLeafSize(root, 0x40000000n)).toBe(MB2);
    expect(vm.exports.pageTableEntry(root, 0x40000000n) & WRITABLE).toBe(0n);
  });
});

describe("move", () => {
  it("moves 4 KiB and 2 MiB pages and frees the source tables", () => {
    const small = [frame(), frame()];
    expect(map(0x400000n, small[0], false, PRESENT | WRITABLE)).toBe(0);
    expect(map(0x402000n, small[1], false, PRESENT)).toBe(0);
    expect(map(0x600000n, largeFrame(), true, PRESENT | WRITABLE)).toBe(0);
    expect(vm.read(0x400000n)).toBe(0n);
    const moved = batch(() => vm.exports.pageTableMoveRange(root, 0x400000n, 0x7f0000000000n, 0x400000n, gather));
    expect(moved).toBe(0);
    expect(vm.exports.pageTableTranslate(root, 0x7f0000000000n)).toBe(small[0]);
    expect(vm.exports.pageTableTranslate(root, 0x7f0000002000n)).toBe(small[1]);
    expect(vm.exports.pageTableEntry(root, 0x7f0000002000n) & WRITABLE).toBe(0n);
    expect(vm.exports.pageTableLeafSize(root, 0x7f0000200000n)).toBe(MB2);
    expect(vm.exports.pageTableNextMapped(root, 0x1000n, 0x7f0000000000n)).toBe(0x7f0000000000n);
    expect(vm.mmu.tlb.has(0x400n)).toBe(false);
    expect(vm.tableCount()).toBe(3);
  });

  it("splits a 2 MiB page that cannot move whole", () => {
    const phys = largeFrame();
    expect(map(0x600000n, phys, true, PRESENT | WRITABLE)).toBe(0);
    const moved = batch(() => vm.exports.pageTableMoveRange(root, 0x601000n, 0x10000000n, 0x2000n, gather));
    expect(moved).toBe(0);
    expect(vm.exports.pageTableTranslate(root, 0x10000000n)).toBe(phys + 0x1000n);
    expect(vm.exports.pageTableTranslate(root, 0x10001000n)).toBe(phys + 0x2000n);
    expect(vm.exports.pageTableTranslate(root, 0x601000n)).toBe(NOT_MAPPED);
    expect(vm.exports.pageTableTranslate(root, 0x603000n)).toBe(phys + 0x3000n);
  });

  it("refuses overlapping ranges and occupied destinations", () => {
    expect(map(0x400000n, frame(), false, PRESENT)).toBe(0);
    expect(map(0x500000n, frame(), false, PRESENT)).toBe(0);
    expect(batch(() => vm.exports.pageTableMoveRange(root, 0x400000n, 0x401000n, 0x2000n, gather))).toBe(EINVAL);
    expect(batch(() => vm.exports.pageTableMoveRange(root, 0x400000n, 0x500000n, 0x1000n, gather))).toBe(EEXIST);
    expect(vm.exports.pageTableTranslate(root, 0x400000n)).not.toBe(NOT_MAPPED);
    expect(vm.exports.pageTableTranslate(root, 0x500000n)).not.toBe(NOT_MAPPED);
  });
});

describe("allocation failures", () => {
  it("map: -ENOMEM and no table left behind", () => {
    const phys = frame();
    const used = vm.usedFrames();
    for (let budget = 0; budget < 3; budget++) {
      vm.exports.testFramesFailAfter(budget);
      expect(map(0x7f0000000000n, phys, false, PRESENT)).toBe(ENOMEM);
      vm.exports.testFramesFailAfter(-1);
      expect(vm.tableCount()).toBe(0);
      expect(vm.usedFrames()).toBe(used);
    }
    expect(map(0x7f0000000000n, phys, false, PRESENT)).toBe(0);
  });

  it("move: -ENOMEM moves nothing and leaks nothing", () => {
    const phys = frame();
    expect(map(0x400000n, phys, false, PRESENT)).toBe(0);
    const used = vm.usedFrames();
    vm.exports.testFramesFailAfter(1);
    expect(batch(() => vm.exports.pageTableMoveRange(root, 0x400000n, 0x7f0000000000n, 0x1000n, gather))).toBe(ENOMEM);
    vm.exports.testFramesFailAfter(-1);
    expect(vm.exports.pageTableTranslate(root, 0x400000n)).toBe(phys);
    expect(vm.usedFrames()).toBe(used);
  });

  it("split: -ENOMEM leaves the 2 MiB page alone", () => {
    expect(map(0x40000000n, largeFrame(), true, PRESENT | WRITABLE)).toBe(0);
    vm.exports.testFramesFailAfter(0);
    expect(protect(0x40001000n, 0x40002000n, PRESENT)).toBe(BigInt(ENOMEM));
    vm.exports.testFramesFailAfter(-1);
    expect(vm.exports.pageTableLeafSize(root, 0x40001000n)).toBe(MB2);
  });
});
