// Compiles the memory allocators (tests/mm/entries/mmEntry.ts) with the
// kernel's compiler, in memory, and instantiates them in Node with the arch
// imports mocked: atomics on the wasm memory, interrupt state, a CPU index the
// test sets, and an abort that throws the decoded message.
import { AbortError, compileAssemblyScript, readString } from "../support/asc.ts";
export { AbortError, readString } from "../support/asc.ts";
import { type ArchState, atomicImports, newArchState } from "../support/archMock.ts";

/** Wasm memory the tests hand out as "physical RAM": 64 MiB. */
export const MEMORY_BYTES = 64 << 20;
export const PAGE = 4096;

export interface MmExports {
  memory: WebAssembly.Memory;
  physicalMetadataBytes(maxAddress: bigint): number;
  physicalInit(metadata: number, maxAddress: bigint): void;
  physicalAddFree(start: bigint, end: bigint): void;
  allocPages(order: number): number;
  freePages(address: number, order: number): void;
  allocPage(): number;
  allocPageZeroed(): number;
  freePage(address: number): void;
  allocContiguous(count: number): number;
  freeContiguous(address: number, count: number): void;
  freePageCount(): number;
  totalPageCount(): number;
  physicalDrainCaches(): void;
  physicalFreeBlocks(order: number): number;
  physicalCachedPages(cpu: number): number;
  pageOwner(address: number): number;
  setPageOwner(address: number, owner: number): void;
  heapAlloc(size: number, tag: number): number;
  heapFree(address: number): void;
  heapUsableSize(address: number): number;
  heapBytesInUse(tag: number): number;
  heapPagesHeld(): number;
  heapTrim(): void;
  heapTagName(tag: number): number;
}

/** What the arch mocks observe; `cpu` is what cpuIndex() returns. */
export type Arch = ArchState;

let compiled: Promise<WebAssembly.Module> | undefined;

/** The allocators' wasm module, compiled once per test file. */
export function mmModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const binary = await compileAssemblyScript("tests/mm/entries/mmEntry.ts", { initialPages: MEMORY_BYTES >> 16 });
    return WebAssembly.compile(binary);
  })();
  return compiled;
}


/** A fresh instance (its own memory and allocator state) with mocked imports;
 * `module` is another entry that exports the allocators too (tests/fs). */
export async function instantiate(module?: WebAssembly.Module): Promise<{ mm: MmExports; arch: Arch }> {
  const arch = newArchState();
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      abort(message: number, file: number, line: number, column: number): never {
        const text = readString(memory!, message);
        const where = file !== 0 ? ` (${readString(memory!, file)}:${line}:${column})` : "";
        throw new AbortError(text + where);
      },
    },
    arch: atomicImports(() => memory!, arch),
  };
  const instance = await WebAssembly.instantiate(module ?? (await mmModule()), imports);
  const mm = instance.exports as unknown as MmExports;
  memory = mm.memory;
  return { mm, arch };
}

/** A seeded PRNG (mulberry32): same sequence every run. */
export function prng(seed: number): (bound: number) => number {
  let state = seed >>> 0;
  return (bound: number): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % bound) >>> 0;
  };
}

/** The message of the abort `action` raises; fails the test if it returns or throws anything else. */
export function abortOf(action: () => void): string {
  try {
    action();
  } catch (error) {
    if (error instanceof AbortError) return error.message;
    throw error;
  }
  throw new Error("expected an abort, but the call returned");
}
