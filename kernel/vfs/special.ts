// The special entries of the VFS: what is generated rather than stored.
// Inodes of /proc and /sys (and a few links) carry a kind in Inode.special:
// files whose text is made at open time, links whose target is computed
// when read (/proc/self/exe, /proc/self/cwd, /proc/self/fd/N), and the
// /proc/self/fd directory, rebuilt from the descriptor table before each
// lookup or listing.
import { dirClear, dirLink } from "../../fs/ramfs/dir";
import { Inode, inodeCreate, inodeGet, inodePut, RamFs, S_IFLNK } from "../../fs/ramfs/inode";
import { ENOENT, ENOMEM } from "../errno";
import { fdGet, fdOpenCount, FD_NR_OPEN } from "./fdtable";
import { File, filePut, fileStat, S_IFIFO, S_IFMT, S_IFSOCK, STAT_BYTES } from "./file";
import { CONSOLE_OPS } from "./consoleFile";
import { Vfs, vfsNow } from "./mount";
import { fileInode, fileIsNode, fileOpenNode } from "./nodeFile";
import { procGenerate } from "./procfs";
import { Text, textBytes, textChar, textCreate, textDec, textFree, textStr } from "./text";
import { inodePath } from "./names";
import { SPECIAL_NONE, GEN_CPUINFO, GEN_LAST, LINK_EXE, LINK_CWD, LINK_FD, DIR_FD } from "./kinds";
import { App } from "../app";

export function isGenerated(inode: Inode): bool {
  return inode.special >= GEN_CPUINFO && inode.special <= GEN_LAST;
}

/** The generated text of a special file, or null when out of memory. */
export function specialGenerate(inode: Inode): Text | null {
  let text = textCreate();
  if (text === null) return null;
  procGenerate(text, inode.special, inode.specialArg);
  if (text.failed != 0) {
    textFree(text);
    return null;
  }
  return text;
}

/** What /proc/self/fd/N reads as: a path, "pipe:[ino]", "socket:[ino]" ... */
function describeFile(file: File, text: Text): void {
  if (fileIsNode(file)) {
    let open = fileOpenNode(file);
    textBytes(text, open.path, open.pathLength);
    let inode = fileInode(file);
    if (inode !== null && inode.nlink == 0) textStr(text, " (deleted)");
    return;
  }
  if (file.ops == changetype<usize>(CONSOLE_OPS)) {
    textStr(text, "/dev/console");
    return;
  }
  let st = memory.data(<i32>STAT_BYTES, 8);
  let known = fileStat(file, st) == 0;
  let type = load<u32>(st, 24) & S_IFMT;
  if (known && type == S_IFIFO) textStr(text, "pipe:[");
  else if (known && type == S_IFSOCK) textStr(text, "socket:[");
  else {
    textStr(text, "anon_inode:[file]");
    return;
  }
  textDec(text, load<u64>(st, 8));
  textChar(text, 0x5d);
}

/** The target of a symbolic link into `out` (at most `max` bytes): its length or -errno. */
export function symlinkTarget(inode: Inode, out: usize, max: u32): i32 {
  if (inode.special == SPECIAL_NONE) {
    let length = <u32>inode.size;
    if (length > max) length = max;
    memory.copy(out, inode.data, length);
    return <i32>length;
  }
  let text = textCreate();
  if (text === null) return -ENOMEM;
  let result: i32 = 0;
  if (inode.special == LINK_EXE) {
    textBytes(text, App.exePath, App.exePathLength);
  } else if (inode.special == LINK_CWD) {
    let length = inodePath(changetype<Inode>(Vfs.cwd), out, max);
    textFree(text);
    return length;
  } else if (inode.special == LINK_FD) {
    let file = fdGet(<u64>inode.specialArg);
    if (file === null) result = -ENOENT;
    else {
      describeFile(file, text);
      filePut(file);
    }
  }
  if (result == 0) {
    if (text.failed != 0) result = -ENOMEM;
    else {
      let length = text.length < max ? text.length : max;
      memory.copy(out, text.data, length);
      result = <i32>length;
    }
  }
  textFree(text);
  return result;
}

/** Rebuilds /proc/self/fd: one link per open descriptor. */
function rebuildFdDirectory(dir: Inode): void {
  let now = vfsNow();
  dirClear(dir, now);
  let fs = changetype<RamFs>(dir.fs);
  let digits = memory.data(16);
  let remaining = fdOpenCount();
  for (let fd: u32 = 0; remaining > 0 && fd < FD_NR_OPEN; fd++) {
    let file = fdGet(fd);
    if (file === null) continue;
    remaining--;
    filePut(file);
    let link = inodeCreate(fs, S_IFLNK | 0o700, now);
    if (link === null) return;
    link.special = LINK_FD;
    link.specialArg = fd;
    link.size = 64;
    let n: u32 = 0;
    let value = fd;
    do {
      n++;
      value /= 10;
    } while (value != 0);
    value = fd;
    for (let i = n; i > 0; i--) {
      store<u8>(digits + i - 1, <u8>(0x30 + value % 10));
      value /= 10;
    }
    inodeGet(link);
    dirLink(dir, digits, n, link, now);
    inodePut(link);
  }
}

/** Before a name is looked up in `dir`. */
export function specialLookupPrepare(dir: Inode): void {
  if (dir.special == DIR_FD) rebuildFdDirectory(dir);
}

/** Before `dir` is listed from `cursor`: a listing from the start sees the
 * descriptors open now; one resumed keeps its cookies. */
export function specialListPrepare(dir: Inode, cursor: u64): void {
  if (dir.special == DIR_FD && cursor == 0) rebuildFdDirectory(dir);
}
