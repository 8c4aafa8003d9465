/**
 * Just enough ELF64 to load a PVH kernel: program headers (PT_LOAD, PT_NOTE)
 * and the notes inside PT_NOTE segments. Little-endian x86-64 only.
 */
import { ImageError } from "./errors.js";
import { hex, u64, view } from "./bytes.js";

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const EM_X86_64 = 62;
export const ET_EXEC = 2;
/** Xen's ELF note type giving the 32-bit physical entry point (PVH). */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;

const ELF_HEADER_SIZE = 64;
const PHDR_SIZE = 56;

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface Elf64 {
  type: number;
  machine: number;
  entry: bigint;
  programHeaders: ProgramHeader[];
}

/** Parses the ELF header and program headers, checking they lie in the file. */
export function parseElf64(file: Uint8Array): Elf64 {
  if (file.length < 4 || file[0] !== 0x7f || file[1] !== 0x45 || file[2] !== 0x4c || file[3] !== 0x46) {
    throw new ImageError("not an ELF file (no \\x7fELF magic)");
  }
  if (file.length < ELF_HEADER_SIZE) throw new ImageError("ELF file truncated inside its header");
  if (file[4] !== 2) throw new ImageError("not a 64-bit ELF file (EI_CLASS is not ELFCLASS64)");
  if (file[5] !== 1) throw new ImageError("not a little-endian ELF file");
  const dv = view(file);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64) throw new ImageError(`ELF machine is ${machine}, not x86-64 (${EM_X86_64})`);
  if (type !== ET_EXEC) throw new ImageError(`ELF type is ${type}, not an executable (ET_EXEC)`);
  const entry = dv.getBigUint64(24, true);
  const phoff = u64(dv, 32, true, "e_phoff");
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phnum === 0) throw new ImageError("ELF file has no program headers");
  if (phentsize < PHDR_SIZE) throw new ImageError(`ELF program header size ${phentsize} is too small`);
  if (phoff + phnum * phentsize > file.length) throw new ImageError("ELF program headers lie past the end of the file");

  const programHeaders: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    const what = `program header ${i}`;
    const ph: ProgramHeader = {
      type: dv.getUint32(o, true),
      flags: dv.getUint32(o + 4, true),
      offset: checkedU64(dv, o + 8, `${what} p_offset`),
      vaddr: dv.getBigUint64(o + 16, true),
      paddr: checkedU64(dv, o + 24, `${what} p_paddr`),
      filesz: checkedU64(dv, o + 32, `${what} p_filesz`),
      memsz: checkedU64(dv, o + 40, `${what} p_memsz`),
      align: checkedU64(dv, o + 48, `${what} p_align`),
    };
    if ((ph.type === PT_LOAD || ph.type === PT_NOTE) && ph.offset + ph.filesz > file.length) {
      throw new ImageError(`${what} (type ${ph.type}) lies past the end of the file`);
    }
    programHeaders.push(ph);
  }
  return { type, machine, entry, programHeaders };
}

function checkedU64(dv: DataView, offset: number, what: string): number {
  try {
    return u64(dv, offset, true, what);
  } catch (e) {
    throw new ImageError(`ELF ${(e as Error).message}`);
  }
}

/** All notes of all PT_NOTE segments. */
export function readNotes(file: Uint8Array, elf: Elf64): ElfNote[] {
  const notes: ElfNote[] = [];
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_NOTE) continue;
    // Notes are padded to 4 bytes, or to 8 when the segment says so.
    const align = ph.align === 8 ? 8 : 4;
    const seg = file.subarray(ph.offset, ph.offset + ph.filesz);
    const dv = view(seg);
    let o = 0;
    while (o + 12 <= seg.length) {
      const namesz = dv.getUint32(o, true);
      const descsz = dv.getUint32(o + 4, true);
      const type = dv.getUint32(o + 8, true);
      const nameStart = o + 12;
      const descStart = nameStart + padTo(namesz, align);
      const next = descStart + padTo(descsz, align);
      if (descStart + descsz > seg.length) throw new ImageError("ELF note runs past the end of its PT_NOTE segment");
      let nameEnd = nameStart + namesz;
      if (namesz > 0 && seg[nameEnd - 1] === 0) nameEnd--;
      const name = new TextDecoder().decode(seg.subarray(nameStart, nameEnd));
      notes.push({ name, type, desc: seg.slice(descStart, descStart + descsz) });
      o = next;
    }
  }
  return notes;
}

function padTo(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** The PVH 32-bit entry address from the "Xen" PHYS32_ENTRY note. */
export function findPvhEntry(notes: ElfNote[]): number {
  const note = notes.find((n) => n.name === "Xen" && n.type === XEN_ELFNOTE_PHYS32_ENTRY);
  if (!note) {
    throw new ImageError("kernel has no PVH entry note (PT_NOTE \"Xen\", type 18 XEN_ELFNOTE_PHYS32_ENTRY)");
  }
  const dv = view(note.desc);
  if (note.desc.length === 4) return dv.getUint32(0, true);
  if (note.desc.length === 8) {
    const v = dv.getBigUint64(0, true);
    if (v >= 1n << 32n) throw new ImageError(`PVH entry 0x${v.toString(16)} is above 4 GiB`);
    return Number(v);
  }
  throw new ImageError(`PVH entry note has a ${note.desc.length}-byte descriptor (want 4 or 8)`);
}

/** The lowest physical address a kernel may load at: everything below is the loader's. */
export const MIN_LOAD_ADDR = 0x100000;
/** The loader copies the kernel below this physical address (1 GiB). */
export const MAX_LOAD_END = 0x4000_0000;
/** The largest kernel blob the image builder accepts. */
export const MAX_KERNEL_BYTES = 128 * 1024 * 1024;

export interface KernelImage {
  /** Physical address of blob[0] (the lowest p_paddr of a PT_LOAD with file bytes). */
  loadAddr: number;
  /** PT_LOAD file bytes placed at p_paddr - loadAddr, gaps zero-filled. */
  blob: Uint8Array;
  /** Physical PVH entry address. */
  entry: number;
  /** Number of PT_LOAD segments with file bytes. */
  segments: number;
}

/**
 * Flattens the PT_LOAD segments (by p_paddr, file bytes only: the kernel
 * zeroes its own .bss) into one blob and finds the PVH entry.
 */
export function loadKernelImage(file: Uint8Array): KernelImage {
  const elf = parseElf64(file);
  const entry = findPvhEntry(readNotes(file, elf));
  const loads = elf.programHeaders
    .filter((ph) => ph.type === PT_LOAD && ph.filesz > 0)
    .sort((a, b) => a.paddr - b.paddr);
  if (loads.length === 0) throw new ImageError("kernel has no PT_LOAD segment with file bytes");
  for (const ph of loads) {
    if (ph.filesz > ph.memsz) throw new ImageError(`PT_LOAD at ${hex(ph.paddr)} has p_filesz > p_memsz`);
    if (ph.paddr < MIN_LOAD_ADDR) {
      throw new ImageError(`PT_LOAD at physical ${hex(ph.paddr)} is below ${hex(MIN_LOAD_ADDR)} (p_paddr must be >= 1 MiB)`);
    }
  }
  for (let i = 1; i < loads.length; i++) {
    const prev = loads[i - 1];
    if (prev.paddr + prev.filesz > loads[i].paddr) {
      throw new ImageError(`PT_LOAD segments at ${hex(prev.paddr)} and ${hex(loads[i].paddr)} overlap`);
    }
  }
  const loadAddr = loads[0].paddr;
  const end = Math.max(...loads.map((ph) => ph.paddr + ph.filesz));
  const size = end - loadAddr;
  if (size > MAX_KERNEL_BYTES) {
    throw new ImageError(`kernel too big: its PT_LOAD file bytes span ${size} bytes (limit ${MAX_KERNEL_BYTES})`);
  }
  if (end > MAX_LOAD_END) {
    throw new ImageError(`kernel too big: it would load up to ${hex(end)}, past the loader's limit ${hex(MAX_LOAD_END)}`);
  }
  if (entry < loadAddr || entry >= end) {
    throw new ImageError(`PVH entry ${hex(entry)} is outside the loaded range ${hex(loadAddr)}..${hex(end)}`);
  }
  const blob = new Uint8Array(size);
  for (const ph of loads) blob.set(file.subarray(ph.offset, ph.offset + ph.filesz), ph.paddr - loadAddr);
  return { loadAddr, blob, entry, segments: loads.length };
}
