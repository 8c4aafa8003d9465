import { describe, expect, it } from "vitest";
import { PT_NOTE, findPvhEntry, loadKernelImage, parseElf64, readNotes } from "../../scripts/image/elf.js";
import { ImageError } from "../../scripts/image/errors.js";
import { makeElf, note, noteSegment, pattern, pvhNote, simpleKernel } from "./elfBuilder.js";

describe("ELF64 reader", () => {
  it("flattens PT_LOADs by p_paddr, zero-filling gaps and ignoring p_vaddr", () => {
    const text = pattern(5000, 1);
    const data = pattern(3000, 2);
    const file = makeElf({
      segments: [
        { paddr: 0x110000, data },
        noteSegment([note("GNU", 3, new Uint8Array(20)), pvhNote(0x100010)]),
        { paddr: 0x100000, data: text, memsz: 0x8000 },
        { paddr: 0x200000, data: new Uint8Array(0), memsz: 0x10000 }, // pure .bss: no file bytes
      ],
    });
    const k = loadKernelImage(file);
    expect(k.loadAddr).toBe(0x100000);
    expect(k.entry).toBe(0x100010);
    expect(k.segments).toBe(2);
    expect(k.blob.length).toBe(0x10000 + 3000);
    expect(k.blob.subarray(0, 5000)).toEqual(text);
    expect(k.blob.subarray(5000, 0x10000).every((b) => b === 0)).toBe(true);
    expect(k.blob.subarray(0x10000)).toEqual(data);
  });

  it("reads 4- and 8-byte PVH descriptors and 8-aligned notes", () => {
    for (const [bytes, align] of [[4, 4], [8, 4], [4, 8], [8, 8]] as const) {
      const file = makeElf({ segments: [{ paddr: 0x100000, data: pattern(64, 3) }, noteSegment([note("X", 1, new Uint8Array(3), align), pvhNote(0x100020, bytes, align)], align)] });
      const elf = parseElf64(file);
      expect(elf.programHeaders.some((p) => p.type === PT_NOTE)).toBe(true);
      const notes = readNotes(file, elf);
      expect(notes.map((n) => n.name)).toEqual(["X", "Xen"]);
      expect(findPvhEntry(notes)).toBe(0x100020);
    }
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ["a non-ELF file", () => new TextEncoder().encode("#!/bin/sh\necho hi\n"), /not an ELF file/],
    ["a truncated header", () => simpleKernel().subarray(0, 40), /truncated/],
    ["ELF32", () => makeElf({ elfClass: 1, segments: [{ paddr: 0x100000, data: pattern(16, 1) }] }), /not a 64-bit ELF/],
    ["big endian", () => makeElf({ dataEncoding: 2, segments: [{ paddr: 0x100000, data: pattern(16, 1) }] }), /not a little-endian/],
    ["another machine", () => makeElf({ machine: 183, segments: [{ paddr: 0x100000, data: pattern(16, 1) }] }), /not x86-64/],
    ["a shared object", () => makeElf({ type: 3, segments: [{ paddr: 0x100000, data: pattern(16, 1) }] }), /not an executable/],
    ["no PVH note", () => makeElf({ segments: [{ paddr: 0x100000, data: pattern(16, 1) }, noteSegment([note("GNU", 3, new Uint8Array(4))])] }), /no PVH entry note/],
    ["no PT_NOTE at all", () => makeElf({ segments: [{ paddr: 0x100000, data: pattern(16, 1) }] }), /no PVH entry note/],
    ["a 2-byte PVH descriptor", () => makeElf({ segments: [{ paddr: 0x100000, data: pattern(16, 1) }, noteSegment([note("Xen", 18, new Uint8Array(2))])] }), /2-byte descriptor/],
    ["a load below 1 MiB", () => makeElf({ segments: [{ paddr: 0x8000, data: pattern(16, 1) }, noteSegment([pvhNote(0x8000)])] }), /below 0x100000/],
    ["overlapping loads", () => makeElf({ segments: [{ paddr: 0x100000, data: pattern(0x2000, 1) }, { paddr: 0x101000, data: pattern(16, 2) }, noteSegment([pvhNote(0x100000)])] }), /overlap/],
    ["a kernel spanning 200 MiB", () => makeElf({ segments: [{ paddr: 0x100000, data: pattern(16, 1) }, { paddr: 0x100000 + 200 * 2 ** 20, data: pattern(16, 2) }, noteSegment([pvhNote(0x100000)])] }), /kernel too big/],
    ["a kernel ending above 1 GiB", () => makeElf({ segments: [{ paddr: 0x3fff0000, data: pattern(0x20000, 1) }, noteSegment([pvhNote(0x3fff0000)])] }), /kernel too big/],
    ["an entry outside the kernel", () => simpleKernel(4096, 0x200000), /outside the loaded range/],
    ["a segment past the end of the file", () => makeElf({ segments: [{ paddr: 0x100000, data: pattern(16, 1), offset: 1 << 20 }, noteSegment([pvhNote(0x100000)])] }), /past the end of the file/],
  ];
  for (const [what, make, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => loadKernelImage(make())).toThrow(ImageError);
      expect(() => loadKernelImage(make())).toThrow(message);
    });
  }

  it("refuses program headers past the end of the file", () => {
    const file = simpleKernel();
    new DataView(file.buffer).setUint16(56, 200, true); // e_phnum
    expect(() => parseElf64(file)).toThrow(/program headers lie past the end/);
  });
});
