// The kernel's entry point (called by loader/start.c) and the exports the C
// side calls back into. Importing a subsystem here is what puts it in the
// kernel: asc compiles everything reachable from this file into one module.
import { interruptsOn, kernelPhysEnd, rdtsc } from "../arch/x86_64/cpu";
import { bootIstArea, gdtInit } from "../arch/x86_64/gdt";
import { idtInit } from "../arch/x86_64/idt";
import { AS_DATA_BASE, KERNEL_PHYS_BASE } from "../arch/x86_64/layout";
import { disableLegacyPic, Lapic } from "../arch/x86_64/lapic";
import { unmapNullPage } from "../arch/x86_64/paging";
import { fpuInit } from "../arch/x86_64/threads";
import { findRsdp } from "./acpi";
import { runContextSwitchBenchmark } from "./bench/cswitch";
import { BootInfo, E820_USABLE } from "./bootinfo";
import { consoleInit } from "./console";
import { Log } from "./log";
import { freePageCount, physicalAddFree, physicalInit, physicalMetadataBytes, PAGE_SIZE } from "./mm/physical";
import { Options } from "./options";
import { vmInit } from "./mm/vm";
import { vmGuardPageTouch, vmSelfTest } from "./mm/selftest";
import { panic } from "./panic";
import { EXIT_SUCCESS, powerOff } from "./power";
import { Cpus, perCpu, perCpuLayoutOk } from "./sched/percpu";
import { idleLoop } from "./sched/scheduler";
import { startApplicationProcessors } from "./sched/smp";
import { FpuState, threadAdopt, threadCreate, THREAD_RUNNING } from "./sched/thread";
import { runCoreSelfTests } from "./selftest/core";
import { runSelfTestFailure } from "./selftest/failures";
import { SelfTest } from "./selftest/report";
import { Clock } from "./time/clock";
import { Tsc } from "./time/tsc";
import { Timer } from "./time/timer";
import { heapAlloc, TAG_SCHED } from "./mm/heap";
import { parseDecimal } from "./cmdline";
import { driversInit, driversLog } from "../drivers/drivers";
import { runDriverBenchmarks, runDriverSelfTests } from "../drivers/selftest";
import { applicationRequested, runApplication } from "./app";
import { netInit, netRequested, netRunFor } from "./net/net";
import { servicesStart } from "./net/services";

export { onInterrupt, onTrap, onWasmTrap } from "./trap";
export { threadStart } from "./sched/scheduler";
export { apMain } from "./sched/smp";
export { syscallDispatch } from "../libc/syscall";

const FOUR_GIB: u64 = 0x100000000;

/** Hands every usable RAM page above the kernel image to the page allocator. */
function setUpMemory(): void {
  let maxAddress: u64 = 0;
  for (let i: u32 = 0; i < BootInfo.memmapEntries; i++) {
    if (BootInfo.entryType(i) != E820_USABLE) continue;
    let end = BootInfo.entryBase(i) + BootInfo.entrySize(i);
    if (end > maxAddress) maxAddress = end;
  }
  if (maxAddress > FOUR_GIB) maxAddress = FOUR_GIB;
  // Metadata right after the kernel image; everything below its end (low
  // memory, the AS data window, the image) stays out of the allocator.
  let metadata = (kernelPhysEnd() + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
  let metadataEnd = <u64>metadata + <u64>physicalMetadataBytes(maxAddress);
  physicalInit(metadata, maxAddress);
  for (let i: u32 = 0; i < BootInfo.memmapEntries; i++) {
    if (BootInfo.entryType(i) != E820_USABLE) continue;
    let start = BootInfo.entryBase(i);
    let end = start + BootInfo.entrySize(i);
    if (start < metadataEnd) start = metadataEnd;
    if (end > maxAddress) end = maxAddress;
    // The boot modules (the application) stay out of the allocator.
    while (start < end) {
      let module = BootInfo.moduleStartIn(start, end);
      if (module > start) physicalAddFree(start, module);
      start = BootInfo.moduleEndAt(module);
    }
  }
  if (freePageCount() == 0) panic("memory: no usable RAM after the kernel image");
}

/** Makes the boot context CPU 0's first thread and gives CPU 0 an idle thread. */
function setUpScheduler(): void {
  if (!perCpuLayoutOk()) panic("sched: PerCpu record larger than its slot");
  let cpu = perCpu(0);
  cpu.index = 0;
  let main = threadAdopt("main", 0);
  let idle = threadCreate("idle", idleEntry, 0);
  if (main === null || idle === null) {
    panic("sched: out of memory for the first threads");
    return;
  }
  idle.state = THREAD_RUNNING; // idle is never queued; the scheduler falls back to it
  idle.cpu = 0;
  let slice = heapAlloc(offsetof<Timer>(), TAG_SCHED);
  if (slice == 0) panic("sched: out of memory for the slice timer");
  cpu.sliceTimer = slice;
  cpu.current = changetype<usize>(main);
  cpu.idle = changetype<usize>(idle);
  cpu.online = 1;
}

function idleEntry(arg: usize): void {
  idleLoop();
}

/** CPUs to start: all the MADT lists, or wisp.smp=N. */
function cpuLimit(): u32 {
  let found = Options.find("wisp.smp");
  if (found < 0) return 64;
  let value = parseDecimal(BootInfo.cmdline, <u32>(found >>> 32), <u32>(found & 0xffffffff));
  return value <= 0 ? 64 : <u32>value;
}

// Boot stages' TSC values, printed with wisp.boottrace (after calibration).
const STAGES_MAX: i32 = 16;
const stageTsc = memory.data(STAGES_MAX * 8, 8);
const stageNames = memory.data(STAGES_MAX * 4, 4);
let stageCount: i32 = 0;

function stage(name: string): void {
  if (stageCount >= STAGES_MAX) return;
  store<u64>(stageTsc + <usize>stageCount * 8, rdtsc());
  store<usize>(stageNames + <usize>stageCount * 4, changetype<usize>(name));
  stageCount++;
}

@external("arch", "startupTsc") declare function startupTsc(index: u32): u64;

function printBootTrace(bootTsc: u64): void {
  Log.str("boottrace: C entry ");
  Log.milli(Tsc.toMicros(startupTsc(0) - bootTsc), 2);
  Log.str(" ms, wasm module set up ");
  Log.milli(Tsc.toMicros(startupTsc(1) - bootTsc), 2);
  Log.str(" ms, instantiated ");
  Log.milli(Tsc.toMicros(startupTsc(2) - bootTsc), 2);
  Log.line(" ms");
  for (let i = 0; i < stageCount; i++) {
    Log.str("boottrace: ");
    Log.milli(Tsc.toMicros(load<u64>(stageTsc + <usize>i * 8) - bootTsc), 2);
    Log.str(" ms ");
    Log.line(changetype<string>(load<usize>(stageNames + <usize>i * 4)));
  }
}

export function kmain(startInfo: u32, bootTsc: u64): void {
  stage("kmain");
  Tsc.startOverlapped(); // measured against the PIT while boot works
  consoleInit();
  gdtInit(0, bootIstArea);
  idtInit();
  if (__heap_base > KERNEL_PHYS_BASE || __data_end > KERNEL_PHYS_BASE) {
    panic("layout: AS static data overflows into the kernel image; raise KERNEL_PHYS_BASE");
  }
  BootInfo.read(startInfo);
  // Loaders leave boot data and the BIOS data area in physical page 0: copy
  // what we need, then unmap it so that null dereferences fault.
  BootInfo.rsdp = <u64>findRsdp();
  if (!unmapNullPage()) panic("paging: cannot unmap the null page");
  stage("descriptors, boot info");
  Tsc.mark();
  setUpMemory();
  Tsc.mark();
  if (!vmInit()) panic("vm: out of memory for the application address space");
  stage("page allocator");
  Tsc.finishOverlapped();
  stage("TSC calibrated");
  Clock.init(bootTsc);
  stage("RTC read");
  disableLegacyPic();
  Lapic.enable(true);
  if (!Lapic.tscDeadline) Lapic.calibrateTimer(Tsc.hz);
  stage("local APIC");
  FpuState.areaBytes = fpuInit();
  stage("FPU");
  setUpScheduler();
  interruptsOn();
  stage("scheduler");
  Cpus.online = startApplicationProcessors(cpuLimit());
  stage("CPUs started");
  driversInit();
  stage("drivers");
  // The stack takes over the NICs (and their ARP) only when asked for.
  let netUp = netRequested() && netInit();
  if (netUp) stage("network stack");

  // The machine-readable boot line: first kernel instruction to here, the
  // kernel ready to run the application. Diagnostics follow it, so their
  // console output does not count.
  let micros = Tsc.toMicros(rdtsc() - bootTsc);
  Log.str("wisp: booted in ");
  Log.milli(micros, 2);
  Log.line(" ms");

  Log.str("wisp: command line: ");
  Log.bytes(BootInfo.cmdline, BootInfo.cmdlineLength);
  Log.newline();
  Log.str("wisp: memory ");
  Log.dec(BootInfo.usableBytes() >> 20);
  Log.str(" MiB usable in ");
  Log.dec(BootInfo.memmapEntries);
  Log.str(" ranges, ");
  Log.dec(<u64>freePageCount() * PAGE_SIZE >> 20);
  Log.str(" MiB free; AS data at ");
  Log.hexWidth(AS_DATA_BASE, 1);
  Log.str(", kernel image ");
  Log.hexWidth(KERNEL_PHYS_BASE, 1);
  Log.str("-");
  Log.hexWidth(kernelPhysEnd(), 1);
  Log.newline();
  if (Options.has("wisp.memmap")) BootInfo.logMemoryMap();
  if (Options.has("wisp.boottrace")) printBootTrace(bootTsc);
  Log.str("wisp: tsc ");
  Log.dec(Tsc.hz / 1000);
  Log.str(" kHz from ");
  Log.str(Tsc.sourceName());
  Log.str(", APIC timer ");
  Log.str(Lapic.tscDeadline ? "TSC-deadline" : "one-shot");
  Log.str(", ");
  Log.dec(Cpus.online);
  Log.str(" of ");
  Log.dec(Cpus.count);
  Log.line(" CPUs online");
  driversLog();

  runSelfTestFailure();

  let status = EXIT_SUCCESS;
  if (Options.equals("wisp.test", "core")) {
    runCoreSelfTests();
    SelfTest.summary();
    status = SelfTest.failed == 0 ? EXIT_SUCCESS : 1;
  }
  if (Options.equals("wisp.test", "vm")) status = vmSelfTest() ? EXIT_SUCCESS : 1;
  if (Options.equals("wisp.test", "guardpage")) vmGuardPageTouch();
  if (runDriverSelfTests()) {
    SelfTest.summary();
    status = SelfTest.failed == 0 ? EXIT_SUCCESS : 1;
  }
  if (Options.equals("wisp.bench", "cswitch")) runContextSwitchBenchmark();
  runDriverBenchmarks();
  if (netUp) netRunFor(servicesStart() > 0);
  else netRunFor(false);
  // `-- /path args`: the application's exit ends the VM (never returns).
  if (applicationRequested()) runApplication();
  powerOff(status);
}
