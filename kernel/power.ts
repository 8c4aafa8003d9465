// Ending the VM with an exit status: isa-debug-exit when QEMU has one (the
// runner adds it, and maps QEMU's (status << 1) | 1 back to status), ACPI S5
// otherwise, and a halted CPU if both fail.
import { atomicCompareExchange32, cpuIndex } from "../arch/x86_64/atomic";
import { debugExit, halt, interruptsOff, pause, rdtsc } from "../arch/x86_64/cpu";
import { acpiPowerOff } from "./acpi";
import { Log } from "./log";
import { Tsc } from "./time/tsc";

export const EXIT_SUCCESS: u32 = 0;

/** 0 until a CPU claims the end of the VM, then its index + 1. */
const endingCpu = memory.data(4, 4);

/**
 * Claims the end of the VM for the calling CPU, with interrupts off from
 * here on. Threads on other CPUs may end the application at the same
 * moment (exit_group while another thread aborts or faults): the first
 * claim wins and its report and status are the VM's; every later caller
 * stops here for good. Call before printing an ending report.
 */
export function powerOffClaim(): void {
  interruptsOff();
  let mine = cpuIndex() + 1;
  let previous = atomicCompareExchange32(endingCpu, 0, mine);
  if (previous != 0 && previous != mine) {
    while (true) halt();
  }
}
/** An application ended by a page fault: SIGSEGV's number (isa-debug-exit carries 0-127). */
export const EXIT_SEGFAULT: u32 = 11;
/** Status of every kernel panic (fault, abort, failed check). */
export const EXIT_PANIC: u32 = 127;

export function powerOff(status: u32): void {
  powerOffClaim();
  Log.str("wisp: exit status ");
  Log.dec(status);
  Log.newline();
  debugExit(status);
  if (acpiPowerOff()) {
    // The hypervisor acts on the request asynchronously: give it a second.
    let deadline = rdtsc() + Tsc.hz;
    while (rdtsc() < deadline) pause();
    Log.line("wisp: ACPI power-off did not take effect; halting");
  } else {
    Log.line("wisp: no way to power off (no isa-debug-exit, no ACPI); halting");
  }
  while (true) halt();
}
