// What the boot loader hands over (the PVH hvm_start_info, which QEMU's PVH
// loader and our MBR loader both build): command line, memory map, RSDP.
// Copied into kernel memory at once, since the memory manager will reuse low
// memory.
import { Log } from "./log";
import { panic } from "./panic";

const START_INFO_MAGIC: u32 = 0x336ec578;
export const CMDLINE_MAX: u32 = 4096;
export const MEMMAP_MAX: u32 = 128;
const MEMMAP_ENTRY_BYTES: usize = 24;

export const E820_USABLE: u32 = 1;
export const E820_RESERVED: u32 = 2;
export const E820_ACPI: u32 = 3;

// Command line copy plus a terminating NUL.
const cmdlineBytes = memory.data(<i32>CMDLINE_MAX + 1);
// Memory map copy: base u64, size u64, type u32 each, packed as 24 bytes.
const memmapBytes = memory.data(<i32>(MEMMAP_MAX * <u32>MEMMAP_ENTRY_BYTES), 8);

export class BootInfo {
  static cmdline: usize = cmdlineBytes;
  static cmdlineLength: u32 = 0;
  static memmap: usize = memmapBytes;
  static memmapEntries: u32 = 0;
  static rsdp: u64 = 0;

  /** Copies out the start info at physical `startInfo`; panics if it is not one. */
  static read(startInfo: usize): void {
    if (startInfo == 0 || load<u32>(startInfo) != START_INFO_MAGIC) {
      panic("boot: no hvm_start_info from the loader (bad magic)");
    }
    let version = load<u32>(startInfo, 4);
    let cmdline = load<u64>(startInfo, 24);
    BootInfo.rsdp = load<u64>(startInfo, 32);
    let length: u32 = 0;
    if (cmdline != 0 && cmdline < 0x100000000) {
      let source = <usize>cmdline;
      while (length < CMDLINE_MAX && load<u8>(source + length) != 0) {
        store<u8>(cmdlineBytes + length, load<u8>(source + length));
        length++;
      }
    }
    store<u8>(cmdlineBytes + length, 0);
    BootInfo.cmdlineLength = length;

    if (version >= 1) {
      let table = load<u64>(startInfo, 40);
      let count = load<u32>(startInfo, 48);
      if (count > MEMMAP_MAX) count = MEMMAP_MAX;
      if (table != 0 && table < 0x100000000) {
        memory.copy(memmapBytes, <usize>table, <usize>count * MEMMAP_ENTRY_BYTES);
        BootInfo.memmapEntries = count;
      }
    }
  }

  static entryBase(i: u32): u64 {
    return load<u64>(memmapBytes + <usize>i * MEMMAP_ENTRY_BYTES);
  }
  static entrySize(i: u32): u64 {
    return load<u64>(memmapBytes + <usize>i * MEMMAP_ENTRY_BYTES, 8);
  }
  static entryType(i: u32): u32 {
    return load<u32>(memmapBytes + <usize>i * MEMMAP_ENTRY_BYTES, 16);
  }

  /** Bytes of usable RAM in the map. */
  static usableBytes(): u64 {
    let total: u64 = 0;
    for (let i: u32 = 0; i < BootInfo.memmapEntries; i++) {
      if (BootInfo.entryType(i) == E820_USABLE) total += BootInfo.entrySize(i);
    }
    return total;
  }

  static logMemoryMap(): void {
    for (let i: u32 = 0; i < BootInfo.memmapEntries; i++) {
      if (BootInfo.entrySize(i) == 0) continue; // microvm lists an empty entry
      Log.str("mem: ");
      Log.hex(BootInfo.entryBase(i));
      Log.str("-");
      Log.hex(BootInfo.entryBase(i) + BootInfo.entrySize(i) - 1);
      Log.str(" type ");
      Log.dec(BootInfo.entryType(i));
      Log.newline();
    }
  }
}
