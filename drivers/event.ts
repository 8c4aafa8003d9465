// A one-bit event for a driver thread: interrupt handlers signal it, the
// thread waits for it (with an optional TSC deadline). Signals while nobody
// waits are remembered, so none is lost between a check and the sleep.
import { atomicExchange32 } from "../arch/x86_64/atomic";
import { WaitQueue, waitQueueLock, waitQueueSleepLocked, waitQueueUnlock, waitQueueWakeLocked } from "../kernel/sync/waitqueue";

@unmanaged
export class Event {
  // The WaitQueue fields first, so the record is also a WaitQueue.
  lock: u32;
  head: usize;
  tail: usize;
  pending: u32;
}

function queue(event: Event): WaitQueue {
  return changetype<WaitQueue>(changetype<usize>(event));
}

/** Sets the event and wakes its waiter; callable from interrupt handlers. */
export function eventSignal(event: Event): void {
  let flags = waitQueueLock(queue(event));
  event.pending = 1;
  waitQueueWakeLocked(queue(event), 1, 0);
  waitQueueUnlock(queue(event), flags);
}

/** Waits until the event is set (then clears it) or TSC `deadline` passes (0: none); true if it was set. */
export function eventWait(event: Event, deadline: u64): bool {
  let flags = waitQueueLock(queue(event));
  if (event.pending == 0) {
    waitQueueSleepLocked(queue(event), flags, deadline);
    flags = waitQueueLock(queue(event));
  }
  let was = event.pending != 0;
  event.pending = 0;
  waitQueueUnlock(queue(event), flags);
  return was;
}

/** Clears and returns the event without waiting. */
export function eventTake(event: Event): bool {
  return atomicExchange32(changetype<usize>(event) + offsetof<Event>("pending"), 0) != 0;
}
