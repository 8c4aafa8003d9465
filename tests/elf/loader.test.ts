// The kernel's ELF loader (kernel/elf/elf.ts) in Node, against a model of
// the address space (tests/elf/harness.ts): real gcc-built executables, the
// host's real ld-linux-x86-64.so.2 as the interpreter. Checks where Linux
// would put everything (ET_EXEC at its addresses, a PIE at 0x555555554000,
// the interpreter and the vDSO top down below the mmap base), what AT_*
// values come out, that each segment's bytes and protections are right, and
// the failures (missing, unusable interpreter; bad PT_INTERP).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../image/helpers.ts";
import { loadElf, MMAP_BASE, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, type LoadResult } from "./harness.ts";

const ELF_NO_INTERPRETER = -2;
const ELF_BAD_SEGMENTS = -3;
const ELF_BAD_INTERPRETER = -5;
const INTERPRETER = "/lib64/ld-linux-x86-64.so.2";
const VDSO = "build/vdso/vdso.so";

interface Phdr {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

function headers(file: Uint8Array): { type: number; entry: bigint; phoff: bigint; phdrs: Phdr[] } {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const phoff = dv.getBigUint64(32, true);
  const phdrs: Phdr[] = [];
  for (let i = 0; i < dv.getUint16(56, true); i++) {
    const at = Number(phoff) + i * 56;
    phdrs.push({
      type: dv.getUint32(at, true), flags: dv.getUint32(at + 4, true), offset: dv.getBigUint64(at + 8, true),
      vaddr: dv.getBigUint64(at + 16, true), filesz: dv.getBigUint64(at + 32, true), memsz: dv.getBigUint64(at + 40, true),
    });
  }
  return { type: dv.getUint16(16, true), entry: dv.getBigUint64(24, true), phoff, phdrs };
}

const protOf = (flags: number): number => ((flags & 4) ? PROT_READ : 0) | ((flags & 2) ? PROT_WRITE : 0) | ((flags & 1) ? PROT_EXEC : 0);
const pageDown = (v: bigint): bigint => v & ~(PAGE - 1n);
const pageUp = (v: bigint): bigint => (v + PAGE - 1n) & ~(PAGE - 1n);

/** Every PT_LOAD of `file` is in `result.space` at `bias`: its bytes, zeros after them, its protection. */
function expectSegmentsMapped(result: LoadResult, file: Uint8Array, bias: bigint): void {
  const loads = headers(file).phdrs.filter((p) => p.type === 1 && p.memsz > 0n);
  for (const [i, p] of loads.entries()) {
    const at = bias + p.vaddr;
    const bytes = result.space.read(at, Number(p.filesz));
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(file.subarray(Number(p.offset), Number(p.offset + p.filesz))))).toBe(0);
    if (p.memsz > p.filesz) expect(result.space.read(at + p.filesz, Number(p.memsz - p.filesz)).every((b) => b === 0)).toBe(true);
    // Pages wholly inside the segment (not shared with a neighbour) have exactly its protection.
    const first = i > 0 && pageDown(p.vaddr) < pageUp(loads[i - 1].vaddr + loads[i - 1].memsz) ? pageDown(p.vaddr) + PAGE : pageDown(p.vaddr);
    const next = loads[i + 1];
    const last = next && pageDown(next.vaddr) < pageUp(p.vaddr + p.memsz) ? pageDown(p.vaddr + p.memsz) : pageUp(p.vaddr + p.memsz);
    for (let page = first; page < last; page += PAGE) expect(result.space.protectionAt(bias + page)).toBe(protOf(p.flags));
  }
}

const tmp = makeTempDir("elfload");
afterAll(tmp.remove);
const programs: Record<string, Uint8Array> = {};
let interpreter: Uint8Array;
let vdso: Uint8Array | undefined;

beforeAll(() => {
  const source = join(tmp.dir, "hello.c");
  writeFileSync(source, '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
  for (const [name, flags] of [["pie", ["-pie", "-fPIE"]], ["nopie", ["-no-pie"]], ["static", ["-static"]]] as const) {
    const out = join(tmp.dir, name);
    execFileSync("gcc", [...flags, "-O2", "-o", out, source], { stdio: "pipe" });
    programs[name] = readFileSync(out);
  }
  interpreter = readFileSync(realpathSync(INTERPRETER));
  vdso = existsSync(VDSO) ? readFileSync(VDSO) : undefined;
}, 60_000);

describe("a dynamic PIE with its interpreter", () => {
  it("maps the program at 0x555555554000, the interpreter and the vDSO top down, and starts in the interpreter", async () => {
    const program = programs.pie;
    const result = await loadElf(program, { interpreter, vdso });
    expect(result.code).toBe(0);
    expect(result.reads).toEqual([INTERPRETER]);
    // The interpreter's buffer goes back to the heap, once.
    expect(result.freed).toEqual([result.interpreterBuffer]);
    const p = headers(program);
    const i = headers(interpreter);
    const lowest = p.phdrs.filter((h) => h.type === 1).reduce((low, h) => (pageDown(h.vaddr) < low ? pageDown(h.vaddr) : low), 1n << 62n);
    const bias = 0x555555554000n - lowest;
    const { image } = result;
    expect(image.bias).toBe(bias);
    expect(image.entry).toBe(bias + p.entry);
    expect(image.phdr).toBe(bias + p.phdrs.find((h) => h.type === 6)!.vaddr);
    expect(image.phent).toBe(56n);
    expect(image.phnum).toBe(BigInt(p.phdrs.length));
    const end = p.phdrs.filter((h) => h.type === 1).reduce((high, h) => (h.vaddr + h.memsz > high ? h.vaddr + h.memsz : high), 0n);
    expect(image.brk).toBe(pageUp(bias + end));
    expect(result.space.brk).toBe(image.brk);
    expectSegmentsMapped(result, program, bias);

    // The interpreter (an ET_DYN linked at 0) where mmap puts its span: right below the mmap base.
    const span = i.phdrs.filter((h) => h.type === 1).reduce((high, h) => (pageUp(h.vaddr + h.memsz) > high ? pageUp(h.vaddr + h.memsz) : high), 0n);
    expect(image.interpreterBase).toBe(MMAP_BASE - span);
    expect(image.start).toBe(image.interpreterBase + i.entry);
    expectSegmentsMapped(result, interpreter, image.interpreterBase);

    if (vdso) {
      // The vDSO next, below the interpreter: read+exec, its bytes as built.
      expect(image.vdso).toBe(image.interpreterBase - pageUp(BigInt(vdso.length)));
      expect(Buffer.compare(Buffer.from(result.space.read(image.vdso, vdso.length)), vdso)).toBe(0);
      expect(result.space.protectionAt(image.vdso)).toBe(PROT_READ | PROT_EXEC);
      // The kernel's data page right below it, read-only, with its version (1).
      expect(result.space.protectionAt(image.vdso - PAGE)).toBe(PROT_READ);
      expect(new DataView(result.space.read(image.vdso - PAGE, 8).buffer).getUint32(0, true)).toBe(1);
    } else {
      expect(image.vdso).toBe(0n);
    }
  });

  it("maps a non-PIE dynamic executable at its own addresses", async () => {
    const result = await loadElf(programs.nopie, { interpreter });
    expect(result.code).toBe(0);
    expect(result.image.bias).toBe(0n);
    expect(result.image.entry).toBe(headers(programs.nopie).entry);
    expect(result.image.interpreterBase).toBe(MMAP_BASE - pageUp(BigInt(headers(interpreter).phdrs.filter((h) => h.type === 1).reduce((a, h) => (h.vaddr + h.memsz > a ? h.vaddr + h.memsz : a), 0n))));
    expectSegmentsMapped(result, programs.nopie, 0n);
    expect(result.space.regions[0].start).toBe(0x400000n);
  });

  it("fails cleanly when the interpreter cannot be read, mapping nothing", async () => {
    const result = await loadElf(programs.pie, { interpreter: -2 });
    expect(result.code).toBe(ELF_NO_INTERPRETER);
    expect(result.space.regions).toEqual([]);
    expect(result.freed).toEqual([]);
  });

  it("refuses an interpreter that is not an ELF object, or is itself dynamic, and frees its buffer", async () => {
    const garbage = await loadElf(programs.pie, { interpreter: new TextEncoder().encode("#!/bin/sh\necho not an ELF file\n") });
    expect(garbage.code).toBe(ELF_BAD_INTERPRETER);
    expect(garbage.freed).toEqual([garbage.interpreterBuffer]);
    expect(garbage.space.regions).toEqual([]);
    const dynamic = await loadElf(programs.pie, { interpreter: programs.pie });
    expect(dynamic.code).toBe(ELF_BAD_INTERPRETER);
    expect(dynamic.freed).toEqual([dynamic.interpreterBuffer]);
  });

  it("refuses a PT_INTERP path that is not NUL-terminated", async () => {
    const broken = Uint8Array.from(programs.pie);
    const interp = headers(broken).phdrs.find((h) => h.type === 3)!;
    broken[Number(interp.offset + interp.filesz) - 1] = 0x41;
    const result = await loadElf(broken, { interpreter });
    expect(result.code).toBe(ELF_BAD_SEGMENTS);
    expect(result.reads).toEqual([]);
  });
});

describe("a static executable", () => {
  it("needs no interpreter: AT_BASE 0 and it starts at its own entry", async () => {
    const result = await loadElf(programs.static, { interpreter, vdso });
    expect(result.code).toBe(0);
    expect(result.reads).toEqual([]);
    expect(result.image.interpreterBase).toBe(0n);
    expect(result.image.start).toBe(result.image.entry);
    expect(result.image.entry).toBe(headers(programs.static).entry);
    expectSegmentsMapped(result, programs.static, 0n);
    if (vdso) expect(result.image.vdso).toBe(MMAP_BASE - pageUp(BigInt(vdso.length)));
  });
});
