// The system call dispatcher: arch/x86_64/syscall.S saves the application's
// registers in a frame on the thread's kernel entry stack and calls
// syscallDispatch (exported by kernel/main.ts) with interrupts on. The
// number in RAX indexes the table (table.ts); the handler's result goes back
// in RAX. A number without a handler returns -ENOSYS and its name is noted
// once. `wisp.strace` on the command line prints every call and its result.
import { atomicCompareExchange32, atomicLoad32 } from "../arch/x86_64/atomic";
import {
  FRAME_NR, FRAME_R10, FRAME_R8, FRAME_R9, FRAME_RAX, FRAME_RDI, FRAME_RDX, FRAME_RSI,
} from "../arch/x86_64/syscall";
import { currentApp } from "../kernel/app";
import { Log } from "../kernel/log";
import { Options } from "../kernel/options";
import { SyscallHandler, SYSCALLS } from "./table";
import { ENOSYS } from "./errno";
import { firstTime, NOTE_SYSCALL_OUT_OF_RANGE } from "./log";

/** Numbers below this are noted once each; above, only the first. */
const NOTED_NUMBERS: u64 = 1024;
const noted = memory.data(<i32>(NOTED_NUMBERS / 8), 4);

/** -1: not looked up yet; 0 or 1: wisp.strace absent or present. */
let trace: i32 = -1;

function nameOf(nr: u64): usize {
  if (nr >= <u64>(SYSCALLS.length >> 1)) return 0;
  return unchecked(SYSCALLS[<i32>nr * 2]);
}

function logName(nr: u64): void {
  let name = nameOf(nr);
  if (name != 0) Log.str(changetype<string>(name));
  else Log.str("unknown");
}

/** Notes `wisp: syscall <name> (<nr>) not implemented` the first time. */
function notImplemented(nr: u64): void {
  if (nr < NOTED_NUMBERS) {
    let word = noted + <usize>(nr >> 5) * 4;
    let mask: u32 = 1 << <u32>(nr & 31);
    while (true) {
      let old = atomicLoad32(word);
      if ((old & mask) != 0) return;
      if (atomicCompareExchange32(word, old, old | mask) == old) break;
    }
  } else if (!firstTime(NOTE_SYSCALL_OUT_OF_RANGE)) {
    return;
  }
  Log.str("wisp: syscall ");
  logName(nr);
  Log.str(" (");
  Log.dec(nr);
  Log.line(") not implemented");
}

function traceCall(nr: u64, frame: usize): void {
  Log.str("strace: [");
  Log.dec(currentApp().tid);
  Log.str("] ");
  logName(nr);
  Log.str("(");
  Log.hexWidth(load<u64>(frame + FRAME_RDI), 1);
  Log.str(", ");
  Log.hexWidth(load<u64>(frame + FRAME_RSI), 1);
  Log.str(", ");
  Log.hexWidth(load<u64>(frame + FRAME_RDX), 1);
  Log.str(", ");
  Log.hexWidth(load<u64>(frame + FRAME_R10), 1);
  Log.line(")");
}

function traceResult(nr: u64, result: i64): void {
  Log.str("strace: [");
  Log.dec(currentApp().tid);
  Log.str("] ");
  logName(nr);
  Log.str(" = ");
  if (result < 0 && result > -4096) Log.signed(result);
  else Log.hexWidth(<u64>result, 1);
  Log.newline();
}

/** Runs the system call in the frame at `frame` (an AS pointer) and stores its result. */
export function syscallDispatch(frame: usize): void {
  // As Linux: the number is EAX, the upper half of RAX is ignored.
  let nr = <u64>load<u32>(frame + FRAME_NR);
  if (trace < 0) trace = Options.has("wisp.strace") ? 1 : 0;
  if (trace > 0) traceCall(nr, frame);
  let result: i64 = -ENOSYS;
  let handler: usize = nr < <u64>(SYSCALLS.length >> 1) ? unchecked(SYSCALLS[<i32>nr * 2 + 1]) : 0;
  if (handler != 0) {
    result = changetype<SyscallHandler>(handler)(
      load<u64>(frame + FRAME_RDI), load<u64>(frame + FRAME_RSI), load<u64>(frame + FRAME_RDX),
      load<u64>(frame + FRAME_R10), load<u64>(frame + FRAME_R8), load<u64>(frame + FRAME_R9),
    );
  } else {
    notImplemented(nr);
  }
  if (trace > 0) traceResult(nr, result);
  store<i64>(frame + FRAME_RAX, result);
}
