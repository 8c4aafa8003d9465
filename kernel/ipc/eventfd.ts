// eventfd: a 64-bit counter as a file. write adds (blocking while the sum
// would pass 0xfffffffffffffffe), read takes the whole count, or 1 in
// semaphore mode (blocking while it is 0). Readers and writers sleep on the
// counter's wait queue, whose lock guards the count. Only this file's own
// read and write change the count, and their caller holds a reference, so
// fileNotify after unlocking cannot meet a freed File.
import { EAGAIN, EFAULT, EINVAL, ENOMEM } from "../errno";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import {
  WaitQueue, waitQueueInit, waitQueueLock, waitQueueSleepLocked, waitQueueUnlock, waitQueueWakeLocked,
} from "../sync/waitqueue";
import {
  File, FilePoll, FileReadWrite, FileRelease, FileStat, fileCreate, fileIsNonblocking, fileIsType, fileNotify, ioCopyIn,
  ioCopyOut, O_NONBLOCK, O_RDWR,
} from "../vfs/file";
import { POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "../vfs/poll";
import { ANON_INODE_DEV, ANON_INODE_INO, ipcStat } from "./inode";

export const EFD_SEMAPHORE: u32 = 1;
export const EFD_NONBLOCK: u32 = O_NONBLOCK;
const COUNT_MAX: u64 = 0xfffffffffffffffe;

@unmanaged
class EventCounter {
  // The WaitQueue fields first, so the record is also a WaitQueue.
  lock: u32;
  head: usize;
  tail: usize;
  count: u64;
  semaphore: u32;
}

function queue(counter: EventCounter): WaitQueue {
  return changetype<WaitQueue>(changetype<usize>(counter));
}

function counterOf(file: File): EventCounter {
  return changetype<EventCounter>(file.node);
}

function eventfdRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  if (count < 8) return -EINVAL;
  let out = heapAlloc(8, TAG_FS);
  if (out == 0) return -ENOMEM;
  let counter = counterOf(file);
  let irq = waitQueueLock(queue(counter));
  while (counter.count == 0) {
    if (fileIsNonblocking(file)) {
      waitQueueUnlock(queue(counter), irq);
      heapFree(out);
      return -EAGAIN;
    }
    waitQueueSleepLocked(queue(counter), irq, 0);
    irq = waitQueueLock(queue(counter));
  }
  let value = counter.semaphore != 0 ? 1 : counter.count;
  counter.count -= value;
  waitQueueWakeLocked(queue(counter), U32.MAX_VALUE, 0);
  waitQueueUnlock(queue(counter), irq);
  fileNotify(file, POLLOUT | POLLWRNORM);
  // The count is taken: a faulting buffer loses it, as on Linux.
  store<u64>(out, value);
  let result = ioCopyOut(buffer, out, 8, flags);
  heapFree(out);
  return result < 0 ? -EFAULT : 8;
}

function eventfdWrite(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  if (count < 8) return -EINVAL;
  let word = heapAlloc(8, TAG_FS);
  if (word == 0) return -ENOMEM;
  let copied = ioCopyIn(word, buffer, 8, flags);
  let value = load<u64>(word);
  heapFree(word);
  if (copied < 0) return -EFAULT;
  if (value == U64.MAX_VALUE) return -EINVAL;
  let counter = counterOf(file);
  let irq = waitQueueLock(queue(counter));
  while (COUNT_MAX - counter.count < value) {
    if (fileIsNonblocking(file)) {
      waitQueueUnlock(queue(counter), irq);
      return -EAGAIN;
    }
    waitQueueSleepLocked(queue(counter), irq, 0);
    irq = waitQueueLock(queue(counter));
  }
  counter.count += value;
  if (value != 0) waitQueueWakeLocked(queue(counter), U32.MAX_VALUE, 0);
  waitQueueUnlock(queue(counter), irq);
  if (value != 0) fileNotify(file, POLLIN | POLLRDNORM);
  return 8;
}

function eventfdPoll(file: File): u32 {
  let count = counterOf(file).count;
  let events: u32 = 0;
  if (count != 0) events |= POLLIN | POLLRDNORM;
  if (count < COUNT_MAX) events |= POLLOUT | POLLWRNORM;
  if (count == U64.MAX_VALUE) events |= POLLERR;
  return events;
}

function eventfdStat(file: File, st: usize): i64 {
  ipcStat(st, ANON_INODE_DEV, ANON_INODE_INO, 0o600, 4096);
  return 0;
}

function eventfdRelease(file: File): void {
  heapFree(file.node);
}

export const EVENTFD_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>eventfdRead),
  changetype<usize>(<FileReadWrite>eventfdWrite),
  changetype<usize>(<FilePoll>eventfdPoll),
  0, // ioctl: -ENOTTY
  changetype<usize>(<FileStat>eventfdStat),
  0, // seek: -ESPIPE
  0, // readdir
  0, // truncate
  changetype<usize>(<FileRelease>eventfdRelease),
];

export function fileIsEventfd(file: File): bool {
  return fileIsType(file, EVENTFD_OPS);
}

/** A new eventfd File with counter `initial`; `flags`: EFD_SEMAPHORE, EFD_NONBLOCK. Null when out of memory. */
export function eventfdOpen(initial: u32, flags: u32): File | null {
  let counter = changetype<EventCounter>(heapAlloc(offsetof<EventCounter>(), TAG_FS));
  if (changetype<usize>(counter) == 0) return null;
  waitQueueInit(queue(counter));
  counter.count = initial;
  counter.semaphore = (flags & EFD_SEMAPHORE) != 0 ? 1 : 0;
  let file = fileCreate(EVENTFD_OPS, O_RDWR | (flags & EFD_NONBLOCK), changetype<usize>(counter), 0);
  if (file === null) heapFree(changetype<usize>(counter));
  return file;
}
