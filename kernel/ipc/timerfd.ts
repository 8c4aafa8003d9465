// timerfd: a kernel timer (kernel/time/timer.ts) whose expirations a read
// collects as an 8-byte count. Times are kept as monotonic nanoseconds:
// CLOCK_REALTIME here is the monotonic clock plus a fixed offset (nothing
// sets the clock), so an absolute realtime expiry converts exactly; BOOTTIME
// is MONOTONIC (nothing suspends).
//
// The timer's callback runs in interrupt context on the CPU that armed it;
// it takes the timerfd's lock (the lock of its wait queue), counts the
// expirations, re-arms a periodic timer and wakes readers, then notifies
// pollers. Settime and release must not wait for a running callback while
// holding that lock (the callback needs it), so they clear `armed` under the
// lock, then timerCancel without it (afterwards no callback runs and none is
// pending: a callback that ran in between saw `armed` clear and did not
// re-arm), then arm anew under the lock. A sleeping mutex keeps two settimes
// from interleaving those steps.
import { EAGAIN, EFAULT, EINVAL, ENOMEM } from "../errno";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import { Mutex, mutexInit, mutexLock, mutexUnlock } from "../sync/mutex";
import {
  WaitQueue, waitQueueInit, waitQueueLock, waitQueueSleepLocked, waitQueueUnlock, waitQueueWakeLocked,
} from "../sync/waitqueue";
import { Clock } from "../time/clock";
import { Timer, timerCancel, timerStart } from "../time/timer";
import {
  File, FilePoll, FileReadWrite, FileRelease, FileStat, fileCreate, fileIsNonblocking, fileIsType, fileNotify, ioCopyOut,
  O_NONBLOCK, O_RDWR,
} from "../vfs/file";
import { POLLIN, POLLRDNORM } from "../vfs/poll";
import { ANON_INODE_DEV, ANON_INODE_INO, ipcStat } from "./inode";

export const TFD_NONBLOCK: u32 = O_NONBLOCK;
export const TFD_TIMER_ABSTIME: u32 = 1;
export const TFD_TIMER_CANCEL_ON_SET: u32 = 2;

@unmanaged
class TimerFile {
  // The WaitQueue fields first, so the record is also a WaitQueue.
  lock: u32;
  head: usize;
  tail: usize;
  /** Serializes settime (and release) against each other. */
  mutexLock: u32;
  mutexHead: usize;
  mutexTail: usize;
  mutexOwner: usize;
  timer: usize;
  file: usize;
  realtime: u32;
  armed: u32;
  /** Next expiry, monotonic ns. */
  next: u64;
  /** Period in ns, 0 for one-shot. */
  interval: u64;
  /** Expirations not read yet. */
  ticks: u64;
}

function queue(timer: TimerFile): WaitQueue {
  return changetype<WaitQueue>(changetype<usize>(timer));
}

function mutexOf(timer: TimerFile): Mutex {
  return changetype<Mutex>(changetype<usize>(timer) + offsetof<TimerFile>("mutexLock"));
}

function timerFileOf(file: File): TimerFile {
  return changetype<TimerFile>(file.node);
}

/** The TSC value at monotonic `nanos`, rounded up so the callback never comes early. */
function tscAt(nanos: u64): u64 {
  return Clock.bootTsc + Clock.nanosToTicks(nanos) + 1;
}

/** Arms the kernel timer for `timer.next`; with the lock held (the callback or settime). */
function armLocked(timer: TimerFile): void {
  timerStart(changetype<Timer>(timer.timer), tscAt(timer.next), onExpiry, changetype<usize>(timer));
}

function onExpiry(address: usize): void {
  let timer = changetype<TimerFile>(address);
  let irq = waitQueueLock(queue(timer));
  if (timer.armed == 0) {
    waitQueueUnlock(queue(timer), irq);
    return;
  }
  let now = Clock.monotonicNanos();
  if (now < timer.next) {
    // Rounding brought it early: wait for the rest.
    armLocked(timer);
    waitQueueUnlock(queue(timer), irq);
    return;
  }
  if (timer.interval != 0) {
    let periods = (now - timer.next) / timer.interval + 1;
    timer.ticks += periods;
    timer.next += periods * timer.interval;
    armLocked(timer);
  } else {
    timer.ticks++;
    timer.armed = 0;
  }
  waitQueueWakeLocked(queue(timer), U32.MAX_VALUE, 0);
  let file = timer.file;
  waitQueueUnlock(queue(timer), irq);
  // Release cancels the timer (waiting for this callback) before the File is freed.
  fileNotify(changetype<File>(file), POLLIN | POLLRDNORM);
}

function timerfdRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  if (count < 8) return -EINVAL;
  let out = heapAlloc(8, TAG_FS);
  if (out == 0) return -ENOMEM;
  let timer = timerFileOf(file);
  let irq = waitQueueLock(queue(timer));
  while (timer.ticks == 0) {
    if (fileIsNonblocking(file)) {
      waitQueueUnlock(queue(timer), irq);
      heapFree(out);
      return -EAGAIN;
    }
    waitQueueSleepLocked(queue(timer), irq, 0);
    irq = waitQueueLock(queue(timer));
  }
  store<u64>(out, timer.ticks);
  timer.ticks = 0;
  waitQueueUnlock(queue(timer), irq);
  let result = ioCopyOut(buffer, out, 8, flags);
  heapFree(out);
  return result < 0 ? -EFAULT : 8;
}

function timerfdPoll(file: File): u32 {
  return timerFileOf(file).ticks != 0 ? POLLIN | POLLRDNORM : 0;
}

function timerfdStat(file: File, st: usize): i64 {
  ipcStat(st, ANON_INODE_DEV, ANON_INODE_INO, 0o600, 4096);
  return 0;
}

/** Stops the kernel timer for good (settime, release); the mutex held. */
function disarm(timer: TimerFile): void {
  let irq = waitQueueLock(queue(timer));
  timer.armed = 0;
  waitQueueUnlock(queue(timer), irq);
  timerCancel(changetype<Timer>(timer.timer));
}

function timerfdRelease(file: File): void {
  let timer = timerFileOf(file);
  mutexLock(mutexOf(timer));
  disarm(timer);
  mutexUnlock(mutexOf(timer));
  heapFree(timer.timer);
  heapFree(changetype<usize>(timer));
}

export const TIMERFD_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>timerfdRead),
  0, // write: -EINVAL
  changetype<usize>(<FilePoll>timerfdPoll),
  0, // ioctl: -ENOTTY (TFD_IOC_SET_TICKS is not supported)
  changetype<usize>(<FileStat>timerfdStat),
  0, // seek: -ESPIPE
  0, // readdir
  0, // truncate
  changetype<usize>(<FileRelease>timerfdRelease),
];

export function fileIsTimerfd(file: File): bool {
  return fileIsType(file, TIMERFD_OPS);
}

/** A new timerfd File, disarmed; `realtime` for CLOCK_REALTIME. Null when out of memory. */
export function timerfdOpen(realtime: bool, status: u32): File | null {
  let timer = changetype<TimerFile>(heapAlloc(offsetof<TimerFile>(), TAG_FS));
  if (changetype<usize>(timer) == 0) return null;
  timer.timer = heapAlloc(offsetof<Timer>(), TAG_FS);
  if (timer.timer == 0) {
    heapFree(changetype<usize>(timer));
    return null;
  }
  memory.fill(timer.timer, 0, offsetof<Timer>());
  waitQueueInit(queue(timer));
  mutexInit(mutexOf(timer));
  timer.realtime = realtime ? 1 : 0;
  timer.armed = 0;
  timer.next = 0;
  timer.interval = 0;
  timer.ticks = 0;
  let file = fileCreate(TIMERFD_OPS, O_RDWR | (status & O_NONBLOCK), changetype<usize>(timer), 0);
  if (file === null) {
    heapFree(timer.timer);
    heapFree(changetype<usize>(timer));
    return null;
  }
  timer.file = changetype<usize>(file);
  return file;
}

/**
 * timerfd_gettime into AS `out`: remaining ns at out, interval at out + 8
 * (0, 0 when disarmed).
 */
export function timerfdGet(file: File, out: usize): void {
  let timer = timerFileOf(file);
  let irq = waitQueueLock(queue(timer));
  let remaining: u64 = 0;
  if (timer.armed != 0) {
    let now = Clock.monotonicNanos();
    // An expiry that is due but not yet counted shows as 1 ns, as Linux does.
    remaining = timer.next > now ? timer.next - now : 1;
  }
  store<u64>(out, remaining);
  store<u64>(out, timer.interval, 8);
  waitQueueUnlock(queue(timer), irq);
}

/**
 * timerfd_settime: first expiry `value` ns (relative, or absolute on the
 * timer's clock with TFD_TIMER_ABSTIME; 0 disarms), then every `interval`
 * ns. The old setting goes to AS `old` (as timerfdGet). Unread expirations
 * are dropped.
 */
export function timerfdSet(file: File, flags: u32, value: u64, interval: u64, old: usize): void {
  let timer = timerFileOf(file);
  mutexLock(mutexOf(timer));
  timerfdGet(file, old);
  disarm(timer);
  let irq = waitQueueLock(queue(timer));
  timer.ticks = 0;
  timer.interval = value != 0 ? interval : 0;
  if (value != 0) {
    let monotonicNow = Clock.monotonicNanos();
    let next: u64;
    if ((flags & TFD_TIMER_ABSTIME) != 0) {
      next = Clock.monotonicAt(value, timer.realtime != 0);
    } else {
      next = value > U64.MAX_VALUE - monotonicNow ? U64.MAX_VALUE : monotonicNow + value;
    }
    // Far-future expiries saturate well within the TSC's range (~292 years).
    let limit = monotonicNow + (<u64>1 << 61);
    timer.next = next > limit ? limit : next;
    timer.armed = 1;
    armLocked(timer);
  }
  waitQueueUnlock(queue(timer), irq);
  mutexUnlock(mutexOf(timer));
}
