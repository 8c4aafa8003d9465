// Test double for kernel/mm/mmap.ts (tests/elf/harness.ts compiles it in
// that file's place): the calls the ELF loader makes, forwarded to a model
// of the address space in JavaScript that records them.
// Compiled as kernel/mm/mmap.ts, so imports are relative to kernel/mm/.
import { AddressSpace } from "./vma";

export const MAP_PRIVATE: u32 = 0x02;
export const MAP_FIXED: u32 = 0x10;
export const MAP_ANONYMOUS: u32 = 0x20;
export const MAP_GROWSDOWN: u32 = 0x100;
export const MAP_FIXED_NOREPLACE: u32 = 0x100000;

@external("test", "mmap") declare function testMmap(address: u64, length: u64, prot: u32, flags: u32): i64;
@external("test", "munmap") declare function testMunmap(address: u64, length: u64): i64;
@external("test", "mprotect") declare function testMprotect(address: u64, length: u64, prot: u32): i64;
@external("test", "brkInit") declare function testBrkInit(start: u64): void;

export function mmap(space: AddressSpace, address: u64, length: u64, prot: u32, flags: u32, fd: i32, offset: u64): i64 {
  return testMmap(address, length, prot, flags);
}

export function munmap(space: AddressSpace, address: u64, length: u64): i64 {
  return testMunmap(address, length);
}

export function mprotect(space: AddressSpace, address: u64, length: u64, protection: u32): i64 {
  return testMprotect(address, length, protection);
}

export function brkInit(space: AddressSpace, start: u64): void {
  testBrkInit(start);
}
