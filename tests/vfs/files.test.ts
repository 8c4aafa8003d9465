// Open files, the descriptor table and readiness hooks (kernel/vfs/) compiled
// to wasm and run in Node over the real page allocator and heap.
import { beforeAll, describe, expect, it } from "vitest";
import { AbortError, compileAssemblyScript, readString } from "../support/asc.ts";
import { atomicImports, newArchState } from "../support/archMock.ts";

const MEMORY_BYTES = 32 << 20;
const MiB = 1 << 20;
const TAG_FS = 6;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLL_FREE = 0x4000;
const EBADF = 9;
const EMFILE = 24;
const ESPIPE = 29;

interface Vfs {
  memory: WebAssembly.Memory;
  physicalInit(metadata: number, maxAddress: bigint): void;
  physicalAddFree(start: bigint, end: bigint): void;
  heapBytesInUse(tag: number): number;
  makeFile(status: number, node: number): number;
  refs(file: number): number;
  get(file: number): void;
  put(file: number): void;
  releasedCount(): number;
  lastReleased(): number;
  setReadiness(events: number): void;
  poll(file: number): number;
  install(file: number, cloexec: number, lowest: number, limit: number): bigint;
  installAt(fd: number, file: number, cloexec: number, limit: number): bigint;
  lookup(fd: bigint): number;
  fdClose(fd: bigint): bigint;
  fdGetCloexec(fd: bigint): bigint;
  fdSetCloexec(fd: bigint, cloexec: number): bigint;
  fdOpenCount(): number;
  fileSeek(file: number, offset: bigint, whence: number): bigint;
  readAt(file: number, count: bigint, position: number): bigint;
  write(file: number, count: bigint): bigint;
  ioctl(file: number, request: number): bigint;
  allocZeroed(bytes: number): number;
  hookCreate(): number;
  hookAdd(file: number, hook: number): void;
  hookRemove(hook: number): void;
  hookEvents(hook: number): number;
  hookCalls(hook: number): number;
  hookOnHead(hook: number): number;
  hookFree(hook: number): void;
  notify(file: number, events: number): void;
}

let module: WebAssembly.Module;

beforeAll(async () => {
  module = await WebAssembly.compile(
    await compileAssemblyScript("tests/vfs/entries/vfsEntry.ts", { initialPages: MEMORY_BYTES >> 16 }),
  );
}, 60_000);

async function setup(): Promise<Vfs> {
  let memory: WebAssembly.Memory | undefined;
  const arch: Record<string, unknown> = atomicImports(() => memory!, newArchState());
  // Imports the tested code never reaches (user-memory access) fail loudly if it does.
  for (const entry of WebAssembly.Module.imports(module)) {
    if (entry.module === "arch" && !(entry.name in arch)) {
      arch[entry.name] = () => { throw new Error(`unexpected import arch.${entry.name}`); };
    }
  }
  const imports = {
    env: {
      abort(message: number, file: number, line: number, column: number): never {
        throw new AbortError(`${readString(memory!, message)} (${readString(memory!, file)}:${line}:${column})`);
      },
    },
    arch,
  };
  const instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
  const vfs = instance.exports as unknown as Vfs;
  memory = vfs.memory;
  vfs.physicalInit(MiB, BigInt(MEMORY_BYTES));
  vfs.physicalAddFree(BigInt(2 * MiB), BigInt(MEMORY_BYTES));
  return vfs;
}

const RDONLY = 0, WRONLY = 1, RDWR = 2;

describe("open files", () => {
  it("are released exactly once, when the last reference goes", async () => {
    const vfs = await setup();
    const before = vfs.heapBytesInUse(TAG_FS);
    const file = vfs.makeFile(RDWR, 77);
    expect(vfs.refs(file)).toBe(1);
    vfs.get(file);
    vfs.get(file);
    vfs.put(file);
    vfs.put(file);
    expect(vfs.releasedCount()).toBe(0);
    vfs.put(file);
    expect(vfs.releasedCount()).toBe(1);
    expect(vfs.lastReleased()).toBe(77);
    expect(vfs.heapBytesInUse(TAG_FS)).toBe(before);
  });

  it("check the access mode before calling the type", async () => {
    const vfs = await setup();
    const readOnly = vfs.makeFile(RDONLY, 0);
    const writeOnly = vfs.makeFile(WRONLY, 0);
    expect(vfs.write(readOnly, 5n)).toBe(BigInt(-EBADF));
    expect(vfs.write(writeOnly, 5n)).toBe(5n);
    const position = vfs.allocZeroed(8);
    expect(vfs.readAt(writeOnly, 5n, position)).toBe(BigInt(-EBADF));
    expect(vfs.readAt(readOnly, 5n, position)).toBe(5n);
    expect(vfs.readAt(readOnly, 3n, position)).toBe(3n);
    expect(new DataView(vfs.memory.buffer).getBigUint64(position, true)).toBe(8n);
  });

  it("answer missing operations as Linux does", async () => {
    const vfs = await setup();
    const file = vfs.makeFile(RDWR, 0);
    expect(vfs.fileSeek(file, 0n, 0)).toBe(BigInt(-ESPIPE));
    expect(vfs.ioctl(file, 0x5401)).toBe(0x5401n); // the type's own ioctl
    vfs.setReadiness(POLLOUT);
    expect(vfs.poll(file)).toBe(POLLOUT);
  });
});

describe("the descriptor table", () => {
  it("hands out the lowest free number and honours the limit", async () => {
    const vfs = await setup();
    const a = vfs.makeFile(RDWR, 1);
    const b = vfs.makeFile(RDWR, 2);
    const c = vfs.makeFile(RDWR, 3);
    expect(vfs.install(a, 0, 0, 1024)).toBe(0n);
    expect(vfs.install(b, 0, 0, 1024)).toBe(1n);
    expect(vfs.fdClose(0n)).toBe(0n);
    expect(vfs.releasedCount()).toBe(1);
    expect(vfs.install(c, 0, 0, 1024)).toBe(0n);
    expect(vfs.lookup(0n)).toBe(c);
    expect(vfs.lookup(1n)).toBe(b);
    expect(vfs.lookup(2n)).toBe(0);
    expect(vfs.lookup(-1n)).toBe(0);
    expect(vfs.lookup(1n << 40n)).toBe(0);
    const d = vfs.makeFile(RDWR, 4);
    expect(vfs.install(d, 0, 0, 2)).toBe(BigInt(-EMFILE));
    expect(vfs.refs(d)).toBe(1); // still the caller's
    expect(vfs.fdOpenCount()).toBe(2);
  });

  it("grows past its first size and keeps every entry", async () => {
    const vfs = await setup();
    const files: number[] = [];
    for (let i = 0; i < 300; i++) {
      const file = vfs.makeFile(RDWR, i + 1);
      files.push(file);
      expect(vfs.install(file, i % 2, 0, 4096)).toBe(BigInt(i));
    }
    for (let i = 0; i < 300; i++) {
      expect(vfs.lookup(BigInt(i))).toBe(files[i]);
      expect(vfs.fdGetCloexec(BigInt(i))).toBe(BigInt(i % 2));
    }
    for (let i = 0; i < 300; i++) expect(vfs.fdClose(BigInt(i))).toBe(0n);
    expect(vfs.releasedCount()).toBe(300);
    expect(vfs.fdOpenCount()).toBe(0);
    expect(vfs.fdClose(5n)).toBe(BigInt(-EBADF));
  });

  it("dup2-style installs share the File and close what they replace", async () => {
    const vfs = await setup();
    const a = vfs.makeFile(RDWR, 1);
    const b = vfs.makeFile(RDWR, 2);
    expect(vfs.install(a, 0, 0, 1024)).toBe(0n);
    expect(vfs.install(b, 0, 0, 1024)).toBe(1n);
    expect(vfs.installAt(1, a, 1, 1024)).toBe(0n);
    expect(vfs.releasedCount()).toBe(1); // b went
    expect(vfs.lastReleased()).toBe(2);
    expect(vfs.refs(a)).toBe(2);
    expect(vfs.fdGetCloexec(1n)).toBe(1n);
    expect(vfs.fdSetCloexec(1n, 0)).toBe(0n);
    expect(vfs.fdGetCloexec(1n)).toBe(0n);
    expect(vfs.installAt(9, a, 0, 8)).toBe(BigInt(-EBADF)); // at or past the limit
    expect(vfs.fdClose(0n)).toBe(0n);
    expect(vfs.releasedCount()).toBe(1);
    expect(vfs.fdClose(1n)).toBe(0n);
    expect(vfs.releasedCount()).toBe(2);
  });
});

describe("readiness hooks", () => {
  it("tell every hook what changed until it is removed", async () => {
    const vfs = await setup();
    const file = vfs.makeFile(RDWR, 0);
    const first = vfs.hookCreate();
    const second = vfs.hookCreate();
    vfs.hookAdd(file, first);
    vfs.hookAdd(file, second);
    vfs.notify(file, POLLIN);
    expect(vfs.hookEvents(first)).toBe(POLLIN);
    expect(vfs.hookEvents(second)).toBe(POLLIN);
    vfs.hookRemove(first);
    vfs.hookRemove(first); // twice is harmless
    vfs.notify(file, POLLOUT);
    expect(vfs.hookCalls(first)).toBe(1);
    expect(vfs.hookCalls(second)).toBe(2);
    expect(vfs.hookEvents(second)).toBe(POLLIN | POLLOUT);
  });

  it("are unlinked and told POLL_FREE when the file is released", async () => {
    const vfs = await setup();
    const file = vfs.makeFile(RDWR, 0);
    const hooks = [vfs.hookCreate(), vfs.hookCreate(), vfs.hookCreate()];
    for (const hook of hooks) vfs.hookAdd(file, hook);
    vfs.put(file);
    for (const hook of hooks) {
      expect(vfs.hookEvents(hook) & POLL_FREE).toBe(POLL_FREE);
      expect(vfs.hookOnHead(hook)).toBe(0);
      vfs.hookRemove(hook); // after the file is gone: must not touch it
      vfs.hookFree(hook);
    }
    expect(vfs.releasedCount()).toBe(1);
  });
});
