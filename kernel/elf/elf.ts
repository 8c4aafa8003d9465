// ELF64 executables for x86-64 (System V gABI and the x86-64 psABI): checks
// the header and program headers, maps the PT_LOAD segments into the
// application's address space as Linux's binfmt_elf does (one anonymous
// reservation, the file bytes copied in, then each segment's protection),
// starts the brk heap after the highest segment, maps the vDSO and reports
// what the initial stack's auxiliary vector needs.
//
// Static (ET_EXEC), static-PIE (ET_DYN without PT_INTERP) and dynamic
// executables. For PT_INTERP the interpreter (glibc's ld-linux-x86-64.so.2)
// is read whole through vfsReadWholeFile and mapped where mmap places it
// (top down, as Linux maps it); the program starts there, with AT_BASE its
// load address and AT_ENTRY the program's entry. PT_TLS needs nothing here
// (the C library sets up TLS from AT_PHDR); PT_GNU_STACK is ignored, as no
// page is non-executable until the kernel turns NX on.
import { accessCopyOut } from "../../arch/x86_64/access";
import { heapFree } from "../mm/heap";
import { brkInit, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, mmap, mprotect, munmap } from "../mm/mmap";
import { AddressSpace, MMAP_MIN_ADDR, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE } from "../mm/vma";
import { vfsReadWholeFile } from "./interpreterSource";
import { vdsoMap } from "./vdso";

const ELF_HEADER_BYTES: u64 = 64;
const PHDR_BYTES: u64 = 56;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
/** Longest PT_INTERP path accepted (Linux: PATH_MAX). */
const INTERP_MAX: u64 = 4096;

/** Where ET_DYN executables load: Linux's ELF_ET_DYN_BASE on x86-64 (2/3 of
 * the address space) without randomization. */
export const ELF_ET_DYN_BASE: u64 = 0x555555554000;

export const ELF_NOT_EXECUTABLE: i32 = -1;
export const ELF_NO_INTERPRETER: i32 = -2;
export const ELF_BAD_SEGMENTS: i32 = -3;
export const ELF_NO_MEMORY: i32 = -4;
export const ELF_BAD_INTERPRETER: i32 = -5;

export function elfErrorReason(code: i32): string {
  switch (code) {
    case ELF_NOT_EXECUTABLE: return "not an ELF64 x86-64 executable";
    case ELF_NO_INTERPRETER: return "its interpreter (PT_INTERP) cannot be read";
    case ELF_BAD_SEGMENTS: return "bad program headers";
    case ELF_NO_MEMORY: return "cannot map its segments";
    case ELF_BAD_INTERPRETER: return "its interpreter (PT_INTERP) is not a usable ELF64 x86-64 shared object";
  }
  return "unknown error";
}

/** What the loader learned, for the auxiliary vector and the first thread. */
@unmanaged
export class ElfImage {
  /** The program's entry point (AT_ENTRY), load bias applied. */
  entry: u64;
  /** Address of the program headers in memory (AT_PHDR). */
  phdr: u64;
  phent: u64;
  phnum: u64;
  /** What was added to every p_vaddr (0 for ET_EXEC). */
  bias: u64;
  /** Where the brk heap starts. */
  brk: u64;
  /** The interpreter's load address (AT_BASE), 0 without PT_INTERP. */
  interpreterBase: u64;
  /** Where the first thread starts: the interpreter's entry, or `entry`. */
  start: u64;
  /** The vDSO's address (AT_SYSINFO_EHDR), 0 without one. */
  vdso: u64;
}

/** One checked ELF file in kernel memory. */
@unmanaged
class ElfFile {
  file: usize;
  size: u64;
  type: u16;
  headers: usize;
  phoff: u64;
  phnum: u64;
  /** Page-aligned span of the PT_LOAD segments (unbiased). */
  low: u64;
  high: u64;
  /** PT_PHDR's p_vaddr, 0 if absent. */
  phdrAddress: u64;
  /** PT_INTERP's path (file offset, bytes without the NUL); length 0 if none. */
  interpOffset: u64;
  interpLength: u64;
}

// The loader runs on the boot thread only (one program per VM), so its
// records can be static.
const programRecord = memory.data(<i32>offsetof<ElfFile>(), 8);
const interpreterRecord = memory.data(<i32>offsetof<ElfFile>(), 8);
const readResult = memory.data(16, 8);

@inline function pageDown(value: u64): u64 {
  return value & ~(PAGE - 1);
}

@inline function pageUp(value: u64): u64 {
  return (value + PAGE - 1) & ~(PAGE - 1);
}

function protection(flags: u32): u32 {
  let prot: u32 = 0;
  if ((flags & PF_R) != 0) prot |= PROT_READ;
  if ((flags & PF_W) != 0) prot |= PROT_WRITE;
  if ((flags & PF_X) != 0) prot |= PROT_EXEC;
  return prot;
}

/** Checks the header and program headers of [file, file + size) into `elf`. 0 or an ELF_* error. */
function elfCheck(file: usize, size: u64, elf: ElfFile): i32 {
  if (size < ELF_HEADER_BYTES) return ELF_NOT_EXECUTABLE;
  if (load<u32>(file) != 0x464c457f) return ELF_NOT_EXECUTABLE; // \x7fELF
  // ELFCLASS64, ELFDATA2LSB, EV_CURRENT
  if (load<u8>(file, 4) != 2 || load<u8>(file, 5) != 1 || load<u8>(file, 6) != 1) return ELF_NOT_EXECUTABLE;
  let type = load<u16>(file, 16);
  if ((type != ET_EXEC && type != ET_DYN) || load<u16>(file, 18) != EM_X86_64 || load<u32>(file, 20) != 1) {
    return ELF_NOT_EXECUTABLE;
  }
  let phoff = load<u64>(file, 32);
  let phentsize = <u64>load<u16>(file, 54);
  let phnum = <u64>load<u16>(file, 56);
  // As Linux: program headers of the expected size, at most 64 KiB of them.
  if (phentsize != PHDR_BYTES || phnum == 0 || phnum * PHDR_BYTES > 65536) return ELF_NOT_EXECUTABLE;
  if (phoff > size || phnum * PHDR_BYTES > size - phoff) return ELF_NOT_EXECUTABLE;
  let headers = file + <usize>phoff;
  elf.file = file;
  elf.size = size;
  elf.type = type;
  elf.headers = headers;
  elf.phoff = phoff;
  elf.phnum = phnum;
  elf.phdrAddress = 0;
  elf.interpOffset = 0;
  elf.interpLength = 0;

  // Check the segments and find the span they cover.
  let low: u64 = U64.MAX_VALUE;
  let high: u64 = 0;
  let previousEnd: u64 = 0;
  let loads: u32 = 0;
  for (let i: u64 = 0; i < phnum; i++) {
    let ph = headers + <usize>(i * PHDR_BYTES);
    let kind = load<u32>(ph);
    if (kind == PT_INTERP) {
      // A NUL-terminated path inside the file, no NUL before its end.
      let offset = load<u64>(ph, 8);
      let length = load<u64>(ph, 32);
      if (elf.interpLength != 0 || length < 2 || length > INTERP_MAX || offset > size || length > size - offset) {
        return ELF_BAD_SEGMENTS;
      }
      let path = file + <usize>offset;
      if (load<u8>(path + <usize>(length - 1)) != 0) return ELF_BAD_SEGMENTS;
      for (let j: u64 = 0; j < length - 1; j++) if (load<u8>(path + <usize>j) == 0) return ELF_BAD_SEGMENTS;
      elf.interpOffset = offset;
      elf.interpLength = length - 1;
    }
    if (kind == PT_PHDR) elf.phdrAddress = load<u64>(ph, 16);
    if (kind != PT_LOAD) continue;
    let offset = load<u64>(ph, 8);
    let vaddr = load<u64>(ph, 16);
    let filesz = load<u64>(ph, 32);
    let memsz = load<u64>(ph, 40);
    if (memsz == 0) continue;
    if (filesz > memsz || offset > size || filesz > size - offset || filesz >= 0x100000000) return ELF_BAD_SEGMENTS;
    if (((vaddr - offset) & (PAGE - 1)) != 0) return ELF_BAD_SEGMENTS;
    if (vaddr >= TASK_SIZE || memsz > TASK_SIZE - vaddr) return ELF_BAD_SEGMENTS;
    // Ascending, as the gABI requires, sharing at most the page where the previous one ends.
    if (loads > 0 && vaddr < previousEnd) return ELF_BAD_SEGMENTS;
    previousEnd = vaddr + memsz;
    if (pageDown(vaddr) < low) low = pageDown(vaddr);
    if (pageUp(vaddr + memsz) > high) high = pageUp(vaddr + memsz);
    loads++;
  }
  if (loads == 0) return ELF_BAD_SEGMENTS;
  elf.low = low;
  elf.high = high;
  return 0;
}

/**
 * Maps `elf`'s segments with `bias` added to their addresses, or, when
 * `anywhere`, where mmap places the whole span (the bias follows). The bias
 * used, or an ELF_* error (as i64; a failed mapping leaves the space to be
 * discarded).
 */
function elfMap(space: AddressSpace, elf: ElfFile, bias: u64, anywhere: bool): i64 {
  let low = elf.low;
  let high = elf.high;
  let headers = elf.headers;
  let phnum = elf.phnum;
  // Reserve the span writable, copy the file bytes (the rest stays zero:
  // .bss and the tail of each segment's last file page), then protect.
  if (anywhere) {
    let placed = mmap(space, 0, high - low, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (placed < 0) return ELF_NO_MEMORY;
    bias = <u64>placed - low;
  } else {
    if (bias + low < MMAP_MIN_ADDR || high - low > TASK_SIZE - (bias + low)) return ELF_BAD_SEGMENTS;
    let reserved = mmap(space, bias + low, high - low, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (reserved != <i64>(bias + low)) return ELF_NO_MEMORY;
  }
  for (let i: u64 = 0; i < phnum; i++) {
    let ph = headers + <usize>(i * PHDR_BYTES);
    if (load<u32>(ph) != PT_LOAD || load<u64>(ph, 40) == 0) continue;
    let filesz = load<u64>(ph, 32);
    if (filesz == 0) continue;
    let copied = accessCopyOut(bias + load<u64>(ph, 16), elf.file + <usize>load<u64>(ph, 8), <u32>filesz);
    if (copied < 0) return ELF_NO_MEMORY;
  }
  let previousPageEnd: u64 = 0;
  let previousProt: u32 = 0;
  let first = true;
  for (let i: u64 = 0; i < phnum; i++) {
    let ph = headers + <usize>(i * PHDR_BYTES);
    if (load<u32>(ph) != PT_LOAD || load<u64>(ph, 40) == 0) continue;
    let vaddr = load<u64>(ph, 16);
    let memsz = load<u64>(ph, 40);
    let prot = protection(load<u32>(ph, 4));
    let start = pageDown(vaddr);
    let stop = pageUp(vaddr + memsz);
    // Pages between segments stay unmapped, as in Linux.
    if (!first && previousPageEnd < start) {
      if (munmap(space, bias + previousPageEnd, start - previousPageEnd) < 0) return ELF_NO_MEMORY;
    }
    if (mprotect(space, bias + start, stop - start, prot) < 0) return ELF_NO_MEMORY;
    // A page shared with the previous segment gets both protections.
    if (!first && start < previousPageEnd) {
      if (mprotect(space, bias + start, PAGE, prot | previousProt) < 0) return ELF_NO_MEMORY;
    }
    previousPageEnd = stop;
    previousProt = prot;
    first = false;
  }
  return <i64>bias;
}

/** Where the program headers are in memory (unbiased): PT_PHDR if present,
 * else where the segment holding them puts them; 0 if nowhere. */
function phdrAddress(elf: ElfFile): u64 {
  if (elf.phdrAddress != 0) return elf.phdrAddress;
  for (let i: u64 = 0; i < elf.phnum; i++) {
    let ph = elf.headers + <usize>(i * PHDR_BYTES);
    if (load<u32>(ph) != PT_LOAD) continue;
    let offset = load<u64>(ph, 8);
    if (elf.phoff >= offset && elf.phoff - offset < load<u64>(ph, 32)) return load<u64>(ph, 16) + (elf.phoff - offset);
  }
  return 0;
}

/**
 * Loads the executable at `file` (kernel memory, `size` bytes) into `space`,
 * with its interpreter if it names one, maps the vDSO and fills `out`. 0,
 * or an ELF_* error (nothing stays mapped on an error found before mapping;
 * a failed mapping leaves the space to be discarded).
 */
export function elfLoad(space: AddressSpace, file: usize, size: u64, out: ElfImage): i32 {
  let program = changetype<ElfFile>(programRecord);
  let checked = elfCheck(file, size, program);
  if (checked < 0) return checked;

  // The interpreter, read whole and checked before anything is mapped.
  let interpreter = changetype<ElfFile>(interpreterRecord);
  let interpreterFile: usize = 0;
  if (program.interpLength != 0) {
    store<u64>(readResult, 0);
    store<u64>(readResult, 0, 8);
    let read = vfsReadWholeFile(file + <usize>program.interpOffset, <u32>program.interpLength, readResult);
    if (read < 0) return ELF_NO_INTERPRETER;
    interpreterFile = <usize>load<u64>(readResult);
    let interpreterSize = load<u64>(readResult, 8);
    let usable = interpreterFile != 0 && elfCheck(interpreterFile, interpreterSize, interpreter) == 0 &&
      interpreter.interpLength == 0;
    if (!usable) {
      if (interpreterFile != 0) heapFree(interpreterFile);
      return ELF_BAD_INTERPRETER;
    }
  }

  // As Linux: ET_EXEC at its addresses, an ET_DYN program at ELF_ET_DYN_BASE.
  let programBias = mapProgram(space, program);
  let result: i32 = 0;
  if (programBias < 0) result = <i32>programBias;
  let interpreterBias: i64 = 0;
  let interpreterEntry: u64 = 0;
  if (result == 0 && interpreterFile != 0) {
    interpreterEntry = load<u64>(interpreterFile, 24);
    // An ET_DYN interpreter goes where mmap puts it (top down); an ET_EXEC one at its addresses.
    interpreterBias = elfMap(space, interpreter, 0, interpreter.type == ET_DYN);
    if (interpreterBias < 0) result = <i32>interpreterBias;
  }
  if (interpreterFile != 0) heapFree(interpreterFile);
  if (result < 0) return result;

  let bias = <u64>programBias;
  let phdr = phdrAddress(program);
  out.entry = load<u64>(file, 24) + bias;
  out.phdr = phdr != 0 ? phdr + bias : 0;
  out.phent = PHDR_BYTES;
  out.phnum = program.phnum;
  out.bias = bias;
  out.brk = program.high + bias;
  if (interpreterFile != 0) {
    out.interpreterBase = interpreter.low + <u64>interpreterBias;
    out.start = interpreterEntry + <u64>interpreterBias;
  } else {
    out.interpreterBase = 0;
    out.start = out.entry;
  }
  brkInit(space, out.brk);
  let vdso = vdsoMap(space);
  if (vdso < 0) return ELF_NO_MEMORY;
  out.vdso = <u64>vdso;
  return 0;
}

function mapProgram(space: AddressSpace, program: ElfFile): i64 {
  let bias: u64 = program.type == ET_DYN ? ELF_ET_DYN_BASE - program.low : 0;
  return elfMap(space, program, bias, false);
}
