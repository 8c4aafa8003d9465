// The process's file descriptor table: descriptor numbers to Files, with the
// close-on-exec flag in bit 0 of each entry (Files are 8-byte aligned). One
// table (Wisp runs one process), grown by doubling up to the caller's
// RLIMIT_NOFILE. Every lookup takes a reference, so a concurrent close never
// frees a File a system call is using.
import { EBADF, EMFILE, ENOMEM } from "../errno";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import { spinLock, spinUnlock } from "../sync/spinlock";
import { File, fileGet, filePut } from "./file";

const ENTRY_CLOEXEC: usize = 1;
const INITIAL_SLOTS: u32 = 64;
/** Linux's sysctl fs.nr_open: no table grows beyond this. */
export const FD_NR_OPEN: u32 = 1048576;

const tableLock = memory.data(4, 4);
let slots: usize = 0;
let slotCount: u32 = 0;
let openCount: u32 = 0;

function entry(fd: u32): usize {
  return load<usize>(slots + (<usize>fd << alignof<usize>()));
}

function setEntry(fd: u32, value: usize): void {
  store<usize>(slots + (<usize>fd << alignof<usize>()), value);
}

/** Makes room for descriptor `fd` (lock held): false when out of memory. */
function growLocked(fd: u32): bool {
  if (fd < slotCount) return true;
  let count = slotCount == 0 ? INITIAL_SLOTS : slotCount;
  while (count <= fd) count <<= 1;
  let bytes = <usize>count << alignof<usize>();
  let grown = heapAlloc(bytes, TAG_FS);
  if (grown == 0) return false;
  memory.fill(grown, 0, bytes);
  if (slots != 0) {
    memory.copy(grown, slots, <usize>slotCount << alignof<usize>());
    heapFree(slots);
  }
  slots = grown;
  slotCount = count;
  return true;
}

/** The File for `fd` with a reference taken (release with filePut), or null: -EBADF. */
export function fdGet(fd: u64): File | null {
  let value = <i64>fd;
  if (value < 0 || value >= <i64>FD_NR_OPEN) return null;
  let flags = spinLock(tableLock);
  let file: usize = 0;
  if (<u32>value < slotCount) file = entry(<u32>value) & ~ENTRY_CLOEXEC;
  if (file != 0) fileGet(changetype<File>(file));
  spinUnlock(tableLock, flags);
  return file != 0 ? changetype<File>(file) : null;
}

/**
 * Gives `file` the lowest free descriptor >= `lowest` and below `limit`; the
 * table takes over the caller's reference on success. The descriptor, or
 * -EMFILE / -ENOMEM (the caller still owns its reference).
 */
export function fdInstall(file: File, cloexec: bool, lowest: u32, limit: u32): i64 {
  if (limit > FD_NR_OPEN) limit = FD_NR_OPEN;
  let flags = spinLock(tableLock);
  let fd = lowest;
  while (fd < slotCount && entry(fd) != 0) fd++;
  if (fd >= limit) {
    spinUnlock(tableLock, flags);
    return -EMFILE;
  }
  if (!growLocked(fd)) {
    spinUnlock(tableLock, flags);
    return -ENOMEM;
  }
  setEntry(fd, changetype<usize>(file) | (cloexec ? ENTRY_CLOEXEC : 0));
  openCount++;
  spinUnlock(tableLock, flags);
  return <i64>fd;
}

/**
 * Puts `file` at descriptor `fd` (dup2, dup3), closing what was there; the
 * table takes a new reference. 0 or -errno.
 */
export function fdInstallAt(fd: u32, file: File, cloexec: bool, limit: u32): i64 {
  if (fd >= limit || fd >= FD_NR_OPEN) return -EBADF;
  fileGet(file);
  let flags = spinLock(tableLock);
  if (!growLocked(fd)) {
    spinUnlock(tableLock, flags);
    filePut(file);
    return -ENOMEM;
  }
  let previous = entry(fd) & ~ENTRY_CLOEXEC;
  setEntry(fd, changetype<usize>(file) | (cloexec ? ENTRY_CLOEXEC : 0));
  if (previous == 0) openCount++;
  spinUnlock(tableLock, flags);
  if (previous != 0) filePut(changetype<File>(previous));
  return 0;
}

/** close(fd): 0 or -EBADF. */
export function fdClose(fd: u64): i64 {
  let value = <i64>fd;
  if (value < 0 || value >= <i64>slotCount) return -EBADF;
  let flags = spinLock(tableLock);
  let file: usize = 0;
  if (<u32>value < slotCount) {
    file = entry(<u32>value) & ~ENTRY_CLOEXEC;
    if (file != 0) {
      setEntry(<u32>value, 0);
      openCount--;
    }
  }
  spinUnlock(tableLock, flags);
  if (file == 0) return -EBADF;
  filePut(changetype<File>(file));
  return 0;
}

/** FD_CLOEXEC of `fd`: 0 or 1, or -EBADF. */
export function fdGetCloexec(fd: u64): i64 {
  let value = <i64>fd;
  let flags = spinLock(tableLock);
  let result: i64 = -EBADF;
  if (value >= 0 && value < <i64>slotCount) {
    let e = entry(<u32>value);
    if (e != 0) result = <i64>(e & ENTRY_CLOEXEC);
  }
  spinUnlock(tableLock, flags);
  return result;
}

/** Sets or clears FD_CLOEXEC of `fd`: 0 or -EBADF. */
export function fdSetCloexec(fd: u64, cloexec: bool): i64 {
  let value = <i64>fd;
  let flags = spinLock(tableLock);
  let result: i64 = -EBADF;
  if (value >= 0 && value < <i64>slotCount) {
    let e = entry(<u32>value);
    if (e != 0) {
      setEntry(<u32>value, (e & ~ENTRY_CLOEXEC) | (cloexec ? ENTRY_CLOEXEC : 0));
      result = 0;
    }
  }
  spinUnlock(tableLock, flags);
  return result;
}

/** How many descriptors are open (/proc/self/status, tests). */
export function fdOpenCount(): u32 {
  return openCount;
}
