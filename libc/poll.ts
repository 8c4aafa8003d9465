// poll, ppoll, select and pselect6 on kernel/ipc/pollset.ts: every file gets
// a reference and a hook, then readiness is checked in a loop that sleeps
// until a hook fires or the timeout passes. Signal masks (ppoll, pselect6)
// are checked for size and otherwise only accepted: no signal is delivered
// yet, so none could interrupt the wait.
import { rdtsc } from "../arch/x86_64/cpu";
import { fdGet } from "../kernel/vfs/fdtable";
import { filePoll } from "../kernel/vfs/file";
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM } from "../kernel/vfs/poll";
import { PollSet, pollSetArm, pollSetAttach, pollSetCreate, pollSetDestroy, pollSetFile, pollSetWait } from "../kernel/ipc/pollset";
import { heapAlloc, heapFree, TAG_LIBC } from "../kernel/mm/heap";
import { Clock, NANOS_PER_SECOND } from "../kernel/time/clock";
import { descriptorLimit } from "./resource";
import { copyIn, copyOut, scratchWords } from "./uaccess";
import { EBADF, EFAULT, EINVAL, ENOMEM } from "./errno";

/** Bytes of the kernel's sigset_t. */
export const SIGSET_BYTES: u64 = 8;
/** No timeout: wait until something is ready. */
export const FOREVER: i64 = -1;

/**
 * The TSC deadline `nanos` from now (>= 0), rounded up a tick so the wait
 * lasts at least that long; saturates.
 */
export function deadlineAfter(nanos: i64): u64 {
  let ticks = Clock.nanosToTicks(<u64>nanos) + 1;
  let now = rdtsc();
  return ticks > U64.MAX_VALUE - now ? U64.MAX_VALUE : now + ticks;
}

/** Nanoseconds left until `deadline` (0 once passed). */
function nanosLeft(deadline: u64): u64 {
  let now = rdtsc();
  return deadline > now ? Clock.ticksToNanos(deadline - now) : 0;
}

/** A timeout in ns from a struct timespec (`micro` false) or timeval: -EFAULT, -EINVAL, or ns (saturating). */
function readTimeout(address: u64, micro: bool): i64 {
  let words = scratchWords();
  if (copyIn(words, address, 16) < 0) return -EFAULT;
  let seconds = load<i64>(words);
  let fraction = load<i64>(words, 8);
  if (seconds < 0 || fraction < 0) return -EINVAL;
  let unit: i64 = 1;
  if (micro) {
    // select normalizes a timeval (tv_usec may exceed a second), as Linux does.
    seconds += fraction / 1000000;
    if (seconds < 0) return I64.MAX_VALUE;
    fraction %= 1000000;
    unit = 1000;
  } else if (fraction >= <i64>NANOS_PER_SECOND) {
    return -EINVAL;
  }
  if (seconds >= <i64>(I64.MAX_VALUE / <i64>NANOS_PER_SECOND) - 1) return I64.MAX_VALUE;
  return seconds * <i64>NANOS_PER_SECOND + fraction * unit;
}

/** Writes the time left back, as Linux does for select, pselect6 and ppoll (errors ignored, as there). */
function writeTimeLeft(address: u64, micro: bool, deadline: u64): void {
  let left = nanosLeft(deadline);
  let words = scratchWords();
  store<u64>(words, left / NANOS_PER_SECOND);
  store<u64>(words, micro ? (left % NANOS_PER_SECOND) / 1000 : left % NANOS_PER_SECOND, 8);
  copyOut(address, words, 16);
}

/**
 * Waits for readiness: `check` counts what is ready now (0: nothing). With
 * timeout 0 checks once; FOREVER waits without a deadline.
 */
function waitReady(set: PollSet, timeout: i64, deadline: u64, check: (set: PollSet, state: usize) => i64, state: usize): i64 {
  let timedOut = timeout == 0;
  while (true) {
    pollSetArm(set);
    let ready = check(set, state);
    if (ready != 0 || timedOut) return ready;
    if (!pollSetWait(set, timeout == FOREVER ? 0 : deadline)) {
      if (timeout != FOREVER && rdtsc() >= deadline) timedOut = true;
    }
  }
  return 0;
}

// poll: the pollfd array is copied into a kernel array (8 bytes each: fd,
// events, revents) that `check` fills in.

function pollCheck(set: PollSet, fds: usize): i64 {
  let ready: i64 = 0;
  for (let i: u32 = 0; i < set.count; i++) {
    let entry = fds + <usize>i * 8;
    let fd = load<i32>(entry);
    let revents: u32 = 0;
    if (fd >= 0) {
      let file = pollSetFile(set, i);
      if (file === null) revents = POLLNVAL;
      else revents = filePoll(file) & (<u32>load<u16>(entry, 4) | POLLERR | POLLHUP);
    }
    store<u16>(entry, <u16>revents, 6);
    if (revents != 0) ready++;
  }
  return ready;
}

function doPoll(fds: u64, count: u64, timeout: i64): i64 {
  if (count > <u64>descriptorLimit()) return -EINVAL;
  let deadline = timeout > 0 ? deadlineAfter(timeout) : 0;
  let n = <u32>count;
  let entries = heapAlloc(<usize>n * 8 + 8, TAG_LIBC);
  if (entries == 0) return -ENOMEM;
  if (n != 0 && copyIn(entries, fds, <usize>n * 8) < 0) {
    heapFree(entries);
    return -EFAULT;
  }
  let set = pollSetCreate(n);
  if (set === null) {
    heapFree(entries);
    return -ENOMEM;
  }
  for (let i: u32 = 0; i < n; i++) {
    let fd = load<i32>(entries + <usize>i * 8);
    if (fd < 0) continue;
    let file = fdGet(<u64>fd);
    if (file !== null) pollSetAttach(set, i, file);
  }
  let result = waitReady(set, timeout, deadline, pollCheck, entries);
  pollSetDestroy(set);
  for (let i: u32 = 0; i < n && result >= 0; i++) {
    if (copyOut(fds + <u64>i * 8 + 6, entries + <usize>i * 8 + 6, 2) < 0) result = -EFAULT;
  }
  heapFree(entries);
  return result;
}

export function sysPoll(fds: u64, count: u64, milliseconds: u64, a3: u64, a4: u64, a5: u64): i64 {
  let ms = <i64><i32>milliseconds;
  return doPoll(fds, count, ms < 0 ? FOREVER : ms * 1000000);
}

export function sysPpoll(fds: u64, count: u64, timespec: u64, sigmask: u64, sigsetSize: u64, a5: u64): i64 {
  if (sigmask != 0 && sigsetSize != SIGSET_BYTES) return -EINVAL;
  let timeout: i64 = FOREVER;
  if (timespec != 0) {
    timeout = readTimeout(timespec, false);
    if (timeout < 0) return timeout;
  }
  let start = rdtsc();
  let result = doPoll(fds, count, timeout);
  if (timespec != 0 && timeout != 0) writeTimeLeft(timespec, false, timeout == I64.MAX_VALUE ? U64.MAX_VALUE : start + Clock.nanosToTicks(<u64>timeout));
  return result;
}

// select: three fd_set bit arrays of `words` u64s each (in, out, except),
// then the three result arrays, then one u32 descriptor per set entry.

const SELECT_IN: u32 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const SELECT_OUT: u32 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const SELECT_EX: u32 = POLLPRI;

@unmanaged
class SelectState {
  words: usize;
  sets: usize;
  fds: usize;
}

function bit(array: usize, fd: u32): bool {
  return (load<u64>(array + (<usize>(fd >> 6) << 3)) & (<u64>1 << (fd & 63))) != 0;
}

function setBit(array: usize, fd: u32): void {
  let at = array + (<usize>(fd >> 6) << 3);
  store<u64>(at, load<u64>(at) | (<u64>1 << (fd & 63)));
}

function selectCheck(set: PollSet, address: usize): i64 {
  let state = changetype<SelectState>(address);
  let bytes = state.words << 3;
  let results = state.sets + 3 * bytes;
  memory.fill(results, 0, 3 * bytes);
  let ready: i64 = 0;
  for (let i: u32 = 0; i < set.count; i++) {
    let fd = load<u32>(state.fds + (<usize>i << 2));
    let file = pollSetFile(set, i);
    if (file === null) continue;
    let events = filePoll(file);
    for (let s: usize = 0; s < 3; s++) {
      let mask = s == 0 ? SELECT_IN : s == 1 ? SELECT_OUT : SELECT_EX;
      if (bit(state.sets + s * bytes, fd) && (events & mask) != 0) {
        setBit(results + s * bytes, fd);
        ready++;
      }
    }
  }
  return ready;
}

function doSelect(count: u64, readSet: u64, writeSet: u64, exceptSet: u64, timeout: i64): i64 {
  if (<i64>count < 0 || count > 0x7fffffff) return -EINVAL;
  let limit = <u64>descriptorLimit();
  let n = count > limit ? limit : count;
  let deadline = timeout > 0 ? deadlineAfter(timeout) : 0;
  let words = <usize>((n + 63) >> 6);
  let bytes = words << 3;
  let block = heapAlloc(6 * bytes + 16, TAG_LIBC);
  if (block == 0) return -ENOMEM;
  memory.fill(block, 0, 6 * bytes);
  for (let s: usize = 0; s < 3; s++) {
    let user = s == 0 ? readSet : s == 1 ? writeSet : exceptSet;
    if (user != 0 && bytes != 0 && copyIn(block + s * bytes, user, bytes) < 0) {
      heapFree(block);
      return -EFAULT;
    }
  }
  // Only descriptors below n count; and which are asked about at all.
  let total: u32 = 0;
  for (let w: usize = 0; w < words; w++) {
    let keep: u64 = w == words - 1 && (n & 63) != 0 ? (<u64>1 << (n & 63)) - 1 : U64.MAX_VALUE;
    let any: u64 = 0;
    for (let s: usize = 0; s < 3; s++) {
      let at = block + s * bytes + (w << 3);
      store<u64>(at, load<u64>(at) & keep);
      any |= load<u64>(at);
    }
    total += <u32>popcnt(any);
  }
  let fds = heapAlloc(<usize>total * 4 + 16, TAG_LIBC);
  let set = fds != 0 ? pollSetCreate(total) : null;
  if (set === null) {
    if (fds != 0) heapFree(fds);
    heapFree(block);
    return -ENOMEM;
  }
  let result: i64 = 0;
  let index: u32 = 0;
  for (let w: usize = 0; w < words && result == 0; w++) {
    let any = load<u64>(block + (w << 3)) | load<u64>(block + bytes + (w << 3)) | load<u64>(block + 2 * bytes + (w << 3));
    while (any != 0) {
      let fd = <u32>((w << 6) + <usize>ctz(any));
      any &= any - 1;
      let file = fdGet(<u64>fd);
      if (file === null) {
        result = -EBADF;
        break;
      }
      store<u32>(fds + (<usize>index << 2), fd);
      pollSetAttach(set, index, file);
      index++;
    }
  }
  if (result == 0) {
    let state = changetype<SelectState>(heapAlloc(offsetof<SelectState>(), TAG_LIBC));
    if (changetype<usize>(state) == 0) {
      result = -ENOMEM;
    } else {
      state.words = words;
      state.sets = block;
      state.fds = fds;
      result = waitReady(set, timeout, deadline, selectCheck, changetype<usize>(state));
      heapFree(changetype<usize>(state));
    }
  }
  pollSetDestroy(set);
  if (result >= 0) {
    for (let s: usize = 0; s < 3; s++) {
      let user = s == 0 ? readSet : s == 1 ? writeSet : exceptSet;
      if (user != 0 && bytes != 0 && copyOut(user, block + (3 + s) * bytes, bytes) < 0) result = -EFAULT;
    }
  }
  heapFree(fds);
  heapFree(block);
  return result;
}

export function sysSelect(count: u64, readSet: u64, writeSet: u64, exceptSet: u64, timeval: u64, a5: u64): i64 {
  let timeout: i64 = FOREVER;
  if (timeval != 0) {
    timeout = readTimeout(timeval, true);
    if (timeout < 0) return timeout;
  }
  let start = rdtsc();
  let result = doSelect(count, readSet, writeSet, exceptSet, timeout);
  if (timeval != 0) writeTimeLeft(timeval, true, timeout == I64.MAX_VALUE ? U64.MAX_VALUE : start + Clock.nanosToTicks(<u64>timeout));
  return result;
}

export function sysPselect6(count: u64, readSet: u64, writeSet: u64, exceptSet: u64, timespec: u64, sigmaskArgument: u64): i64 {
  if (sigmaskArgument != 0) {
    // struct { const sigset_t *ss; size_t ss_len; }
    let words = scratchWords();
    if (copyIn(words, sigmaskArgument, 16) < 0) return -EFAULT;
    if (load<u64>(words) != 0 && load<u64>(words, 8) != SIGSET_BYTES) return -EINVAL;
  }
  let timeout: i64 = FOREVER;
  if (timespec != 0) {
    timeout = readTimeout(timespec, false);
    if (timeout < 0) return timeout;
  }
  let start = rdtsc();
  let result = doSelect(count, readSet, writeSet, exceptSet, timeout);
  if (timespec != 0) writeTimeLeft(timespec, false, timeout == I64.MAX_VALUE ? U64.MAX_VALUE : start + Clock.nanosToTicks(<u64>timeout));
  return result;
}
