// timerfd_create, timerfd_settime, timerfd_gettime (kernel/ipc/timerfd.ts).
// struct itimerspec is { it_interval, it_value }, two struct timespec.
import { fdGet } from "../kernel/vfs/fdtable";
import { filePut, O_CLOEXEC } from "../kernel/vfs/file";
import { fileIsTimerfd, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET, timerfdGet, timerfdOpen, timerfdSet } from "../kernel/ipc/timerfd";
import { NANOS_PER_SECOND } from "../kernel/time/clock";
import { CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM } from "./time";
import { installNewFile } from "./newfd";
import { copyIn, copyOut, scratchBuffer } from "./uaccess";
import { EBADF, EFAULT, EINVAL } from "./errno";

const ITIMERSPEC_BYTES: usize = 32;

export function sysTimerfdCreate(clock: u64, flags: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~<u64>(O_CLOEXEC | TFD_NONBLOCK)) != 0) return -EINVAL;
  let id = <i32>clock;
  if (clock > 0xffffffff) return -EINVAL;
  let realtime = id == CLOCK_REALTIME || id == CLOCK_REALTIME_ALARM;
  if (!realtime && id != CLOCK_MONOTONIC && id != CLOCK_BOOTTIME && id != CLOCK_BOOTTIME_ALARM) return -EINVAL;
  return installNewFile(timerfdOpen(realtime, <u32>flags), (flags & O_CLOEXEC) != 0);
}

/** A struct timespec at AS `at` as ns (saturating), or -EINVAL. */
function timespecNanos(at: usize): i64 {
  let seconds = load<i64>(at);
  let nanos = load<i64>(at, 8);
  if (seconds < 0 || nanos < 0 || nanos >= <i64>NANOS_PER_SECOND) return -EINVAL;
  if (seconds >= <i64>(I64.MAX_VALUE / <i64>NANOS_PER_SECOND) - 1) return I64.MAX_VALUE;
  return seconds * <i64>NANOS_PER_SECOND + nanos;
}

/** Writes the kernel's (remaining, interval) pair at `from` as a struct itimerspec to application `to`. */
function putItimerspec(to: u64, from: usize, scratch: usize): i64 {
  let remaining = load<u64>(from);
  let interval = load<u64>(from, 8);
  store<u64>(scratch, interval / NANOS_PER_SECOND);
  store<u64>(scratch, interval % NANOS_PER_SECOND, 8);
  store<u64>(scratch, remaining / NANOS_PER_SECOND, 16);
  store<u64>(scratch, remaining % NANOS_PER_SECOND, 24);
  return copyOut(to, scratch, ITIMERSPEC_BYTES) < 0 ? -EFAULT : 0;
}

export function sysTimerfdSettime(fd: u64, flags: u64, value: u64, old: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~<u64>(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) != 0) return -EINVAL;
  let buffer = scratchBuffer();
  if (copyIn(buffer, value, ITIMERSPEC_BYTES) < 0) return -EFAULT;
  let interval = timespecNanos(buffer);
  let first = timespecNanos(buffer + 16);
  if (interval < 0 || first < 0) return -EINVAL;
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  if (!fileIsTimerfd(file)) {
    filePut(file);
    return -EINVAL;
  }
  // TFD_TIMER_CANCEL_ON_SET is accepted: nothing ever sets the clock.
  let previous = buffer + 64;
  timerfdSet(file, <u32>flags, <u64>first, <u64>interval, previous);
  filePut(file);
  if (old != 0) return putItimerspec(old, previous, buffer + 128);
  return 0;
}

export function sysTimerfdGettime(fd: u64, current: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  if (!fileIsTimerfd(file)) {
    filePut(file);
    return -EINVAL;
  }
  let buffer = scratchBuffer();
  timerfdGet(file, buffer);
  filePut(file);
  return putItimerspec(current, buffer, buffer + 64);
}
