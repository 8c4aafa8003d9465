// Ending the VM with an exit status: isa-debug-exit when QEMU has one (the
// runner adds it, and maps QEMU's (status << 1) | 1 back to status), ACPI S5
// otherwise, and a halted CPU if both fail.
import { debugExit, halt, interruptsOff } from "../arch/x86_64/cpu";
import { acpiPowerOff } from "./acpi";
import { Log } from "./log";

export const EXIT_SUCCESS: u32 = 0;
/** Status of every kernel panic (fault, abort, failed check). */
export const EXIT_PANIC: u32 = 127;

export function powerOff(status: u32): void {
  interruptsOff();
  Log.str("wisp: exit status ");
  Log.dec(status);
  Log.newline();
  debugExit(status);
  if (!acpiPowerOff()) Log.line("wisp: no way to power off; halting");
  while (true) halt();
}
