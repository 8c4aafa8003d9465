// The VFS operations the system calls use: each resolves its path(s) under
// the VFS lock (path.ts), checks what Linux checks, in Linux's order where
// it matters for the error returned, and acts on ramfs. Paths are kernel
// memory (libc copies them in). Wisp runs its one process as root: no
// permission is refused except running a file without any x bit and
// changing a read-only file system (-EROFS).
import { dirLink, dirRename, dirUnlink, NAME_MAX } from "../../fs/ramfs/dir";
import { dataRead, dataTruncate } from "../../fs/ramfs/data";
import { heapAlloc, TAG_FS } from "../mm/heap";
import {
  Inode, inodeCreate, inodeGet, inodePut, inodeType, isDir, isRegular, isSymlink, RamFs, S_IFCHR, S_IFDIR, S_IFLNK,
  S_IFMT, S_IFREG, symlinkSetTarget,
} from "../../fs/ramfs/inode";
import {
  EACCES, EBADF, EBUSY, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOMEM, ENOTDIR, ENOTEMPTY, ENXIO, EOPNOTSUPP, EPERM, EROFS, EXDEV,
} from "../errno";
import { consoleFileOpen } from "./consoleFile";
import { fdGet } from "./fdtable";
import {
  File, filePut, O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_PATH, O_RDONLY, O_TMPFILE, O_TRUNC,
} from "./file";
import { isReadOnly, setCwd, Vfs, vfsLock, vfsNow, vfsUnlock } from "./mount";
import { childPath, inodePath } from "./names";
import {
  DIR_OPS, fileInode, FULL_OPS, GENERATED_OPS, nodeFileCreate, NULL_OPS, PATH_OPS, RANDOM_OPS, REGULAR_OPS, ZERO_OPS,
} from "./nodeFile";
import { PATH_MAX, Walk, walkPath, walkRecord, WALK_CREATE, WALK_DESCRIPTOR_LINK, WALK_FOLLOW } from "./path";
import { LINK_FD } from "./kinds";
import { isGenerated, specialGenerate, symlinkTarget } from "./special";
import { textFree } from "./text";

export const AT_FDCWD: i32 = -100;

// Device numbers (major << 8 | minor).
export const DEV_NULL: u32 = (1 << 8) | 3;
export const DEV_ZERO: u32 = (1 << 8) | 5;
export const DEV_FULL: u32 = (1 << 8) | 7;
export const DEV_RANDOM: u32 = (1 << 8) | 8;
export const DEV_URANDOM: u32 = (1 << 8) | 9;
export const DEV_TTY: u32 = (5 << 8) | 0;
export const DEV_CONSOLE: u32 = (5 << 8) | 1;

const pathBuffer = memory.data(<i32>PATH_MAX);

/**
 * The directory a relative path starts from (a reference is taken: release
 * with inodePut), or -EBADF / -ENOTDIR as a negative number. Absolute paths
 * ignore `dirfd` (but the VFS lock must be held either way).
 */
function startOf(dirfd: i32, path: usize, length: u32): i64 {
  if ((length > 0 && load<u8>(path) == 0x2f) || dirfd == AT_FDCWD) {
    return <i64>changetype<usize>(inodeGet(changetype<Inode>(Vfs.cwd)));
  }
  let file = fdGet(<u64>dirfd);
  if (file === null) return -EBADF;
  let inode = fileInode(file);
  let result: i64;
  if (inode === null || !isDir(inode)) result = -ENOTDIR;
  else result = <i64>changetype<usize>(inodeGet(inode));
  filePut(file);
  return result;
}

/** Walks `path` from `dirfd` into the shared Walk record: 0 or -errno (lock held). */
function resolve(dirfd: i32, path: usize, length: u32, flags: u32): i32 {
  let start = startOf(dirfd, path, length);
  if (start < 0) return <i32>start;
  let result = walkPath(changetype<Inode>(<usize>start), path, length, flags, walkRecord());
  inodePut(changetype<Inode>(<usize>start));
  return result;
}

/** The inode `dirfd`'s File refers to (a reference taken), or -EBADF as a negative number. */
export function vfsInodeOfFd(fd: i32): i64 {
  let file = fdGet(<u64>fd);
  if (file === null) return -EBADF;
  let inode = fileInode(file);
  let result: i64 = inode === null ? -EINVAL : <i64>changetype<usize>(inodeGet(inode));
  filePut(file);
  return result;
}

function newInode(parent: Inode, mode: u32): Inode | null {
  return inodeCreate(changetype<RamFs>(parent.fs), mode, vfsNow());
}

/** Creates `mode` (type and permissions, umask applied by the caller) as the walk's last name. */
function createHere(walk: Walk, mode: u32): i64 {
  let parent = changetype<Inode>(walk.parent);
  if (parent.nlink == 0) return -ENOENT;
  if (isReadOnly(parent)) return -EROFS;
  let inode = newInode(parent, mode);
  if (inode === null) return -ENOMEM;
  inodeGet(inode);
  let result = dirLink(parent, walk.name, walk.length, inode, vfsNow());
  if (result < 0) {
    inodePut(inode);
    return result;
  }
  inodePut(inode); // the link keeps it
  return <i64>changetype<usize>(inode);
}

// ---------------------------------------------------------------------------
// open

function openDevice(inode: Inode, status: u32, path: usize, pathLength: u32): File | null {
  let ops: StaticArray<usize>;
  switch (inode.rdev) {
    case DEV_NULL: ops = NULL_OPS; break;
    case DEV_ZERO: ops = ZERO_OPS; break;
    case DEV_FULL: ops = FULL_OPS; break;
    case DEV_RANDOM:
    case DEV_URANDOM: ops = RANDOM_OPS; break;
    case DEV_TTY:
    case DEV_CONSOLE: return consoleFileOpen(status);
    default: return null;
  }
  return nodeFileCreate(ops, status, inode, path, pathLength, 0, 0);
}

/**
 * open/openat/creat: a new File (its address as a positive number) or
 * -errno. The caller installs it in the descriptor table.
 */
export function vfsOpen(dirfd: i32, path: usize, length: u32, flags: u32, mode: u32): i64 {
  if ((flags & O_TMPFILE) == O_TMPFILE) return -EOPNOTSUPP;
  let pathOnly = (flags & O_PATH) != 0;
  if (pathOnly) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  let create = (flags & O_CREAT) != 0;
  let walkFlags: u32 = 0;
  if ((flags & O_NOFOLLOW) == 0 && !(create && (flags & O_EXCL) != 0)) walkFlags |= WALK_FOLLOW;
  if (create) walkFlags |= WALK_CREATE;
  let access = flags & O_ACCMODE;
  let writing = !pathOnly && access != O_RDONLY;
  vfsLock();
  let result = openLocked(dirfd, path, length, flags, mode, walkFlags, writing, pathOnly, create);
  vfsUnlock();
  return result;
}

function openLocked(dirfd: i32, path: usize, length: u32, flags: u32, mode: u32, walkFlags: u32, writing: bool, pathOnly: bool, create: bool): i64 {
  let walked = resolve(dirfd, path, length, walkFlags | WALK_DESCRIPTOR_LINK);
  if (walked < 0) return walked;
  let walk = walkRecord();
  let inode: Inode;
  let created = false;
  if (walk.inode != 0 && (walkFlags & WALK_FOLLOW) != 0 && changetype<Inode>(walk.inode).special == LINK_FD) {
    // /proc/self/fd/N: Linux reopens the descriptor's file rather than its name.
    let reopened = reopenDescriptor(changetype<Inode>(walk.inode).specialArg, flags, pathOnly);
    if (reopened != 0) return reopened;
    walked = resolve(dirfd, path, length, walkFlags);
    if (walked < 0) return walked;
  }
  if (walk.inode == 0) {
    if (walk.trailingSlash) return -EISDIR;
    let made = createHere(walk, S_IFREG | (mode & 0o7777 & ~Vfs.umask));
    if (made < 0) return made;
    inode = changetype<Inode>(<usize>made);
    created = true;
  } else {
    inode = changetype<Inode>(walk.inode);
    if (create && (flags & O_EXCL) != 0) return -EEXIST;
    if (isSymlink(inode) && !pathOnly) return -ELOOP;
    if ((flags & O_DIRECTORY) != 0 && !isDir(inode)) return -ENOTDIR;
    if (isDir(inode) && (writing || (create && !pathOnly))) return -EISDIR;
    if (!pathOnly && writing && isGenerated(inode)) return -EACCES;
    if (!pathOnly && writing && (isRegular(inode) || isDir(inode)) && isReadOnly(inode)) return -EROFS;
  }
  // The path the file is known by (/proc/self/fd).
  let pathLength: i32;
  if (walk.dotted || walk.length == 0) pathLength = inodePath(inode, pathBuffer, PATH_MAX);
  else pathLength = childPath(changetype<Inode>(walk.parent), walk.name, walk.length, pathBuffer, PATH_MAX);
  if (pathLength < 0) pathLength = 0;
  let status = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
  let file: File | null = null;
  if (pathOnly) {
    file = nodeFileCreate(PATH_OPS, status, inode, pathBuffer, <u32>pathLength, 0, 0);
  } else if (isDir(inode)) {
    file = nodeFileCreate(DIR_OPS, status, inode, pathBuffer, <u32>pathLength, 0, 0);
  } else if (isRegular(inode)) {
    if (isGenerated(inode)) {
      let text = specialGenerate(inode);
      if (text === null) return -ENOMEM;
      file = nodeFileCreate(GENERATED_OPS, status, inode, pathBuffer, <u32>pathLength, text.data, text.length);
      if (file !== null) text.data = 0;
      textFree(text);
    } else {
      if ((flags & O_TRUNC) != 0 && !created && inode.size != 0) {
        if (isReadOnly(inode)) return -EROFS;
        dataTruncate(inode, 0, vfsNow());
      }
      file = nodeFileCreate(REGULAR_OPS, status, inode, pathBuffer, <u32>pathLength, 0, 0);
    }
  } else if (inodeType(inode) == S_IFCHR) {
    file = openDevice(inode, status, pathBuffer, <u32>pathLength);
    if (file === null) return -ENXIO;
  } else {
    return -ENXIO;
  }
  if (file === null) return -ENOMEM;
  return <i64>changetype<usize>(file);
}

/**
 * open of /proc/self/fd/N: a file without a name (the console, a pipe, a
 * socket) is shared: the new descriptor refers to the same open file (its
 * status flags too, where Linux would make a new one for a pipe). 0 when
 * the file has a path: the caller follows the link's text, which reopens it.
 */
function reopenDescriptor(fd: u32, flags: u32, pathOnly: bool): i64 {
  let file = fdGet(<u64>fd);
  if (file === null) return -ENOENT;
  if (fileInode(file) !== null) {
    filePut(file);
    return 0;
  }
  if ((flags & O_DIRECTORY) != 0) {
    filePut(file);
    return -ENOTDIR;
  }
  return <i64>changetype<usize>(file);
}

// ---------------------------------------------------------------------------
// Names: mkdir, mknod-like creation, unlink, rmdir, rename, link, symlink

export function vfsMkdir(dirfd: i32, path: usize, length: u32, mode: u32): i64 {
  vfsLock();
  let result: i64 = resolve(dirfd, path, length, WALK_CREATE);
  if (result == 0) {
    let walk = walkRecord();
    if (walk.inode != 0) result = -EEXIST;
    else {
      let made = createHere(walk, S_IFDIR | (mode & 0o7777 & ~Vfs.umask));
      result = made < 0 ? made : 0;
    }
  }
  vfsUnlock();
  return result;
}

/** unlink (`directory` false) or rmdir. */
export function vfsUnlink(dirfd: i32, path: usize, length: u32, directory: bool): i64 {
  vfsLock();
  let result: i64 = resolve(dirfd, path, length, 0);
  if (result == 0) {
    let walk = walkRecord();
    let inode = changetype<Inode>(walk.inode);
    let parent = changetype<Inode>(walk.parent);
    if (walk.dotted) {
      // rmdir "." is -EINVAL, ".." -ENOTEMPTY; unlink of either is -EISDIR.
      if (!directory) result = -EISDIR;
      else result = walk.length == 2 ? -ENOTEMPTY : (walk.length == 0 ? -EBUSY : -EINVAL);
    } else if (!directory && walk.trailingSlash) {
      result = isDir(inode) ? -EISDIR : -ENOTDIR;
    } else if (inode.mount != 0 || mountedRoot(inode)) {
      result = -EBUSY; // a mount point
    } else if (isReadOnly(parent)) {
      result = -EROFS;
    } else {
      result = dirUnlink(parent, walk.name, walk.length, directory, vfsNow());
    }
  }
  vfsUnlock();
  return result;
}

function mountedRoot(inode: Inode): bool {
  return inode.parent == changetype<usize>(inode);
}

const nameCopy = memory.data(<i32>(NAME_MAX + 1));

export function vfsRename(oldDirfd: i32, oldPath: usize, oldLength: u32, newDirfd: i32, newPath: usize, newLength: u32, flags: u32): i64 {
  vfsLock();
  let result = renameLocked(oldDirfd, oldPath, oldLength, newDirfd, newPath, newLength, flags);
  vfsUnlock();
  return result;
}

function renameLocked(oldDirfd: i32, oldPath: usize, oldLength: u32, newDirfd: i32, newPath: usize, newLength: u32, flags: u32): i64 {
  if ((flags & ~<u32>3) != 0 || flags == 3) return -EINVAL;
  let walked = resolve(oldDirfd, oldPath, oldLength, 0);
  if (walked < 0) return walked;
  let walk = walkRecord();
  if (walk.dotted) return -EBUSY; // ".", ".." or "/" (Linux's LAST_DOT, LAST_ROOT)
  let source = changetype<Inode>(walk.inode);
  let oldParent = inodeGet(changetype<Inode>(walk.parent));
  let oldNameLength = walk.length;
  let oldTrailing = walk.trailingSlash;
  memory.copy(nameCopy, walk.name, oldNameLength);
  let result: i64 = resolve(newDirfd, newPath, newLength, WALK_CREATE);
  if (result == 0) {
    let newParent = changetype<Inode>(walk.parent);
    let target = walk.inode;
    if (walk.dotted) result = -EBUSY;
    else if (newParent.fs != oldParent.fs) result = -EXDEV;
    else if ((oldTrailing || walk.trailingSlash) && !isDir(source)) result = -ENOTDIR;
    else if (source.mount != 0 || mountedRoot(source) || (target != 0 && changetype<Inode>(target).mount != 0)) result = -EBUSY;
    else if (isReadOnly(newParent)) result = -EROFS;
    else if (newParent.nlink == 0) result = -ENOENT;
    else result = dirRename(oldParent, nameCopy, oldNameLength, newParent, walk.name, walk.length, flags, vfsNow());
  }
  inodePut(oldParent);
  return result;
}

export function vfsLink(oldDirfd: i32, oldPath: usize, oldLength: u32, newDirfd: i32, newPath: usize, newLength: u32, follow: bool): i64 {
  vfsLock();
  let result: i64 = resolve(oldDirfd, oldPath, oldLength, follow ? WALK_FOLLOW : 0);
  if (result == 0) {
    let walk = walkRecord();
    let inode = inodeGet(changetype<Inode>(walk.inode));
    result = resolve(newDirfd, newPath, newLength, WALK_CREATE);
    if (result == 0) {
      let parent = changetype<Inode>(walk.parent);
      if (isDir(inode)) result = -EPERM;
      else if (walk.inode != 0) result = -EEXIST;
      else if (walk.trailingSlash) result = -ENOENT;
      else if (parent.fs != inode.fs) result = -EXDEV;
      else if (isReadOnly(parent)) result = -EROFS;
      else if (parent.nlink == 0) result = -ENOENT;
      else result = dirLink(parent, walk.name, walk.length, inode, vfsNow());
    }
    inodePut(inode);
  }
  vfsUnlock();
  return result;
}

export function vfsSymlink(target: usize, targetLength: u32, dirfd: i32, path: usize, length: u32): i64 {
  vfsLock();
  let result: i64 = resolve(dirfd, path, length, WALK_CREATE);
  if (result == 0) {
    let walk = walkRecord();
    if (walk.inode != 0) result = -EEXIST;
    else if (walk.trailingSlash) result = -ENOENT;
    else {
      let parent = changetype<Inode>(walk.parent);
      if (isReadOnly(parent)) result = -EROFS;
      else if (parent.nlink == 0) result = -ENOENT;
      else {
        let inode = newInode(parent, S_IFLNK | 0o777);
        if (inode === null) result = -ENOMEM;
        else {
          inodeGet(inode);
          result = symlinkSetTarget(inode, target, targetLength);
          if (result == 0) result = dirLink(parent, walk.name, walk.length, inode, vfsNow());
          inodePut(inode);
        }
      }
    }
  }
  vfsUnlock();
  return result;
}

/** readlink into kernel buffer `out` (at most `size` bytes): the length or -errno. */
export function vfsReadlink(dirfd: i32, path: usize, length: u32, out: usize, size: u32): i64 {
  vfsLock();
  let result: i64 = resolve(dirfd, path, length, 0);
  if (result == 0) {
    let inode = changetype<Inode>(walkRecord().inode);
    if (!isSymlink(inode)) result = -EINVAL;
    else result = symlinkTarget(inode, out, size);
  }
  vfsUnlock();
  return result;
}

// ---------------------------------------------------------------------------
// Attributes

/** Resolves a path to an inode with a reference taken (positive) or -errno. */
export function vfsLookup(dirfd: i32, path: usize, length: u32, follow: bool): i64 {
  vfsLock();
  let result: i64 = resolve(dirfd, path, length, follow ? WALK_FOLLOW : 0);
  if (result == 0) result = <i64>changetype<usize>(inodeGet(changetype<Inode>(walkRecord().inode)));
  vfsUnlock();
  return result;
}

export function vfsRelease(inode: Inode): void {
  vfsLock();
  inodePut(inode);
  vfsUnlock();
}

export function vfsChmod(inode: Inode, mode: u32): i64 {
  vfsLock();
  let result: i64 = 0;
  if (isReadOnly(inode)) result = -EROFS;
  else {
    inode.mode = (inode.mode & S_IFMT) | (mode & 0o7777);
    inode.ctime = vfsNow();
  }
  vfsUnlock();
  return result;
}

/** chown: -1 (0xffffffff) keeps an id. */
export function vfsChown(inode: Inode, uid: u32, gid: u32): i64 {
  vfsLock();
  let result: i64 = 0;
  if (isReadOnly(inode)) result = -EROFS;
  else {
    if (uid != 0xffffffff) inode.uid = uid;
    if (gid != 0xffffffff) inode.gid = gid;
    // As Linux: a change of owner clears set-user-ID and (with group x) set-group-ID on non-directories.
    if (!isDir(inode) && (uid != 0xffffffff || gid != 0xffffffff)) {
      inode.mode &= ~<u32>0o4000;
      if ((inode.mode & 0o010) != 0) inode.mode &= ~<u32>0o2000;
    }
    inode.ctime = vfsNow();
  }
  vfsUnlock();
  return result;
}

/** Sets access and modification times (nanoseconds; U64.MAX_VALUE keeps one). */
export function vfsSetTimes(inode: Inode, atime: u64, mtime: u64): i64 {
  vfsLock();
  let result: i64 = 0;
  if (isReadOnly(inode)) result = -EROFS;
  else {
    if (atime != U64.MAX_VALUE) inode.atime = atime;
    if (mtime != U64.MAX_VALUE) inode.mtime = mtime;
    inode.ctime = vfsNow();
  }
  vfsUnlock();
  return result;
}

export function vfsTruncate(inode: Inode, length: u64): i64 {
  vfsLock();
  let result: i64;
  if (isDir(inode)) result = -EISDIR;
  else if (!isRegular(inode)) result = -EINVAL;
  else if (isReadOnly(inode) || isGenerated(inode)) result = isGenerated(inode) ? -EACCES : -EROFS;
  else result = dataTruncate(inode, length, vfsNow());
  vfsUnlock();
  return result;
}

/** access(2) as root: F_OK and R/W always, X when some x bit is set (or a directory); W on a read-only fs -EROFS. */
export function vfsAccess(inode: Inode, mode: u32): i64 {
  if ((mode & 2) != 0 && isReadOnly(inode) && (isRegular(inode) || isDir(inode))) return -EROFS;
  if ((mode & 1) != 0 && !isDir(inode) && (inode.mode & 0o111) == 0) return -EACCES;
  return 0;
}

// ---------------------------------------------------------------------------
// The working directory

export function vfsChdirInode(inode: Inode): i64 {
  if (!isDir(inode)) return -ENOTDIR;
  vfsLock();
  setCwd(inode);
  vfsUnlock();
  return 0;
}

/** getcwd into kernel buffer `out`: the length (no NUL) or -errno. */
export function vfsGetcwd(out: usize, size: u32): i64 {
  vfsLock();
  let result = inodePath(changetype<Inode>(Vfs.cwd), out, size);
  vfsUnlock();
  return result;
}

// ---------------------------------------------------------------------------
// Whole files for the kernel (the program, its interpreter)

/**
 * Reads the whole regular file at path [path, path + length) into a new
 * heap block (TAG_FS): out[0] its address, out[1] its size (u64 each).
 * 0 or -errno (-EACCES for a directory or a file with no x bit: this is for
 * running programs).
 */
export function vfsReadWholeFile(path: usize, length: u32, out: usize): i32 {
  let found = vfsLookup(AT_FDCWD, path, length, true);
  if (found < 0) return <i32>found;
  let inode = changetype<Inode>(<usize>found);
  vfsLock();
  let result: i32 = 0;
  if (!isRegular(inode) || isGenerated(inode) || (inode.mode & 0o111) == 0) result = -EACCES;
  else if (inode.size >= <u64>HEAP_MAX_FILE) result = -ENOMEM;
  else {
    let size = <usize>inode.size;
    let buffer = heapAlloc(size > 0 ? size : 1, TAG_FS);
    if (buffer == 0) result = -ENOMEM;
    else {
      dataRead(inode, 0, buffer, inode.size);
      store<u64>(out, <u64>buffer);
      store<u64>(out, inode.size, 8);
    }
  }
  inodePut(inode);
  vfsUnlock();
  return result;
}

const HEAP_MAX_FILE: u64 = 0x40000000;
