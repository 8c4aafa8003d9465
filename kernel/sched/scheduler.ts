// The preemptive scheduler: a FIFO run queue per CPU with its own lock, fair
// time slices (a thread runs at most SLICE before the next runnable thread
// gets its turn), wake-ups onto the thread's last CPU with a reschedule IPI,
// work stealing by CPUs that run dry, and a per-CPU idle thread that halts.
import {
  atomicCompareExchange32, atomicLoad32, atomicStore32, interruptsRestore, interruptsSave,
} from "../../arch/x86_64/atomic";
import { pause, rdtsc, waitForInterrupt, interruptsOff } from "../../arch/x86_64/cpu";
import { Lapic, VECTOR_RESCHEDULE } from "../../arch/x86_64/lapic";
import { switchContext } from "../../arch/x86_64/threads";
import { spinLock, spinTryLock, spinUnlock } from "../sync/spinlock";
import { Cpus, PerCpu, perCpu, thisCpu } from "./percpu";
import {
  CPU_ANY, Thread, THREAD_BLOCKED, THREAD_DEAD, THREAD_RUNNABLE, THREAD_RUNNING, threadCreate, threadFree,
} from "./thread";
import { WaitQueue, waitQueueLock, waitQueueSleepLocked, waitQueueWakeLocked } from "../sync/waitqueue";
import { Clock } from "../time/clock";
import { Timer, timerStart } from "../time/timer";
import { panic } from "../panic";

/** The current thread gives up the CPU but stays runnable. */
export const SCHED_YIELD: u32 = 1;
/** A timer or IPI decided the current thread has run long enough. */
export const SCHED_PREEMPT: u32 = 2;
/** The current thread is blocked (state set by the caller) or dead. */
export const SCHED_BLOCK: u32 = 3;

/** Time slice: 4 ms. */
const SLICE_NANOS: u64 = 4_000_000;

function runLock(cpu: PerCpu): usize {
  return changetype<usize>(cpu) + offsetof<PerCpu>("runLock");
}

function stateAddress(thread: Thread): usize {
  return changetype<usize>(thread) + offsetof<Thread>("state");
}

export function currentThread(): Thread {
  // With interrupts on, a preemption between finding this CPU and reading
  // its current thread could move us and return another CPU's thread.
  let flags = interruptsSave();
  let current = thisCpu().current;
  interruptsRestore(flags);
  return changetype<Thread>(current);
}

/** Appends `thread` to `cpu`'s run queue; with its lock held. */
function enqueueLocked(cpu: PerCpu, thread: Thread): void {
  thread.runNext = 0;
  if (cpu.runTail == 0) cpu.runHead = changetype<usize>(thread);
  else changetype<Thread>(cpu.runTail).runNext = changetype<usize>(thread);
  cpu.runTail = changetype<usize>(thread);
  cpu.runCount++;
}

function dequeueLocked(cpu: PerCpu): usize {
  let t = cpu.runHead;
  if (t == 0) return 0;
  cpu.runHead = changetype<Thread>(t).runNext;
  if (cpu.runHead == 0) cpu.runTail = 0;
  changetype<Thread>(t).runNext = 0;
  cpu.runCount--;
  return t;
}

/** Puts a runnable thread on `cpu`'s queue and makes sure that CPU notices:
 * an idle CPU switches at once, a busy one arms its slice timer. */
function enqueue(cpu: PerCpu, thread: Thread): void {
  // Interrupts stay off throughout: a waker preempted and moved to another
  // CPU after deciding `cpu` is its own would arm that CPU's slice timer
  // from here, in this CPU's timer list (two CPUs then edit one timer).
  let flags = interruptsSave();
  let lockFlags = spinLock(runLock(cpu));
  enqueueLocked(cpu, thread);
  spinUnlock(runLock(cpu), lockFlags);
  let self = thisCpu();
  if (cpu.index == self.index) {
    if (self.current == self.idle) self.needResched = 1;
    else armSliceTimer(self);
  } else {
    Lapic.sendIpi(cpu.apicId, VECTOR_RESCHEDULE);
  }
  interruptsRestore(flags);
}

function onSliceEnd(cpuIndex: usize): void {
  perCpu(<u32>cpuIndex).needResched = 1;
}

/** While others wait, the running thread's slice must end by a timer: the
 * kernel is otherwise tickless. */
function armSliceTimer(cpu: PerCpu): void {
  if (cpu.sliceTimer == 0 || cpu.current == cpu.idle || cpu.runCount == 0) return;
  let timer = changetype<Timer>(cpu.sliceTimer);
  if (timer.armed != 0 && timer.deadline == cpu.sliceEnd) return;
  timerStart(timer, cpu.sliceEnd, onSliceEnd, cpu.index);
}

/** Takes a thread from the busiest other CPU; 0 if none has spare work. */
function steal(self: PerCpu): usize {
  let busiest: PerCpu | null = null;
  let most: u32 = 0;
  for (let i: u32 = 0; i < Cpus.online; i++) {
    if (i == self.index) continue;
    let cpu = perCpu(i);
    let count = atomicLoad32(changetype<usize>(cpu) + offsetof<PerCpu>("runCount"));
    if (count > most) {
      most = count;
      busiest = cpu;
    }
  }
  if (busiest === null) return 0;
  let victim = busiest;
  let token = spinTryLock(runLock(victim));
  if (token == 0) return 0;
  let t = dequeueStealableLocked(victim);
  spinUnlock(runLock(victim), token & ~(<u64>1 << 63));
  return t;
}

/** The first queued thread free to move to another CPU, removed; 0 if none. */
function dequeueStealableLocked(cpu: PerCpu): usize {
  let previous: usize = 0;
  let t = cpu.runHead;
  while (t != 0) {
    let thread = changetype<Thread>(t);
    if (thread.affinity == CPU_ANY) {
      if (previous == 0) cpu.runHead = thread.runNext;
      else changetype<Thread>(previous).runNext = thread.runNext;
      if (cpu.runTail == t) cpu.runTail = previous;
      thread.runNext = 0;
      cpu.runCount--;
      return t;
    }
    previous = t;
    t = thread.runNext;
  }
  return 0;
}

/** Threads on `cpu`'s run queue if its links agree with runCount and
 * runTail, else -1 (self-tests and diagnostics). */
export function runQueueLength(cpu: PerCpu): i32 {
  let flags = spinLock(runLock(cpu));
  let count: u32 = 0;
  let last: usize = 0;
  let t = cpu.runHead;
  while (t != 0 && count <= cpu.runCount) {
    count++;
    last = t;
    t = changetype<Thread>(t).runNext;
  }
  let intact = count == cpu.runCount && last == cpu.runTail;
  spinUnlock(runLock(cpu), flags);
  return intact ? <i32>count : -1;
}

/** Makes a blocked thread runnable with `result` as its wait result. False
 * if it was not blocked (already woken, e.g. by a timeout). */
export function wakeThread(thread: Thread, result: i32): bool {
  if (atomicCompareExchange32(stateAddress(thread), THREAD_BLOCKED, THREAD_RUNNABLE) != THREAD_BLOCKED) return false;
  thread.waitResult = result;
  let home = thread.affinity != CPU_ANY ? thread.affinity : thread.cpu;
  let target = home < Cpus.online ? perCpu(home) : thisCpu();
  enqueue(target, thread);
  return true;
}

/** Makes a thread from threadCreate runnable, on `cpu` (or this CPU if out of range). */
export function threadStartOn(thread: Thread, cpu: u32): void {
  thread.cpu = cpu < Cpus.online ? cpu : thisCpu().index;
  wakeThread(thread, 0);
}

/** Switches to the next thread; see SCHED_*. */
export function schedule(reason: u32): void {
  let flags = interruptsSave();
  let cpu = thisCpu();
  let prev = changetype<Thread>(cpu.current);
  let now = rdtsc();
  let lockFlags = spinLock(runLock(cpu));
  if (reason != SCHED_BLOCK && cpu.current != cpu.idle && atomicLoad32(stateAddress(prev)) == THREAD_RUNNING) {
    atomicStore32(stateAddress(prev), THREAD_RUNNABLE);
    enqueueLocked(cpu, prev);
  }
  let next = dequeueLocked(cpu);
  spinUnlock(runLock(cpu), lockFlags);
  if (next == 0) next = steal(cpu);
  if (next == 0) {
    // Nothing else to run: keep running a thread that only yielded.
    next = atomicLoad32(stateAddress(prev)) == THREAD_RUNNABLE && reason != SCHED_BLOCK ? 0 : cpu.idle;
    if (next == 0) {
      atomicStore32(stateAddress(prev), THREAD_RUNNING);
      next = changetype<usize>(prev);
    }
  }
  let nextThread = changetype<Thread>(next);
  if (next != cpu.idle) atomicStore32(stateAddress(nextThread), THREAD_RUNNING);
  cpu.needResched = 0;
  cpu.sliceEnd = now + Clock.nanosToTicks(SLICE_NANOS);
  if (next != changetype<usize>(prev)) {
    // It may still be switching out on the CPU it last ran on.
    let onCpu = changetype<usize>(nextThread) + offsetof<Thread>("onCpu");
    while (atomicLoad32(onCpu) != 0) pause();
    atomicStore32(onCpu, 1);
    nextThread.cpu = cpu.index;
    prev.runtime += now - prev.runStart;
    nextThread.runStart = now;
    cpu.previous = changetype<usize>(prev);
    cpu.current = next;
    cpu.contextSwitches++;
    armSliceTimer(cpu);
    switchContext(changetype<usize>(prev), next);
    finishSwitch();
  }
  interruptsRestore(flags);
}

/** Runs in the thread that was switched to: releases the one switched away from. */
function finishSwitch(): void {
  let cpu = thisCpu();
  let previous = cpu.previous;
  if (previous == 0) return;
  cpu.previous = 0;
  let thread = changetype<Thread>(previous);
  let dead = atomicLoad32(stateAddress(thread)) == THREAD_DEAD;
  let detached = thread.detached != 0;
  atomicStore32(changetype<usize>(thread) + offsetof<Thread>("onCpu"), 0);
  if (dead && detached) threadFree(thread);
}

/** A new thread's first code (exported to the C trampoline). */
export function threadStart(): void {
  finishSwitch();
  let self = currentThread();
  interruptsRestore(0x200);
  changetype<(arg: usize) => void>(self.entry)(self.arg);
  threadExit();
}

/** Ends the current thread: wakes joiners; detached threads free themselves. */
export function threadExit(): void {
  let self = currentThread();
  let joiners = changetype<WaitQueue>(self.joiners);
  let flags = waitQueueLock(joiners);
  atomicStore32(stateAddress(self), THREAD_DEAD);
  waitQueueWakeLocked(joiners, 0xffffffff, 0);
  // Interrupts stay off: we must not be preempted once dead.
  spinUnlock(changetype<usize>(joiners) + offsetof<WaitQueue>("lock"), flags & ~(<u64>0x200));
  schedule(SCHED_BLOCK);
  panic("scheduler: a dead thread was resumed");
}

/** Waits for `thread` (not detached) to end, then frees it. */
export function threadJoin(thread: Thread): void {
  let joiners = changetype<WaitQueue>(thread.joiners);
  while (true) {
    let flags = waitQueueLock(joiners);
    if (atomicLoad32(stateAddress(thread)) == THREAD_DEAD) {
      spinUnlockQueue(joiners, flags);
      break;
    }
    waitQueueSleepLocked(joiners, flags, 0);
  }
  // It is dead, but its CPU may still be switching away from it.
  let onCpu = changetype<usize>(thread) + offsetof<Thread>("onCpu");
  while (atomicLoad32(onCpu) != 0) pause();
  threadFree(thread);
}

function spinUnlockQueue(queue: WaitQueue, flags: u64): void {
  spinUnlock(changetype<usize>(queue) + offsetof<WaitQueue>("lock"), flags);
}

/** Creates and starts a thread, pinned to `cpu` unless it is CPU_ANY; null
 * when out of memory. */
export function threadSpawn(name: string, entry: (arg: usize) => void, arg: usize, cpu: u32, detached: bool): Thread | null {
  let thread = threadCreate(name, entry, arg);
  if (thread === null) return null;
  thread.detached = detached ? 1 : 0;
  if (cpu != CPU_ANY && cpu < Cpus.online) thread.affinity = cpu;
  threadStartOn(thread, cpu);
  return thread;
}

/** Pins the current thread to `cpu` (CPU_ANY unpins), moving it there now. */
export function setAffinity(cpu: u32): void {
  let self = currentThread();
  self.affinity = cpu < Cpus.online ? cpu : CPU_ANY;
  if (self.affinity != CPU_ANY && thisCpu().index != cpu) {
    // Block and be woken on the target CPU.
    let flags = interruptsSave();
    atomicStore32(stateAddress(self), THREAD_BLOCKED);
    wakeThread(self, 0);
    schedule(SCHED_BLOCK);
    interruptsRestore(flags);
  }
}

export function yieldCpu(): void {
  schedule(SCHED_YIELD);
}

/** Called at the end of every interrupt: preempt if a slice ran out or a wake-up asked. */
export function preemptIfNeeded(): void {
  let cpu = thisCpu();
  if (cpu.current == 0) return;
  armSliceTimer(cpu);
  if (cpu.needResched != 0 || (cpu.current != cpu.idle && rdtsc() >= cpu.sliceEnd && cpu.runCount > 0)) {
    schedule(SCHED_PREEMPT);
  }
}

/** The idle loop of every CPU: look for work, else halt until an interrupt. */
export function idleLoop(): void {
  while (true) {
    let cpu = thisCpu();
    interruptsOff();
    if (atomicLoad32(changetype<usize>(cpu) + offsetof<PerCpu>("runCount")) > 0 || cpu.needResched != 0) {
      schedule(SCHED_YIELD);
      continue;
    }
    if (Cpus.online > 1) {
      schedule(SCHED_YIELD); // tries to steal
      if (thisCpu().current != thisCpu().idle) continue;
    }
    cpu.idleSince = rdtsc();
    waitForInterrupt(); // sti; hlt: wakes on the next interrupt
    cpu.idleTicks += rdtsc() - cpu.idleSince;
  }
}
