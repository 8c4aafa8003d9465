// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
// epoll_pwait2 on kernel/ipc/epoll.ts. Signal masks are checked for size and
// otherwise only accepted (no signal is delivered yet).
import { fdGet } from "../kernel/vfs/fdtable";
import { filePut, O_CLOEXEC } from "../kernel/vfs/file";
import {
  EPOLL_CTL_DEL, EPOLL_EVENT_BYTES, EPOLL_WORK_BYTES, epollCtl, epollOpen, epollWait, fileIsEpoll,
} from "../kernel/ipc/epoll";
import { heapAlloc, heapFree, TAG_LIBC } from "../kernel/mm/heap";
import { NANOS_PER_SECOND } from "../kernel/time/clock";
import { deadlineAfter, FOREVER, SIGSET_BYTES } from "./poll";
import { installNewFile } from "./newfd";
import { copyIn, copyOut, scratchWords } from "./uaccess";
import { EBADF, EFAULT, EINVAL, ENOMEM } from "./errno";

/** Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
const MAX_EVENTS: u64 = 0x7fffffff / 12;
/** The most events one call returns (fewer than asked is allowed). */
const EVENTS_PER_CALL: u32 = 1024;

export function sysEpollCreate(size: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<i32>size <= 0) return -EINVAL;
  return installNewFile(epollOpen(), false);
}

export function sysEpollCreate1(flags: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~<u64>O_CLOEXEC) != 0) return -EINVAL;
  return installNewFile(epollOpen(), flags != 0);
}

export function sysEpollCtl(epfd: u64, op: u64, fd: u64, event: u64, a4: u64, a5: u64): i64 {
  let words = scratchWords();
  store<u32>(words, 0);
  store<u64>(words, 0, 4);
  if (<u32>op != EPOLL_CTL_DEL && copyIn(words, event, <usize>EPOLL_EVENT_BYTES) < 0) return -EFAULT;
  let events = load<u32>(words);
  let data = load<u64>(words, 4);
  let epollFile = fdGet(epfd);
  if (epollFile === null) return -EBADF;
  let file = fdGet(fd);
  if (file === null) {
    filePut(epollFile);
    return -EBADF;
  }
  let result = op > 0xffffffff ? -EINVAL : <i64>epollCtl(epollFile, <u32>op, <u32>fd, file, events, data);
  filePut(file);
  filePut(epollFile);
  return result;
}

/** The wait shared by the three calls: `timeout` in ns or FOREVER. */
function wait(epfd: u64, events: u64, maxEvents: u64, timeout: i64): i64 {
  let max = <i64><i32>maxEvents;
  if (max <= 0 || <u64>max > MAX_EVENTS) return -EINVAL;
  let epollFile = fdGet(epfd);
  if (epollFile === null) return -EBADF;
  if (!fileIsEpoll(epollFile)) {
    filePut(epollFile);
    return -EINVAL;
  }
  let deadline = timeout > 0 ? deadlineAfter(timeout) : 0;
  let count = <u32>max > EVENTS_PER_CALL ? EVENTS_PER_CALL : <u32>max;
  let out = heapAlloc(<usize>count * EPOLL_EVENT_BYTES + EPOLL_WORK_BYTES, TAG_LIBC);
  if (out == 0) {
    filePut(epollFile);
    return -ENOMEM;
  }
  let produced = epollWait(epollFile, out, count, out + <usize>count * EPOLL_EVENT_BYTES, timeout != 0, deadline);
  filePut(epollFile);
  let result: i64 = <i64>produced;
  if (produced != 0 && copyOut(events, out, <usize>produced * EPOLL_EVENT_BYTES) < 0) result = -EFAULT;
  heapFree(out);
  return result;
}

function milliseconds(timeout: u64): i64 {
  let ms = <i64><i32>timeout;
  return ms < 0 ? FOREVER : ms * 1000000;
}

export function sysEpollWait(epfd: u64, events: u64, maxEvents: u64, timeout: u64, a4: u64, a5: u64): i64 {
  return wait(epfd, events, maxEvents, milliseconds(timeout));
}

export function sysEpollPwait(epfd: u64, events: u64, maxEvents: u64, timeout: u64, sigmask: u64, sigsetSize: u64): i64 {
  if (sigmask != 0 && sigsetSize != SIGSET_BYTES) return -EINVAL;
  return wait(epfd, events, maxEvents, milliseconds(timeout));
}

export function sysEpollPwait2(epfd: u64, events: u64, maxEvents: u64, timespec: u64, sigmask: u64, sigsetSize: u64): i64 {
  if (sigmask != 0 && sigsetSize != SIGSET_BYTES) return -EINVAL;
  let timeout: i64 = FOREVER;
  if (timespec != 0) {
    let words = scratchWords();
    if (copyIn(words, timespec, 16) < 0) return -EFAULT;
    let seconds = load<i64>(words);
    let nanos = load<i64>(words, 8);
    if (seconds < 0 || nanos < 0 || nanos >= <i64>NANOS_PER_SECOND) return -EINVAL;
    timeout = seconds >= <i64>(I64.MAX_VALUE / <i64>NANOS_PER_SECOND) - 1
      ? I64.MAX_VALUE
      : seconds * <i64>NANOS_PER_SECOND + nanos;
  }
  return wait(epfd, events, maxEvents, timeout);
}
