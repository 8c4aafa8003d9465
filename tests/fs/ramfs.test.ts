// ramfs (fs/ramfs) compiled to wasm and run in Node on the real page
// allocator and heap: names, data, link counts, rename rules, readdir
// cursors, and a randomized run checked against a model in JS.
import { beforeAll, describe, expect, it } from "vitest";
import { compileAssemblyScript } from "../support/asc.ts";
import { instantiate, MEMORY_BYTES, type MmExports, prng } from "../mm/harness.ts";

const ENOENT = -2, EEXIST = -17, ENOTDIR = -20, EISDIR = -21, EINVAL = -22, ENOTEMPTY = -39, ENXIO = -6;
const MiB = 1 << 20;
const PAGE = 4096;

interface RamfsExports extends MmExports {
  fsCreate(dev: number, now: bigint): number;
  fsRoot(fs: number): number;
  fsInodes(fs: number): number;
  fsPages(fs: number): bigint;
  create(fs: number, dir: number, name: number, length: number, directory: number, now: bigint): bigint;
  link(dir: number, name: number, length: number, inode: number, now: bigint): number;
  lookup(dir: number, name: number, length: number): number;
  unlink(dir: number, name: number, length: number, directory: number, now: bigint): number;
  rename(od: number, on: number, ol: number, nd: number, nn: number, nl: number, flags: number, now: bigint): number;
  write(inode: number, offset: bigint, source: number, count: bigint, now: bigint): bigint;
  read(inode: number, offset: bigint, out: number, count: bigint): bigint;
  truncate(inode: number, size: bigint, now: bigint): number;
  seek(inode: number, offset: bigint, hole: number): bigint;
  hold(inode: number): void;
  release(inode: number): void;
  inodeSize(inode: number): bigint;
  inodeNlink(inode: number): number;
  inodeIno(inode: number): bigint;
  inodeMtime(inode: number): bigint;
  inodePages(inode: number): number;
  inodeEntries(inode: number): number;
  next(dir: number, cookie: bigint): number;
  entryName(entry: number): number;
  entryLength(entry: number): number;
  entryCookie(entry: number): bigint;
  entryInode(entry: number): number;
}

let module: WebAssembly.Module;
beforeAll(async () => {
  const binary = await compileAssemblyScript("tests/fs/entries/ramfsEntry.ts", { initialPages: MEMORY_BYTES >> 16 });
  module = await WebAssembly.compile(binary);
}, 120_000);

/** A ramfs with helpers that pass names and buffers through a scratch area. */
class Fs {
  scratch = 0;
  fs = 0;
  root = 0;
  constructor(readonly m: RamfsExports) {}
  static async make(): Promise<Fs> {
    const { mm } = await instantiate(module);
    const m = mm as RamfsExports;
    m.physicalInit(MiB, BigInt(MEMORY_BYTES));
    m.physicalAddFree(BigInt(2 * MiB), BigInt(MEMORY_BYTES));
    const f = new Fs(m);
    f.scratch = m.heapAlloc(1 << 20, 6);
    f.fs = m.fsCreate(1, 1n);
    f.root = m.fsRoot(f.fs);
    return f;
  }
  name(text: string, at = 0): [number, number] {
    const bytes = Buffer.from(text);
    new Uint8Array(this.m.memory.buffer).set(bytes, this.scratch + at);
    return [this.scratch + at, bytes.length];
  }
  create(dir: number, name: string, directory = false): number {
    const [p, n] = this.name(name);
    return Number(this.m.create(this.fs, dir, p, n, directory ? 1 : 0, 5n));
  }
  lookup(dir: number, name: string): number {
    const [p, n] = this.name(name);
    return this.m.lookup(dir, p, n);
  }
  unlink(dir: number, name: string, directory = false): number {
    const [p, n] = this.name(name);
    return this.m.unlink(dir, p, n, directory ? 1 : 0, 6n);
  }
  rename(od: number, on: string, nd: number, nn: string, flags = 0): number {
    const [p1, n1] = this.name(on);
    const [p2, n2] = this.name(nn, 512);
    return this.m.rename(od, p1, n1, nd, p2, n2, flags, 7n);
  }
  write(inode: number, offset: number, data: Uint8Array): number {
    new Uint8Array(this.m.memory.buffer).set(data, this.scratch + 4096);
    return Number(this.m.write(inode, BigInt(offset), this.scratch + 4096, BigInt(data.length), 8n));
  }
  read(inode: number, offset: number, count: number): Buffer {
    const n = Number(this.m.read(inode, BigInt(offset), this.scratch + 4096, BigInt(count)));
    return Buffer.from(this.m.memory.buffer.slice(this.scratch + 4096, this.scratch + 4096 + n));
  }
  list(dir: number): string[] {
    const names: string[] = [];
    let cookie = 0n;
    for (let e = this.m.next(dir, cookie); e !== 0; e = this.m.next(dir, cookie)) {
      const p = this.m.entryName(e);
      names.push(Buffer.from(this.m.memory.buffer.slice(p, p + this.m.entryLength(e))).toString());
      cookie = this.m.entryCookie(e);
    }
    return names;
  }
}

describe("ramfs", () => {
  it("creates, looks up, writes, reads, truncates and unlinks files", async () => {
    const f = await Fs.make();
    const a = f.create(f.root, "a");
    expect(a).toBeGreaterThan(0);
    expect(f.lookup(f.root, "a")).toBe(a);
    expect(f.lookup(f.root, "b")).toBe(0);
    expect(f.create(f.root, "a")).toBe(EEXIST);
    expect(f.m.inodeNlink(a)).toBe(1);
    const text = Buffer.from("hello, ramfs");
    expect(f.write(a, 0, text)).toBe(text.length);
    expect(f.read(a, 0, 100).toString()).toBe("hello, ramfs");
    expect(f.read(a, 7, 3).toString()).toBe("ram");
    expect(f.m.inodeMtime(a)).toBe(8n);
    // Sparse: a write far away leaves a hole of zeros and allocates one page.
    expect(f.write(a, 5 * PAGE + 10, Buffer.from("xyz"))).toBe(3);
    expect(Number(f.m.inodeSize(a))).toBe(5 * PAGE + 13);
    expect(f.m.inodePages(a)).toBe(2);
    expect(f.read(a, 3 * PAGE, 16).equals(Buffer.alloc(16))).toBe(true);
    expect(Number(f.m.seek(a, 0n, 0))).toBe(0);
    expect(Number(f.m.seek(a, 100n, 1))).toBe(PAGE);
    expect(Number(f.m.seek(a, BigInt(PAGE), 0))).toBe(5 * PAGE);
    expect(Number(f.m.seek(a, BigInt(5 * PAGE + 20), 0))).toBe(ENXIO);
    // Truncate down zeroes the tail: growing again reads zeros there.
    expect(f.m.truncate(a, 5n, 9n)).toBe(0);
    expect(f.m.inodePages(a)).toBe(1);
    expect(f.m.truncate(a, 12n, 9n)).toBe(0);
    expect(f.read(a, 0, 100).toString()).toBe("hello\0\0\0\0\0\0\0");
    expect(f.unlink(f.root, "a")).toBe(0);
    expect(f.lookup(f.root, "a")).toBe(0);
    expect(f.unlink(f.root, "a")).toBe(ENOENT);
    expect(f.m.fsInodes(f.fs)).toBe(1);
    expect(f.m.fsPages(f.fs)).toBe(0n);
  });

  it("keeps an unlinked file while it is held, and counts hard links", async () => {
    const f = await Fs.make();
    const a = f.create(f.root, "a");
    const [p, n] = f.name("b");
    expect(f.m.link(f.root, p, n, a, 1n)).toBe(0);
    expect(f.m.inodeNlink(a)).toBe(2);
    f.m.hold(a);
    expect(f.unlink(f.root, "a")).toBe(0);
    expect(f.unlink(f.root, "b")).toBe(0);
    expect(f.m.inodeNlink(a)).toBe(0);
    expect(f.write(a, 0, Buffer.from("still here"))).toBe(10);
    expect(f.read(a, 0, 10).toString()).toBe("still here");
    expect(f.m.fsInodes(f.fs)).toBe(2);
    f.m.release(a);
    expect(f.m.fsInodes(f.fs)).toBe(1);
    expect(f.m.fsPages(f.fs)).toBe(0n);
  });

  it("follows Linux's rules for directories and rename", async () => {
    const f = await Fs.make();
    const d = f.create(f.root, "d", true);
    const e = f.create(d, "e", true);
    const x = f.create(d, "x");
    expect(f.m.inodeNlink(f.root)).toBe(3);
    expect(f.m.inodeNlink(d)).toBe(3);
    expect(f.unlink(f.root, "d")).toBe(EISDIR);
    expect(f.unlink(f.root, "d", true)).toBe(ENOTEMPTY);
    expect(f.unlink(d, "x", true)).toBe(ENOTDIR);
    expect(f.rename(f.root, "d", e, "inside")).toBe(EINVAL);
    expect(f.rename(d, "x", d, "e")).toBe(EISDIR);
    expect(f.rename(d, "e", d, "x")).toBe(ENOTDIR);
    expect(f.rename(d, "missing", d, "y")).toBe(ENOENT);
    const y = f.create(d, "y");
    expect(f.rename(d, "x", d, "y", 1)).toBe(EEXIST);
    expect(f.rename(d, "x", d, "y")).toBe(0);
    expect(f.lookup(d, "y")).toBe(x);
    expect(f.lookup(d, "x")).toBe(0);
    expect(f.m.inodeNlink(y)).toBe(0); // replaced and freed: only its count is read here
    // Exchange a file and a directory across directories.
    expect(f.rename(d, "y", f.root, "d", 2)).toBe(EINVAL); // d would go below itself
    const g = f.create(f.root, "g", true);
    expect(f.rename(d, "y", f.root, "g", 2)).toBe(0);
    expect(f.lookup(f.root, "g")).toBe(x);
    expect(f.lookup(d, "y")).toBe(g);
    expect(f.m.inodeNlink(d)).toBe(4);
    expect(f.m.inodeNlink(f.root)).toBe(3);
    expect(f.rename(f.root, "g", f.root, "h", 3)).toBe(EINVAL);
    // Move a directory up; the old parent loses a link.
    expect(f.rename(d, "e", f.root, "e")).toBe(0);
    expect(f.m.inodeNlink(d)).toBe(3);
    expect(f.m.inodeNlink(f.root)).toBe(4);
    expect(f.unlink(f.root, "e", true)).toBe(0);
    expect(f.m.inodeNlink(f.root)).toBe(3);
  });

  it("resumes a listing from a cookie without repeats or skips", async () => {
    const f = await Fs.make();
    for (let i = 0; i < 20; i++) f.create(f.root, `f${i}`);
    let cookie = 0n;
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const e = f.m.next(f.root, cookie);
      const p = f.m.entryName(e);
      seen.push(Buffer.from(f.m.memory.buffer.slice(p, p + f.m.entryLength(e))).toString());
      cookie = f.m.entryCookie(e);
    }
    // Changes behind and ahead of the cursor.
    expect(f.unlink(f.root, "f3")).toBe(0);
    expect(f.unlink(f.root, "f15")).toBe(0);
    f.create(f.root, "late");
    for (let e = f.m.next(f.root, cookie); e !== 0; e = f.m.next(f.root, cookie)) {
      const p = f.m.entryName(e);
      seen.push(Buffer.from(f.m.memory.buffer.slice(p, p + f.m.entryLength(e))).toString());
      cookie = f.m.entryCookie(e);
    }
    const expected = [...Array.from({ length: 20 }, (_, i) => `f${i}`).filter((n) => n !== "f15"), "late"];
    expect(seen).toEqual(expected);
  });

  it("finds names in a large directory through its hash table as entries come and go", async () => {
    const f = await Fs.make();
    const heapBefore = f.m.heapBytesInUse(6);
    const inodes = new Map<string, number>();
    for (let i = 0; i < 3000; i++) inodes.set(`file-${i}`, f.create(f.root, `file-${i}`));
    for (const [name, inode] of inodes) expect(f.lookup(f.root, name)).toBe(inode);
    expect(f.lookup(f.root, "file-3000")).toBe(0);
    for (let i = 0; i < 3000; i += 3) expect(f.unlink(f.root, `file-${i}`)).toBe(0);
    for (let i = 0; i < 3000; i++) expect(f.lookup(f.root, `file-${i}`) !== 0).toBe(i % 3 !== 0);
    expect(f.m.inodeEntries(f.root)).toBe(2000);
    expect(f.list(f.root).length).toBe(2000);
    for (let i = 0; i < 3000; i++) if (i % 3 !== 0) expect(f.unlink(f.root, `file-${i}`)).toBe(0);
    expect(f.m.fsInodes(f.fs)).toBe(1);
    // Empty again: the table went with the entries.
    expect(f.m.heapBytesInUse(6)).toBe(heapBefore);
  });

  it("matches a model over a bounded random run, and frees everything at the end", async () => {
    const f = await Fs.make();
    const random = prng(1234);
    const heapBefore = f.m.heapBytesInUse(6);
    const model = new Map<string, Buffer>();
    const names = Array.from({ length: 24 }, (_, i) => `n${i}`);
    for (let step = 0; step < 3000; step++) {
      const name = names[random(names.length)];
      const inode = f.lookup(f.root, name);
      expect(inode !== 0).toBe(model.has(name));
      switch (random(6)) {
        case 0:
          expect(f.create(f.root, name) > 0).toBe(!model.has(name));
          if (!model.has(name)) model.set(name, Buffer.alloc(0));
          break;
        case 1:
          expect(f.unlink(f.root, name)).toBe(model.has(name) ? 0 : ENOENT);
          model.delete(name);
          break;
        case 2: {
          if (inode === 0) break;
          const offset = random(3 * PAGE);
          const data = Buffer.alloc(random(2 * PAGE) + 1, random(255) + 1);
          expect(f.write(inode, offset, data)).toBe(data.length);
          const old = model.get(name)!;
          const grown = Buffer.alloc(Math.max(old.length, offset + data.length));
          old.copy(grown);
          data.copy(grown, offset);
          model.set(name, grown);
          break;
        }
        case 3: {
          if (inode === 0) break;
          const size = random(4 * PAGE);
          expect(f.m.truncate(inode, BigInt(size), 1n)).toBe(0);
          const old = model.get(name)!;
          const resized = Buffer.alloc(size);
          old.copy(resized, 0, 0, Math.min(size, old.length));
          model.set(name, resized);
          break;
        }
        case 4: {
          const to = names[random(names.length)];
          const result = f.rename(f.root, name, f.root, to);
          expect(result).toBe(model.has(name) ? 0 : ENOENT);
          if (model.has(name) && name !== to) {
            model.set(to, model.get(name)!);
            model.delete(name);
          }
          break;
        }
        default:
          if (inode === 0) break;
          expect(f.read(inode, 0, 5 * PAGE).equals(model.get(name)!)).toBe(true);
      }
    }
    expect(f.list(f.root).sort()).toEqual([...model.keys()].sort());
    for (const name of model.keys()) expect(f.unlink(f.root, name)).toBe(0);
    expect(f.m.fsInodes(f.fs)).toBe(1);
    expect(f.m.fsPages(f.fs)).toBe(0n);
    expect(f.m.heapBytesInUse(6)).toBe(heapBefore);
  });
});
