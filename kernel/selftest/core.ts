// In-guest self-tests of the core kernel (wisp.test=core): timers, sleep,
// preemption, threads with mutex and condition variable, semaphores, futexes,
// and the page allocator. Each check prints one line (report.ts).
import { atomicAdd32, atomicLoad32, atomicStore32, interruptsRestore, interruptsSave } from "../../arch/x86_64/atomic";
import { rdtsc } from "../../arch/x86_64/cpu";
import { physToDirectMap } from "../../arch/x86_64/layout";
import { Log } from "../log";
import { allocContiguous, allocPage, freeContiguous, freePage, freePageCount, physicalDrainCaches } from "../mm/physical";
import { heapAlloc, heapBytesInUse, heapFree, heapTrim, TAG_KERNEL } from "../mm/heap";
import { Cpus, perCpu } from "../sched/percpu";
import {
  runQueueLength, setAffinity, threadJoin, threadSpawn, threadStartOn, wakeThread, yieldCpu,
} from "../sched/scheduler";
import { CPU_ANY, THREAD_BLOCKED, threadCreate, threadEnableFpu } from "../sched/thread";
import { fpuTestLoad, fpuTestRead } from "../../arch/x86_64/threads";
import { sleepNanos } from "../sched/sleep";
import { Thread } from "../sched/thread";
import {
  EAGAIN, FUTEX_BITSET_MATCH_ANY, futexRequeue, futexWait, futexWake, futexWakeOp,
} from "../sync/futex";
import {
  condBroadcast, condInit, CondVar, condWait, Mutex, mutexInit, mutexLock, mutexUnlock,
  Semaphore, semaphoreDown, semaphoreInit, semaphoreUp,
} from "../sync/mutex";
import { ETIMEDOUT, WaitQueue, waitQueueInit, waitQueueSleep, waitQueueWake } from "../sync/waitqueue";
import { Clock } from "../time/clock";
import { Timer, timerCancel, timerListHolds, timerListIntact, timerStart } from "../time/timer";
import { SelfTest } from "./report";

const MILLI: u64 = 1_000_000;

// --- timers ---------------------------------------------------------------

const TIMER_COUNT: u32 = 16;
const timers = memory.data(<i32>(TIMER_COUNT * 64), 16);
const fired = memory.data(<i32>(TIMER_COUNT * 16), 8); // order index, fire TSC
let firedCount: u32 = 0;

// Runs in the timer interrupt of CPU 0, which armed every test timer.
function onTestTimer(index: usize): void {
  firedCount++;
  store<u64>(fired + index * 16, <u64>firedCount);
  store<u64>(fired + index * 16 + 8, rdtsc());
}

function testTimers(): void {
  // Every test timer on CPU 0, armed by a thread that stays there.
  setAffinity(0);
  firedCount = 0;
  memory.fill(fired, 0, TIMER_COUNT * 16);
  // Armed with interrupts off: a vCPU stalled by a busy host mid-loop would
  // otherwise fire timers already due in arming order, not deadline order.
  let flags = interruptsSave();
  let start = rdtsc();
  // Deadlines 1..16 ms in a scrambled arming order.
  for (let i: u32 = 0; i < TIMER_COUNT; i++) {
    let slot = (i * 7) % TIMER_COUNT;
    let timer = changetype<Timer>(timers + <usize>slot * 64);
    let deadline = start + Clock.nanosToTicks(<u64>(slot + 1) * MILLI);
    timerStart(timer, deadline, onTestTimer, slot);
  }
  interruptsRestore(flags);
  sleepNanos(40 * MILLI);
  let inOrder = firedCount == TIMER_COUNT;
  let worstLateNanos: u64 = 0;
  let neverEarly = true;
  for (let slot: u32 = 0; slot < TIMER_COUNT; slot++) {
    let order = load<u64>(fired + <usize>slot * 16);
    let at = load<u64>(fired + <usize>slot * 16 + 8);
    if (order != <u64>slot + 1) {
      inOrder = false;
      Log.str("selftest: timer ");
      Log.dec(slot);
      Log.str(" fired as number ");
      Log.dec(order);
      Log.newline();
    }
    let deadline = start + Clock.nanosToTicks(<u64>(slot + 1) * MILLI);
    if (at < deadline) neverEarly = false;
    else if (Clock.ticksToNanos(at - deadline) > worstLateNanos) worstLateNanos = Clock.ticksToNanos(at - deadline);
  }
  SelfTest.check("timers", "16 one-shot timers fire in deadline order", inOrder);
  SelfTest.check("timers", "no timer fires before its deadline", neverEarly);
  Log.str("selftest: timers: worst lateness ");
  Log.dec(worstLateNanos / 1000);
  Log.line(" us");
  // Generous: under an emulator on a busy host the vCPU itself may be late.
  SelfTest.check("timers", "every timer fires within 50 ms of its deadline", worstLateNanos < 50 * MILLI);

  let before = Clock.monotonicNanos();
  sleepNanos(5 * MILLI);
  let slept = Clock.monotonicNanos() - before;
  SelfTest.check("timers", "sleep 5 ms lasts 5-55 ms", slept >= 5 * MILLI && slept < 55 * MILLI);
  setAffinity(CPU_ANY);
}

// --- one timer armed from a thread and from interrupts ---------------------

const raceTimer = memory.data(64, 16);
const pulseTimer = memory.data(64, 16);
const SENTINELS: u32 = 4;
const sentinels = memory.data(<i32>(SENTINELS * 64), 16);
const pulseStop = memory.data(4, 4);
const pulses = memory.data(4, 4);
/** A deadline no test reaches (the race and sentinel timers must not fire). */
let farDeadline: u64 = 0;

function onNever(arg: usize): void {}

// A timer interrupt every ~20 us re-arms raceTimer, as preemptIfNeeded
// re-arms the slice timer at the end of every interrupt.
function onPulse(arg: usize): void {
  atomicAdd32(pulses, 1);
  timerStart(changetype<Timer>(raceTimer), farDeadline + <u64>(rdtsc() & 0xfff), onNever, 0);
  if (atomicLoad32(pulseStop) == 0) timerStart(changetype<Timer>(pulseTimer), rdtsc() + Clock.nanosToTicks(20_000), onPulse, 0);
}

// The thread re-arms the same timer while interrupts do: an interrupt
// between timerStart's cancel and its insertion used to insert the timer
// twice (a cycle, or the timers between the two places lost), which once
// hung a guest in timerCancel.
function testTimerRearmRace(): void {
  setAffinity(0);
  farDeadline = rdtsc() + Clock.nanosToTicks(3600 * 1_000_000_000);
  for (let i: u32 = 0; i < SENTINELS; i++) {
    timerStart(changetype<Timer>(sentinels + <usize>i * 64), farDeadline + <u64>i * 0x1000 + 0x800, onNever, 0);
  }
  atomicStore32(pulseStop, 0);
  atomicStore32(pulses, 0);
  timerStart(changetype<Timer>(pulseTimer), rdtsc() + Clock.nanosToTicks(20_000), onPulse, 0);
  let end = rdtsc() + Clock.nanosToTicks(150 * MILLI);
  let intact = true;
  let rounds: u32 = 0;
  while (rdtsc() < end && intact) {
    timerStart(changetype<Timer>(raceTimer), farDeadline + <u64>(rdtsc() & 0xfff), onNever, 0);
    if ((++rounds & 63) == 0) intact = timerListIntact(perCpu(0));
  }
  atomicStore32(pulseStop, 1);
  sleepNanos(MILLI);
  if (intact) intact = timerListIntact(perCpu(0));
  let kept = true;
  for (let i: u32 = 0; i < SENTINELS; i++) kept = kept && timerListHolds(perCpu(0), changetype<Timer>(sentinels + <usize>i * 64));
  if (intact) {
    timerCancel(changetype<Timer>(pulseTimer));
    timerCancel(changetype<Timer>(raceTimer));
    for (let i: u32 = 0; i < SENTINELS; i++) timerCancel(changetype<Timer>(sentinels + <usize>i * 64));
  }
  Log.str("selftest: timers: ");
  Log.dec(rounds);
  Log.str(" re-arms against ");
  Log.dec(atomicLoad32(pulses));
  Log.line(" interrupt re-arms");
  SelfTest.check("timers", "a timer re-armed by a thread and by interrupts at once stays in the list once", intact);
  SelfTest.check("timers", "no other timer is lost meanwhile", kept);
  setAffinity(CPU_ANY);
}

// --- preemption -----------------------------------------------------------

const spinCounters = memory.data(16, 8);
const spinStop = memory.data(4, 4);

function spinner(index: usize): void {
  // Never yields: only preemption lets the other spinner run on this CPU.
  while (atomicLoad32(spinStop) == 0) {
    store<u64>(spinCounters + index * 8, load<u64>(spinCounters + index * 8) + 1);
  }
}

function testPreemption(): void {
  memory.fill(spinCounters, 0, 16);
  atomicStore32(spinStop, 0);
  let a = threadSpawn("spin-a", spinner, 0, 0, false);
  let b = threadSpawn("spin-b", spinner, 1, 0, false);
  if (a === null || b === null) {
    SelfTest.check("sched", "spawn spinners", false);
    return;
  }
  sleepNanos(60 * MILLI);
  atomicStore32(spinStop, 1);
  threadJoin(a);
  threadJoin(b);
  let countA = load<u64>(spinCounters);
  let countB = load<u64>(spinCounters, 8);
  SelfTest.check("sched", "two busy threads on one CPU both progress (preemption)", countA > 0 && countB > 0);
}

// --- mutex and condition variable ping-pong -------------------------------

const PAIRS: u32 = 50;
const ROUNDS: u32 = 40;
const pairMutex = memory.data(64, 16);
const pairCond = memory.data(64, 16);
const turns = memory.data(<i32>(PAIRS * 4), 4);
const totalMutex = memory.data(64, 16);
let total: u64 = 0;

function pingPong(arg: usize): void {
  let pair = <u32>(arg >> 1);
  let side = <u32>(arg & 1);
  let mutex = changetype<Mutex>(pairMutex);
  let cond = changetype<CondVar>(pairCond);
  for (let round: u32 = 0; round < ROUNDS; round++) {
    mutexLock(mutex);
    while (load<u32>(turns + <usize>pair * 4) != side) condWait(cond, mutex, 0);
    store<u32>(turns + <usize>pair * 4, 1 - side);
    condBroadcast(cond);
    mutexUnlock(mutex);
    let totalLock = changetype<Mutex>(totalMutex);
    mutexLock(totalLock);
    total++;
    mutexUnlock(totalLock);
  }
}

function testPingPong(): void {
  mutexInit(changetype<Mutex>(pairMutex));
  condInit(changetype<CondVar>(pairCond));
  mutexInit(changetype<Mutex>(totalMutex));
  memory.fill(turns, 0, PAIRS * 4);
  total = 0;
  let threads = heapAlloc(<usize>PAIRS * 2 * 4, TAG_KERNEL);
  let spawned: u32 = 0;
  for (let i: u32 = 0; i < PAIRS * 2; i++) {
    let t = threadSpawn("pingpong", pingPong, <usize>i, i % Cpus.online, false);
    if (t === null) break;
    store<u32>(threads + <usize>i * 4, changetype<u32>(t));
    spawned++;
  }
  for (let i: u32 = 0; i < spawned; i++) threadJoin(changetype<Thread>(load<u32>(threads + <usize>i * 4)));
  heapFree(threads);
  SelfTest.checkValue("sync", "100 threads in mutex/condvar ping-pong: total", <i64>total, <i64>(PAIRS * 2 * ROUNDS));
}

// --- semaphores -----------------------------------------------------------

const semaphore = memory.data(64, 16);

function semaphoreWorker(arg: usize): void {
  semaphoreDown(changetype<Semaphore>(semaphore), 0);
}

function testSemaphore(): void {
  let s = changetype<Semaphore>(semaphore);
  semaphoreInit(s, 1);
  SelfTest.checkValue("sync", "semaphore down with a unit", semaphoreDown(s, 0), 0);
  let result = semaphoreDown(s, Clock.deadlineIn(3 * MILLI));
  SelfTest.checkValue("sync", "semaphore down times out when empty", result, -ETIMEDOUT);
  let worker = threadSpawn("sem", semaphoreWorker, 0, 0, false);
  if (worker === null) return;
  sleepNanos(2 * MILLI);
  semaphoreUp(s);
  threadJoin(worker);
  SelfTest.checkValue("sync", "semaphore up hands its unit to the waiter", s.count, 0);
}

// --- a waiter whose timeout fired but who has not run yet ------------------
// Its timeout makes it runnable (queued to run) while it is still on its
// wait queue: it takes itself off when it runs. A wake of that queue in
// between must end at the wait queue's end, not follow the thread's link
// into the run queue (that cut the run queue and lost the threads behind
// it: the network freeze under TCP loss, where the network thread's
// deadline and a netUnlock signal met).

const staleQueues = memory.data(128, 16); // 0: the timed-out waiter's; 64: the others'
const staleResults = memory.data(12, 4);
const staleDone = memory.data(12, 4);
const STALE_THREADS: u32 = 3;

function staleQueue(index: u32): WaitQueue {
  return changetype<WaitQueue>(staleQueues + (index == 0 ? 0 : 64));
}

function staleWaiter(index: usize): void {
  // The first waits with a deadline the test fires early; the others without.
  let deadline: u64 = index == 0 ? Clock.deadlineIn(10_000 * MILLI) : 0;
  store<i32>(staleResults + index * 4, waitQueueSleep(staleQueue(<u32>index), deadline));
  atomicStore32(staleDone + index * 4, 1);
}

function testStaleWaiter(): void {
  setAffinity(0);
  waitQueueInit(staleQueue(0));
  waitQueueInit(staleQueue(1));
  memory.fill(staleDone, 0, 12);
  let threads = memory.data(12, 4);
  for (let i: u32 = 0; i < STALE_THREADS; i++) {
    let t = threadCreate("stale", staleWaiter, <usize>i);
    if (t === null) {
      SelfTest.check("sync", "spawn waiters", false);
      return;
    }
    t.affinity = 0;
    store<usize>(threads + <usize>i * 4, changetype<usize>(t));
    threadStartOn(t, 0);
  }
  let blocked = false;
  for (let tries = 0; tries < 1000 && !blocked; tries++) {
    sleepNanos(MILLI);
    blocked = true;
    for (let i: u32 = 0; i < STALE_THREADS; i++) {
      let t = load<usize>(threads + <usize>i * 4);
      if (atomicLoad32(t + offsetof<Thread>("state")) != THREAD_BLOCKED) blocked = false;
    }
  }
  if (!SelfTest.check("sync", "three waiters block", blocked)) return;
  // Interrupts off: nothing runs between the timeout and the wakes.
  let flags = interruptsSave();
  // What the first waiter's timer callback does, then the two others woken
  // after it, so the run queue holds it and two threads behind it.
  wakeThread(changetype<Thread>(load<usize>(threads)), -ETIMEDOUT);
  waitQueueWake(staleQueue(1), 2, 0);
  let woken = waitQueueWake(staleQueue(0), 1, 0);
  let queued = runQueueLength(perCpu(0));
  interruptsRestore(flags);
  SelfTest.checkValue("sync", "a wake finds no waiter on a queue whose waiter timed out", <i64>woken, 0);
  SelfTest.check("sync", "that wake leaves the run queue intact (3+ threads)", queued >= 3);
  let done = false;
  for (let tries = 0; tries < 1000 && !done; tries++) {
    sleepNanos(MILLI);
    done = true;
    for (let i: u32 = 0; i < STALE_THREADS; i++) if (atomicLoad32(staleDone + <usize>i * 4) == 0) done = false;
  }
  SelfTest.check("sync", "the timed-out waiter and the two woken threads all run", done);
  // A lost thread would never end: join only when all did.
  if (!done) return;
  for (let i: u32 = 0; i < STALE_THREADS; i++) threadJoin(changetype<Thread>(load<usize>(threads + <usize>i * 4)));
  SelfTest.checkValue("sync", "the timed-out waiter gets -ETIMEDOUT", load<i32>(staleResults), -ETIMEDOUT);
}

// --- futex ----------------------------------------------------------------

const futexWords = memory.data(16, 8);
const futexReturns = memory.data(4, 4);

function wordKey(index: u32): u64 {
  return physToDirectMap(futexWords + <usize>index * 4);
}

function futexWaiter(arg: usize): void {
  let key = wordKey(<u32>(arg & 0xff));
  let bitset = <u32>(arg >> 8);
  // Woken waiters return 0; count only those.
  if (futexWait(key, 0, 0, bitset == 0 ? FUTEX_BITSET_MATCH_ANY : bitset) == 0) atomicAdd32(futexReturns, 1);
}

function spawnWaiters(count: u32, word: u32, bitset: u32, out: usize): void {
  for (let i: u32 = 0; i < count; i++) {
    let t = threadSpawn("futex", futexWaiter, <usize>word | (<usize>bitset << 8), i % Cpus.online, false);
    store<u32>(out + <usize>i * 4, t === null ? 0 : changetype<u32>(t));
  }
  sleepNanos(10 * MILLI); // let them all queue
}

function joinAll(count: u32, list: usize): void {
  for (let i: u32 = 0; i < count; i++) {
    let t = load<u32>(list + <usize>i * 4);
    if (t != 0) threadJoin(changetype<Thread>(t));
  }
}

function testFutex(): void {
  memory.fill(futexWords, 0, 16);
  let list = heapAlloc(64, TAG_KERNEL);
  let key0 = wordKey(0);
  let key1 = wordKey(1);
  SelfTest.checkValue("futex", "WAIT with a stale value returns EAGAIN", futexWait(key0, 7, 0, FUTEX_BITSET_MATCH_ANY), -EAGAIN);
  SelfTest.checkValue("futex", "WAIT times out", futexWait(key0, 0, Clock.deadlineIn(2 * MILLI), FUTEX_BITSET_MATCH_ANY), -ETIMEDOUT);
  SelfTest.checkValue("futex", "WAIT on an unmapped address returns EFAULT", futexWait(0x1000, 0, 0, FUTEX_BITSET_MATCH_ANY), -14);
  SelfTest.checkValue("futex", "WAKE with nobody waiting wakes 0", futexWake(key0, 1, FUTEX_BITSET_MATCH_ANY), 0);

  atomicStore32(futexReturns, 0);
  spawnWaiters(8, 0, 0, list);
  SelfTest.checkValue("futex", "WAKE 3 of 8 waiters wakes 3", futexWake(key0, 3, FUTEX_BITSET_MATCH_ANY), 3);
  SelfTest.checkValue("futex", "WAKE 10 of the other 5 wakes 5", futexWake(key0, 10, FUTEX_BITSET_MATCH_ANY), 5);
  joinAll(8, list);
  SelfTest.checkValue("futex", "all 8 waiters returned woken", atomicLoad32(futexReturns), 8);

  spawnWaiters(2, 0, 1, list);
  SelfTest.checkValue("futex", "WAKE_BITSET 2 skips waiters with bitset 1", futexWake(key0, 10, 2), 0);
  SelfTest.checkValue("futex", "WAKE_BITSET 1 wakes them", futexWake(key0, 10, 1), 2);
  joinAll(2, list);

  spawnWaiters(4, 0, 0, list);
  SelfTest.checkValue("futex", "CMP_REQUEUE with a changed value returns EAGAIN", futexRequeue(key0, 1, key1, 10, true, 5), -EAGAIN);
  SelfTest.checkValue("futex", "CMP_REQUEUE wakes 1 and moves 3", futexRequeue(key0, 1, key1, 10, true, 0), 4);
  SelfTest.checkValue("futex", "nobody is left on the first word", futexWake(key0, 10, FUTEX_BITSET_MATCH_ANY), 0);
  SelfTest.checkValue("futex", "WAKE on the second word finds the 3 requeued", futexWake(key1, 10, FUTEX_BITSET_MATCH_ANY), 3);
  joinAll(4, list);

  spawnWaiters(2, 0, 0, list);
  spawnWaiters(2, 1, 0, list + 8);
  // FUTEX_OP_ADD 1 to word 1, compare old == 0: wake both words.
  let encoded: u32 = (1 << 28) | (0 << 24) | (1 << 12) | 0;
  SelfTest.checkValue("futex", "WAKE_OP wakes on both words when the comparison holds", futexWakeOp(key0, 10, key1, 10, encoded), 4);
  SelfTest.checkValue("futex", "WAKE_OP updated the second word", load<u32>(futexWords, 4), 1);
  joinAll(4, list);
  heapFree(list);
}

// --- allocators -----------------------------------------------------------

/** Frees what a stress-test slot records: kind << 48 | pages << 32 | address. */
function freeRecord(record: u64): void {
  let kind = <u32>(record >> 48);
  let address = <usize>(record & 0xffffffff);
  let size = <usize>((record >> 32) & 0xffff);
  if (kind == 1) freePage(address);
  else if (kind == 2) freeContiguous(address, size);
  else heapFree(address);
}

function testAllocators(): void {
  heapTrim();
  physicalDrainCaches();
  let freeBefore = freePageCount();
  let heapBefore = heapBytesInUse(TAG_KERNEL);
  let slots = heapAlloc(256 * 8, TAG_KERNEL);
  let seed: u32 = 12345;
  for (let round = 0; round < 2000; round++) {
    seed = seed * 1103515245 + 12345;
    let slot = <usize>((seed >> 8) % 256);
    let current = load<u64>(slots + slot * 8);
    if (current != 0) {
      freeRecord(current);
      store<u64>(slots + slot * 8, 0);
      continue;
    }
    let kind = (seed >> 20) % 3;
    let size: usize = 0;
    let address: usize = 0;
    if (kind == 0) {
      address = allocPage();
      kind = 1;
    } else if (kind == 1) {
      size = <usize>((seed >> 4) % 9 + 1);
      address = allocContiguous(size);
      kind = 2;
    } else {
      size = <usize>((seed >> 3) % 3000 + 1);
      address = heapAlloc(size, TAG_KERNEL);
      kind = 3;
      size = 0;
    }
    if (address == 0) continue;
    store<u8>(address, 0xa5); // touch it
    store<u64>(slots + slot * 8, (<u64>kind << 48) | (<u64>size << 32) | <u64>address);
  }
  for (let slot: usize = 0; slot < 256; slot++) {
    let current = load<u64>(slots + slot * 8);
    if (current != 0) freeRecord(current);
  }
  heapFree(slots);
  heapTrim();
  physicalDrainCaches();
  SelfTest.checkValue("memory", "free pages after 2000 random allocations and frees", <i64>freePageCount(), <i64>freeBefore);
  SelfTest.checkValue("memory", "kernel heap bytes back to their start", <i64>heapBytesInUse(TAG_KERNEL), <i64>heapBefore);
}

// --- FPU state -------------------------------------------------------------

const fpuMismatches = memory.data(4, 4);

function fpuWorker(value: usize): void {
  // Load a pattern, let the other worker load its own, check ours survived.
  for (let i = 0; i < 200; i++) {
    fpuTestLoad(<u32>value);
    yieldCpu();
    if (fpuTestRead() != 0x0101010101010101 * <u64>(value & 0xff)) atomicAdd32(fpuMismatches, 1);
  }
}

function testFpuState(): void {
  atomicStore32(fpuMismatches, 0);
  let a = threadCreate("fpu-a", fpuWorker, 0x5a);
  let b = threadCreate("fpu-b", fpuWorker, 0xc3);
  if (a === null || b === null || !threadEnableFpu(a) || !threadEnableFpu(b)) {
    SelfTest.check("sched", "threads with FPU state", false);
    return;
  }
  a.affinity = 0;
  b.affinity = 0;
  threadStartOn(a, 0);
  threadStartOn(b, 0);
  threadJoin(a);
  threadJoin(b);
  SelfTest.checkValue("sched", "SSE registers survive 400 switches between two threads", atomicLoad32(fpuMismatches), 0);
}

export function runCoreSelfTests(): void {
  Log.str("selftest: core, ");
  Log.dec(Cpus.online);
  Log.line(" CPUs online");
  testAllocators();
  testTimers();
  testTimerRearmRace();
  testPreemption();
  testFpuState();
  testSemaphore();
  testPingPong();
  testStaleWaiter();
  testFutex();
}
