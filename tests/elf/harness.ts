// Runs the kernel's ELF loader (tests/elf/entries/elfEntry.ts) in Node. Its
// address-space calls (mmap, munmap, mprotect, brkInit) and copies into
// application memory (accessCopyOut) go to AddressSpaceModel, a small model
// of Linux's semantics for what the loader uses: top-down placement below
// the mmap base, MAP_FIXED_NOREPLACE, protections per page range, bytes per
// page. The interpreter's file comes from `interpreter` (or an errno).
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { AbortError, compileAssemblyScript, readString } from "../support/asc.ts";

const ENTRY = "tests/elf/entries/elfEntry.ts";
const SUBSTITUTES: Record<string, string> = {
  "kernel/mm/mmap.ts": "tests/elf/entries/mmapDouble.ts",
  "kernel/mm/heap.ts": "tests/elf/entries/heapDouble.ts",
  "kernel/elf/interpreterSource.ts": "tests/elf/entries/interpreterDouble.ts",
};

export const PAGE = 0x1000n;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
const MAP_FIXED = 0x10;
const MAP_FIXED_NOREPLACE = 0x100000;
/** kernel/mm/vma.ts DEFAULT_MMAP_BASE. */
export const MMAP_BASE = 0x7f0000000000n;

export interface Region {
  start: bigint;
  end: bigint;
  prot: number;
}

/** The application's address space as far as the loader can see it. */
export class AddressSpaceModel {
  regions: Region[] = [];
  pages = new Map<bigint, Uint8Array>();
  brk: bigint | null = null;
  calls: string[] = [];

  private overlapping(start: bigint, end: bigint): Region[] {
    return this.regions.filter((r) => r.start < end && r.end > start);
  }

  /** Splits regions at start and end; the regions within [start, end). */
  private carve(start: bigint, end: bigint): Region[] {
    const out: Region[] = [];
    for (const r of this.overlapping(start, end)) {
      this.regions.splice(this.regions.indexOf(r), 1);
      if (r.start < start) this.regions.push({ start: r.start, end: start, prot: r.prot });
      if (r.end > end) this.regions.push({ start: end, end: r.end, prot: r.prot });
      const inside = { start: r.start < start ? start : r.start, end: r.end > end ? end : r.end, prot: r.prot };
      this.regions.push(inside);
      out.push(inside);
    }
    this.regions.sort((a, b) => (a.start < b.start ? -1 : 1));
    return out;
  }

  mmap(address: bigint, length: bigint, prot: number, flags: number): bigint {
    this.calls.push(`mmap(0x${address.toString(16)}, 0x${length.toString(16)}, ${prot}, 0x${flags.toString(16)})`);
    const len = (length + PAGE - 1n) & ~(PAGE - 1n);
    let start = address;
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) {
      if ((flags & MAP_FIXED_NOREPLACE) !== 0 && this.overlapping(start, start + len).length > 0) return -17n;
      this.unmap(start, start + len);
    } else {
      let top = MMAP_BASE;
      for (;;) {
        const hit = this.overlapping(top - len, top);
        if (hit.length === 0) break;
        top = hit.reduce((low, r) => (r.start < low ? r.start : low), top);
      }
      start = top - len;
    }
    this.regions.push({ start, end: start + len, prot });
    this.regions.sort((a, b) => (a.start < b.start ? -1 : 1));
    return start;
  }

  private unmap(start: bigint, end: bigint): void {
    for (const r of this.carve(start, end)) this.regions.splice(this.regions.indexOf(r), 1);
    for (let page = start; page < end; page += PAGE) this.pages.delete(page);
  }

  munmap(address: bigint, length: bigint): bigint {
    this.calls.push(`munmap(0x${address.toString(16)}, 0x${length.toString(16)})`);
    this.unmap(address, address + length);
    return 0n;
  }

  mprotect(address: bigint, length: bigint, prot: number): bigint {
    this.calls.push(`mprotect(0x${address.toString(16)}, 0x${length.toString(16)}, ${prot})`);
    const end = address + length;
    // Linux: -ENOMEM unless the whole range is mapped.
    let covered = 0n;
    for (const r of this.overlapping(address, end)) covered += (r.end < end ? r.end : end) - (r.start > address ? r.start : address);
    if (covered !== length) return -12n;
    for (const r of this.carve(address, end)) r.prot = prot;
    return 0n;
  }

  protectionAt(address: bigint): number | null {
    return this.regions.find((r) => r.start <= address && address < r.end)?.prot ?? null;
  }

  /** accessCopyOut: every byte in a writable region, or -EFAULT. */
  copyOut(dst: bigint, bytes: Uint8Array): bigint {
    for (let page = dst & ~(PAGE - 1n); page < dst + BigInt(bytes.length); page += PAGE) {
      const prot = this.protectionAt(page);
      if (prot === null || (prot & PROT_WRITE) === 0) return -14n;
    }
    for (let i = 0; i < bytes.length; i++) {
      const at = dst + BigInt(i);
      const page = at & ~(PAGE - 1n);
      let data = this.pages.get(page);
      if (!data) this.pages.set(page, (data = new Uint8Array(Number(PAGE))));
      data[Number(at - page)] = bytes[i];
    }
    return 0n;
  }

  read(address: bigint, count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const at = address + BigInt(i);
      const page = at & ~(PAGE - 1n);
      out[i] = this.pages.get(page)?.[Number(at - page)] ?? 0;
    }
    return out;
  }
}

export interface LoadedImage {
  entry: bigint;
  phdr: bigint;
  phent: bigint;
  phnum: bigint;
  bias: bigint;
  brk: bigint;
  interpreterBase: bigint;
  start: bigint;
  vdso: bigint;
}

export interface LoadResult {
  code: number;
  image: LoadedImage;
  space: AddressSpaceModel;
  /** Paths the loader asked vfsReadWholeFile for. */
  reads: string[];
  /** Addresses given to heapFree. */
  freed: number[];
  /** Where the interpreter double puts the file (what heapFree must get). */
  interpreterBuffer: number | null;
}

export interface LoadOptions {
  /** The interpreter file's bytes, or a negative errno for vfsReadWholeFile. */
  interpreter?: Uint8Array | number;
  /** The vDSO's bytes (none: the kernel has no vDSO). */
  vdso?: Uint8Array;
}

let compiled: Promise<WebAssembly.Module> | undefined;

function elfModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const binary = await compileAssemblyScript(ENTRY, {
      initialPages: 256,
      readFile(filename: string, baseDir: string) {
        const wanted = relative(".", resolve(baseDir, filename)).replace(/\\/g, "/");
        try {
          return readFileSync(SUBSTITUTES[wanted] ?? wanted, "utf8");
        } catch {
          return null;
        }
      },
    });
    return WebAssembly.compile(binary);
  })();
  return compiled;
}

interface ElfExports {
  memory: WebAssembly.Memory;
  programBuffer(): number;
  vdsoBuffer(): number;
  imageRecord(): number;
  load(size: number): number;
}

/** Loads `program` with a fresh instance and address space. */
export async function loadElf(program: Uint8Array, options: LoadOptions = {}): Promise<LoadResult> {
  const module = await elfModule();
  const space = new AddressSpaceModel();
  const reads: string[] = [];
  const freed: number[] = [];
  let interpreterBuffer: number | null = null;
  let exports: ElfExports | undefined;
  const bytes = (): Uint8Array => new Uint8Array(exports!.memory.buffer);
  const test = {
    mmap: (address: bigint, length: bigint, prot: number, flags: number) => space.mmap(address, length, prot, flags),
    munmap: (address: bigint, length: bigint) => space.munmap(address, length),
    mprotect: (address: bigint, length: bigint, prot: number) => space.mprotect(address, length, prot),
    brkInit: (start: bigint) => {
      space.brk = start;
    },
    heapFree: (address: number) => {
      freed.push(address);
    },
    readWholeFile: (path: number, length: number, area: number, capacity: number) => {
      reads.push(Buffer.from(bytes().subarray(path, path + length)).toString("utf8"));
      const file = options.interpreter ?? -2;
      if (typeof file === "number") return file;
      if (file.length > capacity) throw new Error("interpreter larger than the double's buffer");
      bytes().set(file, area);
      interpreterBuffer = area;
      return file.length;
    },
  };
  const arch = {
    accessCopyOut: (dst: bigint, src: number, count: number) => space.copyOut(dst, bytes().slice(src, src + count)),
    vdsoImage: () => (options.vdso ? exports!.vdsoBuffer() : 0),
    vdsoImageBytes: () => options.vdso?.length ?? 0,
  };
  const imports: Record<string, Record<string, unknown>> = {
    env: {
      abort(message: number, file: number, line: number, column: number): never {
        throw new AbortError(`${readString(exports!.memory, message)} (${readString(exports!.memory, file)}:${line}:${column})`);
      },
    },
    test,
    arch: {},
  };
  for (const wanted of WebAssembly.Module.imports(module)) {
    if (wanted.module !== "arch") continue;
    imports.arch[wanted.name] = (arch as Record<string, unknown>)[wanted.name] ?? (() => {
      throw new Error(`unmocked import arch.${wanted.name}`);
    });
  }
  const instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
  exports = instance.exports as unknown as ElfExports;
  if (program.length > 4 << 20) throw new Error("program larger than the test buffer");
  bytes().set(program, exports.programBuffer());
  if (options.vdso) bytes().set(options.vdso, exports.vdsoBuffer());
  const code = exports.load(program.length);
  const view = new DataView(exports.memory.buffer, exports.imageRecord());
  const field = (i: number): bigint => view.getBigUint64(i * 8, true);
  const image = {
    entry: field(0), phdr: field(1), phent: field(2), phnum: field(3), bias: field(4), brk: field(5),
    interpreterBase: field(6), start: field(7), vdso: field(8),
  };
  return { code, image, space, reads, freed, interpreterBuffer };
}
