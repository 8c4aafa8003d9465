// Reading and writing file descriptors. Until the VFS, the only open files
// are 0, 1 and 2, all the console (a terminal, as a serial console is on
// Linux): reads see end of file, writes go to the serial port. close() really
// closes them; every other descriptor is -EBADF.
import { spinLock, spinUnlock } from "../kernel/sync/spinlock";
import { consoleWrite } from "../kernel/console";
import { BUFFER_BYTES, copyIn, copyOut, putU32, scratchBuffer } from "./uaccess";
import { EBADF, EFAULT, EINVAL, ENOTTY, ESPIPE } from "./errno";

export const CONSOLE_FDS: i32 = 3;
export const O_RDWR: u32 = 2;
export const O_APPEND: u32 = 0x400;
export const O_NONBLOCK: u32 = 0x800;
const FD_CLOEXEC: u32 = 1;
/** The most iovecs readv/writev take (UIO_MAXIOV). */
const IOV_MAX: u64 = 1024;
/** Linux caps one read or write at this many bytes (MAX_RW_COUNT). */
const MAX_RW_COUNT: u64 = 0x7ffff000;

// Per console descriptor: open (1), descriptor flags, status flags.
const fdOpen = memory.data(<i32>CONSOLE_FDS * 4, 4);
const fdFlags = memory.data(<i32>CONSOLE_FDS * 4, 4);
const fdStatus = memory.data(<i32>CONSOLE_FDS * 4, 4);
let fdsInitialized = false;
const consoleLock = memory.data(4, 4);

function initFds(): void {
  if (fdsInitialized) return;
  for (let i: i32 = 0; i < CONSOLE_FDS; i++) {
    store<u32>(fdOpen + <usize>i * 4, 1);
    store<u32>(fdStatus + <usize>i * 4, O_RDWR);
  }
  fdsInitialized = true;
}

/** Is `fd` (a system call argument) an open console descriptor? */
export function isConsoleFd(fd: u64): bool {
  initFds();
  let value = <i32>fd;
  return value >= 0 && value < CONSOLE_FDS && load<u32>(fdOpen + <usize>value * 4) != 0;
}

/** Writes `count` bytes from application address `buffer` to the console,
 * bouncing through the first `room` bytes of the scratch buffer: the bytes
 * written, or -EFAULT if none could be read. */
function consoleWriteFrom(buffer: u64, count: u64, room: u64): i64 {
  let bounce = scratchBuffer();
  let done: u64 = 0;
  while (done < count) {
    let chunk = count - done < room ? count - done : room;
    if (copyIn(bounce, buffer + done, <usize>chunk) < 0) return done > 0 ? <i64>done : -EFAULT;
    // One chunk at a time under the lock: writes of other threads do not
    // interleave within it.
    let flags = spinLock(consoleLock);
    consoleWrite(bounce, <usize>chunk);
    spinUnlock(consoleLock, flags);
    done += chunk;
  }
  return <i64>done;
}

export function sysRead(fd: u64, buffer: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  return 0; // end of file: there is no console input yet
}

export function sysWrite(fd: u64, buffer: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  if (<i64>count < 0) return -EINVAL;
  if (count > MAX_RW_COUNT) count = MAX_RW_COUNT;
  return consoleWriteFrom(buffer, count, <u64>BUFFER_BYTES);
}

export function sysPread64(fd: u64, buffer: u64, count: u64, offset: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  return -ESPIPE;
}

export function sysPwrite64(fd: u64, buffer: u64, count: u64, offset: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  return -ESPIPE;
}

/** Checks and totals an iovec array (Linux's import_iovec): the byte count or -errno. */
function iovecTotal(iov: u64, count: u64, words: usize): i64 {
  if (count > IOV_MAX) return -EINVAL;
  let total: u64 = 0;
  for (let i: u64 = 0; i < count; i++) {
    if (copyIn(words, iov + i * 16, 16) < 0) return -EFAULT;
    let length = load<u64>(words, 8);
    if (<i64>length < 0 || length > MAX_RW_COUNT - total) return -EINVAL;
    total += length;
  }
  return <i64>total;
}

export function sysReadv(fd: u64, iov: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  let total = iovecTotal(iov, count, scratchBuffer());
  return total < 0 ? total : 0;
}

export function sysWritev(fd: u64, iov: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  // Each iovec entry is read into the last 16 bytes of the scratch buffer;
  // data bounces through the rest.
  let entry = scratchBuffer() + BUFFER_BYTES - 16;
  let total = iovecTotal(iov, count, entry);
  if (total < 0) return total;
  let done: i64 = 0;
  for (let i: u64 = 0; i < count; i++) {
    if (copyIn(entry, iov + i * 16, 16) < 0) return done > 0 ? done : -EFAULT;
    let base = load<u64>(entry);
    let length = load<u64>(entry, 8);
    if (length == 0) continue;
    let written = consoleWriteFrom(base, length, <u64>(BUFFER_BYTES - 16));
    if (written < 0) return done > 0 ? done : written;
    done += written;
    if (<u64>written < length) break;
  }
  return done;
}

export function sysClose(fd: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  store<u32>(fdOpen + <usize>(<i32>fd) * 4, 0);
  return 0;
}

export function sysLseek(fd: u64, offset: u64, whence: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  return -ESPIPE;
}

const F_DUPFD: u64 = 0;
const F_GETFD: u64 = 1;
const F_SETFD: u64 = 2;
const F_GETFL: u64 = 3;
const F_SETFL: u64 = 4;

export function sysFcntl(fd: u64, command: u64, argument: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  let index = <usize>(<i32>fd) * 4;
  switch (<u32>command) {
    case <u32>F_GETFD: return <i64>load<u32>(fdFlags + index);
    case <u32>F_SETFD:
      store<u32>(fdFlags + index, <u32>argument & FD_CLOEXEC);
      return 0;
    case <u32>F_GETFL: return <i64>load<u32>(fdStatus + index);
    case <u32>F_SETFL: {
      // Only O_APPEND and O_NONBLOCK (of those Linux lets change) mean anything here.
      let status = (load<u32>(fdStatus + index) & ~(O_APPEND | O_NONBLOCK)) | (<u32>argument & (O_APPEND | O_NONBLOCK));
      store<u32>(fdStatus + index, status);
      return 0;
    }
  }
  // F_DUPFD and the rest need a descriptor table: the VFS.
  return -EINVAL;
}

// Terminal ioctls (asm-generic/ioctls.h).
const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TIOCGPGRP: u32 = 0x540f;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541b;
const FIONBIO: u32 = 0x5421;
const TERMIOS_BYTES: usize = 36;

// The console's termios (struct termios: four u32 flags, c_line, c_cc[19]) as
// a Linux serial console starts: ICRNL IXON, OPOST ONLCR, B38400 CS8 CREAD
// HUPCL CLOCAL, ISIG ICANON ECHO ECHOE ECHOK IEXTEN ECHOCTL ECHOKE; the usual
// control characters.
const termios = memory.data<u8>([
  0x00, 0x05, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0xbf, 0x0c, 0x00, 0x00, 0x3b, 0x8a, 0x00, 0x00,
  0x00, 0x03, 0x1c, 0x7f, 0x15, 0x04, 0x00, 0x01, 0x00, 0x11, 0x13, 0x1a, 0x00, 0x12, 0x0f, 0x17,
  0x16, 0x00, 0x00, 0x00,
]);
// struct winsize: rows, columns, then pixels.
const winsize = memory.data<u16>([24, 80, 0, 0]);

export function sysIoctl(fd: u64, request: u64, argument: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!isConsoleFd(fd)) return -EBADF;
  let buffer = scratchBuffer();
  switch (<u32>request) {
    case TCGETS:
      return copyOut(argument, termios, TERMIOS_BYTES) < 0 ? -EFAULT : 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
      // Kept, so that a program reads back what it set; the serial line ignores it.
      if (copyIn(buffer, argument, TERMIOS_BYTES) < 0) return -EFAULT;
      memory.copy(termios, buffer, TERMIOS_BYTES);
      return 0;
    case TIOCGWINSZ:
      return copyOut(argument, winsize, 8) < 0 ? -EFAULT : 0;
    case TIOCSWINSZ:
      if (copyIn(buffer, argument, 8) < 0) return -EFAULT;
      memory.copy(winsize, buffer, 8);
      return 0;
    case TIOCGPGRP:
      return putU32(argument, 1) < 0 ? -EFAULT : 0;
    case FIONREAD:
      return putU32(argument, 0) < 0 ? -EFAULT : 0;
    case FIONBIO: {
      if (copyIn(buffer, argument, 4) < 0) return -EFAULT;
      let index = <usize>(<i32>fd) * 4;
      let status = load<u32>(fdStatus + index) & ~O_NONBLOCK;
      if (load<u32>(buffer) != 0) status |= O_NONBLOCK;
      store<u32>(fdStatus + index, status);
      return 0;
    }
  }
  return -ENOTTY;
}
