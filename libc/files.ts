// Calls that name files. Until the VFS (Linux ABI part 1, phase 2) there is
// no file system: the root directory "/" exists and is empty, the console
// descriptors 0-2 can be stat'ed, and /proc/self/exe reads as the program's
// path; every other path is -ENOENT. Paths are still copied and checked
// (-EFAULT, -ENAMETOOLONG) as Linux does first.
import { App } from "../kernel/app";
import { Clock, NANOS_PER_SECOND } from "../kernel/time/clock";
import { fdGet } from "../kernel/vfs/fdtable";
import { fileStat, filePut } from "../kernel/vfs/file";
import { copyOut, copyPath, pathEquals, scratchBuffer, scratchPath } from "./uaccess";
import { EBADF, EFAULT, EINVAL, ENOENT, ENOTDIR, ERANGE } from "./errno";

const AT_FDCWD: i32 = -100;
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_NO_AUTOMOUNT: u64 = 0x800;
const AT_EMPTY_PATH: u64 = 0x1000;
const AT_EACCESS: u64 = 0x200;
const S_IFCHR: u32 = 0x2000;
const S_IFDIR: u32 = 0x4000;
const STAT_BYTES: usize = 144;
const O_DIRECTORY: u64 = 0x10000;

/** Writes a struct stat (x86-64, 144 bytes) for the root directory. */
function putStat(address: u64, console: bool): i64 {
  let st = scratchBuffer();
  memory.fill(st, 0, STAT_BYTES);
  let now = Clock.realtimeNanos();
  let seconds = now / NANOS_PER_SECOND;
  let nanos = now % NANOS_PER_SECOND;
  if (console) {
    store<u64>(st, 6); // st_dev: devtmpfs
    store<u64>(st, 6, 8); // st_ino
    store<u64>(st, 1, 16); // st_nlink
    store<u32>(st, S_IFCHR | 0o620, 24); // crw--w----
    store<u32>(st, 5, 32); // st_gid: tty
    store<u64>(st, (5 << 8) | 1, 40); // st_rdev: 5:1, /dev/console
    store<u64>(st, 1024, 56); // st_blksize
  } else {
    store<u64>(st, 1); // st_dev
    store<u64>(st, 1, 8); // st_ino
    store<u64>(st, 2, 16); // st_nlink
    store<u32>(st, S_IFDIR | 0o755, 24); // drwxr-xr-x
    store<u64>(st, 4096, 56);
  }
  for (let i: usize = 0; i < 3; i++) {
    store<u64>(st + 72 + i * 16, seconds); // atime, mtime, ctime
    store<u64>(st + 80 + i * 16, nanos);
  }
  return copyOut(address, st, STAT_BYTES) < 0 ? -EFAULT : 0;
}

/** Is the copied path the root directory ("/", "/.", "//" ...)? */
function isRoot(length: i64): bool {
  let path = scratchPath();
  if (length == 0 || load<u8>(path) != 0x2f) return false;
  for (let i: i64 = 0; i < length; i++) {
    let c = load<u8>(path + <usize>i);
    if (c != 0x2f && c != 0x2e) return false;
    if (c == 0x2e && (i + 1 < length && load<u8>(path + <usize>(i + 1)) == 0x2e)) return false;
  }
  return true;
}

/** Is `dirfd` usable as the start of a relative path? (Only AT_FDCWD: the
 * console descriptors are not directories.) -errno if not. */
function checkDirFd(dirfd: u64, length: i64): i64 {
  let path = scratchPath();
  if (length > 0 && load<u8>(path) == 0x2f) return 0; // absolute: dirfd unused
  if (<i32>dirfd == AT_FDCWD) return 0;
  return isOpenFd(dirfd) ? -ENOTDIR : -EBADF;
}

/** stat of a copied path relative to `dirfd`. */
function statPath(dirfd: u64, length: i64, statbuf: u64): i64 {
  let dir = checkDirFd(dirfd, length);
  if (dir < 0) return dir;
  // Relative paths start at the working directory, "/".
  if (isRoot(length) || pathEquals(length, ".")) return putStat(statbuf, false);
  return -ENOENT;
}

export function sysStat(path: u64, statbuf: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let length = copyPath(path, false);
  if (length < 0) return length;
  return statPath(<u64>AT_FDCWD, length, statbuf);
}

export function sysFstat(fd: u64, statbuf: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return statDescriptor(fd, statbuf);
}

/** struct stat of an open descriptor. */
function statDescriptor(fd: u64, statbuf: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let st = scratchBuffer();
  let result = fileStat(file, st);
  filePut(file);
  if (result < 0) return result;
  return copyOut(statbuf, st, STAT_BYTES) < 0 ? -EFAULT : 0;
}

function isOpenFd(fd: u64): bool {
  let file = fdGet(fd);
  if (file === null) return false;
  filePut(file);
  return true;
}

export function sysNewfstatat(dirfd: u64, path: u64, statbuf: u64, flags: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) != 0) return -EINVAL;
  let length = copyPath(path, (flags & AT_EMPTY_PATH) != 0);
  if (length < 0) return length;
  if (length == 0) {
    // AT_EMPTY_PATH: the descriptor itself.
    if (<i32>dirfd == AT_FDCWD) return putStat(statbuf, false);
    return statDescriptor(dirfd, statbuf);
  }
  return statPath(dirfd, length, statbuf);
}

export function sysOpen(path: u64, flags: u64, mode: u64, a3: u64, a4: u64, a5: u64): i64 {
  return openPath(<u64>AT_FDCWD, path, flags);
}

export function sysOpenat(dirfd: u64, path: u64, flags: u64, mode: u64, a4: u64, a5: u64): i64 {
  return openPath(dirfd, path, flags);
}

function openPath(dirfd: u64, path: u64, flags: u64): i64 {
  let length = copyPath(path, false);
  if (length < 0) return length;
  let dir = checkDirFd(dirfd, length);
  if (dir < 0) return dir;
  // Opening "/" needs a descriptor table (the VFS); nothing else exists.
  return -ENOENT;
}

function accessPath(dirfd: u64, path: u64, mode: u64, flags: u64): i64 {
  if ((mode & ~<u64>7) != 0) return -EINVAL;
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  let length = copyPath(path, (flags & AT_EMPTY_PATH) != 0);
  if (length < 0) return length;
  if (length == 0) return <i32>dirfd == AT_FDCWD || isOpenFd(dirfd) ? 0 : -EBADF;
  let dir = checkDirFd(dirfd, length);
  if (dir < 0) return dir;
  // Root may do anything to the root directory.
  return isRoot(length) || pathEquals(length, ".") ? 0 : -ENOENT;
}

export function sysAccess(path: u64, mode: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return accessPath(<u64>AT_FDCWD, path, mode, 0);
}

export function sysFaccessat(dirfd: u64, path: u64, mode: u64, a3: u64, a4: u64, a5: u64): i64 {
  return accessPath(dirfd, path, mode, 0);
}

export function sysFaccessat2(dirfd: u64, path: u64, mode: u64, flags: u64, a4: u64, a5: u64): i64 {
  return accessPath(dirfd, path, mode, flags);
}

function readlinkPath(dirfd: u64, path: u64, buffer: u64, size: u64): i64 {
  let length = copyPath(path, false);
  if (length < 0) return length;
  if (<i32>size <= 0) return -EINVAL;
  let dir = checkDirFd(dirfd, length);
  if (dir < 0) return dir;
  if (pathEquals(length, "/proc/self/exe")) {
    // The program's path, without a NUL, truncated to the buffer.
    let count = App.pathLength < <u32>size ? App.pathLength : <u32>size;
    return copyOut(buffer, App.path, count) < 0 ? -EFAULT : <i64>count;
  }
  // "/" is a directory, not a link.
  return isRoot(length) ? -EINVAL : -ENOENT;
}

export function sysReadlink(path: u64, buffer: u64, size: u64, a3: u64, a4: u64, a5: u64): i64 {
  return readlinkPath(<u64>AT_FDCWD, path, buffer, size);
}

export function sysReadlinkat(dirfd: u64, path: u64, buffer: u64, size: u64, a4: u64, a5: u64): i64 {
  return readlinkPath(dirfd, path, buffer, size);
}

/** getcwd: always "/"; returns the length with the NUL, as the system call does. */
export function sysGetcwd(buffer: u64, size: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (size < 2) return -ERANGE;
  let text = scratchBuffer();
  store<u16>(text, 0x002f); // "/\0"
  return copyOut(buffer, text, 2) < 0 ? -EFAULT : 2;
}

export function sysChdir(path: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let length = copyPath(path, false);
  if (length < 0) return length;
  return isRoot(length) || pathEquals(length, ".") ? 0 : -ENOENT;
}
