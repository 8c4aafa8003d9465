// The console as an open file: descriptors 0, 1 and 2 of the application,
// and /dev/console and /dev/tty. It is a terminal, as a serial console is on
// Linux: reads see end of file (there is no console input), writes go to the
// serial port in chunks that other threads' writes do not interleave, and
// the terminal ioctls keep what a program sets.
import { spinLock, spinUnlock } from "../sync/spinlock";
import { consoleWrite } from "../console";
import { EFAULT, ENOMEM, ENOTTY } from "../errno";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import { Clock, NANOS_PER_SECOND } from "../time/clock";
import { accessCopyIn, accessCopyOut, accessWrite32 } from "../../arch/x86_64/access";
import {
  File, FileIoctl, FilePoll, FileReadWrite, FileStat, fileCreate, ioCopyIn, O_RDWR, S_IFCHR,
} from "./file";
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "./poll";

const CHUNK_BYTES: usize = 512;
const consoleLock = memory.data(4, 4);

function consoleFileRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  return 0;
}

function consoleFileWrite(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  let bounce = heapAlloc(CHUNK_BYTES, TAG_FS);
  if (bounce == 0) return -ENOMEM;
  let done: u64 = 0;
  while (done < count) {
    let chunk = count - done < <u64>CHUNK_BYTES ? count - done : <u64>CHUNK_BYTES;
    if (ioCopyIn(bounce, buffer + done, <usize>chunk, flags) < 0) break;
    let irq = spinLock(consoleLock);
    consoleWrite(bounce, <usize>chunk);
    spinUnlock(consoleLock, irq);
    done += chunk;
  }
  heapFree(bounce);
  return done > 0 || count == 0 ? <i64>done : -EFAULT;
}

function consoleFilePoll(file: File): u32 {
  return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
}

function consoleFileStat(file: File, st: usize): i64 {
  let now = Clock.realtimeNanos();
  store<u64>(st, 6); // st_dev: devtmpfs
  store<u64>(st, 6, 8); // st_ino
  store<u64>(st, 1, 16); // st_nlink
  store<u32>(st, S_IFCHR | 0o620, 24); // crw--w----
  store<u32>(st, 5, 32); // st_gid: tty
  store<u64>(st, (5 << 8) | 1, 40); // st_rdev: 5:1, /dev/console
  store<u64>(st, 1024, 56); // st_blksize
  for (let i: usize = 0; i < 3; i++) {
    store<u64>(st + 72 + i * 16, now / NANOS_PER_SECOND); // atime, mtime, ctime
    store<u64>(st + 80 + i * 16, now % NANOS_PER_SECOND);
  }
  return 0;
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
const TERMIOS_BYTES: u32 = 36;

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

function consoleFileIoctl(file: File, request: u32, argument: u64): i64 {
  switch (request) {
    case TCGETS:
      return accessCopyOut(argument, termios, TERMIOS_BYTES) < 0 ? -EFAULT : 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
      // Kept, so that a program reads back what it set; the serial line ignores it.
      return accessCopyIn(termios, argument, TERMIOS_BYTES) < 0 ? -EFAULT : 0;
    case TIOCGWINSZ:
      return accessCopyOut(argument, winsize, 8) < 0 ? -EFAULT : 0;
    case TIOCSWINSZ:
      return accessCopyIn(winsize, argument, 8) < 0 ? -EFAULT : 0;
    case TIOCGPGRP:
      return accessWrite32(argument, 1) < 0 ? -EFAULT : 0;
    case FIONREAD:
      return accessWrite32(argument, 0) < 0 ? -EFAULT : 0;
  }
  return -ENOTTY;
}

export const CONSOLE_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>consoleFileRead),
  changetype<usize>(<FileReadWrite>consoleFileWrite),
  changetype<usize>(<FilePoll>consoleFilePoll),
  changetype<usize>(<FileIoctl>consoleFileIoctl),
  changetype<usize>(<FileStat>consoleFileStat),
  0, // seek: -ESPIPE
  0, // readdir
  0, // truncate
  0, // release: nothing to free
];

/** A new open file on the console (read-write), or null when out of memory. */
export function consoleFileOpen(status: u32): File | null {
  return fileCreate(CONSOLE_OPS, status == 0 ? O_RDWR : status, 0, 0);
}
