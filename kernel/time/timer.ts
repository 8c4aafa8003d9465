// One-shot high-resolution timers, per CPU, kept sorted by deadline (TSC
// ticks). The local APIC is armed for the earliest deadline only, and not at
// all when there is none: the kernel is tickless when idle. Callbacks run in
// interrupt context with interrupts off: they may wake threads and set flags.
import { pause, rdtsc } from "../../arch/x86_64/cpu";
import { atomicLoad32, atomicStore32, interruptsRestore, interruptsSave } from "../../arch/x86_64/atomic";
import { Lapic } from "../../arch/x86_64/lapic";
import { spinLock, spinUnlock } from "../sync/spinlock";
import { PerCpu, perCpu, thisCpu } from "../sched/percpu";
import { Tsc } from "./tsc";

@unmanaged
export class Timer {
  deadline: u64;
  next: usize;
  /** A function (arg: usize) => void, as a function reference. */
  callback: usize;
  arg: usize;
  cpu: u32;
  armed: u32;
  /** Set while its callback runs (on timer.cpu). */
  running: u32;
}

function lockOf(cpu: PerCpu): usize {
  return changetype<usize>(cpu) + offsetof<PerCpu>("timerLock");
}

/** Programs the APIC for the list head; call with the timer lock held. */
function rearm(cpu: PerCpu): void {
  if (cpu.timerHead == 0) {
    if (cpu.armedDeadline != 0) Lapic.disarmTimer();
    cpu.armedDeadline = 0;
    return;
  }
  let deadline = changetype<Timer>(cpu.timerHead).deadline;
  if (deadline != cpu.armedDeadline) {
    cpu.armedDeadline = deadline;
    Lapic.armTimer(deadline, Tsc.hz);
  }
}

function unlink(cpu: PerCpu, timer: Timer): void {
  let link = changetype<usize>(cpu) + offsetof<PerCpu>("timerHead");
  while (load<usize>(link) != 0) {
    let t = load<usize>(link);
    if (t == changetype<usize>(timer)) {
      store<usize>(link, timer.next);
      timer.next = 0;
      return;
    }
    link = t + offsetof<Timer>("next");
  }
}

/** Arms `timer` on this CPU for TSC value `deadline`; re-arms if already armed. */
export function timerStart(timer: Timer, deadline: u64, callback: (arg: usize) => void, arg: usize): void {
  // Interrupts off from choosing this CPU's list to programming its APIC: a
  // preemption in between could move us and put the timer in another CPU's
  // list with our APIC armed for it (and theirs not).
  let outer = interruptsSave();
  timerCancel(timer);
  let cpu = thisCpu();
  let flags = spinLock(lockOf(cpu));
  // 0 is armedDeadline's "nothing armed": a deadline of 0 (e.g. a slice end
  // before the CPU's first schedule) would sit at the head unarmed forever.
  timer.deadline = deadline != 0 ? deadline : 1;
  timer.callback = changetype<usize>(callback);
  timer.arg = arg;
  timer.cpu = cpu.index;
  timer.armed = 1;
  // Insert sorted; equal deadlines fire in arming order.
  let link = changetype<usize>(cpu) + offsetof<PerCpu>("timerHead");
  while (load<usize>(link) != 0 && changetype<Timer>(load<usize>(link)).deadline <= deadline) {
    link = load<usize>(link) + offsetof<Timer>("next");
  }
  timer.next = load<usize>(link);
  store<usize>(link, changetype<usize>(timer));
  rearm(cpu);
  spinUnlock(lockOf(cpu), flags);
  interruptsRestore(outer);
}

/**
 * Disarms `timer`; true if it was armed (so its callback will not run). When
 * it returns, no callback of this timer is running on another CPU either:
 * a thread that cancels its wake-up timer after waking cannot be woken from
 * a later wait by this one's late callback.
 */
export function timerCancel(timer: Timer): bool {
  let cpu = perCpu(timer.cpu);
  let wasArmed = false;
  if (timer.armed != 0) {
    let flags = spinLock(lockOf(cpu));
    wasArmed = timer.armed != 0;
    if (wasArmed) {
      unlink(cpu, timer);
      timer.armed = 0;
      if (cpu.index == thisCpu().index) rearm(cpu);
    }
    spinUnlock(lockOf(cpu), flags);
  }
  // Its callback may be running right now on its CPU; on ours it cannot be
  // (callbacks run with interrupts off), and waiting there would deadlock.
  if (!wasArmed && cpu.index != thisCpu().index) {
    let running = changetype<usize>(timer) + offsetof<Timer>("running");
    while (atomicLoad32(running) != 0) pause();
  }
  return wasArmed;
}

/** The timer interrupt: runs every expired timer of this CPU. */
export function timerInterrupt(): void {
  let cpu = thisCpu();
  cpu.armedDeadline = 0;
  while (true) {
    let flags = spinLock(lockOf(cpu));
    let head = cpu.timerHead;
    if (head == 0 || changetype<Timer>(head).deadline > rdtsc()) {
      rearm(cpu);
      spinUnlock(lockOf(cpu), flags);
      return;
    }
    let timer = changetype<Timer>(head);
    cpu.timerHead = timer.next;
    timer.next = 0;
    timer.armed = 0;
    let running = changetype<usize>(timer) + offsetof<Timer>("running");
    atomicStore32(running, 1);
    let callback = timer.callback;
    let arg = timer.arg;
    spinUnlock(lockOf(cpu), flags);
    changetype<(arg: usize) => void>(callback)(arg);
    atomicStore32(running, 0);
  }
}

// The self-tests' and diagnostics' view of a CPU's timer list, under its
// lock: -1 if it is not sound (a cycle, out of order, an entry disarmed or
// another CPU's), else 1 if `find` is in it and 0 if not.
function inspectList(cpu: PerCpu, find: usize): i32 {
  let flags = spinLock(lockOf(cpu));
  let result: i32 = 0;
  let steps: u32 = 0;
  let previous: u64 = 0;
  let t = cpu.timerHead;
  while (t != 0) {
    let timer = changetype<Timer>(t);
    if (++steps > 1_000_000 || timer.cpu != cpu.index || timer.armed == 0 || timer.deadline < previous) {
      result = -1;
      break;
    }
    if (t == find) result = 1;
    previous = timer.deadline;
    t = timer.next;
  }
  spinUnlock(lockOf(cpu), flags);
  return result;
}

/** Whether `cpu`'s timer list is sound: finite, sorted, every entry armed and that CPU's. */
export function timerListIntact(cpu: PerCpu): bool {
  return inspectList(cpu, 0) >= 0;
}

/** Whether `cpu`'s timer list is sound and holds `timer`. */
export function timerListHolds(cpu: PerCpu, timer: Timer): bool {
  return inspectList(cpu, changetype<usize>(timer)) == 1;
}
