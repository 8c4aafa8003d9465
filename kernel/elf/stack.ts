// The main thread's initial stack, laid out as Linux's binfmt_elf lays it
// out (System V x86-64 psABI, 3.4.1): from the top of the address space
// down, a null word, the program's path (AT_EXECFN), the environment and
// argument strings, the platform string, 16 random bytes (AT_RANDOM), then
// at a 16-byte aligned stack pointer: argc, argv[] and NULL, envp[] and
// NULL, the auxiliary vector ending in AT_NULL.
//
// The stack is a grows-down area below TASK_SIZE (Linux's STACK_TOP without
// randomization) that faults extend up to the 8 MiB stack limit.
import { accessCopyOut } from "../../arch/x86_64/access";
import { getRandomBytes } from "../../drivers/entropy";
import { heapAlloc, heapFree, TAG_LIBC } from "../mm/heap";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, mmap } from "../mm/mmap";
import { AddressSpace, PROT_READ, PROT_WRITE, TASK_SIZE } from "../mm/vma";
import { ElfImage } from "./elf";

/** The most strings a StringList holds. */
export const STRINGS_MAX: u32 = 128;
/** Bytes of the stack area mapped at start (it grows on faults). */
export const STACK_INITIAL_BYTES: u64 = 128 * 1024;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_EXECFN: u64 = 31;
const AT_SYSINFO_EHDR: u64 = 33;
const AT_MINSIGSTKSZ: u64 = 51;
/** Auxiliary vector entries written below, AT_NULL included (AT_SYSINFO_EHDR
 * only when there is a vDSO). */
const AUXV_ENTRIES: u64 = 20;

/** A list of byte strings in kernel memory: count, then (pointer, length) pairs. */
@unmanaged
export class StringList {
  count: u32;
  reserved: u32;

  pointer(i: u32): usize {
    return load<u32>(changetype<usize>(this) + 8 + <usize>i * 8);
  }

  length(i: u32): u32 {
    return load<u32>(changetype<usize>(this) + 12 + <usize>i * 8);
  }

  set(i: u32, pointer: usize, length: u32): void {
    store<u32>(changetype<usize>(this) + 8 + <usize>i * 8, <u32>pointer);
    store<u32>(changetype<usize>(this) + 12 + <usize>i * 8, length);
  }

  /** Appends a string; false when the list is full. */
  add(pointer: usize, length: u32): bool {
    if (this.count >= STRINGS_MAX) return false;
    this.set(this.count, pointer, length);
    this.count++;
    return true;
  }

  /** Bytes of all strings with their NULs. */
  bytes(): u64 {
    let total: u64 = 0;
    for (let i: u32 = 0; i < this.count; i++) total += <u64>this.length(i) + 1;
    return total;
  }
}

const PLATFORM = "x86_64";

function auxv(at: usize, key: u64, value: u64): usize {
  store<u64>(at, key);
  store<u64>(at, value, 8);
  return at + 16;
}

/**
 * Maps the stack area in `space` and writes the initial stack for a program
 * described by `image` with arguments `args` (args[0] is also AT_EXECFN)
 * and environment `env`. `hwcap` is AT_HWCAP, `minSignalStack`
 * AT_MINSIGSTKSZ. Returns the initial stack pointer, or -ENOMEM.
 */
export function buildInitialStack(
  space: AddressSpace, image: ElfImage, args: StringList, env: StringList, hwcap: u32, minSignalStack: u32,
): i64 {
  let top = TASK_SIZE;
  let mapped = mmap(space, top - STACK_INITIAL_BYTES, STACK_INITIAL_BYTES, PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
  if (mapped < 0) return mapped;

  // Addresses, from the top down.
  let execfnLength = <u64>args.length(0) + 1;
  let execfn = top - 8 - execfnLength;
  let strings = execfn - env.bytes() - args.bytes();
  let platform = (strings - <u64>PLATFORM.length - 1) & ~(<u64>15);
  let random = platform - 16;
  let auxvEntries = AUXV_ENTRIES + (image.vdso != 0 ? 1 : 0);
  let words = 1 + (<u64>args.count + 1) + (<u64>env.count + 1) + auxvEntries * 2;
  let sp = (random - words * 8) & ~(<u64>15);
  let total = top - sp;
  if (total > STACK_INITIAL_BYTES) return -12;

  // Build [sp, top) in kernel memory, then copy it out at once.
  let buffer = heapAlloc(<usize>total, TAG_LIBC);
  if (buffer == 0) return -12;
  let base = sp;
  let cursor = strings;
  let argv = buffer + <usize>(sp - base) + 8;
  let envp = argv + <usize>(args.count + 1) * 8;
  store<u64>(buffer, <u64>args.count);
  for (let i: u32 = 0; i < args.count; i++) {
    store<u64>(argv + <usize>i * 8, cursor);
    memory.copy(buffer + <usize>(cursor - base), args.pointer(i), <usize>args.length(i));
    cursor += <u64>args.length(i) + 1;
  }
  for (let i: u32 = 0; i < env.count; i++) {
    store<u64>(envp + <usize>i * 8, cursor);
    memory.copy(buffer + <usize>(cursor - base), env.pointer(i), <usize>env.length(i));
    cursor += <u64>env.length(i) + 1;
  }
  memory.copy(buffer + <usize>(execfn - base), args.pointer(0), <usize>args.length(0));
  for (let i = 0; i < PLATFORM.length; i++) store<u8>(buffer + <usize>(platform - base) + <usize>i, <u8>PLATFORM.charCodeAt(i));
  getRandomBytes(buffer + <usize>(random - base), 16);

  // Linux's order (create_elf_tables): the architecture's entries first.
  let aux = envp + <usize>(env.count + 1) * 8;
  if (image.vdso != 0) aux = auxv(aux, AT_SYSINFO_EHDR, image.vdso);
  aux = auxv(aux, AT_MINSIGSTKSZ, <u64>minSignalStack);
  aux = auxv(aux, AT_HWCAP, <u64>hwcap);
  aux = auxv(aux, AT_PAGESZ, 4096);
  aux = auxv(aux, AT_CLKTCK, 100);
  aux = auxv(aux, AT_PHDR, image.phdr);
  aux = auxv(aux, AT_PHENT, image.phent);
  aux = auxv(aux, AT_PHNUM, image.phnum);
  aux = auxv(aux, AT_BASE, image.interpreterBase);
  aux = auxv(aux, AT_FLAGS, 0);
  aux = auxv(aux, AT_ENTRY, image.entry);
  aux = auxv(aux, AT_UID, 0);
  aux = auxv(aux, AT_EUID, 0);
  aux = auxv(aux, AT_GID, 0);
  aux = auxv(aux, AT_EGID, 0);
  aux = auxv(aux, AT_SECURE, 0);
  aux = auxv(aux, AT_RANDOM, random);
  aux = auxv(aux, AT_HWCAP2, 0);
  aux = auxv(aux, AT_EXECFN, execfn);
  aux = auxv(aux, AT_PLATFORM, platform);
  auxv(aux, AT_NULL, 0);
  let copied = accessCopyOut(sp, buffer, <u32>total);
  heapFree(buffer);
  return copied < 0 ? copied : <i64>sp;
}
