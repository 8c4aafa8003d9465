// Directories: getdents64 and getdents (listings resume from a cookie the
// VFS keeps in the open file), the working directory (getcwd, chdir, fchdir).
import { Inode } from "../fs/ramfs/inode";
import { heapAlloc, heapFree, TAG_LIBC } from "../kernel/mm/heap";
import { fdGet } from "../kernel/vfs/fdtable";
import { filePut, fileReaddir, fileIsType, O_PATH } from "../kernel/vfs/file";
import { DIR_OPS, directoryList } from "../kernel/vfs/nodeFile";
import { AT_FDCWD, vfsChdirInode, vfsGetcwd, vfsInodeOfFd, vfsLookup, vfsRelease } from "../kernel/vfs/vfs";
import { copyOut, copyPath, PATH_MAX, scratchPath } from "./uaccess";
import { EBADF, EFAULT, ENOMEM, ENOTDIR, ERANGE } from "./errno";

function listing(fd: u64, buffer: u64, count: u64, legacy: bool): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result: i64;
  if ((file.status & O_PATH) != 0) result = -EBADF;
  else if (legacy) result = fileIsType(file, DIR_OPS) ? directoryList(file, buffer, count < 0x7fffffff ? count : 0x7fffffff, true) : -ENOTDIR;
  else result = fileReaddir(file, buffer, count < 0x7fffffff ? count : 0x7fffffff);
  filePut(file);
  return result;
}

export function sysGetdents64(fd: u64, buffer: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  return listing(fd, buffer, <u64><u32>count, false);
}

export function sysGetdents(fd: u64, buffer: u64, count: u64, a3: u64, a4: u64, a5: u64): i64 {
  return listing(fd, buffer, <u64><u32>count, true);
}

/** getcwd: the length with the NUL, as the system call returns; -ERANGE when it does not fit. */
export function sysGetcwd(buffer: u64, size: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let out = heapAlloc(<usize>PATH_MAX + 1, TAG_LIBC);
  if (out == 0) return -ENOMEM;
  let result = vfsGetcwd(out, PATH_MAX);
  if (result >= 0) {
    store<u8>(out + <usize>result, 0);
    let total = result + 1;
    if (<u64>total > size) result = -ERANGE;
    else result = copyOut(buffer, out, <usize>total) < 0 ? -EFAULT : total;
  }
  heapFree(out);
  return result;
}

function changeTo(found: i64): i64 {
  if (found < 0) return found;
  let inode = changetype<Inode>(<usize>found);
  let result = vfsChdirInode(inode);
  vfsRelease(inode);
  return result;
}

export function sysChdir(path: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let length = copyPath(path, false);
  if (length < 0) return length;
  return changeTo(vfsLookup(AT_FDCWD, scratchPath(), <u32>length, true));
}

export function sysFchdir(fd: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  filePut(file);
  let found = vfsInodeOfFd(<i32>fd);
  return changeTo(found < 0 ? -ENOTDIR : found);
}
