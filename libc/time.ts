// Clocks and sleeping. Every clock comes from the TSC (kernel/time/clock.ts):
// MONOTONIC, MONOTONIC_RAW, BOOTTIME and their COARSE forms are time since
// boot (nothing suspends, nothing slews); REALTIME and TAI are the RTC read
// at boot plus that (TAI has no leap-second offset set, as on a Linux whose
// NTP daemon never set one). CPU-time clocks count the TSC ticks a thread
// (or every thread of the process) ran. Resolution: 1 ns for all.
import { appProcessTicks, appThreadTicks, APP_PID, currentApp } from "../kernel/app";
import { sleepNanos, sleepUntil } from "../kernel/sched/sleep";
import { Clock, NANOS_PER_SECOND } from "../kernel/time/clock";
import { copyIn, copyOut, putU64, scratchWords } from "./uaccess";
import { EFAULT, EINVAL, ENOTSUP } from "./errno";

export const CLOCK_REALTIME: i32 = 0;
export const CLOCK_MONOTONIC: i32 = 1;
export const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
export const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
export const CLOCK_MONOTONIC_RAW: i32 = 4;
export const CLOCK_REALTIME_COARSE: i32 = 5;
export const CLOCK_MONOTONIC_COARSE: i32 = 6;
export const CLOCK_BOOTTIME: i32 = 7;
export const CLOCK_REALTIME_ALARM: i32 = 8;
export const CLOCK_BOOTTIME_ALARM: i32 = 9;
export const CLOCK_TAI: i32 = 11;
const TIMER_ABSTIME: u64 = 1;

/** A clock's current value in ns, or -EINVAL for an unknown clock. Negative
 * ids are the CPU clocks of a process or thread (linux/posix-timers.h:
 * ~id << 3 | per-thread << 2 | type). */
export function clockNanos(clock: i32): i64 {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_TAI:
      return <i64>Clock.realtimeNanos();
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
      return <i64>Clock.monotonicNanos();
    case CLOCK_PROCESS_CPUTIME_ID:
      return <i64>Clock.ticksToNanos(appProcessTicks());
    case CLOCK_THREAD_CPUTIME_ID:
      return <i64>Clock.ticksToNanos(<u64>appThreadTicks(0));
  }
  if (clock >= 0) return -EINVAL;
  let type = clock & 3;
  if (type == 3) return -EINVAL;
  let id = <u32>(~(clock >> 3));
  if ((clock & 4) != 0) {
    let ticks = appThreadTicks(id == currentApp().tid ? 0 : id);
    return ticks < 0 ? -EINVAL : <i64>Clock.ticksToNanos(<u64>ticks);
  }
  if (id != 0 && id != APP_PID) return -EINVAL;
  return <i64>Clock.ticksToNanos(appProcessTicks());
}

/** Writes a struct timespec {i64 tv_sec; i64 tv_nsec} for `nanos`. */
function putTimespec(address: u64, nanos: u64): i64 {
  let words = scratchWords();
  store<u64>(words, nanos / NANOS_PER_SECOND);
  store<u64>(words, nanos % NANOS_PER_SECOND, 8);
  return copyOut(address, words, 16) < 0 ? -EFAULT : 0;
}

/** Reads a struct timespec as ns (saturating), -EFAULT, or -EINVAL if out of range. */
function getTimespec(address: u64): i64 {
  let words = scratchWords();
  if (copyIn(words, address, 16) < 0) return -EFAULT;
  let seconds = load<i64>(words);
  let nanos = load<i64>(words, 8);
  if (seconds < 0 || nanos < 0 || nanos >= <i64>NANOS_PER_SECOND) return -EINVAL;
  // Beyond about 292 years the value saturates: a sleep that long never ends.
  if (seconds >= <i64>(I64.MAX_VALUE / <i64>NANOS_PER_SECOND) - 1) return I64.MAX_VALUE;
  return seconds * <i64>NANOS_PER_SECOND + nanos;
}

export function sysClockGettime(clock: u64, timespec: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let now = clockNanos(<i32>clock);
  if (now < 0) return now;
  return putTimespec(timespec, <u64>now);
}

export function sysClockGetres(clock: u64, timespec: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let now = clockNanos(<i32>clock);
  if (now < 0) return now;
  if (timespec == 0) return 0;
  return putTimespec(timespec, 1);
}

export function sysGettimeofday(timeval: u64, timezone: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let words = scratchWords();
  if (timeval != 0) {
    let now = Clock.realtimeNanos();
    store<u64>(words, now / NANOS_PER_SECOND);
    store<u64>(words, (now % NANOS_PER_SECOND) / 1000, 8);
    if (copyOut(timeval, words, 16) < 0) return -EFAULT;
  }
  if (timezone != 0) {
    // struct timezone: UTC, no daylight saving.
    store<u64>(words, 0);
    if (copyOut(timezone, words, 8) < 0) return -EFAULT;
  }
  return 0;
}

export function sysTime(result: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let seconds = Clock.realtimeNanos() / NANOS_PER_SECOND;
  if (result != 0 && putU64(result, seconds) < 0) return -EFAULT;
  return <i64>seconds;
}


/** Nothing interrupts a sleep (signals are not delivered yet), so `remaining` is never written. */
export function sysNanosleep(request: u64, remaining: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let nanos = getTimespec(request);
  if (nanos < 0) return nanos;
  if (nanos > 0) sleepNanos(<u64>nanos);
  return 0;
}

export function sysClockNanosleep(clock: u64, flags: u64, request: u64, remaining: u64, a4: u64, a5: u64): i64 {
  let id = <i32>clock;
  switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
      break;
    case CLOCK_THREAD_CPUTIME_ID:
      return -EINVAL;
    default:
      // The CPU-time clocks and the raw and coarse ones cannot be slept on here.
      return clockNanos(id) < 0 ? -EINVAL : -ENOTSUP;
  }
  let nanos = getTimespec(request);
  if (nanos < 0) return nanos;
  if ((flags & TIMER_ABSTIME) != 0) {
    let realtime = id == CLOCK_REALTIME || id == CLOCK_TAI || id == CLOCK_REALTIME_ALARM;
    sleepUntil(Clock.tscAtMonotonic(Clock.monotonicAt(<u64>nanos, realtime)));
    return 0;
  }
  if (nanos > 0) sleepNanos(<u64>nanos);
  return 0;
}
