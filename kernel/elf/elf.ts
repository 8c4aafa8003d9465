// ELF64 executables for x86-64 (System V gABI and the x86-64 psABI): checks
// the header and program headers, maps the PT_LOAD segments into the
// application's address space as Linux's binfmt_elf does (one anonymous
// reservation, the file bytes copied in, then each segment's protection),
// starts the brk heap after the highest segment and reports what the
// initial stack's auxiliary vector needs.
//
// Static (ET_EXEC) and static-PIE (ET_DYN without PT_INTERP) executables.
// A PT_INTERP (dynamic) executable is refused until the file system can
// provide the interpreter. PT_TLS needs nothing here (the C library sets up
// TLS from AT_PHDR); PT_GNU_STACK is ignored, as no page is non-executable
// until the kernel turns NX on.
import { accessCopyOut } from "../../arch/x86_64/access";
import { brkInit, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, mmap, mprotect, munmap } from "../mm/mmap";
import { AddressSpace, MMAP_MIN_ADDR, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE } from "../mm/vma";

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

/** Where ET_DYN executables load: Linux's ELF_ET_DYN_BASE on x86-64 (2/3 of
 * the address space) without randomization. */
export const ELF_ET_DYN_BASE: u64 = 0x555555554000;

export const ELF_NOT_EXECUTABLE: i32 = -1;
export const ELF_DYNAMIC: i32 = -2;
export const ELF_BAD_SEGMENTS: i32 = -3;
export const ELF_NO_MEMORY: i32 = -4;

export function elfErrorReason(code: i32): string {
  switch (code) {
    case ELF_NOT_EXECUTABLE: return "not an ELF64 x86-64 executable";
    case ELF_DYNAMIC: return "dynamically linked (PT_INTERP): needs the file system, which is not there yet";
    case ELF_BAD_SEGMENTS: return "bad program headers";
    case ELF_NO_MEMORY: return "cannot map its segments";
  }
  return "unknown error";
}

/** What the loader learned, for the auxiliary vector. */
@unmanaged
export class ElfImage {
  /** Entry point (AT_ENTRY), load bias applied. */
  entry: u64;
  /** Address of the program headers in memory (AT_PHDR). */
  phdr: u64;
  phent: u64;
  phnum: u64;
  /** What was added to every p_vaddr (0 for ET_EXEC). */
  bias: u64;
  /** Where the brk heap starts. */
  brk: u64;
}

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

/**
 * Loads the executable at `file` (kernel memory, `size` bytes) into `space`
 * and fills `out`. 0, or an ELF_* error (nothing stays mapped on an error
 * found before mapping; a failed mapping leaves the space to be discarded).
 */
export function elfLoad(space: AddressSpace, file: usize, size: u64, out: ElfImage): i32 {
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

  // Check the segments and find the span they cover.
  let low: u64 = U64.MAX_VALUE;
  let high: u64 = 0;
  let previousEnd: u64 = 0;
  let loads: u32 = 0;
  let phdrAddress: u64 = 0;
  for (let i: u64 = 0; i < phnum; i++) {
    let ph = headers + <usize>(i * PHDR_BYTES);
    let kind = load<u32>(ph);
    if (kind == PT_INTERP) return ELF_DYNAMIC;
    if (kind == PT_PHDR) phdrAddress = load<u64>(ph, 16);
    if (kind != PT_LOAD) continue;
    let offset = load<u64>(ph, 8);
    let vaddr = load<u64>(ph, 16);
    let filesz = load<u64>(ph, 32);
    let memsz = load<u64>(ph, 40);
    if (memsz == 0) continue;
    if (filesz > memsz || offset > size || filesz > size - offset) return ELF_BAD_SEGMENTS;
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
  let bias: u64 = type == ET_DYN ? ELF_ET_DYN_BASE - low : 0;
  if (bias + low < MMAP_MIN_ADDR || high - low > TASK_SIZE - (bias + low)) return ELF_BAD_SEGMENTS;

  // Reserve the span writable, copy the file bytes (the rest stays zero:
  // .bss and the tail of each segment's last file page), then protect.
  let reserved = mmap(space, bias + low, high - low, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (reserved != <i64>(bias + low)) return ELF_NO_MEMORY;
  for (let i: u64 = 0; i < phnum; i++) {
    let ph = headers + <usize>(i * PHDR_BYTES);
    if (load<u32>(ph) != PT_LOAD || load<u64>(ph, 40) == 0) continue;
    let filesz = load<u64>(ph, 32);
    if (filesz == 0) continue;
    if (filesz >= 0x100000000) return ELF_BAD_SEGMENTS;
    let copied = accessCopyOut(bias + load<u64>(ph, 16), file + <usize>load<u64>(ph, 8), <u32>filesz);
    if (copied < 0) return ELF_NO_MEMORY;
  }
  let previousPageEnd: u64 = 0;
  let previousProt: u32 = 0;
  let first = true;
  let end: u64 = 0;
  for (let i: u64 = 0; i < phnum; i++) {
    let ph = headers + <usize>(i * PHDR_BYTES);
    if (load<u32>(ph) != PT_LOAD || load<u64>(ph, 40) == 0) continue;
    let vaddr = load<u64>(ph, 16);
    let memsz = load<u64>(ph, 40);
    let prot = protection(load<u32>(ph, 4));
    let start = pageDown(vaddr);
    let stop = pageUp(vaddr + memsz);
    if (vaddr + memsz > end) end = vaddr + memsz;
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

  // AT_PHDR: PT_PHDR if present, else where the segment holding the
  // program headers puts them.
  if (phdrAddress == 0) {
    for (let i: u64 = 0; i < phnum; i++) {
      let ph = headers + <usize>(i * PHDR_BYTES);
      if (load<u32>(ph) != PT_LOAD) continue;
      let offset = load<u64>(ph, 8);
      if (phoff >= offset && phoff - offset < load<u64>(ph, 32)) {
        phdrAddress = load<u64>(ph, 16) + (phoff - offset);
        break;
      }
    }
  }
  out.entry = load<u64>(file, 24) + bias;
  out.phdr = phdrAddress != 0 ? phdrAddress + bias : 0;
  out.phent = PHDR_BYTES;
  out.phnum = phnum;
  out.bias = bias;
  out.brk = pageUp(end + bias);
  brkInit(space, out.brk);
  return 0;
}
