// Pipes: a 64 KiB ring buffer (F_SETPIPE_SZ: 4 KiB to 1 MiB) shared by two Files, the read end and the
// write end (pipe(2) makes both; dup and fork-less sharing go through the
// Files' own reference counts, so each end counts as one reader or writer
// here). Readers and writers sleep on the pipe's one wait queue, whose lock
// guards every field; every change wakes all sleepers, who re-check.
//
// Data crosses the lock through a kernel bounce buffer, so no application
// memory is touched (and no page fault taken) with the spinlock held. Writes
// of at most PIPE_BUF bytes go in whole or not at all (POSIX atomicity);
// larger ones may interleave with other writers between chunks.
//
// Readiness: the pipe calls fileNotify on the other end's File with its lock
// held (lock order: pipe lock -> hook lock -> poller locks). A released end
// clears its pointer under the same lock, so a notifier never sees a freed
// File. The poll operation reads the counters without the lock: a change
// after it is followed by a notification, and epoll may call it while
// holding nothing but its own reference.
import { EAGAIN, EBUSY, EFAULT, ENOMEM, ENOTTY, EPERM, EPIPE } from "../errno";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import {
  WaitQueue, waitQueueInit, waitQueueLock, waitQueueSleepLocked, waitQueueUnlock, waitQueueWakeLocked,
} from "../sync/waitqueue";
import { accessWrite32 } from "../../arch/x86_64/access";
import { atomicAdd32 } from "../../arch/x86_64/atomic";
import {
  File, FileIoctl, FilePoll, FileReadWrite, FileRelease, FileStat, fileCreate, fileIsNonblocking, fileNotify, fileIsType,
  filePut, ioCopyIn, ioCopyOut, O_NONBLOCK, O_RDONLY, O_WRONLY, S_IFIFO,
} from "../vfs/file";
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "../vfs/poll";
import { ipcStat, PIPEFS_DEV, pipeInodeNumber } from "./inode";

/** Bytes a pipe holds (Linux's default, 16 pages). */
export const PIPE_CAPACITY: u32 = 65536;
/** Writes up to this size are atomic (limits.h PIPE_BUF). */
export const PIPE_BUF: u32 = 4096;
/** The most bytes moved per trip through the lock. */
const CHUNK_BYTES: u32 = 16384;
const FIONREAD: u32 = 0x541b;
const END_READ: usize = 0;
const END_WRITE: usize = 1;

@unmanaged
class Pipe {
  // The WaitQueue fields first, so the record is also a WaitQueue.
  lock: u32;
  head: usize;
  tail: usize;
  buffer: usize;
  capacity: u32;
  /** Index of the oldest byte. */
  start: u32;
  /** Bytes held. */
  count: u32;
  readers: u32;
  writers: u32;
  /** The ends' Files while open (0 once released). */
  readFile: usize;
  writeFile: usize;
  ino: u64;
}

/**
 * Writes that found no reader (the SIGPIPE a Linux writer would get;
 * signals are not delivered yet, the write returns -EPIPE).
 */
const sigpipeCount = memory.data(4, 4);

export function pipeSigpipeCount(): u32 {
  return load<u32>(sigpipeCount);
}

function queue(pipe: Pipe): WaitQueue {
  return changetype<WaitQueue>(changetype<usize>(pipe));
}

function pipeOf(file: File): Pipe {
  return changetype<Pipe>(file.node);
}

/** Wakes every sleeper and tells the other end's pollers; with the lock held. */
function changedLocked(pipe: Pipe, otherEnd: usize, events: u32): void {
  waitQueueWakeLocked(queue(pipe), U32.MAX_VALUE, 0);
  if (otherEnd != 0) fileNotify(changetype<File>(otherEnd), events);
}

/** Moves `n` bytes out of the ring into `to`; with the lock held. */
function takeLocked(pipe: Pipe, to: usize, n: u32): void {
  let first = pipe.capacity - pipe.start;
  if (first > n) first = n;
  memory.copy(to, pipe.buffer + pipe.start, first);
  if (n > first) memory.copy(to + first, pipe.buffer, n - first);
  pipe.start = (pipe.start + n) % pipe.capacity;
  pipe.count -= n;
  if (pipe.count == 0) pipe.start = 0;
}

/** Appends `n` bytes from `from` to the ring; with the lock held. */
function putLocked(pipe: Pipe, from: usize, n: u32): void {
  let end = (pipe.start + pipe.count) % pipe.capacity;
  let first = pipe.capacity - end;
  if (first > n) first = n;
  memory.copy(pipe.buffer + end, from, first);
  if (n > first) memory.copy(pipe.buffer, from + first, n - first);
  pipe.count += n;
}

function pipeRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  if (count == 0) return 0;
  let pipe = pipeOf(file);
  let bounce = heapAlloc(CHUNK_BYTES, TAG_FS);
  if (bounce == 0) return -ENOMEM;
  let done: u64 = 0;
  let failure: i64 = 0;
  let irq = waitQueueLock(queue(pipe));
  while (done < count) {
    if (pipe.count == 0) {
      // Something read: return it rather than wait for more.
      if (done > 0 || pipe.writers == 0) break;
      if (fileIsNonblocking(file)) {
        failure = -EAGAIN;
        break;
      }
      waitQueueSleepLocked(queue(pipe), irq, 0);
      irq = waitQueueLock(queue(pipe));
      continue;
    }
    let n = pipe.count;
    if (<u64>n > count - done) n = <u32>(count - done);
    if (n > CHUNK_BYTES) n = CHUNK_BYTES;
    takeLocked(pipe, bounce, n);
    changedLocked(pipe, pipe.writeFile, POLLOUT | POLLWRNORM);
    waitQueueUnlock(queue(pipe), irq);
    if (ioCopyOut(buffer + done, bounce, n, flags) < 0) {
      // The bytes are gone, as on Linux when the copy faults.
      heapFree(bounce);
      return done > 0 ? <i64>done : -EFAULT;
    }
    done += n;
    irq = waitQueueLock(queue(pipe));
  }
  waitQueueUnlock(queue(pipe), irq);
  heapFree(bounce);
  return done > 0 ? <i64>done : failure;
}

function pipeWrite(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  if (count == 0) return 0;
  let pipe = pipeOf(file);
  let bounce = heapAlloc(CHUNK_BYTES, TAG_FS);
  if (bounce == 0) return -ENOMEM;
  let atomic = count <= <u64>PIPE_BUF;
  let done: u64 = 0;
  let failure: i64 = 0;
  while (done < count && failure == 0) {
    let chunk = count - done < <u64>CHUNK_BYTES ? <u32>(count - done) : CHUNK_BYTES;
    if (ioCopyIn(bounce, buffer + done, chunk, flags) < 0) {
      failure = -EFAULT;
      break;
    }
    let offset: u32 = 0;
    let irq = waitQueueLock(queue(pipe));
    while (offset < chunk) {
      if (pipe.readers == 0) {
        atomicAdd32(sigpipeCount, 1);
        failure = -EPIPE;
        break;
      }
      let room = pipe.capacity - pipe.count;
      if (room == 0 || (atomic && room < chunk)) {
        if (fileIsNonblocking(file)) {
          failure = -EAGAIN;
          break;
        }
        waitQueueSleepLocked(queue(pipe), irq, 0);
        irq = waitQueueLock(queue(pipe));
        continue;
      }
      let n = chunk - offset < room ? chunk - offset : room;
      putLocked(pipe, bounce + offset, n);
      offset += n;
      changedLocked(pipe, pipe.readFile, POLLIN | POLLRDNORM);
    }
    waitQueueUnlock(queue(pipe), irq);
    done += offset;
  }
  heapFree(bounce);
  return done > 0 ? <i64>done : failure;
}

function pipePoll(file: File): u32 {
  let pipe = pipeOf(file);
  let events: u32 = 0;
  if (file.extra == END_READ) {
    if (pipe.count != 0) events |= POLLIN | POLLRDNORM;
    if (pipe.writers == 0) events |= POLLHUP;
  } else {
    // Writable once a PIPE_BUF write would not block.
    if (pipe.capacity - pipe.count >= PIPE_BUF) events |= POLLOUT | POLLWRNORM;
    if (pipe.readers == 0) events |= POLLERR;
  }
  return events;
}

function pipeIoctl(file: File, request: u32, argument: u64): i64 {
  if (request != FIONREAD) return -ENOTTY;
  return accessWrite32(argument, pipeOf(file).count) < 0 ? -EFAULT : 0;
}

function pipeStat(file: File, st: usize): i64 {
  let pipe = pipeOf(file);
  ipcStat(st, PIPEFS_DEV, pipe.ino, S_IFIFO | 0o600, PIPE_BUF);
  return 0;
}

function pipeRelease(file: File): void {
  let pipe = pipeOf(file);
  let irq = waitQueueLock(queue(pipe));
  if (file.extra == END_READ) {
    pipe.readers--;
    pipe.readFile = 0;
    changedLocked(pipe, pipe.writeFile, POLLERR | POLLOUT);
  } else {
    pipe.writers--;
    pipe.writeFile = 0;
    changedLocked(pipe, pipe.readFile, POLLHUP | POLLIN);
  }
  let last = pipe.readers == 0 && pipe.writers == 0;
  waitQueueUnlock(queue(pipe), irq);
  if (last) {
    heapFree(pipe.buffer);
    heapFree(changetype<usize>(pipe));
  }
}

/** The largest F_SETPIPE_SZ (Linux's default /proc/sys/fs/pipe-max-size). */
export const PIPE_MAX_SIZE: u32 = 1048576;

/** F_GETPIPE_SZ: the capacity in bytes. */
export function pipeSize(file: File): i64 {
  return <i64>pipeOf(file).capacity;
}

/**
 * F_SETPIPE_SZ: a capacity of at least `size` bytes (a power of two, at
 * least a page): the new capacity, -EBUSY if the data would not fit,
 * -EPERM above PIPE_MAX_SIZE, -ENOMEM.
 */
export function pipeResize(file: File, size: u64): i64 {
  if (size > <u64>PIPE_MAX_SIZE) return -EPERM;
  let capacity: u32 = PIPE_BUF;
  while (<u64>capacity < size) capacity <<= 1;
  let pipe = pipeOf(file);
  let buffer = heapAlloc(capacity, TAG_FS);
  if (buffer == 0) return -ENOMEM;
  let irq = waitQueueLock(queue(pipe));
  if (pipe.count > capacity) {
    waitQueueUnlock(queue(pipe), irq);
    heapFree(buffer);
    return -EBUSY;
  }
  // The data moves to the start of the new ring.
  let count = pipe.count;
  takeLocked(pipe, buffer, count);
  let old = pipe.buffer;
  pipe.buffer = buffer;
  pipe.capacity = capacity;
  pipe.start = 0;
  pipe.count = count;
  changedLocked(pipe, pipe.readFile, POLLIN | POLLRDNORM);
  changedLocked(pipe, pipe.writeFile, POLLOUT | POLLWRNORM);
  waitQueueUnlock(queue(pipe), irq);
  heapFree(old);
  return <i64>capacity;
}

export const PIPE_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>pipeRead),
  changetype<usize>(<FileReadWrite>pipeWrite),
  changetype<usize>(<FilePoll>pipePoll),
  changetype<usize>(<FileIoctl>pipeIoctl),
  changetype<usize>(<FileStat>pipeStat),
  0, // seek: -ESPIPE
  0, // readdir
  0, // truncate
  changetype<usize>(<FileRelease>pipeRelease),
];

export function fileIsPipe(file: File): bool {
  return fileIsType(file, PIPE_OPS);
}

/**
 * A new pipe: its read end's File at `ends`, its write end's at `ends + 8`
 * (one reference each). 0 or -ENOMEM.
 */
export function pipeOpen(nonblocking: bool, ends: usize): i32 {
  let pipe = changetype<Pipe>(heapAlloc(offsetof<Pipe>(), TAG_FS));
  if (changetype<usize>(pipe) == 0) return -ENOMEM;
  pipe.buffer = heapAlloc(PIPE_CAPACITY, TAG_FS);
  if (pipe.buffer == 0) {
    heapFree(changetype<usize>(pipe));
    return -ENOMEM;
  }
  waitQueueInit(queue(pipe));
  pipe.capacity = PIPE_CAPACITY;
  pipe.start = 0;
  pipe.count = 0;
  pipe.readers = 0;
  pipe.writers = 0;
  pipe.readFile = 0;
  pipe.writeFile = 0;
  pipe.ino = pipeInodeNumber();
  let extraStatus = nonblocking ? O_NONBLOCK : 0;
  let reader = fileCreate(PIPE_OPS, O_RDONLY | extraStatus, changetype<usize>(pipe), END_READ);
  if (reader === null) {
    heapFree(pipe.buffer);
    heapFree(changetype<usize>(pipe));
    return -ENOMEM;
  }
  pipe.readers = 1;
  pipe.readFile = changetype<usize>(reader);
  let writer = fileCreate(PIPE_OPS, O_WRONLY | extraStatus, changetype<usize>(pipe), END_WRITE);
  if (writer === null) {
    filePut(reader); // frees the pipe: its last end
    return -ENOMEM;
  }
  pipe.writers = 1;
  pipe.writeFile = changetype<usize>(writer);
  store<usize>(ends, changetype<usize>(reader));
  store<usize>(ends, changetype<usize>(writer), 8);
  return 0;
}
