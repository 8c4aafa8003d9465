// Every interrupt and exception lands here (from loader/trap.c) with the
// saved registers. No device interrupts are enabled yet, so anything that
// arrives is a CPU exception or a stray vector: report it and panic.
import { framePointer, readCr2, readCr3 } from "../arch/x86_64/cpu";
import {
  FRAME_CS, FRAME_ERROR, FRAME_GPR_COUNT, FRAME_GPR_NAMES, FRAME_RBP, FRAME_RFLAGS,
  FRAME_RIP, FRAME_RSP, FRAME_SS, FRAME_VECTOR,
} from "../arch/x86_64/trapframe";
import { Log } from "./log";
import { panicBegin, panicEnd } from "./panic";
import { printSymbol } from "./backtrace";
import { Lapic, LEGACY_PIC_BASE, VECTOR_APIC_ERROR, VECTOR_RESCHEDULE, VECTOR_SPURIOUS, VECTOR_TIMER, VECTOR_TLB_SHOOTDOWN } from "../arch/x86_64/lapic";
import { thisCpu } from "./sched/percpu";
import { preemptIfNeeded } from "./sched/scheduler";
import { timerInterrupt } from "./time/timer";
import { tlbShootdownInterrupt } from "../arch/x86_64/tlbshootdown";
import { applyFaultFixup } from "../arch/x86_64/access";
import { irqDispatch } from "./irq";
import { FAULT_HANDLED, faultIsApplication, handlePageFault, reportSegfault } from "./mm/fault";
import { EXIT_SEGFAULT, powerOff, powerOffClaim } from "./power";
import { appKilled } from "./app";

// Mnemonic and name of the CPU exceptions, 0..21, one "#XX name" each.
const EXCEPTION_NAMES: StaticArray<string> = [
  "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
  "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
  "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
  "#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
  "#MF x87 floating point", "#AC alignment check", "#MC machine check",
  "#XM SIMD floating point", "#VE virtualization", "#CP control protection",
];

/** Addresses below this belong to the application (the lower half). */
const APPLICATION_LIMIT: u64 = 0x0000800000000000;

/** The signal Linux sends for a CPU exception in user code; 0 for none. */
function signalForException(vector: u32): u32 {
  switch (vector) {
    case 0: case 16: case 19: return 8; // #DE, #MF, #XM: SIGFPE
    case 1: case 3: return 5; // #DB, #BP: SIGTRAP
    case 6: return 4; // #UD: SIGILL
    case 11: case 12: case 17: return 7; // #NP, #SS, #AC: SIGBUS
    case 4: case 5: case 7: case 10: case 13: return 11; // #OF, #BR, #NM, #TS, #GP: SIGSEGV
    default: return 0;
  }
}

function signalName(signal: u32): string {
  switch (signal) {
    case 4: return "SIGILL";
    case 5: return "SIGTRAP";
    case 7: return "SIGBUS";
    case 8: return "SIGFPE";
    default: return "SIGSEGV";
  }
}

function printRegister(name: string, value: u64): void {
  Log.str(name);
  Log.str(" ");
  Log.hex(value);
}

function printPageFaultCause(error: u64): void {
  Log.str("  page fault: ");
  Log.str(error & 1 ? "protection violation" : "page not present");
  Log.str(error & 2 ? ", write" : ", read");
  if (error & 16) Log.str(", instruction fetch");
  Log.newline();
}

export function onTrap(frame: usize): void {
  let vector = load<u64>(frame + FRAME_VECTOR);
  let error = load<u64>(frame + FRAME_ERROR);
  let rip = load<u64>(frame + FRAME_RIP);
  if (vector == 14) {
    let address = readCr2();
    let code = handlePageFault(address, error, rip);
    if (code == FAULT_HANDLED) return; // demand paging: retry the access
    if (applyFaultFixup(frame) != 0) return; // an access that may fault: -EFAULT
    // The application's fault: an access to its half, or any access by its
    // own instruction (a wild pointer into the kernel half is still its
    // SIGSEGV, never a kernel panic).
    if (faultIsApplication(code) || rip < APPLICATION_LIMIT) {
      // Until processes exist, the application is the whole VM.
      powerOffClaim();
      reportSegfault(address, code, rip);
      powerOff(EXIT_SEGFAULT);
    }
  }
  if (rip < APPLICATION_LIMIT) {
    // The application's own instruction faulted: its fatal signal, not a panic.
    let signal = signalForException(<u32>vector);
    if (signal != 0) {
      Log.str("wisp: application fault: ");
      Log.str(vector < <u64>EXCEPTION_NAMES.length ? EXCEPTION_NAMES[<i32>vector] : "exception");
      Log.str(" at rip ");
      Log.hex(rip);
      Log.newline();
      appKilled(signal, signalName(signal));
    }
  }
  panicBegin();
  Log.str("\nwisp: panic: CPU exception ");
  Log.dec(vector);
  Log.str(" (");
  // A StaticArray of literals lives in static data: indexing it does not allocate.
  Log.str(vector < <u64>EXCEPTION_NAMES.length ? EXCEPTION_NAMES[<i32>vector] : "unexpected interrupt");
  Log.str(") error ");
  Log.hexWidth(error, 4);
  Log.newline();
  Log.str("  ");
  printRegister("rip", rip);
  Log.str(" ");
  printSymbol(rip);
  Log.newline();
  Log.str("  ");
  printRegister("cr2", readCr2());
  Log.str(" ");
  printRegister("cr3", readCr3());
  Log.str(" ");
  printRegister("rflags", load<u64>(frame + FRAME_RFLAGS));
  Log.newline();
  Log.str("  ");
  printRegister("cs", load<u64>(frame + FRAME_CS));
  Log.str(" ");
  printRegister("ss", load<u64>(frame + FRAME_SS));
  Log.str(" ");
  printRegister("rsp", load<u64>(frame + FRAME_RSP));
  Log.newline();
  if (vector == 14) printPageFaultCause(error);
  // General registers, four per line, rax first.
  let printed: u32 = 0;
  for (let i = <i32>FRAME_GPR_COUNT - 1; i >= 0; i--) {
    if (printed % 4 == 0) Log.str("  ");
    Log.strSlice(FRAME_GPR_NAMES, i * 3, i * 3 + 3);
    Log.str(" ");
    Log.hex(load<u64>(frame + <usize>i * 8));
    printed++;
    Log.str(printed % 4 == 0 ? "\n" : " ");
  }
  if (printed % 4 != 0) Log.newline();
  panicEnd(rip, load<u64>(frame + FRAME_RBP));
}

// wasm2c's trap kinds (wasm-rt.h wasm_rt_trap_t).
const WASM_TRAP_NAMES: StaticArray<string> = [
  "none", "out-of-bounds memory access", "integer overflow", "integer divide by zero",
  "invalid conversion", "unreachable executed", "invalid indirect call",
  "uncaught exception", "call stack exhausted",
];

/** A wasm trap raised by the generated code (division by zero, unreachable...). */
export function onWasmTrap(kind: u32): void {
  panicBegin();
  Log.str("\nwisp: panic: wasm trap: ");
  Log.str(kind < <u32>WASM_TRAP_NAMES.length ? WASM_TRAP_NAMES[<i32>kind] : "unknown");
  Log.newline();
  panicEnd(0, framePointer());
}

let unexpectedInterrupts: u32 = 0;

/** Device interrupts and IPIs (vectors 32-255), from loader/trap.c. */
export function onInterrupt(vector: u32, frame: usize): void {
  let cpu = thisCpu();
  cpu.interrupts++;
  if (vector == VECTOR_SPURIOUS || (vector >= LEGACY_PIC_BASE && vector < LEGACY_PIC_BASE + 16)) {
    return; // spurious: no end-of-interrupt
  }
  Lapic.endOfInterrupt();
  if (vector == VECTOR_TIMER) {
    timerInterrupt();
  } else if (vector == VECTOR_RESCHEDULE) {
    cpu.needResched = 1;
  } else if (vector == VECTOR_TLB_SHOOTDOWN) {
    tlbShootdownInterrupt();
  } else if (vector == VECTOR_APIC_ERROR) {
    Log.line("wisp: local APIC error interrupt");
  } else if (irqDispatch(vector)) {
    // a device driver's handler ran
  } else if (unexpectedInterrupts++ < 10) {
    Log.str("wisp: unexpected interrupt vector ");
    Log.dec(vector);
    Log.newline();
  }
  preemptIfNeeded();
}
