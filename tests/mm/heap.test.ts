// The kernel heap (kernel/mm/heap.ts) on the physical allocator, compiled to
// wasm and run in Node.
import { beforeAll, describe, expect, it } from "vitest";
import { abortOf, type Arch, instantiate, MEMORY_BYTES, type MmExports, mmModule, PAGE, prng, readString } from "./harness.ts";

const MiB = 1 << 20;
const META = 1 * MiB;
const TAGS = ["runtime", "kernel", "vm", "sched", "drivers", "net", "fs", "libc"];
const TAG_KERNEL = 1;
const CLASSES = [16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280,
  1536, 1792, 2048];
const HEAP_MAX = 0x40000000;

beforeAll(async () => {
  await mmModule();
}, 60_000);

/** Heap and page allocator over [2 MiB, end) of the wasm memory, filled with 0xcc first. */
async function setup(end = MEMORY_BYTES): Promise<{ mm: MmExports; arch: Arch }> {
  const { mm, arch } = await instantiate();
  mm.physicalInit(META, BigInt(MEMORY_BYTES));
  new Uint8Array(mm.memory.buffer, 2 * MiB, end - 2 * MiB).fill(0xcc);
  mm.physicalAddFree(BigInt(2 * MiB), BigInt(end));
  return { mm, arch };
}

function usableFor(size: number): number {
  if (size <= 2048) return CLASSES.find((c) => c >= size)!;
  return Math.ceil((size + 16) / PAGE) * PAGE - 16;
}

const zeros = Buffer.alloc(1 << 20);

function isZero(mm: MmExports, address: number, length: number): boolean {
  for (let offset = 0; offset < length; offset += zeros.length) {
    const n = Math.min(zeros.length, length - offset);
    if (!Buffer.from(mm.memory.buffer, address + offset, n).equals(zeros.subarray(0, n))) return false;
  }
  return true;
}

function totalInUse(mm: MmExports): number {
  return TAGS.reduce((sum, _, tag) => sum + mm.heapBytesInUse(tag), 0);
}

/** Frees everything the heap keeps and every per-CPU page: then the page
 * allocator must be back where it started. */
function expectAllReturned(mm: MmExports, freeBefore: number): void {
  expect(totalInUse(mm)).toBe(0);
  mm.heapTrim();
  expect(mm.heapPagesHeld()).toBe(0);
  mm.physicalDrainCaches();
  expect(mm.freePageCount()).toBe(freeBefore);
}

describe("size classes", () => {
  it("serve every size up to 2048 bytes from the right class, 16-byte aligned and zeroed", async () => {
    const { mm } = await setup();
    const freeBefore = mm.freePageCount();
    const blocks: [number, number][] = [];
    let expected = 0;
    for (let size = 0; size <= 2048; size++) {
      const address = mm.heapAlloc(size, TAG_KERNEL);
      expect(address % 16).toBe(0);
      const usable = mm.heapUsableSize(address);
      expect(usable, `size ${size}`).toBe(usableFor(Math.max(size, 1)));
      expect(isZero(mm, address, usable)).toBe(true);
      new Uint8Array(mm.memory.buffer, address, usable).fill(0xee);
      blocks.push([address, usable]);
      expected += usable;
    }
    expect(mm.heapBytesInUse(TAG_KERNEL)).toBe(expected);
    // No two blocks overlap.
    const sorted = [...blocks].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i][0]).toBeGreaterThanOrEqual(sorted[i - 1][0] + sorted[i - 1][1]);
    // Freed and allocated again: zeroed again.
    const random = prng(5);
    for (let i = 0; i < 500; i++) {
      const index = random(blocks.length);
      const [address, usable] = blocks[index];
      mm.heapFree(address);
      const again = mm.heapAlloc(usable, TAG_KERNEL);
      expect(isZero(mm, again, usable)).toBe(true);
      new Uint8Array(mm.memory.buffer, again, usable).fill(0xee);
      blocks[index] = [again, usable];
    }
    for (const [address] of blocks) mm.heapFree(address);
    expect(mm.heapBytesInUse(TAG_KERNEL)).toBe(0);
    // One empty slab kept per class.
    expect(mm.heapPagesHeld()).toBe(15 + 4 * 2 + 4 * 4 + 8);
    expectAllReturned(mm, freeBefore);
  });

  it("give back empty slabs, keeping one per cache until trimmed", async () => {
    const { mm } = await setup();
    const blocks = Array.from({ length: 1000 }, () => mm.heapAlloc(64, TAG_KERNEL));
    expect(mm.heapPagesHeld()).toBe(Math.ceil(1000 / 63));
    for (const address of blocks) mm.heapFree(address);
    expect(mm.heapPagesHeld()).toBe(1);
    mm.heapTrim();
    expect(mm.heapPagesHeld()).toBe(0);
    // Alternating alloc/free of one block does not churn pages.
    for (let i = 0; i < 100; i++) mm.heapFree(mm.heapAlloc(64, TAG_KERNEL));
    expect(mm.heapPagesHeld()).toBe(1);
  });
});

describe("large blocks", () => {
  it("come from page runs, 16-byte aligned, zeroed, and go back whole", async () => {
    const { mm } = await setup();
    const freeBefore = mm.freePageCount();
    const sizes = [2049, 4080, 4081, 8192, 100_000, 1 << 20, 5 << 20];
    const blocks: number[] = [];
    let pages = 0;
    for (const size of sizes) {
      const address = mm.heapAlloc(size, TAG_KERNEL);
      expect(address).not.toBe(0);
      expect(address % 16).toBe(0);
      const usable = mm.heapUsableSize(address);
      expect(usable, `size ${size}`).toBe(usableFor(size));
      expect(isZero(mm, address, usable)).toBe(true);
      new Uint8Array(mm.memory.buffer, address, usable).fill(0xee);
      pages += (usable + 16) / PAGE;
      blocks.push(address);
    }
    expect(mm.heapPagesHeld()).toBe(pages);
    expect(mm.heapBytesInUse(TAG_KERNEL)).toBe(sizes.reduce((sum, size) => sum + usableFor(size), 0));
    expect(mm.freePageCount()).toBe(freeBefore - pages);
    for (const address of blocks) mm.heapFree(address);
    expectAllReturned(mm, freeBefore);
    expect(mm.heapAlloc(HEAP_MAX + 1, TAG_KERNEL)).toBe(0);
    expect(mm.heapAlloc(0xffffffff, TAG_KERNEL)).toBe(0);
    expect(mm.heapAlloc(63 << 20, TAG_KERNEL)).toBe(0); // more than there is
  });
});

describe("accounting", () => {
  it("counts usable bytes per tag and returns to zero", async () => {
    const { mm } = await setup();
    const blocks: number[] = [];
    for (let tag = 0; tag < TAGS.length; tag++) {
      expect(readString(mm.memory, mm.heapTagName(tag))).toBe(TAGS[tag]);
      for (let i = 0; i <= tag; i++) {
        for (const size of [24, 300, 5000]) blocks.push(mm.heapAlloc(size, tag));
      }
    }
    for (let tag = 0; tag < TAGS.length; tag++) {
      expect(mm.heapBytesInUse(tag)).toBe((tag + 1) * (32 + 320 + usableFor(5000)));
    }
    expect(readString(mm.memory, mm.heapTagName(8))).toBe("unknown");
    expect(mm.heapBytesInUse(8)).toBe(0);
    for (const address of blocks) mm.heapFree(address);
    for (let tag = 0; tag < TAGS.length; tag++) expect(mm.heapBytesInUse(tag)).toBe(0);
  });
});

describe("out of memory", () => {
  it("returns 0 and recovers after frees", async () => {
    const { mm } = await setup(2 * MiB + 64 * PAGE);
    const freeBefore = mm.freePageCount();
    expect(mm.heapAlloc(65 * PAGE, TAG_KERNEL)).toBe(0);
    const blocks: number[] = [];
    for (;;) {
      const address = mm.heapAlloc(1000, TAG_KERNEL);
      if (address === 0) break;
      blocks.push(address);
    }
    expect(blocks.length).toBe(16 * 15); // 16 slabs of 4 pages, 15 blocks each
    expect(mm.heapAlloc(5000, TAG_KERNEL)).toBe(0);
    expect(mm.heapAlloc(16, TAG_KERNEL)).toBe(0);
    for (const address of blocks.splice(0, 30)) mm.heapFree(address); // two slabs' worth
    expect(mm.heapAlloc(5000, TAG_KERNEL)).not.toBe(0);
    expect(mm.heapAlloc(16, TAG_KERNEL)).not.toBe(0);
  });
});

describe("bad pointers abort", () => {
  const cases: [string, (mm: MmExports) => void, RegExp][] = [
    ["a double free of a small block", (mm) => {
      const keep = mm.heapAlloc(40, TAG_KERNEL);
      const a = mm.heapAlloc(40, TAG_KERNEL);
      mm.heapFree(a);
      mm.heapFree(a);
      mm.heapFree(keep);
    }, /double free/],
    ["a double free of a released slab's block", (mm) => {
      const a = mm.heapAlloc(40, TAG_KERNEL);
      mm.heapFree(a);
      mm.heapTrim();
      mm.heapFree(a);
    }, /not from heapAlloc/],
    ["a double free of a large block", (mm) => { const a = mm.heapAlloc(10_000, TAG_KERNEL); mm.heapFree(a); mm.heapFree(a); }, /not from heapAlloc/],
    ["a page from the page allocator", (mm) => mm.heapFree(mm.allocPage() + 16), /not from heapAlloc/],
    ["a static address", (mm) => mm.heapFree(64), /not from heapAlloc/],
    ["a misaligned pointer", (mm) => mm.heapFree(mm.heapAlloc(64, TAG_KERNEL) + 8), /16-byte aligned/],
    ["a pointer inside a small block", (mm) => mm.heapFree(mm.heapAlloc(64, TAG_KERNEL) + 16), /not at the start/],
    ["a pointer into a slab header", (mm) => mm.heapFree(mm.heapAlloc(16, TAG_KERNEL) - 48), /slab header/],
    ["a pointer inside a large block", (mm) => mm.heapFree(mm.heapAlloc(10_000, TAG_KERNEL) + 16), /inside a large/],
    ["a pointer into a large block's second page", (mm) => mm.heapFree(mm.heapAlloc(10_000, TAG_KERNEL) + PAGE), /not from heapAlloc/],
    ["the size of a freed block", (mm) => {
      const a = mm.heapAlloc(40, TAG_KERNEL);
      mm.heapFree(a);
      mm.heapUsableSize(a);
    }, /free/],
    ["an unknown tag", (mm) => mm.heapAlloc(16, 8), /unknown tag/],
    ["a page allocator free of a heap slab", (mm) => mm.freePage(mm.heapAlloc(16, TAG_KERNEL) & ~(PAGE - 1)), /owner/],
  ];
  for (const [name, action, message] of cases) {
    it(name, async () => {
      const { mm } = await setup(8 * MiB);
      expect(abortOf(() => action(mm))).toMatch(message);
    });
  }

  it("frees 0 as a no-op", async () => {
    const { mm } = await setup(8 * MiB);
    mm.heapFree(0);
    expect(totalInUse(mm)).toBe(0);
  });
});

describe("stress", () => {
  it("random sizes, tags, CPUs and frees end with every byte and page returned", async () => {
    const { mm, arch } = await setup();
    const freeBefore = mm.freePageCount();
    const random = prng(31337);
    const live: { address: number; size: number; usable: number; tag: number; id: number }[] = [];
    const inUse = new Array<number>(TAGS.length).fill(0);
    const view = () => new DataView(mm.memory.buffer);
    let nextId = 1;
    for (let step = 0; step < 20_000; step++) {
      arch.cpu = random(4);
      if (live.length > 0 && random(100) < 48) {
        const index = random(live.length);
        const block = live[index];
        live[index] = live[live.length - 1];
        live.pop();
        expect(view().getUint32(block.address, true)).toBe(block.id);
        expect(view().getUint32(block.address + block.usable - 4, true)).toBe(block.id);
        mm.heapFree(block.address);
        inUse[block.tag] -= block.usable;
      } else {
        const kind = random(100);
        const size = kind < 75 ? random(2049) : kind < 97 ? 2049 + random(14_000) : 16_000 + random(300_000);
        const tag = random(TAGS.length);
        const address = mm.heapAlloc(size, tag);
        expect(address).not.toBe(0);
        expect(address % 16).toBe(0);
        const usable = mm.heapUsableSize(address);
        expect(usable).toBe(usableFor(Math.max(size, 1)));
        // Zeroed, hence overlapping no live block (those are filled with ones).
        expect(isZero(mm, address, usable)).toBe(true);
        const id = nextId++;
        new Uint8Array(mm.memory.buffer, address, usable).fill(0xff);
        view().setUint32(address, id, true);
        view().setUint32(address + usable - 4, id, true);
        live.push({ address, size, usable, tag, id });
        inUse[tag] += usable;
      }
      if (arch.held.size !== 0 || arch.interruptDepth !== 0) throw new Error(`locks held after step ${step}`);
      if (step % 1000 === 0) {
        for (let tag = 0; tag < TAGS.length; tag++) expect(mm.heapBytesInUse(tag)).toBe(inUse[tag]);
      }
    }
    for (const block of live) mm.heapFree(block.address);
    expectAllReturned(mm, freeBefore);
  });
});
