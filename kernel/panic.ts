// The one panic path: print why, a backtrace of kernel frames, and end the
// VM with EXIT_PANIC. Also AssemblyScript's abort (asc --use abort=...).
import { framePointer, interruptsOff } from "../arch/x86_64/cpu";
import { printBacktrace } from "./backtrace";
import { Log } from "./log";
import { EXIT_PANIC, powerOff } from "./power";

let panicking = false;

function enterPanic(): void {
  interruptsOff();
  if (panicking) {
    // Panic inside panic: skip everything that might have caused it.
    Log.line("\nwisp: panic while panicking");
    powerOff(EXIT_PANIC);
  }
  panicking = true;
}

export function panic(reason: string): void {
  enterPanic();
  Log.str("\nwisp: panic: ");
  Log.line(reason);
  printBacktrace(0, framePointer());
  powerOff(EXIT_PANIC);
}

/** Starts a panic report whose details the caller prints, then calls panicEnd. */
export function panicBegin(): void {
  enterPanic();
}

export function panicEnd(rip: u64, rbp: u64): void {
  printBacktrace(rip, rbp);
  powerOff(EXIT_PANIC);
}

/** AssemblyScript's abort: failed assert, throw, bounds or null check. */
export function onAbort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  enterPanic();
  Log.str("\nwisp: panic: abort: ");
  Log.str(message !== null ? message : "(no message)");
  Log.str(" at ");
  Log.str(fileName !== null ? fileName : "(unknown file)");
  Log.str(":");
  Log.dec(line);
  Log.str(":");
  Log.dec(column);
  Log.newline();
  printBacktrace(0, framePointer());
  powerOff(EXIT_PANIC);
}
