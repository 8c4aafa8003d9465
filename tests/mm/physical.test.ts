// The physical page allocator (kernel/mm/physical.ts) compiled to wasm and run
// in Node: part of the wasm memory plays physical RAM.
import { beforeAll, describe, expect, it } from "vitest";
import { abortOf, type Arch, instantiate, MEMORY_BYTES, type MmExports, mmModule, PAGE, prng } from "./harness.ts";

const MiB = 1 << 20;
const META = 1 * MiB;
const MAX_ORDER = 10;
const CACHE_CAPACITY = 64;
const CACHE_BATCH = 16;

beforeAll(async () => {
  await mmModule();
}, 60_000);

/** A fresh allocator over `ranges` of the wasm memory (metadata at 1 MiB). */
async function setup(ranges: [number, number][], maxAddress = MEMORY_BYTES): Promise<{ mm: MmExports; arch: Arch }> {
  const { mm, arch } = await instantiate();
  expect(META + mm.physicalMetadataBytes(BigInt(maxAddress))).toBeLessThanOrEqual(2 * MiB);
  mm.physicalInit(META, BigInt(maxAddress));
  for (const [start, end] of ranges) mm.physicalAddFree(BigInt(start), BigInt(end));
  return { mm, arch };
}

function freeBlocks(mm: MmExports): number[] {
  return Array.from({ length: MAX_ORDER + 1 }, (_, order) => mm.physicalFreeBlocks(order));
}

/** Which pages are handed out, and to whom: checks every page is inside an
 * added range and never handed out twice at once. */
class Tracker {
  readonly owner = new Int32Array(MEMORY_BYTES / PAGE);
  private readonly usable = new Uint8Array(MEMORY_BYTES / PAGE);

  constructor(ranges: [number, number][]) {
    for (const [start, end] of ranges) {
      for (let page = Math.ceil(start / PAGE); page < Math.floor(end / PAGE); page++) this.usable[page] = 1;
    }
    this.usable[0] = 0;
  }

  take(address: number, pages: number, id: number): void {
    if (address % PAGE !== 0) throw new Error(`unaligned block ${address.toString(16)}`);
    const first = address / PAGE;
    for (let page = first; page < first + pages; page++) {
      if (!this.usable[page]) throw new Error(`page ${page.toString(16)} is outside the added ranges`);
      if (this.owner[page] !== 0) throw new Error(`page ${page.toString(16)} handed out twice (${this.owner[page]}, ${id})`);
      this.owner[page] = id;
    }
  }

  release(address: number, pages: number, id: number): void {
    const first = address / PAGE;
    for (let page = first; page < first + pages; page++) {
      if (this.owner[page] !== id) throw new Error(`page ${page.toString(16)} not owned by ${id}`);
      this.owner[page] = 0;
    }
  }
}

describe("set-up", () => {
  it("sizes the metadata at 8 bytes per page plus the per-CPU caches", async () => {
    const { mm } = await instantiate();
    const fixed = mm.physicalMetadataBytes(0n);
    expect(fixed % PAGE).toBe(0);
    expect(mm.physicalMetadataBytes(BigInt(64 * MiB))).toBe(fixed + (64 * MiB / PAGE) * 8);
    // 4 GiB is the ceiling: AS pointers are u32.
    expect(mm.physicalMetadataBytes(8n << 30n)).toBe(mm.physicalMetadataBytes(4n << 30n));
    expect(mm.physicalMetadataBytes(4n << 30n)).toBe(fixed + (1 << 20) * 8);
  });

  it("rounds ranges inward, skips page 0, clips at the limit and merges adjacent ranges", async () => {
    const { mm } = await setup([
      [0, 16 * PAGE],
      [4 * MiB + 100, 4 * MiB + 3 * PAGE - 1],
      [12 * MiB, 14 * MiB],
      [14 * MiB, 16 * MiB], // adjacent: merges into one 4 MiB block
      [60 * MiB, 100 * MiB], // clipped at 64 MiB
    ]);
    expect(mm.totalPageCount()).toBe(15 + 1 + 1024 + 1024);
    expect(mm.freePageCount()).toBe(mm.totalPageCount());
    expect(mm.physicalFreeBlocks(MAX_ORDER)).toBe(2); // [12, 16) and [60, 64) MiB
    expect(mm.allocContiguous(4096 * 4)).toBe(0);
  });

  it("refuses ranges overlapping the metadata or memory added before", async () => {
    let { mm } = await setup([]);
    expect(() => mm.physicalAddFree(BigInt(META - PAGE), BigInt(META + PAGE))).toThrow(/metadata/);
    ({ mm } = await setup([[4 * MiB, 8 * MiB]]));
    expect(() => mm.physicalAddFree(BigInt(7 * MiB), BigInt(9 * MiB))).toThrow(/added before/);
  });
});

describe("buddy blocks", () => {
  it("coalesces everything back into maximal blocks", async () => {
    const ranges: [number, number][] = [[4 * MiB, 20 * MiB]];
    const { mm } = await setup(ranges);
    expect(freeBlocks(mm)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
    const random = prng(7);
    const tracker = new Tracker(ranges);
    const live: { address: number; order: number }[] = [];
    for (let i = 0; i < 600; i++) {
      const order = random(4) === 0 ? random(MAX_ORDER + 1) : random(3);
      const address = mm.allocPages(order);
      if (address === 0) continue;
      expect(address % (PAGE << order)).toBe(0);
      tracker.take(address, 1 << order, i + 1);
      live.push({ address, order });
    }
    expect(freeBlocks(mm)[MAX_ORDER]).toBeLessThan(4);
    // Free in a random order.
    while (live.length > 0) {
      const [block] = live.splice(random(live.length), 1);
      mm.freePages(block.address, block.order);
    }
    expect(freeBlocks(mm)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
    expect(mm.freePageCount()).toBe(4 * 1024);
  });

  it("aligns order-9 blocks (2 MiB pages) to 2 MiB, also from unaligned ranges", async () => {
    const ranges: [number, number][] = [[3 * MiB + 5 * PAGE, 13 * MiB + 7 * PAGE]];
    const { mm } = await setup(ranges);
    const tracker = new Tracker(ranges);
    const blocks: number[] = [];
    for (;;) {
      const address = mm.allocPages(9);
      if (address === 0) break;
      expect(address % (2 * MiB)).toBe(0);
      tracker.take(address, 512, blocks.length + 1);
      blocks.push(address);
    }
    // 2 MiB-aligned holes inside [3 MiB + 20 KiB, 13 MiB + 28 KiB): 4, 6, 8, 10 MiB.
    expect(blocks.sort((a, b) => a - b)).toEqual([4 * MiB, 6 * MiB, 8 * MiB, 10 * MiB]);
    for (const address of blocks) mm.freePages(address, 9);
    const run = mm.allocContiguous(512);
    expect(run % (2 * MiB)).toBe(0);
    mm.freeContiguous(run, 512);
    expect(mm.freePageCount()).toBe(mm.totalPageCount());
  });

  it("allocates contiguous runs of any length and gives the tail back", async () => {
    const ranges: [number, number][] = [[2 * MiB, 64 * MiB]];
    const { mm } = await setup(ranges);
    const tracker = new Tracker(ranges);
    const total = mm.freePageCount();
    const runs: { address: number; count: number }[] = [];
    let inUse = 0;
    for (const count of [1, 2, 3, 5, 7, 100, 513, 1000, 1023, 1024, 1025, 3000, 2049]) {
      const address = mm.allocContiguous(count);
      expect(address, `count ${count}`).not.toBe(0);
      const alignPages = Math.min(2 ** Math.floor(Math.log2(count)), 1024);
      expect(address % (alignPages * PAGE)).toBe(0);
      tracker.take(address, count, runs.length + 1);
      runs.push({ address, count });
      inUse += count;
      expect(mm.freePageCount()).toBe(total - inUse);
    }
    for (const [i, run] of runs.entries()) {
      mm.freeContiguous(run.address, run.count);
      tracker.release(run.address, run.count, i + 1);
    }
    expect(mm.freePageCount()).toBe(total);
    expect(mm.physicalFreeBlocks(MAX_ORDER)).toBe(15); // [4, 64) MiB; [2, 4) MiB is one order-9 block
    expect(mm.physicalFreeBlocks(9)).toBe(1);
    // A power-of-two block and a run are interchangeable.
    const block = mm.allocPages(3);
    mm.freeContiguous(block, 8);
    const run = mm.allocContiguous(8);
    mm.freePages(run, 3);
    expect(mm.allocContiguous(0)).toBe(0);
    expect(mm.allocContiguous(1 << 20)).toBe(0);
  });

  it("falls back to runs of unaligned free blocks when no aligned block fits", async () => {
    const base = 4 * MiB;
    const ranges: [number, number][] = [[base, base + 256 * PAGE]];
    const { mm } = await setup(ranges);
    const tracker = new Tracker(ranges);
    expect(mm.allocContiguous(1)).toBe(base); // splits down to page 0
    expect(mm.allocPages(7)).toBe(base + 128 * PAGE);
    // Free: pages [1, 128) as blocks of 1, 2, 4, ... 64 pages; no 128-page block.
    expect(mm.allocPages(7)).toBe(0);
    const run = mm.allocContiguous(100);
    expect(run).toBe(base + PAGE);
    tracker.take(run, 100, 1);
    expect(mm.freePageCount()).toBe(27);
    const rest = mm.allocContiguous(27);
    expect(rest).toBe(base + 101 * PAGE);
    tracker.take(rest, 27, 2);
    expect(mm.freePageCount()).toBe(0);
    mm.freeContiguous(run, 100);
    mm.freeContiguous(rest, 27);
    mm.freeContiguous(base, 1);
    mm.freePages(base + 128 * PAGE, 7);
    expect(freeBlocks(mm)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  it("returns 0 when memory runs out and recovers after frees", async () => {
    const ranges: [number, number][] = [[8 * MiB, 8 * MiB + 200 * PAGE]];
    const { mm, arch } = await setup(ranges);
    const tracker = new Tracker(ranges);
    const pages: number[] = [];
    for (;;) {
      arch.cpu = pages.length % 3; // three CPUs each keep a cache
      const address = mm.allocPage();
      if (address === 0) break;
      tracker.take(address, 1, pages.length + 1);
      pages.push(address);
    }
    expect(pages.length).toBe(200);
    expect(mm.freePageCount()).toBe(0);
    expect(mm.allocPages(0)).toBe(0);
    expect(mm.allocContiguous(1)).toBe(0);
    expect(mm.allocPageZeroed()).toBe(0);
    // Freed on CPU 2, the pages sit in its cache or go back in batches; a
    // 128-page block needs all of them, so CPU 0 must drain CPU 2's cache.
    arch.cpu = 2;
    for (const [i, address] of pages.entries()) {
      mm.freePage(address);
      tracker.release(address, 1, i + 1);
    }
    expect(mm.physicalCachedPages(2)).toBeGreaterThan(0);
    expect(mm.freePageCount()).toBe(200);
    arch.cpu = 0;
    const block = mm.allocPages(7);
    expect(block).not.toBe(0);
    tracker.take(block, 128, 1000);
    expect(mm.allocContiguous(72)).not.toBe(0);
    expect(mm.allocPage()).toBe(0);
  });
});

describe("per-CPU caches", () => {
  it("refill in batches, stay below their capacity, and drain", async () => {
    const ranges: [number, number][] = [[4 * MiB, 12 * MiB]];
    const { mm, arch } = await setup(ranges);
    const total = mm.totalPageCount();
    arch.cpu = 0;
    const first = mm.allocPage();
    expect(mm.physicalCachedPages(0)).toBe(CACHE_BATCH - 1);
    expect(mm.freePageCount()).toBe(total - 1);
    // LIFO: the page just freed is the next one handed out on that CPU.
    mm.freePage(first);
    expect(mm.allocPage()).toBe(first);
    // Pages allocated on CPU 0 and freed on CPU 5 fill CPU 5's cache; it
    // gives a batch back whenever it reaches its capacity.
    const pages = Array.from({ length: 300 }, () => mm.allocPage());
    arch.cpu = 5;
    for (const [i, address] of pages.entries()) {
      mm.freePage(address);
      expect(mm.physicalCachedPages(5)).toBeLessThan(CACHE_CAPACITY);
      if (i === CACHE_CAPACITY - 1) expect(mm.physicalCachedPages(5)).toBe(CACHE_CAPACITY - CACHE_BATCH);
    }
    expect(mm.freePageCount()).toBe(total - 1);
    // The other CPUs have their own caches.
    for (let cpu = 0; cpu < 64; cpu++) {
      arch.cpu = cpu;
      mm.freePage(mm.allocPage());
    }
    mm.physicalDrainCaches();
    for (let cpu = 0; cpu < 64; cpu++) expect(mm.physicalCachedPages(cpu)).toBe(0);
    arch.cpu = 0;
    mm.freePage(first);
    mm.physicalDrainCaches();
    expect(mm.freePageCount()).toBe(total);
    expect(freeBlocks(mm)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    arch.cpu = 64;
    expect(() => mm.allocPage()).toThrow(/MAX_CPUS/);
  });
});

describe("bad input aborts", () => {
  const cases: [string, (mm: MmExports) => void, RegExp][] = [
    ["double free of a block", (mm) => { const a = mm.allocPages(2); mm.freePages(a, 2); mm.freePages(a, 2); }, /double free/],
    ["double free through the cache", (mm) => { const a = mm.allocPage(); mm.freePage(a); mm.freePage(a); }, /double free/],
    ["double free after a merge", (mm) => { const a = mm.allocPages(0); mm.freePages(a, 0); mm.freePages(a, 0); }, /double free/],
    ["a wrong order", (mm) => mm.freePages(mm.allocPages(3), 2), /another order/],
    ["a single-page free of a larger block", (mm) => mm.freePage(mm.allocPages(1)), /another order/],
    ["a page inside a block", (mm) => mm.freePages(mm.allocPages(2) + PAGE, 0), /does not start/],
    ["a misaligned address", (mm) => mm.freePages(mm.allocPages(0) + 8, 0), /not page aligned/],
    ["an address not aligned to its order", (mm) => mm.freePages(mm.allocPages(2) + PAGE, 1), /not aligned to its block/],
    ["an address never added", (mm) => mm.freePage(40 * MiB), /does not manage/],
    ["an address beyond the managed limit", (mm) => mm.freePages(MEMORY_BYTES + PAGE, 0), /outside managed/],
    ["the null page", (mm) => mm.freePage(0), /outside managed/],
    ["order > MAX_ORDER on free", (mm) => mm.freePages(4 * MiB, 11), /MAX_ORDER/],
    ["order > MAX_ORDER on alloc", (mm) => mm.allocPages(11), /MAX_ORDER/],
    ["a wrong contiguous count", (mm) => mm.freeContiguous(mm.allocContiguous(5), 6), /another order/],
    ["a free of a page with an owner", (mm) => { const a = mm.allocPage(); mm.setPageOwner(a, 1234); mm.freePage(a); }, /owner/],
    ["an owner on a free page", (mm) => mm.setPageOwner(4 * MiB, 1), /not allocated/],
  ];
  for (const [name, action, message] of cases) {
    it(name, async () => {
      const { mm } = await setup([[4 * MiB, 8 * MiB]]);
      expect(abortOf(() => action(mm))).toMatch(message);
    });
  }

  it("leaves the allocator intact when a bad contiguous count is caught", async () => {
    const { mm } = await setup([[4 * MiB, 8 * MiB]]);
    const run = mm.allocContiguous(5);
    const free = mm.freePageCount();
    expect(abortOf(() => mm.freeContiguous(run, 6))).toMatch(/another order/);
    expect(mm.freePageCount()).toBe(free); // checked every chunk before freeing any
  });
});

describe("stress", () => {
  it("random allocations and frees on four CPUs end with every page free and coalesced", async () => {
    // Three ranges with holes and odd edges, like an e820 map.
    const ranges: [number, number][] = [
      [2 * MiB + 3 * PAGE, 9 * MiB],
      [9 * MiB + PAGE, 30 * MiB - 5 * PAGE],
      [33 * MiB, 64 * MiB],
    ];
    const { mm, arch } = await setup(ranges);
    const before = mm.freePageCount();
    const blocksBefore = freeBlocks(mm);
    const tracker = new Tracker(ranges);
    const random = prng(2024);
    const memory = () => new DataView(mm.memory.buffer);
    type Kind = "page" | "zeroed" | "order" | "run";
    const live: { address: number; pages: number; order: number; kind: Kind; id: number }[] = [];
    let nextId = 1;
    let failures = 0;
    for (let step = 0; step < 20_000; step++) {
      arch.cpu = random(4);
      if (live.length > 0 && random(100) < 45) {
        const index = random(live.length);
        const block = live[index];
        live[index] = live[live.length - 1];
        live.pop();
        // The stamps written at allocation are intact: nobody else wrote there.
        expect(memory().getUint32(block.address, true)).toBe(block.id);
        expect(memory().getUint32(block.address + block.pages * PAGE - 4, true)).toBe(block.id);
        tracker.release(block.address, block.pages, block.id);
        if (block.kind === "run") mm.freeContiguous(block.address, block.pages);
        else if (block.kind === "order" && random(2) === 0) mm.freePages(block.address, block.order);
        else if (block.pages === 1) mm.freePage(block.address);
        else mm.freePages(block.address, block.order);
      } else {
        const choice = random(100);
        let kind: Kind;
        let order = 0;
        let pages = 1;
        let address: number;
        if (choice < 40) {
          kind = "page";
          address = mm.allocPage();
        } else if (choice < 50) {
          kind = "zeroed";
          address = mm.allocPageZeroed();
          if (address !== 0) {
            const bytes = new Uint8Array(mm.memory.buffer, address, PAGE);
            expect(bytes.every((b) => b === 0)).toBe(true);
          }
        } else if (choice < 85) {
          kind = "order";
          order = random(8) === 0 ? random(MAX_ORDER + 1) : random(4);
          pages = 1 << order;
          address = mm.allocPages(order);
          if (address !== 0) expect(address % (PAGE << order)).toBe(0);
        } else {
          kind = "run";
          pages = random(10) === 0 ? 1 + random(2500) : 1 + random(40);
          address = mm.allocContiguous(pages);
        }
        if (address === 0) {
          failures++;
          continue;
        }
        const id = nextId++;
        tracker.take(address, pages, id);
        memory().setUint32(address, id, true);
        memory().setUint32(address + pages * PAGE - 4, id, true);
        live.push({ address, pages, order, kind, id });
      }
      if (arch.held.size !== 0 || arch.interruptDepth !== 0) throw new Error(`locks held after step ${step}`);
    }
    expect(failures).toBeLessThan(20_000 / 10);
    for (const block of live) {
      if (block.kind === "run") mm.freeContiguous(block.address, block.pages);
      else mm.freePages(block.address, block.order);
    }
    mm.physicalDrainCaches();
    expect(mm.freePageCount()).toBe(before);
    expect(freeBlocks(mm)).toEqual(blocksBefore);
  });

  it("never writes into the memory it manages", async () => {
    const ranges: [number, number][] = [[4 * MiB, 20 * MiB]];
    const { mm, arch } = await setup(ranges);
    new Uint8Array(mm.memory.buffer, 4 * MiB, 16 * MiB).fill(0xa5);
    const random = prng(99);
    const live: [number, number][] = [];
    for (let step = 0; step < 5000; step++) {
      arch.cpu = random(3);
      if (live.length > 0 && random(2) === 0) {
        const [address, order] = live.splice(random(live.length), 1)[0];
        if (order === 0) mm.freePage(address);
        else mm.freePages(address, order);
      } else {
        const order = random(6);
        const address = order === 0 ? mm.allocPage() : mm.allocPages(order);
        if (address !== 0) live.push([address, order]);
      }
    }
    for (const [address, order] of live) mm.freePages(address, order);
    mm.physicalDrainCaches();
    expect(new Uint8Array(mm.memory.buffer, 4 * MiB, 16 * MiB).every((b) => b === 0xa5)).toBe(true);
  });
});
