// Bounded randomized test: random mmap, munmap, mprotect, mremap, madvise
// and touches in a small window, each checked against a page-by-page model
// in JS: return values, the area set (maximally merged), page contents seen
// through the simulated MMU, page-table entries, and no leaked frames.
import { describe, expect, it } from "vitest";
import { EFAULT, PAGE, Vm } from "./harness.ts";

const PROT_NONE = 0;
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const PROTS = [PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_READ | PROT_EXEC];
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_STACK = 0x20000;
const MAP_FIXED_NOREPLACE = 0x100000;
const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const MREMAP_DONTUNMAP = 4;
const MADV_DONTNEED = 4;
const ENOMEM = -12n;
const EEXIST = -17n;
const EINVAL = -22n;

/** The window random operations aim at, and room above it that mremap may grow into. */
const BASE = 0x10000000n;
const WINDOW = 64;
const TOTAL = 128;
const PRESENT = 1n;
const WRITABLE = 2n;
const HELD = 0x200n;

interface Page {
  prot: number;
  /** 0 for private pages; shared pages: the mmap they came from. */
  object: number;
  /** Page index within the object (shared pages). */
  offset: number;
  value: number;
}

/** xorshift32: deterministic per seed. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

class Model {
  pages: (Page | null)[] = new Array<Page | null>(TOTAL).fill(null);
  nextObject = 1;

  free(start: number, count: number): boolean {
    for (let i = start; i < start + count; i++) if (i >= TOTAL || this.pages[i]) return false;
    return true;
  }

  mapped(start: number, count: number): boolean {
    for (let i = start; i < start + count; i++) if (i >= TOTAL || !this.pages[i]) return false;
    return true;
  }

  /** Top-down placement below the window's top, as the kernel's. */
  place(count: number): number {
    for (let i = WINDOW - count; i >= 0; i--) if (this.free(i, count)) return i;
    return -1;
  }

  clear(start: number, count: number): void {
    for (let i = start; i < Math.min(start + count, TOTAL); i++) this.pages[i] = null;
  }

  static compatible(a: Page, b: Page): boolean {
    return a.prot === b.prot && a.object === b.object && (a.object === 0 || b.offset === a.offset + 1);
  }

  /** The area [first, end) containing page `index`. */
  area(index: number): [number, number] {
    let first = index;
    while (first > 0 && this.pages[first - 1] && Model.compatible(this.pages[first - 1]!, this.pages[first]!)) first--;
    let end = index + 1;
    while (end < TOTAL && this.pages[end] && Model.compatible(this.pages[end - 1]!, this.pages[end]!)) end++;
    return [first, end];
  }

  areas(): { start: number; end: number; prot: number; shared: boolean; object: number; offset: number }[] {
    const list: { start: number; end: number; prot: number; shared: boolean; object: number; offset: number }[] = [];
    for (let i = 0; i < TOTAL; i++) {
      const page = this.pages[i];
      if (!page) continue;
      const last = list.at(-1);
      if (last && last.end === i && Model.compatible(this.pages[i - 1]!, page)) last.end = i + 1;
      else list.push({ start: i, end: i + 1, prot: page.prot, shared: page.object !== 0, object: page.object, offset: page.offset });
    }
    return list;
  }
}

const address = (page: number) => BASE + BigInt(page) * PAGE;

describe("randomized mmap/munmap/mprotect/mremap/madvise against a model", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}`, async () => {
      const vm = await Vm.create();
      const space = vm.newSpace();
      const used = vm.usedFrames();
      const next = random(seed * 7919);
      const model = new Model();
      // The window's top is the mmap base; below it a blocker keeps top-down
      // placement inside the window (it never merges: MAP_STACK).
      vm.exports.setMmapBase(space, address(WINDOW));
      expect(vm.exports.mmap(space, 0x10000n, BASE - 0x10000n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_FIXED, -1, 0n)).toBe(0x10000n);
      const objects = new Map<number, number>();
      let written = 1;

      const check = (step: string) => {
        const kernel = vm.vmas(space).filter((v) => v.start !== 0x10000n);
        const expected = model.areas();
        const actual = kernel.map((v) => ({
          start: Number((v.start - BASE) / PAGE), end: Number((v.end - BASE) / PAGE), prot: v.prot, shared: (v.flags & 1) !== 0,
        }));
        expect(actual, step).toEqual(expected.map(({ start, end, prot, shared }) => ({ start, end, prot, shared })));
        kernel.forEach((v, i) => {
          if (!expected[i].shared) return;
          // Kernel object ids correspond one to one to the model's mmaps.
          const known = objects.get(v.object);
          if (known === undefined) {
            expect([...objects.values()], step).not.toContain(expected[i].object);
            objects.set(v.object, expected[i].object);
          } else {
            expect(known, step).toBe(expected[i].object);
          }
          expect(v.offset, step).toBe(BigInt(expected[i].offset) * PAGE);
        });
        for (let i = 0; i < TOTAL; i++) {
          const entry = BigInt.asUintN(64, vm.exports.pageTableEntry(vm.root, address(i)));
          const page = model.pages[i];
          if (!page) {
            expect(entry, `${step}: page ${i} unmapped`).toBe(0n);
          } else if (entry !== 0n) {
            if (page.prot === PROT_NONE) expect(entry & (PRESENT | HELD), `${step}: page ${i}`).toBe(HELD);
            else expect(entry & (PRESENT | WRITABLE), `${step}: page ${i}`).toBe(page.prot & PROT_WRITE ? PRESENT | WRITABLE : PRESENT);
          } else {
            expect(page.value, `${step}: page ${i} has no frame`).toBe(0);
          }
        }
      };

      for (let step = 0; step < 300; step++) {
        const op = next(100);
        const start = next(WINDOW);
        const count = 1 + next(8);
        let label: string;
        if (op < 20) {
          const prot = PROTS[next(PROTS.length)];
          const shared = next(4) === 0;
          const noReplace = next(5) === 0;
          label = `mmap fixed ${start}+${count} prot ${prot}${shared ? " shared" : ""}${noReplace ? " noreplace" : ""}`;
          const result = vm.exports.mmap(space, address(start), BigInt(count) * PAGE, prot,
            (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | (noReplace ? MAP_FIXED_NOREPLACE : MAP_FIXED), -1, 0n);
          if (noReplace && !model.free(start, count)) {
            expect(result, label).toBe(EEXIST);
          } else {
            expect(result, label).toBe(address(start));
            const object = shared ? model.nextObject++ : 0;
            for (let i = 0; i < count; i++) model.pages[start + i] = { prot, object, offset: i, value: 0 };
          }
        } else if (op < 30) {
          const prot = PROTS[next(PROTS.length)];
          label = `mmap ${count} prot ${prot}`;
          const result = vm.exports.mmap(space, 0n, BigInt(count) * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0n);
          const at = model.place(count);
          if (at < 0) {
            expect(result >= address(TOTAL), label).toBe(true);
            expect(vm.exports.munmap(space, result, BigInt(count) * PAGE)).toBe(0n);
          } else {
            expect(result, label).toBe(address(at));
            for (let i = 0; i < count; i++) model.pages[at + i] = { prot, object: 0, offset: 0, value: 0 };
          }
        } else if (op < 42) {
          const first = next(TOTAL);
          const pages = 1 + next(16);
          label = `munmap ${first}+${pages}`;
          expect(vm.exports.munmap(space, address(first), BigInt(pages) * PAGE), label).toBe(0n);
          model.clear(first, pages);
        } else if (op < 55) {
          const prot = PROTS[next(PROTS.length)];
          label = `mprotect ${start}+${count} prot ${prot}`;
          const result = vm.exports.mprotect(space, address(start), BigInt(count) * PAGE, prot);
          if (!model.mapped(start, count)) {
            expect(result, label).toBe(ENOMEM);
          } else {
            expect(result, label).toBe(0n);
            for (let i = start; i < start + count; i++) model.pages[i]!.prot = prot;
          }
        } else if (op < 68) {
          const mapped = model.pages.map((p, i) => (p ? i : -1)).filter((i) => i >= 0);
          if (mapped.length === 0) continue;
          const from = mapped[next(mapped.length)];
          const [, areaEnd] = model.area(from);
          const oldCount = 1 + next(areaEnd - from);
          let newCount = 1 + next(8);
          const kind = next(4);
          const flags = kind === 0 ? 0 : kind === 1 ? MREMAP_MAYMOVE : kind === 2 ? MREMAP_MAYMOVE | MREMAP_FIXED : MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
          if (flags & MREMAP_DONTUNMAP) newCount = oldCount;
          const target = next(WINDOW);
          label = `mremap ${from}+${oldCount} -> ${newCount} flags ${flags}${flags & MREMAP_FIXED ? ` at ${target}` : ""}`;
          const source = model.pages.slice(from, from + oldCount);
          const moveTo = (to: number) => {
            // The source area's pages (offsets continue past the old end).
            const first = source[0]!;
            for (let i = 0; i < newCount; i++) {
              model.pages[to + i] = { prot: first.prot, object: first.object, offset: first.offset + i, value: i < source.length ? source[i]!.value : 0 };
            }
          };
          if (flags & MREMAP_FIXED) {
            if (target + newCount > TOTAL) continue;
            if (from < target + newCount && target < from + oldCount) {
              expect(vm.exports.mremap(space, address(from), BigInt(oldCount) * PAGE, BigInt(newCount) * PAGE, flags, address(target)), label).toBe(EINVAL);
              continue;
            }
          }
          if ((flags & MREMAP_DONTUNMAP) && source[0]!.object !== 0) {
            expect(vm.exports.mremap(space, address(from), BigInt(oldCount) * PAGE, BigInt(newCount) * PAGE, flags, 0n), label).toBe(EINVAL);
            continue;
          }
          // Growing in place must stay inside the model's range.
          if (from + newCount > TOTAL) continue;
          const result = vm.exports.mremap(space, address(from), BigInt(oldCount) * PAGE, BigInt(newCount) * PAGE, flags,
            flags & MREMAP_FIXED ? address(target) : 0n);
          if (flags & MREMAP_FIXED) {
            expect(result, label).toBe(address(target));
            model.clear(target, newCount);
            if (oldCount > newCount) source.length = newCount;
            model.clear(from, oldCount);
            moveTo(target);
          } else if (flags & MREMAP_DONTUNMAP) {
            const at = model.place(newCount);
            if (at < 0) {
              expect(result >= address(TOTAL), label).toBe(true);
              expect(vm.exports.munmap(space, result, BigInt(newCount) * PAGE)).toBe(0n);
            } else {
              expect(result, label).toBe(address(at));
              moveTo(at);
            }
            for (let i = from; i < from + oldCount; i++) model.pages[i]!.value = 0;
          } else if (newCount <= oldCount) {
            expect(result, label).toBe(address(from));
            model.clear(from + newCount, oldCount - newCount);
          } else if (from + oldCount === areaEnd && model.free(areaEnd, from + newCount - areaEnd)) {
            expect(result, label).toBe(address(from));
            source.length = oldCount;
            moveTo(from);
          } else if (flags & MREMAP_MAYMOVE) {
            const at = model.place(newCount);
            if (at < 0) {
              expect(result >= address(TOTAL), label).toBe(true);
              expect(vm.exports.munmap(space, result, BigInt(newCount) * PAGE)).toBe(0n);
            } else {
              expect(result, label).toBe(address(at));
              model.clear(from, oldCount);
              moveTo(at);
            }
            if (at < 0) model.clear(from, oldCount);
          } else {
            expect(result, label).toBe(ENOMEM);
          }
        } else if (op < 75) {
          label = `madvise dontneed ${start}+${count}`;
          const result = vm.exports.madvise(space, address(start), BigInt(count) * PAGE, MADV_DONTNEED);
          expect(result, label).toBe(model.mapped(start, count) ? 0n : ENOMEM);
          for (let i = start; i < start + count; i++) {
            const page = model.pages[i];
            if (page && page.object === 0) page.value = 0;
          }
        } else {
          const index = next(TOTAL);
          label = `touch ${index}`;
          const page = model.pages[index];
          const at = address(index) + 0x80n;
          if (!page || page.prot === PROT_NONE) {
            expect(vm.read(at), label).toBe(EFAULT);
          } else {
            expect(vm.read(at), label).toBe(BigInt(page.value));
            const value = written++;
            const result = vm.write(at, value);
            if (page.prot & PROT_WRITE) {
              expect(result, label).toBe(0n);
              page.value = value;
            } else {
              expect(result, label).toBe(EFAULT);
            }
          }
        }
        check(`step ${step}: ${label}`);
      }
      vm.exports.addressSpaceDestroy(space);
      vm.exports.setActiveAddressSpace(0);
      expect(vm.usedFrames()).toBe(used - 1);
      expect(vm.tableCount()).toBe(0);
    });
  }
});
