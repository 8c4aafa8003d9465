// Sleeping for a time: block with the thread's own timer as the only waker.
import { atomicStore32, interruptsRestore, interruptsSave } from "../../arch/x86_64/atomic";
import { rdtsc } from "../../arch/x86_64/cpu";
import { Clock } from "../time/clock";
import { Timer, timerCancel, timerStart } from "../time/timer";
import { currentThread, schedule, SCHED_BLOCK, wakeThread } from "./scheduler";
import { THREAD_BLOCKED, Thread } from "./thread";

function onSleepEnd(threadAddress: usize): void {
  wakeThread(changetype<Thread>(threadAddress), 0);
}

/** Sleeps until TSC value `deadline` (at least; a spurious wake-up sleeps again). */
export function sleepUntil(deadline: u64): void {
  while (deadline > rdtsc()) {
    let flags = interruptsSave();
    let self = currentThread();
    atomicStore32(changetype<usize>(self) + offsetof<Thread>("state"), THREAD_BLOCKED);
    let timer = changetype<Timer>(self.timer);
    timerStart(timer, deadline, onSleepEnd, changetype<usize>(self));
    schedule(SCHED_BLOCK);
    timerCancel(timer);
    interruptsRestore(flags);
  }
}

export function sleepNanos(nanos: u64): void {
  sleepUntil(Clock.deadlineIn(nanos));
}
