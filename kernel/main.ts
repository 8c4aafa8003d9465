// The kernel's entry point (called by loader/start.c) and the exports the C
// side calls back into. Importing a subsystem here is what puts it in the
// kernel: asc compiles everything reachable from this file into one module.
import { rdtsc } from "../arch/x86_64/cpu";
import { gdtInit } from "../arch/x86_64/gdt";
import { idtInit } from "../arch/x86_64/idt";
import { AS_DATA_BASE, KERNEL_PHYS_BASE } from "../arch/x86_64/layout";
import { BootInfo, E820_USABLE } from "./bootinfo";
import { consoleInit } from "./console";
import { Log } from "./log";
import { earlyAllocInit } from "./mm/early";
import { Options } from "./options";
import { panic } from "./panic";
import { EXIT_SUCCESS, powerOff } from "./power";
import { runSelfTestFailure } from "./selftest";
import { Tsc } from "./time/tsc";
import { kernelPhysEnd } from "../arch/x86_64/cpu";
import { unmapNullPage } from "../arch/x86_64/paging";
import { findRsdp } from "./acpi";

export { onTrap, onWasmTrap } from "./trap";

/** Gives the early allocator the usable range that holds the kernel's end. */
function setUpEarlyAllocator(): void {
  let start = <u64>kernelPhysEnd();
  for (let i: u32 = 0; i < BootInfo.memmapEntries; i++) {
    if (BootInfo.entryType(i) != E820_USABLE) continue;
    let base = BootInfo.entryBase(i);
    let end = BootInfo.entryBase(i) + BootInfo.entrySize(i);
    if (end > 0x100000000) end = 0x100000000;
    if (base <= start && start < end) {
      earlyAllocInit(<usize>start, <usize>end);
      return;
    }
  }
  panic("memory: no usable RAM after the kernel image");
}

export function kmain(startInfo: u32, bootTsc: u64): void {
  consoleInit();
  gdtInit();
  idtInit();
  if (__heap_base > KERNEL_PHYS_BASE || __data_end > KERNEL_PHYS_BASE) {
    panic("layout: AS static data overflows into the kernel image; raise KERNEL_PHYS_BASE");
  }
  BootInfo.read(startInfo);
  // Loaders leave boot data and the BIOS data area in physical page 0: copy
  // what we need, then unmap it so that null dereferences fault.
  BootInfo.rsdp = <u64>findRsdp();
  if (!unmapNullPage()) panic("paging: cannot unmap the null page");
  setUpEarlyAllocator();
  Tsc.calibrate();

  Log.str("wisp: command line: ");
  Log.bytes(BootInfo.cmdline, BootInfo.cmdlineLength);
  Log.newline();
  Log.str("wisp: memory ");
  Log.dec(BootInfo.usableBytes() >> 20);
  Log.str(" MiB usable in ");
  Log.dec(BootInfo.memmapEntries);
  Log.str(" ranges, AS data at ");
  Log.hexWidth(AS_DATA_BASE, 1);
  Log.str(", kernel image ");
  Log.hexWidth(KERNEL_PHYS_BASE, 1);
  Log.str("-");
  Log.hexWidth(kernelPhysEnd(), 1);
  Log.newline();
  if (Options.has("wisp.memmap")) BootInfo.logMemoryMap();
  Log.str("wisp: tsc ");
  Log.dec(Tsc.hz / 1000);
  Log.str(" kHz from ");
  Log.str(Tsc.sourceName());
  Log.newline();

  runSelfTestFailure();

  // The machine-readable boot line: first kernel instruction to here.
  let micros = Tsc.toMicros(rdtsc() - bootTsc);
  Log.str("wisp: booted in ");
  Log.milli(micros, 2);
  Log.line(" ms");

  powerOff(EXIT_SUCCESS);
}
