// Calls that make, remove and rename names: mkdir, unlink, rmdir, rename
// (with renameat2's RENAME_NOREPLACE and RENAME_EXCHANGE), link, symlink,
// readlink and their *at forms. A second path is copied into a heap block
// (the scratch path holds the first).
import { heapAlloc, heapFree, TAG_LIBC } from "../kernel/mm/heap";
import { AT_FDCWD, vfsLink, vfsMkdir, vfsReadlink, vfsRename, vfsSymlink, vfsUnlink } from "../kernel/vfs/vfs";
import { accessCopyIn, accessStringLength } from "../arch/x86_64/access";
import { AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_FOLLOW } from "./files";
import { copyOut, copyPath, PATH_MAX, scratchPath, scratchWords } from "./uaccess";
import { EFAULT, EINVAL, ENAMETOOLONG, ENOENT, ENOMEM } from "./errno";

/** Copies a path into a new heap block (PATH_MAX bytes): its address in out[0]
 * and the length returned, or -errno. The caller frees the block when >= 0. */
function copySecondPath(path: u64, out: usize): i64 {
  let length = accessStringLength(path, PATH_MAX);
  if (length < 0) return -EFAULT;
  if (length >= <i64>PATH_MAX) return -ENAMETOOLONG;
  if (length == 0) return -ENOENT;
  let buffer = heapAlloc(<usize>PATH_MAX, TAG_LIBC);
  if (buffer == 0) return -ENOMEM;
  if (accessCopyIn(buffer, path, <u32>length) < 0) {
    heapFree(buffer);
    return -EFAULT;
  }
  store<usize>(out, buffer);
  return length;
}

/** Where copySecondPath leaves its block's address: the calling thread's scratch words. */
function secondSlot(): usize {
  return scratchWords() + 32;
}

export function sysMkdir(path: u64, mode: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return sysMkdirat(<u64>AT_FDCWD, path, mode, 0, 0, 0);
}

export function sysMkdirat(dirfd: u64, path: u64, mode: u64, a3: u64, a4: u64, a5: u64): i64 {
  let length = copyPath(path, false);
  if (length < 0) return length;
  return vfsMkdir(<i32>dirfd, scratchPath(), <u32>length, <u32>mode);
}

export function sysUnlink(path: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return sysUnlinkat(<u64>AT_FDCWD, path, 0, 0, 0, 0);
}

export function sysRmdir(path: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return sysUnlinkat(<u64>AT_FDCWD, path, AT_REMOVEDIR, 0, 0, 0);
}

export function sysUnlinkat(dirfd: u64, path: u64, flags: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~AT_REMOVEDIR) != 0) return -EINVAL;
  let length = copyPath(path, false);
  if (length < 0) return length;
  return vfsUnlink(<i32>dirfd, scratchPath(), <u32>length, (flags & AT_REMOVEDIR) != 0);
}

function renameAt(oldDirfd: u64, oldPath: u64, newDirfd: u64, newPath: u64, flags: u64): i64 {
  if ((flags >> 32) != 0) return -EINVAL;
  let length = copyPath(oldPath, false);
  if (length < 0) return length;
  let newLength = copySecondPath(newPath, secondSlot());
  if (newLength < 0) return newLength;
  let buffer = load<usize>(secondSlot());
  let result = vfsRename(<i32>oldDirfd, scratchPath(), <u32>length, <i32>newDirfd, buffer, <u32>newLength, <u32>flags);
  heapFree(buffer);
  return result;
}

export function sysRename(oldPath: u64, newPath: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return renameAt(<u64>AT_FDCWD, oldPath, <u64>AT_FDCWD, newPath, 0);
}

export function sysRenameat(oldDirfd: u64, oldPath: u64, newDirfd: u64, newPath: u64, a4: u64, a5: u64): i64 {
  return renameAt(oldDirfd, oldPath, newDirfd, newPath, 0);
}

export function sysRenameat2(oldDirfd: u64, oldPath: u64, newDirfd: u64, newPath: u64, flags: u64, a5: u64): i64 {
  return renameAt(oldDirfd, oldPath, newDirfd, newPath, flags);
}

function linkAt(oldDirfd: u64, oldPath: u64, newDirfd: u64, newPath: u64, flags: u64): i64 {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
  let length = copyPath(oldPath, false);
  if (length < 0) return length;
  let newLength = copySecondPath(newPath, secondSlot());
  if (newLength < 0) return newLength;
  let buffer = load<usize>(secondSlot());
  let result = vfsLink(<i32>oldDirfd, scratchPath(), <u32>length, <i32>newDirfd, buffer, <u32>newLength, (flags & AT_SYMLINK_FOLLOW) != 0);
  heapFree(buffer);
  return result;
}

export function sysLink(oldPath: u64, newPath: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return linkAt(<u64>AT_FDCWD, oldPath, <u64>AT_FDCWD, newPath, 0);
}

export function sysLinkat(oldDirfd: u64, oldPath: u64, newDirfd: u64, newPath: u64, flags: u64, a5: u64): i64 {
  return linkAt(oldDirfd, oldPath, newDirfd, newPath, flags);
}

function symlinkAt(target: u64, dirfd: u64, path: u64): i64 {
  let length = copyPath(target, false);
  if (length < 0) return length;
  let newLength = copySecondPath(path, secondSlot());
  if (newLength < 0) return newLength;
  let buffer = load<usize>(secondSlot());
  let result = vfsSymlink(scratchPath(), <u32>length, <i32>dirfd, buffer, <u32>newLength);
  heapFree(buffer);
  return result;
}

export function sysSymlink(target: u64, path: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return symlinkAt(target, <u64>AT_FDCWD, path);
}

export function sysSymlinkat(target: u64, dirfd: u64, path: u64, a3: u64, a4: u64, a5: u64): i64 {
  return symlinkAt(target, dirfd, path);
}

function readlinkAt(dirfd: u64, path: u64, buffer: u64, size: u64): i64 {
  let length = copyPath(path, false);
  if (length < 0) return length;
  if (<i32>size <= 0) return -EINVAL;
  let out = heapAlloc(<usize>PATH_MAX, TAG_LIBC);
  if (out == 0) return -ENOMEM;
  let max = <u64>PATH_MAX < size ? PATH_MAX : <u32>size;
  let result = vfsReadlink(<i32>dirfd, scratchPath(), <u32>length, out, max);
  if (result > 0 && copyOut(buffer, out, <usize>result) < 0) result = -EFAULT;
  heapFree(out);
  return result;
}

export function sysReadlink(path: u64, buffer: u64, size: u64, a3: u64, a4: u64, a5: u64): i64 {
  return readlinkAt(<u64>AT_FDCWD, path, buffer, size);
}

export function sysReadlinkat(dirfd: u64, path: u64, buffer: u64, size: u64, a4: u64, a5: u64): i64 {
  return readlinkAt(dirfd, path, buffer, size);
}
