// Spinlocks: a u32 word in memory (0 free, 1 held). Taking one disables
// interrupts on this CPU, so an interrupt handler that takes the same lock
// cannot deadlock against the code it interrupted.
import { atomicExchange32, atomicLoad32, atomicStore32, interruptsRestore, interruptsSave } from "../../arch/x86_64/atomic";
import { pause } from "../../arch/x86_64/cpu";

/** Bytes a lock occupies; embed it in a structure or use memory.data(SPINLOCK_BYTES, 4). */
export const SPINLOCK_BYTES: usize = 4;

/** Takes the lock at `lock`; returns the interrupt state to hand to spinUnlock. */
export function spinLock(lock: usize): u64 {
  let flags = interruptsSave();
  while (atomicExchange32(lock, 1) != 0) {
    // Wait on plain loads, not locked exchanges, so waiters do not fight
    // over the cache line.
    while (atomicLoad32(lock) != 0) pause();
  }
  return flags;
}

export function spinUnlock(lock: usize, flags: u64): void {
  atomicStore32(lock, 0);
  interruptsRestore(flags);
}

/** Takes the lock if it is free; returns 0 if not, else the saved interrupt state | 1 << 63. */
export function spinTryLock(lock: usize): u64 {
  let flags = interruptsSave();
  if (atomicExchange32(lock, 1) == 0) return flags | (<u64>1 << 63);
  interruptsRestore(flags);
  return 0;
}
