// Runs the kernel's virtual-memory code (tests/vm/entries/vmEntry.ts) in Node.
// A window of the wasm memory plays physical memory: the page tables live
// there and a simulated MMU (4-level walk, a TLB that keeps translations until
// invlpg or a CR3 reload, CR0.WP semantics, page faults into the kernel's
// handler) stands in for the CPU behind the "arch" imports.
import asc from "assemblyscript/asc";
import { compileAssemblyScript } from "../support/asc.ts";
import { atomicImports, newArchState } from "../support/archMock.ts";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ENTRY = "tests/vm/entries/vmEntry.ts";
const DOUBLE = "tests/vm/entries/physicalDouble.ts";
const OUT_DIR = "build/test-wasm";
/** 64 MiB of wasm memory: the frame double manages [8 MiB, 48 MiB); tests
 * map [48 MiB, 64 MiB) as 2 MiB pages the allocator knows nothing of. */
const INITIAL_PAGES = 1024;
export const FRAMES_START = 8 << 20;
export const FRAMES_END = 48 << 20;

export const PAGE = 4096n;
export const EFAULT = -14n;

export interface VmExports {
  memory: WebAssembly.Memory;
  pageTableMap(root: number, virt: bigint, phys: bigint, large: number, flags: bigint, gather: number): number;
  pageTableUnmapRange(root: number, start: bigint, end: bigint, options: bigint, gather: number): bigint;
  pageTableProtectRange(root: number, start: bigint, end: bigint, flags: bigint, gather: number): bigint;
  pageTableTranslate(root: number, virt: bigint): bigint;
  pageTableEntry(root: number, virt: bigint): bigint;
  pageTableLeafSize(root: number, virt: bigint): bigint;
  pageTableSplit(root: number, virt: bigint, gather: number): number;
  pageTableMoveRange(root: number, from: bigint, to: bigint, length: bigint, gather: number): number;
  pageTableNextMapped(root: number, start: bigint, end: bigint): bigint;
  pageTableSetNoExecute(enabled: number): void;
  gatherBegin(gather: number, root: number): void;
  gatherFlush(gather: number): void;
  allocPageZeroed(): number;
  freePages(address: number, order: number): void;
  freePageCount(): number;
  testFramesInit(start: number, end: number): void;
  testFramesFailAfter(count: number): void;
  testFramesStates(): number;
  addressSpaceCreate(root: number): number;
  addressSpaceDestroy(space: number): void;
  brk(space: number, address: bigint): bigint;
  brkInit(space: number, start: bigint): void;
  madvise(space: number, address: bigint, length: bigint, advice: number): bigint;
  mmap(space: number, address: bigint, length: bigint, prot: number, flags: number, fd: number, offset: bigint): bigint;
  mmapStack(space: number, size: bigint, guard: bigint): bigint;
  mprotect(space: number, address: bigint, length: bigint, prot: number): bigint;
  mremap(space: number, oldAddress: bigint, oldSize: bigint, newSize: bigint, flags: number, newAddress: bigint): bigint;
  munmap(space: number, address: bigint, length: bigint): bigint;
  activeAddressSpace(): number;
  setActiveAddressSpace(space: number): void;
  vmaFindGap(space: number, length: bigint, low: bigint, high: bigint, topDown: number): bigint;
  handlePageFault(address: bigint, errorCode: bigint, rip: bigint): number;
  reportSegfault(address: bigint, code: number, rip: bigint): void;
  vmInit(): number;
  vmSelfTest(): number;
  vmGuardPageTouch(): void;
  testGather(): number;
  vmaRecordBytes(): number;
  spaceVmas(space: number): number;
  spaceVmaCount(space: number): number;
  spaceRoot(space: number): number;
  spaceBrk(space: number): bigint;
  setMmapBase(space: number, base: bigint): void;
}

export interface Vma {
  start: bigint;
  end: bigint;
  offset: bigint;
  object: number;
  prot: number;
  flags: number;
}

/** Raised by probeRead64 when the kernel did not resolve the fault, as the
 * trap handler ends the program after reporting it. */
export class Segfault extends Error {
  constructor(readonly address: bigint, readonly code: number) {
    super(`segmentation fault at 0x${address.toString(16)} (code ${code})`);
  }
}

const MANIFEST = join(OUT_DIR, "vm.files.json");
const LOCK = join(OUT_DIR, "vm.lock");

/** Key of a compilation: the contents of every file it read. */
function compilationKey(files: string[]): string {
  const hash = createHash("sha256").update(asc.version);
  for (const file of files) {
    hash.update(file).update("\0");
    hash.update(existsSync(file) ? readFileSync(file) : "missing").update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

/** Writes `data` to `path` through a rename, so parallel workers never see half a file. */
function writeAtomically(path: string, data: string | Uint8Array): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, data);
  renameSync(temp, path);
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** Compiles the entry, or reuses the wasm of an earlier compilation whose
 * source files (listed in the manifest) are unchanged. */
export function vmModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    mkdirSync(OUT_DIR, { recursive: true });
    // One test worker compiles; the others wait for its result.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const cached = cachedBinary();
      if (cached) return WebAssembly.compile(cached);
      try {
        mkdirSync(LOCK);
        break;
      } catch {
        // A lock left by a killed run is stale after a minute.
        if (Date.now() > deadline || Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 60_000) break;
        await new Promise((done) => setTimeout(done, 100));
      }
    }
    try {
      return await WebAssembly.compile(await compileEntry());
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  })();
  return compiled;
}

function cachedBinary(): Uint8Array<ArrayBuffer> | undefined {
  if (!existsSync(MANIFEST)) return undefined;
  const out = join(OUT_DIR, `vm-${compilationKey(JSON.parse(readFileSync(MANIFEST, "utf8")) as string[])}.wasm`);
  return existsSync(out) ? new Uint8Array(readFileSync(out)) : undefined;
}

async function compileEntry(): Promise<Uint8Array<ArrayBuffer>> {
  const cached = cachedBinary();
  if (cached) return cached;
  const read = new Set<string>();
  const binary = await compileAssemblyScript(ENTRY, {
    initialPages: INITIAL_PAGES,
    readFile(filename: string, baseDir: string) {
      const wanted = relative(".", resolve(baseDir, filename)).replace(/\\/g, "/");
      const path = wanted.endsWith("kernel/mm/physical.ts") ? DOUBLE : wanted;
      try {
        const text = readFileSync(path, "utf8");
        read.add(path);
        return text;
      } catch {
        return null;
      }
    },
  });
  const files = [...read].sort();
  const name = `vm-${compilationKey(files)}.wasm`;
  // Earlier compilations are stale now.
  for (const old of readdirSync(OUT_DIR)) if (/^vm-[0-9a-f]{16}\.wasm$/.test(old) && old !== name) rmSync(join(OUT_DIR, old), { force: true });
  writeAtomically(join(OUT_DIR, name), binary);
  writeAtomically(MANIFEST, JSON.stringify(files));
  return new Uint8Array(binary);
}

const ADDRESS_MASK = 0x000ffffffffff000n;
const LARGE_MASK = 0x000fffffffe00000n;
const HUGE_MASK = 0x000fffffc0000000n;

interface TlbEntry {
  frame: bigint;
  writable: boolean;
}

/** The CPU as far as paging goes. */
export class Mmu {
  cr3 = 0;
  /** EFER.NXE: without it, bit 63 of an entry is reserved. */
  noExecute = false;
  tlb = new Map<bigint, TlbEntry>();
  invalidated: bigint[] = [];
  cr3Reloads = 0;
  faults = 0;

  constructor(private readonly vm: () => Vm) {}

  private entry(address: bigint): bigint {
    return this.vm().view().getBigUint64(Number(address), true);
  }

  /** Walks the tables: the physical address, or the page-fault error code. */
  walk(virt: bigint): { phys: bigint; writable: boolean } | { error: number } {
    let table = BigInt(this.cr3) & ADDRESS_MASK;
    let writable = true;
    for (let level = 4; level >= 1; level--) {
      const shift = BigInt(12 + 9 * (level - 1));
      const entry = this.entry(table + ((virt >> shift) & 511n) * 8n);
      if ((entry & 1n) === 0n) return { error: 0 };
      if (!this.noExecute && (entry >> 63n) !== 0n) return { error: 1 | 8 };
      writable &&= (entry & 2n) !== 0n;
      const span = 1n << shift;
      if (level === 1) return { phys: (entry & ADDRESS_MASK) + (virt & (span - 1n)), writable };
      if ((entry & 0x80n) !== 0n) {
        if (level === 4) return { error: 1 | 8 };
        const mask = level === 2 ? LARGE_MASK : HUGE_MASK;
        return { phys: (entry & mask) + (virt & (span - 1n)), writable };
      }
      table = entry & ADDRESS_MASK;
    }
    throw new Error("unreachable");
  }

  /** One access through the TLB; page faults go to the kernel's handler and
   * the access is retried while it resolves them. The physical address, or
   * the handler's negative code. */
  access(virt: bigint, write: boolean): bigint | number {
    for (let attempt = 0; attempt < 4; attempt++) {
      const page = virt >> 12n;
      let error: number;
      const cached = this.tlb.get(page);
      if (cached) {
        if (!write || cached.writable) return cached.frame + (virt & 0xfffn);
        error = 1;
      } else {
        const result = this.walk(virt);
        if ("phys" in result) {
          this.tlb.set(page, { frame: result.phys - (virt & 0xfffn), writable: result.writable });
          if (!write || result.writable) return result.phys;
          error = 1;
        } else {
          error = result.error;
        }
      }
      // A page fault drops the TLB entry for the address (Intel SDM 4.10.4.1).
      this.tlb.delete(page);
      this.faults++;
      const code = this.vm().exports.handlePageFault(virt, BigInt(error | (write ? 2 : 0)), 0xdeadbeefn);
      if (code !== 0) return code;
    }
    throw new Error(`page fault loop at 0x${virt.toString(16)}`);
  }
}

export class Vm {
  readonly exports: VmExports;
  readonly mmu: Mmu;
  console = "";
  /** Root of the test's page table (also what readCr3 returns). */
  root = 0;

  private constructor(instance: WebAssembly.Instance, mmu: Mmu) {
    this.exports = instance.exports as unknown as VmExports;
    this.mmu = mmu;
  }

  static async create(): Promise<Vm> {
    const module = await vmModule();
    let vm: Vm | undefined;
    const mmu = new Mmu(() => vm!);
    const view = () => vm!.view();
    const arch: Record<string, (...args: never[]) => unknown> = {
      ...atomicImports(() => vm!.exports.memory, newArchState()),
      readCr3: () => BigInt(mmu.cr3) | 0x18n,
      invalidatePage: (virt: bigint) => {
        mmu.invalidated.push(virt);
        mmu.tlb.delete(virt >> 12n);
      },
      flushTlbAll: () => {
        mmu.cr3Reloads++;
        mmu.tlb.clear();
      },
      outb: (port: number, value: number) => {
        // The console writes "\r\n"; keep plain newlines.
        if (port === 0x3f8 && value !== 0x0d) vm!.console += String.fromCharCode(value);
      },
      inb: (port: number) => (port === 0x3fd ? 0x20 : 0),
      // A clock for code that waits with a deadline (the console's UART).
      rdtsc: () => BigInt(Math.round(performance.now() * 1e6)),
      accessRead32: (address: bigint) => {
        if ((address & 3n) !== 0n) return EFAULT;
        const phys = mmu.access(address, false);
        return typeof phys === "number" ? EFAULT : BigInt(view().getUint32(Number(phys), true));
      },
      accessWrite32: (address: bigint, value: number) => {
        if ((address & 3n) !== 0n) return EFAULT;
        const phys = mmu.access(address, true);
        if (typeof phys === "number") return EFAULT;
        view().setUint32(Number(phys), value, true);
        return 0n;
      },
      probeRead64: (address: bigint) => {
        const phys = mmu.access(address, false);
        if (typeof phys === "number") {
          vm!.exports.reportSegfault(address, phys, 0xdeadbeefn);
          throw new Segfault(address, phys);
        }
        return view().getBigUint64(Number(phys), true);
      },
    };
    const imports: Record<string, Record<string, unknown>> = {
      env: {
        abort(message: number, file: number, line: number, column: number) {
          throw new Error(`AS abort: ${vm!.string(message)} at ${vm!.string(file)}:${line}:${column}`);
        },
      },
      arch: {},
    };
    for (const wanted of WebAssembly.Module.imports(module)) {
      if (wanted.module !== "arch") continue;
      imports.arch[wanted.name] = arch[wanted.name] ?? (() => {
        throw new Error(`unmocked import arch.${wanted.name}`);
      });
    }
    const instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
    vm = new Vm(instance, mmu);
    vm.exports.testFramesInit(FRAMES_START, FRAMES_END);
    vm.root = vm.exports.allocPageZeroed();
    mmu.cr3 = vm.root;
    // Registers the frame allocator and creates the application's space.
    if (!vm.exports.vmInit()) throw new Error("vmInit failed");
    return vm;
  }

  view(): DataView {
    return new DataView(this.exports.memory.buffer);
  }

  /** An AS string (UTF-16, byte length in the header before it). */
  string(pointer: number): string {
    if (pointer === 0) return "null";
    const bytes = this.view().getUint32(pointer - 4, true);
    return Buffer.from(this.exports.memory.buffer, pointer, bytes).toString("utf16le");
  }

  /** A new address space over the test's root, made active for faults. */
  newSpace(): number {
    const space = this.exports.addressSpaceCreate(this.root);
    if (space === 0) throw new Error("addressSpaceCreate failed");
    this.exports.setActiveAddressSpace(space);
    return space;
  }

  vmas(space: number): Vma[] {
    const view = this.view();
    const base = this.exports.spaceVmas(space);
    const size = this.exports.vmaRecordBytes();
    const list: Vma[] = [];
    for (let i = 0; i < this.exports.spaceVmaCount(space); i++) {
      const at = base + i * size;
      list.push({
        start: view.getBigUint64(at, true),
        end: view.getBigUint64(at + 8, true),
        offset: view.getBigUint64(at + 16, true),
        object: view.getUint32(at + 24, true),
        prot: view.getUint32(at + 28, true),
        flags: view.getUint32(at + 32, true),
      });
    }
    return list;
  }

  /** Reads through the MMU like the application: the value, or EFAULT. */
  read(virt: bigint): bigint {
    const phys = this.mmu.access(virt, false);
    return typeof phys === "number" ? EFAULT : BigInt(this.view().getUint32(Number(phys), true));
  }

  write(virt: bigint, value: number): bigint {
    const phys = this.mmu.access(virt, true);
    if (typeof phys === "number") return EFAULT;
    this.view().setUint32(Number(phys), value, true);
    return 0n;
  }

  /** Pages the test's frame double holds allocated. */
  usedFrames(): number {
    return (FRAMES_END - FRAMES_START) / 4096 - this.exports.freePageCount();
  }

  /** Page-table pages reachable from the root (the root itself excluded). */
  tableCount(): number {
    const view = this.view();
    const count = (table: bigint, level: number): number => {
      let tables = 0;
      for (let i = 0; i < 512; i++) {
        const entry = view.getBigUint64(Number(table) + i * 8, true);
        if ((entry & 1n) === 0n || (level < 4 && (entry & 0x80n) !== 0n) || level === 1) continue;
        tables += 1 + count(entry & ADDRESS_MASK, level - 1);
      }
      return tables;
    };
    return count(BigInt(this.root), 4);
  }
}
