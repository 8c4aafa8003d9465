// Reading and writing descriptors: the calls that work on any open file
// (kernel/vfs/file.ts) through the descriptor table (kernel/vfs/fdtable.ts):
// read, write and their vector and positional forms, close, lseek, dup*,
// fcntl and ioctl. Each call holds a reference to its File while it runs.
import { fdClose, fdGet, fdGetCloexec, fdInstall, fdInstallAt, fdSetCloexec } from "../kernel/vfs/fdtable";
import {
  File, fileGet, fileIoctl, filePut, fileRead, fileSeek, fileWrite, O_APPEND, O_ASYNC, O_CLOEXEC, O_DIRECT, O_NOATIME,
  O_NONBLOCK,
} from "../kernel/vfs/file";
import { fileIsPipe, pipeResize, pipeSize } from "../kernel/ipc/pipe";
import { descriptorLimit } from "./resource";
import { copyIn, copyOut, scratchBuffer, scratchWords } from "./uaccess";
import { EBADF, EFAULT, EINVAL, ESPIPE } from "./errno";

/** The most iovecs readv/writev take (UIO_MAXIOV). */
const IOV_MAX: u64 = 1024;
/** Linux caps one read or write at this many bytes (MAX_RW_COUNT). */
export const MAX_RW_COUNT: u64 = 0x7ffff000;

/** Reads or writes `file` at its own offset (position 0: the File's). */
function transfer(file: File, write: bool, buffer: u64, count: u64, position: usize): i64 {
  if (<i64>count < 0) return -EINVAL;
  if (count > MAX_RW_COUNT) count = MAX_RW_COUNT;
  let offset = position != 0 ? position : changetype<usize>(file) + offsetof<File>("offset");
  return write ? fileWrite(file, buffer, count, offset, 0) : fileRead(file, buffer, count, offset, 0);
}

export function sysRead(fd: u64, buffer: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result = transfer(file, false, buffer, count, 0);
  filePut(file);
  return result;
}

export function sysWrite(fd: u64, buffer: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result = transfer(file, true, buffer, count, 0);
  filePut(file);
  return result;
}

/** pread64/pwrite64: at `offset`, leaving the file's offset alone; -ESPIPE on streams. */
function positional(fd: u64, write: bool, buffer: u64, count: u64, offset: u64): i64 {
  if (<i64>offset < 0) return -EINVAL;
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result: i64;
  // Seekable files are the ones with a seek operation (-ESPIPE otherwise).
  if (fileSeek(file, 0, SEEK_CUR) == -ESPIPE) {
    result = -ESPIPE;
  } else {
    let position = scratchWords();
    store<u64>(position, offset);
    result = transfer(file, write, buffer, count, position);
  }
  filePut(file);
  return result;
}

export function sysPread64(fd: u64, buffer: u64, count: u64, offset: u64, a4: u64, a5: u64): i64 {
  return positional(fd, false, buffer, count, offset);
}

export function sysPwrite64(fd: u64, buffer: u64, count: u64, offset: u64, a4: u64, a5: u64): i64 {
  return positional(fd, true, buffer, count, offset);
}

/** Checks and totals an iovec array (Linux's import_iovec): the byte count or -errno. */
function iovecTotal(iov: u64, count: u64, entry: usize): i64 {
  if (count > IOV_MAX) return -EINVAL;
  let total: u64 = 0;
  for (let i: u64 = 0; i < count; i++) {
    if (copyIn(entry, iov + i * 16, 16) < 0) return -EFAULT;
    let length = load<u64>(entry, 8);
    if (<i64>length < 0 || length > MAX_RW_COUNT - total) return -EINVAL;
    total += length;
  }
  return <i64>total;
}

/** readv/writev and their positional forms: segment by segment, stopping at a short transfer. */
function vector(fd: u64, write: bool, iov: u64, count: u64, position: usize): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let entry = scratchBuffer();
  let result = iovecTotal(iov, count, entry);
  if (result >= 0) {
    let done: i64 = 0;
    for (let i: u64 = 0; i < count; i++) {
      if (copyIn(entry, iov + i * 16, 16) < 0) {
        result = done > 0 ? done : -EFAULT;
        break;
      }
      let base = load<u64>(entry);
      let length = load<u64>(entry, 8);
      if (length == 0) continue;
      let moved = transfer(file, write, base, length, position);
      if (moved < 0) {
        result = done > 0 ? done : moved;
        break;
      }
      done += moved;
      result = done;
      if (<u64>moved < length) break;
    }
  }
  filePut(file);
  return result;
}

export function sysReadv(fd: u64, iov: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  return vector(fd, false, iov, count, 0);
}

export function sysWritev(fd: u64, iov: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  return vector(fd, true, iov, count, 0);
}

function positionalVector(fd: u64, write: bool, iov: u64, count: u64, offset: u64): i64 {
  if (<i64>offset < 0) return -EINVAL;
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let seekable = fileSeek(file, 0, SEEK_CUR) != -ESPIPE;
  filePut(file);
  if (!seekable) return -ESPIPE;
  let position = scratchWords();
  store<u64>(position, offset);
  return vector(fd, write, iov, count, position);
}

export function sysPreadv(fd: u64, iov: u64, count: u64, low: u64, high: u64, a5: u64): i64 {
  return positionalVector(fd, false, iov, count, low);
}

export function sysPwritev(fd: u64, iov: u64, count: u64, low: u64, high: u64, a5: u64): i64 {
  return positionalVector(fd, true, iov, count, low);
}

export function sysClose(fd: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return fdClose(fd);
}

const SEEK_CUR: u32 = 1;
const SEEK_MAX: u64 = 4; // SEEK_SET, CUR, END, DATA, HOLE

export function sysLseek(fd: u64, offset: u64, whence: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result = whence > SEEK_MAX ? -EINVAL : fileSeek(file, <i64>offset, <u32>whence);
  filePut(file);
  return result;
}

/** dup: the lowest free descriptor for the same file. */
export function sysDup(fd: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result = fdInstall(file, false, 0, descriptorLimit());
  if (result < 0) filePut(file);
  return result;
}

function duplicateTo(fd: u64, target: u64, cloexec: bool): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result = target > <u64>U32.MAX_VALUE ? -EBADF : fdInstallAt(<u32>target, file, cloexec, descriptorLimit());
  filePut(file);
  return result < 0 ? result : <i64>target;
}

export function sysDup2(fd: u64, target: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (fd == target) {
    // Linux: the same number back if it is open.
    let file = fdGet(fd);
    if (file === null) return -EBADF;
    filePut(file);
    return <i64>target;
  }
  return duplicateTo(fd, target, false);
}

export function sysDup3(fd: u64, target: u64, flags: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~<u64>O_CLOEXEC) != 0 || fd == target) return -EINVAL;
  return duplicateTo(fd, target, flags != 0);
}

const F_DUPFD: u32 = 0;
const F_GETFD: u32 = 1;
const F_SETFD: u32 = 2;
const F_GETFL: u32 = 3;
const F_SETFL: u32 = 4;
const F_GETLK: u32 = 5;
const F_SETLK: u32 = 6;
const F_SETLKW: u32 = 7;
const F_DUPFD_CLOEXEC: u32 = 1030;
const F_SETPIPE_SZ: u32 = 1031;
const F_GETPIPE_SZ: u32 = 1032;
const FD_CLOEXEC: u64 = 1;
/** The status flags F_SETFL may change (Linux's SETFL_MASK). */
const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
const F_UNLCK: u16 = 2;

export function sysFcntl(fd: u64, command: u64, argument: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result: i64 = -EINVAL;
  switch (<u32>command) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      let limit = descriptorLimit();
      if (argument >= <u64>limit) {
        result = -EINVAL;
        break;
      }
      result = fdInstall(fileGet(file), <u32>command == F_DUPFD_CLOEXEC, <u32>argument, limit);
      if (result < 0) filePut(file);
      break;
    }
    case F_GETFD:
      result = fdGetCloexec(fd);
      break;
    case F_SETFD:
      result = fdSetCloexec(fd, (argument & FD_CLOEXEC) != 0);
      break;
    case F_GETFL:
      result = <i64>file.status;
      break;
    case F_SETFL:
      file.status = (file.status & ~SETFL_MASK) | (<u32>argument & SETFL_MASK);
      result = 0;
      break;
    case F_GETLK: {
      // One process: no other owner can hold a lock, so every lock would be
      // granted: l_type becomes F_UNLCK.
      let lock = scratchWords();
      if (copyIn(lock, argument, 2) < 0) {
        result = -EFAULT;
        break;
      }
      store<u16>(lock, F_UNLCK);
      result = copyOut(argument, lock, 2) < 0 ? -EFAULT : 0;
      break;
    }
    case F_SETPIPE_SZ:
      result = fileIsPipe(file) ? pipeResize(file, <u64><u32>argument) : -EBADF;
      break;
    case F_GETPIPE_SZ:
      result = fileIsPipe(file) ? pipeSize(file) : -EBADF;
      break;
    case F_SETLK:
    case F_SETLKW:
      // Record locks between the threads of one process never conflict (POSIX).
      result = 0;
      break;
  }
  filePut(file);
  return result;
}

const FIONBIO: u32 = 0x5421;
const FIOCLEX: u32 = 0x5451;
const FIONCLEX: u32 = 0x5450;

export function sysIoctl(fd: u64, request: u64, argument: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result: i64;
  switch (<u32>request) {
    case FIONBIO: {
      // For every file type, as Linux's do_vfs_ioctl.
      let word = scratchWords();
      if (copyIn(word, argument, 4) < 0) {
        result = -EFAULT;
        break;
      }
      if (load<u32>(word) != 0) file.status |= O_NONBLOCK;
      else file.status &= ~O_NONBLOCK;
      result = 0;
      break;
    }
    case FIOCLEX:
      result = fdSetCloexec(fd, true);
      break;
    case FIONCLEX:
      result = fdSetCloexec(fd, false);
      break;
    default:
      result = fileIoctl(file, <u32>request, argument);
  }
  filePut(file);
  return result;
}
