// Sleeping locks built on wait queues: mutex (ownership handed directly to
// the next waiter, so it is FIFO-fair), condition variable and counting
// semaphore. Each record begins with a WaitQueue (lock, head, tail), which
// the functions reach through changetype.
import { currentThread } from "../sched/scheduler";
import { Thread } from "../sched/thread";
import {
  WaitQueue, waitQueueInit, waitQueueLock, waitQueuePop, waitQueueSleepLocked, waitQueueUnlock,
  waitQueueWake,
} from "./waitqueue";
import { wakeThread } from "../sched/scheduler";

@unmanaged
export class Mutex {
  lock: u32;
  head: usize;
  tail: usize;
  owner: usize;
}

@unmanaged
export class Semaphore {
  lock: u32;
  head: usize;
  tail: usize;
  count: u32;
}

/** A condition variable is just a wait queue. */
export type CondVar = WaitQueue;

function queueOf<T>(record: T): WaitQueue {
  return changetype<WaitQueue>(changetype<usize>(record));
}

export function mutexInit(mutex: Mutex): void {
  waitQueueInit(queueOf(mutex));
  mutex.owner = 0;
}

export function mutexLock(mutex: Mutex): void {
  let self = changetype<usize>(currentThread());
  let queue = queueOf(mutex);
  let flags = waitQueueLock(queue);
  if (mutex.owner == 0) {
    mutex.owner = self;
    waitQueueUnlock(queue, flags);
    return;
  }
  // mutexUnlock makes us the owner before waking us.
  waitQueueSleepLocked(queue, flags, 0);
}

export function mutexTryLock(mutex: Mutex): bool {
  let queue = queueOf(mutex);
  let flags = waitQueueLock(queue);
  let taken = mutex.owner == 0;
  if (taken) mutex.owner = changetype<usize>(currentThread());
  waitQueueUnlock(queue, flags);
  return taken;
}

export function mutexUnlock(mutex: Mutex): void {
  let queue = queueOf(mutex);
  let flags = waitQueueLock(queue);
  while (true) {
    let next = waitQueuePop(queue);
    if (next == 0) {
      mutex.owner = 0;
      break;
    }
    mutex.owner = next;
    if (wakeThread(changetype<Thread>(next), 0)) break;
  }
  waitQueueUnlock(queue, flags);
}

export function condInit(cond: CondVar): void {
  waitQueueInit(cond);
}

/** Unlocks `mutex`, sleeps until signalled (or TSC `deadline`, 0: none), relocks. */
export function condWait(cond: CondVar, mutex: Mutex, deadline: u64): i32 {
  let flags = waitQueueLock(cond);
  mutexUnlock(mutex);
  let result = waitQueueSleepLocked(cond, flags, deadline);
  mutexLock(mutex);
  return result;
}

export function condSignal(cond: CondVar): void {
  waitQueueWake(cond, 1, 0);
}

export function condBroadcast(cond: CondVar): void {
  waitQueueWake(cond, 0xffffffff, 0);
}

export function semaphoreInit(semaphore: Semaphore, count: u32): void {
  waitQueueInit(queueOf(semaphore));
  semaphore.count = count;
}

/** Takes one unit, sleeping until one is available or TSC `deadline` (0: none). */
export function semaphoreDown(semaphore: Semaphore, deadline: u64): i32 {
  let queue = queueOf(semaphore);
  let flags = waitQueueLock(queue);
  if (semaphore.count > 0) {
    semaphore.count--;
    waitQueueUnlock(queue, flags);
    return 0;
  }
  // semaphoreUp hands its unit straight to us.
  return waitQueueSleepLocked(queue, flags, deadline);
}

export function semaphoreUp(semaphore: Semaphore): void {
  let queue = queueOf(semaphore);
  let flags = waitQueueLock(queue);
  while (true) {
    let next = waitQueuePop(queue);
    if (next == 0) {
      semaphore.count++;
      break;
    }
    if (wakeThread(changetype<Thread>(next), 0)) break;
  }
  waitQueueUnlock(queue, flags);
}
