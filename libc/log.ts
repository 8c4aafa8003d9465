// One-time console notes from the Linux ABI layer: what an application asked
// for that Wisp does not do yet, said once per kind so that a loop cannot
// flood the console.
import { atomicCompareExchange32, atomicLoad32 } from "../arch/x86_64/atomic";
import { Log } from "../kernel/log";

export const NOTE_CLONE_PROCESS: u32 = 0;
export const NOTE_ARCH_SET_GS: u32 = 1;
export const NOTE_PRCTL: u32 = 2;
export const NOTE_FUTEX_OP: u32 = 3;
export const NOTE_SIGNAL_HANDLER: u32 = 4;
export const NOTE_SIGNAL_STOP: u32 = 5;
export const NOTE_SIGNAL_BLOCKED: u32 = 6;
export const NOTE_SYSCALL_OUT_OF_RANGE: u32 = 7;
const NOTE_KINDS: u32 = 32;

const noted = memory.data(<i32>NOTE_KINDS * 4, 4);

/** True the first time it is called for `kind` (the caller prints). */
export function firstTime(kind: u32): bool {
  let word = noted + <usize>(kind % NOTE_KINDS) * 4;
  return atomicLoad32(word) == 0 && atomicCompareExchange32(word, 0, 1) == 0;
}

/** Prints `wisp: <message>` the first time `kind` comes up. */
export function noteOnce(kind: u32, message: string): void {
  if (!firstTime(kind)) return;
  Log.str("wisp: ");
  Log.line(message);
}
