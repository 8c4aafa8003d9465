// Wait queues: FIFO lists of blocked threads, each with a spinlock. The
// building block of sleeping locks, condition variables, semaphores, futexes
// and join. Waiting checks its condition with the queue locked, so a wake-up
// between the check and the sleep cannot be lost.
import { atomicStore32, interruptsRestore } from "../../arch/x86_64/atomic";
import { spinLock, spinUnlock } from "./spinlock";
import { currentThread, schedule, SCHED_BLOCK, wakeThread } from "../sched/scheduler";
import { THREAD_BLOCKED, Thread } from "../sched/thread";
import { Timer, timerCancel, timerStart } from "../time/timer";
import { ETIMEDOUT } from "../errno";
export { ETIMEDOUT };


@unmanaged
export class WaitQueue {
  lock: u32;
  head: usize;
  tail: usize;
}

export function waitQueueInit(queue: WaitQueue): void {
  queue.lock = 0;
  queue.head = 0;
  queue.tail = 0;
}

export function waitQueueLockAddress(queue: WaitQueue): usize {
  return changetype<usize>(queue) + offsetof<WaitQueue>("lock");
}

/** Locks the queue; returns the interrupt state for waitQueueUnlock. */
export function waitQueueLock(queue: WaitQueue): u64 {
  return spinLock(waitQueueLockAddress(queue));
}

export function waitQueueUnlock(queue: WaitQueue, flags: u64): void {
  spinUnlock(waitQueueLockAddress(queue), flags);
}

/** Appends `thread` (FIFO) with its queue link; with the lock held. */
export function waitQueueAppend(queue: WaitQueue, thread: Thread): void {
  thread.next = 0;
  if (queue.tail == 0) queue.head = changetype<usize>(thread);
  else changetype<Thread>(queue.tail).next = changetype<usize>(thread);
  queue.tail = changetype<usize>(thread);
}

/** Removes `thread` if queued; with the lock held. */
export function waitQueueRemove(queue: WaitQueue, thread: Thread): bool {
  let previous: usize = 0;
  let t = queue.head;
  while (t != 0) {
    if (t == changetype<usize>(thread)) {
      let next = thread.next;
      if (previous == 0) queue.head = next;
      else changetype<Thread>(previous).next = next;
      if (queue.tail == t) queue.tail = previous;
      thread.next = 0;
      return true;
    }
    previous = t;
    t = changetype<Thread>(t).next;
  }
  return false;
}

/** First queued thread, removed; 0 if none. With the lock held. */
export function waitQueuePop(queue: WaitQueue): usize {
  let t = queue.head;
  if (t == 0) return 0;
  queue.head = changetype<Thread>(t).next;
  if (queue.head == 0) queue.tail = 0;
  changetype<Thread>(t).next = 0;
  return t;
}

function onWaitTimeout(threadAddress: usize): void {
  wakeThread(changetype<Thread>(threadAddress), -ETIMEDOUT);
}

/**
 * Sleeps on `queue`, which the caller has locked with `flags` (from
 * waitQueueLock), until woken or until TSC value `deadline` (0: none).
 * Returns with the queue unlocked and the caller's interrupt state restored:
 * the waker's result (0 unless it says otherwise), or -ETIMEDOUT.
 */
export function waitQueueSleepLocked(queue: WaitQueue, flags: u64, deadline: u64): i32 {
  let self = currentThread();
  waitQueueAppend(queue, self);
  self.waitResult = 0;
  atomicStore32(changetype<usize>(self) + offsetof<Thread>("state"), THREAD_BLOCKED);
  // Keep interrupts off from here until schedule(): a preemption between
  // marking ourselves blocked and switching would otherwise lose us.
  waitQueueUnlock(queue, flags & ~(<u64>0x200));
  let timer = changetype<Timer>(self.timer);
  if (deadline != 0) timerStart(timer, deadline, onWaitTimeout, changetype<usize>(self));
  schedule(SCHED_BLOCK);
  if (deadline != 0) timerCancel(timer);
  let result = self.waitResult;
  if (result == -ETIMEDOUT) {
    let f = waitQueueLock(queue);
    waitQueueRemove(queue, self);
    waitQueueUnlock(queue, f);
  }
  interruptsRestore(flags);
  return result;
}

/** Sleeps on `queue` (not locked by the caller); see waitQueueSleepLocked. */
export function waitQueueSleep(queue: WaitQueue, deadline: u64): i32 {
  return waitQueueSleepLocked(queue, waitQueueLock(queue), deadline);
}

/** Wakes up to `count` threads (FIFO) with `result`; returns how many woke. */
export function waitQueueWake(queue: WaitQueue, count: u32, result: i32): u32 {
  let flags = waitQueueLock(queue);
  let woken = waitQueueWakeLocked(queue, count, result);
  waitQueueUnlock(queue, flags);
  return woken;
}

/** waitQueueWake with the lock already held. */
export function waitQueueWakeLocked(queue: WaitQueue, count: u32, result: i32): u32 {
  let woken: u32 = 0;
  while (woken < count) {
    let t = waitQueuePop(queue);
    if (t == 0) break;
    // A waiter whose timeout fired concurrently is already awake: skip it.
    if (wakeThread(changetype<Thread>(t), result)) woken++;
  }
  return woken;
}

