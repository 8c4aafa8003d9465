// What the boot loader hands over (the PVH hvm_start_info, which QEMU's PVH
// loader and our MBR loader both build): command line, memory map, RSDP and
// the modules (QEMU's -initrd file is module 0).
// Copied into kernel memory at once, since the memory manager will reuse low
// memory.
import { Log } from "./log";
import { panic } from "./panic";

const START_INFO_MAGIC: u32 = 0x336ec578;
export const CMDLINE_MAX: u32 = 4096;
export const MEMMAP_MAX: u32 = 128;
const MEMMAP_ENTRY_BYTES: usize = 24;
export const MODULES_MAX: u32 = 8;
const MODULE_ENTRY_BYTES: usize = 32;

export const E820_USABLE: u32 = 1;
export const E820_RESERVED: u32 = 2;
export const E820_ACPI: u32 = 3;

// Command line copy plus a terminating NUL.
const cmdlineBytes = memory.data(<i32>CMDLINE_MAX + 1);
// Memory map copy: base u64, size u64, type u32 each, packed as 24 bytes.
const memmapBytes = memory.data(<i32>(MEMMAP_MAX * <u32>MEMMAP_ENTRY_BYTES), 8);
// Modules: physical address u64 and size u64 each (the loader's entries also
// carry a command line, which Wisp does not use).
const moduleBytes = memory.data(<i32>(MODULES_MAX * 16), 8);

export class BootInfo {
  static cmdline: usize = cmdlineBytes;
  static cmdlineLength: u32 = 0;
  static memmap: usize = memmapBytes;
  static memmapEntries: u32 = 0;
  static rsdp: u64 = 0;
  static modules: u32 = 0;

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

    let modules = load<u32>(startInfo, 12);
    let list = load<u64>(startInfo, 16);
    if (modules > MODULES_MAX) modules = MODULES_MAX;
    if (list == 0 || list >= 0x100000000) modules = 0;
    for (let i: u32 = 0; i < modules; i++) {
      let entry = <usize>list + <usize>i * MODULE_ENTRY_BYTES;
      let address = load<u64>(entry);
      let size = load<u64>(entry, 8);
      // Wisp reaches modules through the direct map of the first 4 GiB.
      if (address >= 0x100000000 || size > 0x100000000 - address) size = 0;
      store<u64>(moduleBytes + <usize>i * 16, address);
      store<u64>(moduleBytes + <usize>i * 16, size, 8);
    }
    BootInfo.modules = modules;
  }

  static moduleAddress(i: u32): u64 {
    return load<u64>(moduleBytes + <usize>i * 16);
  }
  static moduleSize(i: u32): u64 {
    return load<u64>(moduleBytes + <usize>i * 16, 8);
  }

  /** The end (page-aligned) of the module pages that contain `address`, or
   * `address` if no module does. */
  static moduleEndAt(address: u64): u64 {
    let end = address;
    for (let i: u32 = 0; i < BootInfo.modules; i++) {
      let base = BootInfo.moduleAddress(i) & ~(<u64>4095);
      let limit = (BootInfo.moduleAddress(i) + BootInfo.moduleSize(i) + 4095) & ~(<u64>4095);
      if (BootInfo.moduleSize(i) != 0 && base <= address && limit > end) end = limit;
    }
    return end;
  }

  /** The start of the lowest module page in [start, end), or `end`: the
   * page allocator must not hand out the modules' pages. */
  static moduleStartIn(start: u64, end: u64): u64 {
    let lowest = end;
    for (let i: u32 = 0; i < BootInfo.modules; i++) {
      let base = BootInfo.moduleAddress(i) & ~(<u64>4095);
      let limit = (BootInfo.moduleAddress(i) + BootInfo.moduleSize(i) + 4095) & ~(<u64>4095);
      if (BootInfo.moduleSize(i) == 0 || limit <= start || base >= end) continue;
      let from = base > start ? base : start;
      if (from < lowest) lowest = from;
    }
    return lowest;
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
