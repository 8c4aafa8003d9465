// Calls that open files and read or change their attributes: open, openat,
// creat, the stat family (stat, lstat, fstat, newfstatat, statx), access,
// truncate, chmod, chown, utimensat, statfs, and the calls that have
// nothing to do on a RAM file system (flock, fsync). Paths are copied in
// (-EFAULT, -ENAMETOOLONG, -ENOENT for "" as Linux checks first) and
// resolved by the VFS (kernel/vfs/vfs.ts).
import { Inode, isDir, RamFs } from "../fs/ramfs/inode";
import { fdGet, fdInstall } from "../kernel/vfs/fdtable";
import {
  File, filePut, fileStat, fileTruncate, O_CLOEXEC, O_CREAT, O_LARGEFILE, O_PATH, O_TRUNC, O_WRONLY, STAT_BYTES,
} from "../kernel/vfs/file";
import { DEV_PROC, DEV_SYSFS, DEV_DEVTMPFS } from "../kernel/vfs/mount";
import { fileInode } from "../kernel/vfs/nodeFile";
import {
  AT_FDCWD, vfsAccess, vfsChmod, vfsChown, vfsInodeOfFd, vfsLookup, vfsOpen, vfsRelease, vfsSetTimes, vfsTruncate,
} from "../kernel/vfs/vfs";
import { inodeStat } from "../kernel/vfs/nodeFile";
import { vfsLock, vfsUnlock, vfsNow } from "../kernel/vfs/mount";
import { NANOS_PER_SECOND } from "../kernel/time/clock";
import { descriptorLimit } from "./resource";
import { copyIn, copyOut, copyPath, scratchBuffer, scratchPath } from "./uaccess";
import { EBADF, EFAULT, EINVAL } from "./errno";

export const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
export const AT_REMOVEDIR: u64 = 0x200;
export const AT_EACCESS: u64 = 0x200;
export const AT_SYMLINK_FOLLOW: u64 = 0x400;
export const AT_NO_AUTOMOUNT: u64 = 0x800;
export const AT_EMPTY_PATH: u64 = 0x1000;
const AT_STATX_SYNC_TYPE: u64 = 0x6000;

/** The inode a call names: the path (copied) from `dirfd`, or with
 * AT_EMPTY_PATH and "" the descriptor itself. A reference (release with
 * vfsRelease) as a positive number, or -errno. */
export function inodeAt(dirfd: u64, path: u64, flags: u64, follow: bool): i64 {
  let length = copyPath(path, (flags & AT_EMPTY_PATH) != 0);
  if (length < 0) return length;
  if (length == 0) {
    if (<i32>dirfd == AT_FDCWD) return vfsLookup(AT_FDCWD, scratchPathDot(), 1, true);
    return vfsInodeOfFd(<i32>dirfd);
  }
  return vfsLookup(<i32>dirfd, scratchPath(), <u32>length, follow);
}

/** "." in the scratch path (the working directory). */
function scratchPathDot(): usize {
  store<u16>(scratchPath(), 0x002e);
  return scratchPath();
}

// ---------------------------------------------------------------------------
// open

function openAt(dirfd: u64, path: u64, flags: u64, mode: u64): i64 {
  let length = copyPath(path, false);
  if (length < 0) return length;
  let status = <u32>flags | O_LARGEFILE;
  let result = vfsOpen(<i32>dirfd, scratchPath(), <u32>length, status, <u32>mode);
  if (result < 0) return result;
  let file = changetype<File>(<usize>result);
  let fd = fdInstall(file, (flags & <u64>O_CLOEXEC) != 0, 0, descriptorLimit());
  if (fd < 0) filePut(file);
  return fd;
}

export function sysOpen(path: u64, flags: u64, mode: u64, a3: u64, a4: u64, a5: u64): i64 {
  return openAt(<u64>AT_FDCWD, path, flags, mode);
}

export function sysOpenat(dirfd: u64, path: u64, flags: u64, mode: u64, a4: u64, a5: u64): i64 {
  return openAt(dirfd, path, flags, mode);
}

export function sysCreat(path: u64, mode: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return openAt(<u64>AT_FDCWD, path, <u64>(O_CREAT | O_WRONLY | O_TRUNC), mode);
}

// ---------------------------------------------------------------------------
// stat

/** struct stat of what a call names into scratchBuffer(): 0 or -errno. */
function statInto(dirfd: u64, path: u64, flags: u64, follow: bool, st: usize): i64 {
  let length = copyPath(path, (flags & AT_EMPTY_PATH) != 0);
  if (length < 0) return length;
  memory.fill(st, 0, STAT_BYTES);
  if (length == 0 && <i32>dirfd != AT_FDCWD) return statDescriptor(dirfd, st);
  let found = length == 0 ? vfsLookup(AT_FDCWD, scratchPathDot(), 1, true) : vfsLookup(<i32>dirfd, scratchPath(), <u32>length, follow);
  if (found < 0) return found;
  let inode = changetype<Inode>(<usize>found);
  vfsLock();
  inodeStat(inode, st);
  vfsUnlock();
  vfsRelease(inode);
  return 0;
}

function statDescriptor(fd: u64, st: usize): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result = fileStat(file, st);
  filePut(file);
  return result;
}

function statOut(result: i64, statbuf: u64, st: usize): i64 {
  if (result < 0) return result;
  return copyOut(statbuf, st, STAT_BYTES) < 0 ? -EFAULT : 0;
}

export function sysStat(path: u64, statbuf: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let st = scratchBuffer();
  return statOut(statInto(<u64>AT_FDCWD, path, 0, true, st), statbuf, st);
}

export function sysLstat(path: u64, statbuf: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let st = scratchBuffer();
  return statOut(statInto(<u64>AT_FDCWD, path, 0, false, st), statbuf, st);
}

export function sysFstat(fd: u64, statbuf: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let st = scratchBuffer();
  memory.fill(st, 0, STAT_BYTES);
  return statOut(statDescriptor(fd, st), statbuf, st);
}

export function sysNewfstatat(dirfd: u64, path: u64, statbuf: u64, flags: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) != 0) return -EINVAL;
  let st = scratchBuffer();
  return statOut(statInto(dirfd, path, flags, (flags & AT_SYMLINK_NOFOLLOW) == 0, st), statbuf, st);
}

const STATX_BYTES: usize = 256;
const STATX_BASIC_STATS: u32 = 0x7ff;
const STATX_RESERVED: u64 = 0x80000000;

/** statx: the same facts as stat, in struct statx. */
export function sysStatx(dirfd: u64, path: u64, flags: u64, mask: u64, buffer: u64, a5: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) != 0) return -EINVAL;
  if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return -EINVAL;
  if ((mask & STATX_RESERVED) != 0) return -EINVAL;
  let st = scratchBuffer();
  let result = statInto(dirfd, path, flags, (flags & AT_SYMLINK_NOFOLLOW) == 0, st);
  if (result < 0) return result;
  let x = st + 256;
  memory.fill(x, 0, STATX_BYTES);
  store<u32>(x, STATX_BASIC_STATS); // stx_mask
  store<u32>(x, <u32>load<u64>(st, 56), 4); // stx_blksize
  store<u32>(x, <u32>load<u64>(st, 16), 16); // stx_nlink
  store<u32>(x, load<u32>(st, 28), 20); // stx_uid
  store<u32>(x, load<u32>(st, 32), 24); // stx_gid
  store<u16>(x, <u16>load<u32>(st, 24), 28); // stx_mode
  store<u64>(x, load<u64>(st, 8), 32); // stx_ino
  store<u64>(x, load<u64>(st, 48), 40); // stx_size
  store<u64>(x, load<u64>(st, 64), 48); // stx_blocks
  // Timestamps: atime 64, btime 80 (not kept: the mask leaves it out), ctime 96, mtime 112.
  store<u64>(x, load<u64>(st, 72), 64);
  store<u32>(x, <u32>load<u64>(st, 80), 72);
  store<u64>(x, load<u64>(st, 104), 96);
  store<u32>(x, <u32>load<u64>(st, 112), 104);
  store<u64>(x, load<u64>(st, 88), 112);
  store<u32>(x, <u32>load<u64>(st, 96), 120);
  let rdev = load<u64>(st, 40);
  store<u32>(x, <u32>((rdev >> 8) & 0xfff), 128);
  store<u32>(x, <u32>((rdev & 0xff) | ((rdev >> 12) & 0xfff00)), 132);
  let dev = load<u64>(st);
  store<u32>(x, <u32>((dev >> 8) & 0xfff), 136);
  store<u32>(x, <u32>((dev & 0xff) | ((dev >> 12) & 0xfff00)), 140);
  return copyOut(buffer, x, STATX_BYTES) < 0 ? -EFAULT : 0;
}

// ---------------------------------------------------------------------------
// access

function accessAt(dirfd: u64, path: u64, mode: u64, flags: u64): i64 {
  if ((mode & ~<u64>7) != 0) return -EINVAL;
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  let found = inodeAt(dirfd, path, flags, (flags & AT_SYMLINK_NOFOLLOW) == 0);
  if (found < 0) return found;
  let inode = changetype<Inode>(<usize>found);
  let result = vfsAccess(inode, <u32>mode);
  vfsRelease(inode);
  return result;
}

export function sysAccess(path: u64, mode: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return accessAt(<u64>AT_FDCWD, path, mode, 0);
}

export function sysFaccessat(dirfd: u64, path: u64, mode: u64, a3: u64, a4: u64, a5: u64): i64 {
  return accessAt(dirfd, path, mode, 0);
}

export function sysFaccessat2(dirfd: u64, path: u64, mode: u64, flags: u64, a4: u64, a5: u64): i64 {
  return accessAt(dirfd, path, mode, flags);
}

// ---------------------------------------------------------------------------
// truncate

export function sysTruncate(path: u64, length: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<i64>length < 0) return -EINVAL;
  let found = inodeAt(<u64>AT_FDCWD, path, 0, true);
  if (found < 0) return found;
  let inode = changetype<Inode>(<usize>found);
  let result = vfsTruncate(inode, length);
  vfsRelease(inode);
  return result;
}

export function sysFtruncate(fd: u64, length: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<i64>length < 0) return -EINVAL;
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result: i64;
  let inode = fileInode(file);
  if ((file.status & O_PATH) != 0) result = -EBADF;
  else if (inode !== null && isDir(inode)) result = -EINVAL;
  else result = fileTruncate(file, length);
  filePut(file);
  return result;
}

// ---------------------------------------------------------------------------
// chmod, chown, utimensat

/** The inode of descriptor `fd` for fchmod/fchown (-EBADF), or 0 for a file with none (console, pipe). */
function inodeOfDescriptor(fd: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  filePut(file);
  let found = vfsInodeOfFd(<i32>fd);
  return found < 0 ? 0 : found;
}

function chmodInode(found: i64, mode: u64): i64 {
  if (found <= 0) return found;
  let inode = changetype<Inode>(<usize>found);
  let result = vfsChmod(inode, <u32>mode);
  vfsRelease(inode);
  return result;
}

export function sysChmod(path: u64, mode: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return chmodInode(inodeAt(<u64>AT_FDCWD, path, 0, true), mode);
}

export function sysFchmod(fd: u64, mode: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return chmodInode(inodeOfDescriptor(fd), mode);
}

export function sysFchmodat(dirfd: u64, path: u64, mode: u64, a3: u64, a4: u64, a5: u64): i64 {
  return chmodInode(inodeAt(dirfd, path, 0, true), mode);
}

function chownInode(found: i64, uid: u64, gid: u64): i64 {
  if (found <= 0) return found;
  let inode = changetype<Inode>(<usize>found);
  let result = vfsChown(inode, <u32>uid, <u32>gid);
  vfsRelease(inode);
  return result;
}

export function sysChown(path: u64, uid: u64, gid: u64, a3: u64, a4: u64, a5: u64): i64 {
  return chownInode(inodeAt(<u64>AT_FDCWD, path, 0, true), uid, gid);
}

export function sysLchown(path: u64, uid: u64, gid: u64, a3: u64, a4: u64, a5: u64): i64 {
  return chownInode(inodeAt(<u64>AT_FDCWD, path, 0, false), uid, gid);
}

export function sysFchown(fd: u64, uid: u64, gid: u64, a3: u64, a4: u64, a5: u64): i64 {
  return chownInode(inodeOfDescriptor(fd), uid, gid);
}

export function sysFchownat(dirfd: u64, path: u64, uid: u64, gid: u64, flags: u64, a5: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  return chownInode(inodeAt(dirfd, path, flags, (flags & AT_SYMLINK_NOFOLLOW) == 0), uid, gid);
}

const UTIME_NOW: u64 = (1 << 30) - 1;
const UTIME_OMIT: u64 = (1 << 30) - 2;

/** A timespec of utimensat as nanoseconds (U64.MAX_VALUE: omit), or -1 when invalid. */
function timeOf(seconds: u64, nanos: u64, now: u64): i64 {
  if (nanos == UTIME_OMIT) return -2;
  if (nanos == UTIME_NOW) return <i64>now;
  if (nanos >= NANOS_PER_SECOND || <i64>seconds < 0) return -1;
  return <i64>(seconds * NANOS_PER_SECOND + nanos);
}

export function sysUtimensat(dirfd: u64, path: u64, times: u64, flags: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  let now = vfsNow();
  let atime = now;
  let mtime = now;
  if (times != 0) {
    let t = scratchBuffer() + 2048;
    if (copyIn(t, times, 32) < 0) return -EFAULT;
    let a = timeOf(load<u64>(t), load<u64>(t, 8), now);
    let m = timeOf(load<u64>(t, 16), load<u64>(t, 24), now);
    if (a == -1 || m == -1) return -EINVAL;
    atime = a == -2 ? U64.MAX_VALUE : <u64>a;
    mtime = m == -2 ? U64.MAX_VALUE : <u64>m;
    if (a == -2 && m == -2) return 0;
  }
  let found: i64;
  if (path == 0) {
    // futimens: the descriptor itself (Linux's NULL path).
    if (<i32>dirfd == AT_FDCWD) return -EFAULT;
    found = inodeOfDescriptor(dirfd);
    if (found == 0) return 0;
  } else {
    found = inodeAt(dirfd, path, flags, (flags & AT_SYMLINK_NOFOLLOW) == 0);
  }
  if (found < 0) return found;
  let inode = changetype<Inode>(<usize>found);
  let result = vfsSetTimes(inode, atime, mtime);
  vfsRelease(inode);
  return result;
}

/** utime, utimes, futimesat: seconds and microseconds (timeval pairs) or utimbuf seconds; null: now. */
function setTimesOld(dirfd: u64, path: u64, times: u64, microseconds: bool): i64 {
  let now = vfsNow();
  let atime = now;
  let mtime = now;
  if (times != 0) {
    let t = scratchBuffer() + 2048;
    let bytes: usize = microseconds ? 32 : 16;
    if (copyIn(t, times, bytes) < 0) return -EFAULT;
    if (microseconds) {
      let au = load<u64>(t, 8);
      let mu = load<u64>(t, 24);
      if (au >= 1000000 || mu >= 1000000) return -EINVAL;
      atime = load<u64>(t) * NANOS_PER_SECOND + au * 1000;
      mtime = load<u64>(t, 16) * NANOS_PER_SECOND + mu * 1000;
    } else {
      atime = load<u64>(t) * NANOS_PER_SECOND;
      mtime = load<u64>(t, 8) * NANOS_PER_SECOND;
    }
  }
  let found = inodeAt(dirfd, path, 0, true);
  if (found < 0) return found;
  let inode = changetype<Inode>(<usize>found);
  let result = vfsSetTimes(inode, atime, mtime);
  vfsRelease(inode);
  return result;
}

export function sysUtime(path: u64, times: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return setTimesOld(<u64>AT_FDCWD, path, times, false);
}

export function sysUtimes(path: u64, times: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return setTimesOld(<u64>AT_FDCWD, path, times, true);
}

export function sysFutimesat(dirfd: u64, path: u64, times: u64, a3: u64, a4: u64, a5: u64): i64 {
  return setTimesOld(dirfd, path, times, true);
}

// ---------------------------------------------------------------------------
// statfs

const STATFS_BYTES: usize = 120;
const RAMFS_MAGIC: u64 = 0x858458f6;
const TMPFS_MAGIC: u64 = 0x01021994;
const PROC_SUPER_MAGIC: u64 = 0x9fa0;
const SYSFS_MAGIC: u64 = 0x62656572;
const ST_RDONLY: u64 = 1;
const ST_VALID: u64 = 0x20;

function statfsOf(found: i64, buffer: u64): i64 {
  if (found < 0) return found;
  let out = scratchBuffer();
  memory.fill(out, 0, STATFS_BYTES);
  if (found > 0) {
    let inode = changetype<Inode>(<usize>found);
    let fs = changetype<RamFs>(inode.fs);
    let magic = RAMFS_MAGIC;
    if (fs.dev == DEV_DEVTMPFS) magic = TMPFS_MAGIC;
    else if (fs.dev == DEV_PROC) magic = PROC_SUPER_MAGIC;
    else if (fs.dev == DEV_SYSFS) magic = SYSFS_MAGIC;
    store<u64>(out, magic);
    store<u64>(out, 4096, 8); // f_bsize
    store<u64>(out, fs.pages, 16); // f_blocks: ramfs has no size limit; what it holds
    store<u64>(out, <u64>fs.inodes, 40); // f_files
    store<u32>(out, fs.dev, 56); // f_fsid
    store<u64>(out, 255, 64); // f_namelen
    store<u64>(out, 4096, 72); // f_frsize
    store<u64>(out, ST_VALID | (fs.readOnly != 0 ? ST_RDONLY : 0), 80);
    vfsRelease(inode);
  } else {
    // Not a VFS file (console, pipe, socket): an anonymous file system.
    store<u64>(out, 4096, 8);
    store<u64>(out, 255, 64);
    store<u64>(out, 4096, 72);
    store<u64>(out, ST_VALID, 80);
  }
  return copyOut(buffer, out, STATFS_BYTES) < 0 ? -EFAULT : 0;
}

export function sysStatfs(path: u64, buffer: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return statfsOf(inodeAt(<u64>AT_FDCWD, path, 0, true), buffer);
}

export function sysFstatfs(fd: u64, buffer: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return statfsOf(inodeOfDescriptor(fd), buffer);
}

// ---------------------------------------------------------------------------
// Calls with nothing to do on one process and a RAM file system

const LOCK_SH: u64 = 1;
const LOCK_EX: u64 = 2;
const LOCK_NB: u64 = 4;
const LOCK_UN: u64 = 8;

/** flock: one process holds every lock it asks for. */
export function sysFlock(fd: u64, operation: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let pathOnly = (file.status & O_PATH) != 0;
  filePut(file);
  if (pathOnly) return -EBADF;
  let kind = operation & ~LOCK_NB;
  if (kind != LOCK_SH && kind != LOCK_EX && kind != LOCK_UN) return -EINVAL;
  return 0;
}

/** fsync, fdatasync, syncfs: RAM has nothing to write back. */
export function sysFsync(fd: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let pathOnly = (file.status & O_PATH) != 0;
  filePut(file);
  return pathOnly ? -EBADF : 0;
}

export function sysSync(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return 0;
}
