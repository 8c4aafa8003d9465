// POSIX per-process interval timers (timer_create, timer_settime,
// timer_gettime, timer_getoverrun, timer_delete) on any clock clockNanos
// knows, CPU-time clocks included. A timer is an expiry time on its clock
// and an interval; expirations are counted when the timer is looked at
// (periodic timers advance by whole intervals, the extra ones are the
// overrun), which is all SIGEV_NONE asks for. SIGEV_SIGNAL and
// SIGEV_THREAD_ID timers are accepted and read back the same way, but their
// signal is not sent: signals are not delivered yet (libc/signal.ts, phase 1),
// which the kernel notes once when such a timer is armed.
import { atomicExchange32 } from "../arch/x86_64/atomic";
import { appThreadExists } from "../kernel/app";
import { Log } from "../kernel/log";
import { spinLock, spinUnlock } from "../kernel/sync/spinlock";
import { NANOS_PER_SECOND } from "../kernel/time/clock";
import { clockNanos } from "./time";
import { copyIn, copyOut, putU32, scratchWords } from "./uaccess";
import { EAGAIN, EFAULT, EINVAL } from "./errno";

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;
const SIGALRM: i32 = 14;
const SIGNALS: i32 = 64;
const TIMER_ABSTIME: u64 = 1;
/** Overruns saturate here (DELAYTIMER_MAX, INT_MAX on Linux). */
const DELAYTIMER_MAX: u64 = 0x7fffffff;

/** Timers a process may have at once (ids 0..TIMER_MAX-1). */
const TIMER_MAX: i32 = 64;

// One slot per timer id.
const USED: usize = 0; // u32
const CLOCK: usize = 4; // i32
const NOTIFY: usize = 8; // i32
const SIGNO: usize = 12; // i32
const TID: usize = 16; // u32
const OVERRUN: usize = 20; // u32, of the latest expirations counted
const VALUE: usize = 24; // u64 sigev_value
const EXPIRY: usize = 32; // u64 ns on the timer's clock, 0 when disarmed
const INTERVAL: usize = 40; // u64 ns, 0 for one-shot
const SLOT_BYTES: usize = 48;

const slots = memory.data(<i32>(<usize>TIMER_MAX * SLOT_BYTES), 8);
const slotsLock = memory.data(4, 4);
const signalNoted = memory.data(4, 4);

function slotOf(id: u64): usize {
  if (id >= <u64>TIMER_MAX) return 0;
  let slot = slots + <usize>id * SLOT_BYTES;
  return load<u32>(slot + USED) != 0 ? slot : 0;
}

/** Counts the expirations up to `now`: a one-shot timer disarms, a periodic one moves past `now`. */
function advance(slot: usize, now: u64): void {
  let expiry = load<u64>(slot + EXPIRY);
  if (expiry == 0 || now < expiry) return;
  let interval = load<u64>(slot + INTERVAL);
  if (interval == 0) {
    store<u64>(slot + EXPIRY, 0);
    store<u32>(slot + OVERRUN, 0);
    return;
  }
  let expirations = (now - expiry) / interval + 1;
  store<u64>(slot + EXPIRY, expiry + expirations * interval);
  let extra = expirations - 1;
  store<u32>(slot + OVERRUN, <u32>(extra > DELAYTIMER_MAX ? DELAYTIMER_MAX : extra));
}

/** The timer's clock now, or a negative errno when the clock is gone (a thread's CPU clock). */
function clockNow(slot: usize): i64 {
  return clockNanos(load<i32>(slot + CLOCK));
}

/** Fills struct itimerspec {interval, value} (two timespecs, 32 bytes) at `words` for the timer at `now`. */
function fillItimerspec(words: usize, slot: usize, now: u64): void {
  let expiry = load<u64>(slot + EXPIRY);
  let interval = load<u64>(slot + INTERVAL);
  let remaining: u64 = expiry == 0 ? 0 : expiry - now;
  store<u64>(words, interval / NANOS_PER_SECOND);
  store<u64>(words, interval % NANOS_PER_SECOND, 8);
  store<u64>(words, remaining / NANOS_PER_SECOND, 16);
  store<u64>(words, remaining % NANOS_PER_SECOND, 24);
}

/** A timespec at `words + offset` as ns, or -EINVAL when out of range. */
function timespecNanos(words: usize, offset: usize): i64 {
  let seconds = load<i64>(words + offset);
  let nanos = load<i64>(words + offset + 8);
  if (seconds < 0 || nanos < 0 || nanos >= <i64>NANOS_PER_SECOND) return -EINVAL;
  // Saturate about 292 years out: such a timer never expires.
  if (seconds >= <i64>(I64.MAX_VALUE / <i64>NANOS_PER_SECOND) - 1) return I64.MAX_VALUE;
  return seconds * <i64>NANOS_PER_SECOND + nanos;
}

export function sysTimerCreate(clock: u64, event: u64, timerId: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (clockNanos(<i32>clock) < 0) return -EINVAL;
  let notify = SIGEV_SIGNAL;
  let signo = SIGALRM;
  let tid: u32 = 0;
  let value: u64 = 0;
  let valueGiven = false;
  if (event != 0) {
    // struct sigevent: sigev_value (8), sigev_signo, sigev_notify, then _tid.
    let words = scratchWords();
    if (copyIn(words, event, 20) < 0) return -EFAULT;
    value = load<u64>(words);
    valueGiven = true;
    signo = load<i32>(words + 8);
    notify = load<i32>(words + 12);
    tid = load<u32>(words + 16);
    if (notify != SIGEV_NONE && notify != SIGEV_SIGNAL && notify != SIGEV_THREAD_ID) return -EINVAL;
    if (notify != SIGEV_NONE && (signo <= 0 || signo > SIGNALS)) return -EINVAL;
    if (notify == SIGEV_THREAD_ID && !appThreadExists(tid)) return -EINVAL;
  }
  let flags = spinLock(slotsLock);
  let id: i32 = 0;
  while (id < TIMER_MAX && load<u32>(slots + <usize>id * SLOT_BYTES + USED) != 0) id++;
  if (id == TIMER_MAX) {
    spinUnlock(slotsLock, flags);
    return -EAGAIN;
  }
  let slot = slots + <usize>id * SLOT_BYTES;
  memory.fill(slot, 0, SLOT_BYTES);
  store<u32>(slot + USED, 1);
  spinUnlock(slotsLock, flags);
  if (putU32(timerId, <u32>id) < 0) {
    store<u32>(slot + USED, 0);
    return -EFAULT;
  }
  store<i32>(slot + CLOCK, <i32>clock);
  store<i32>(slot + NOTIFY, notify);
  store<i32>(slot + SIGNO, signo);
  store<u32>(slot + TID, tid);
  // Without a sigevent the signal's value is the timer id, as on Linux.
  store<u64>(slot + VALUE, valueGiven ? value : <u64>id);
  return 0;
}

export function sysTimerSettime(id: u64, flags: u64, newValue: u64, oldValue: u64, a4: u64, a5: u64): i64 {
  let words = scratchWords();
  if (newValue == 0 || copyIn(words, newValue, 32) < 0) return -EFAULT;
  let interval = timespecNanos(words, 0);
  let value = timespecNanos(words, 16);
  if (interval < 0 || value < 0) return -EINVAL;
  let lock = spinLock(slotsLock);
  let slot = slotOf(id);
  if (slot == 0) {
    spinUnlock(slotsLock, lock);
    return -EINVAL;
  }
  let now = clockNow(slot);
  if (now < 0) {
    spinUnlock(slotsLock, lock);
    return now;
  }
  advance(slot, <u64>now);
  let expiry: u64 = 0;
  if (value != 0) {
    expiry = (flags & TIMER_ABSTIME) != 0 ? <u64>value : <u64>now + <u64>value;
    // An absolute time already past expires at once; 0 means disarmed.
    if (expiry <= <u64>now) expiry = <u64>now;
    if (expiry == 0) expiry = 1;
  }
  // The old setting replaces the new one in the scratch words, already read.
  if (oldValue != 0) fillItimerspec(words, slot, <u64>now);
  store<u64>(slot + EXPIRY, expiry);
  store<u64>(slot + INTERVAL, value == 0 ? 0 : <u64>interval);
  store<u32>(slot + OVERRUN, 0);
  let signals = load<i32>(slot + NOTIFY) != SIGEV_NONE;
  spinUnlock(slotsLock, lock);
  if (value != 0 && signals && atomicExchange32(signalNoted, 1) == 0) {
    Log.line("wisp: timer armed with a signal, which is not delivered yet");
  }
  // Copied out after the lock: a bad pointer is -EFAULT (the timer is set, as on Linux).
  if (oldValue != 0 && copyOut(oldValue, words, 32) < 0) return -EFAULT;
  return 0;
}

export function sysTimerGettime(id: u64, current: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let lock = spinLock(slotsLock);
  let slot = slotOf(id);
  if (slot == 0) {
    spinUnlock(slotsLock, lock);
    return -EINVAL;
  }
  let now = clockNow(slot);
  let words = scratchWords();
  if (now >= 0) {
    advance(slot, <u64>now);
    fillItimerspec(words, slot, <u64>now);
  }
  spinUnlock(slotsLock, lock);
  if (now < 0) return now;
  return copyOut(current, words, 32) < 0 ? -EFAULT : 0;
}

export function sysTimerGetoverrun(id: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let lock = spinLock(slotsLock);
  let slot = slotOf(id);
  if (slot == 0) {
    spinUnlock(slotsLock, lock);
    return -EINVAL;
  }
  let now = clockNow(slot);
  if (now >= 0) advance(slot, <u64>now);
  let overrun = <i64>load<u32>(slot + OVERRUN);
  spinUnlock(slotsLock, lock);
  return overrun;
}

export function sysTimerDelete(id: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let lock = spinLock(slotsLock);
  let slot = slotOf(id);
  if (slot != 0) store<u32>(slot + USED, 0);
  spinUnlock(slotsLock, lock);
  return slot == 0 ? -EINVAL : 0;
}
