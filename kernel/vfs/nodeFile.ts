// Open files on VFS inodes: ramfs regular files (read, write, O_APPEND,
// lseek with SEEK_DATA/SEEK_HOLE, ftruncate), directories (getdents64 from
// a cookie cursor, so a listing resumes where it stopped), generated files
// (text made at open time: /proc, /sys), device nodes (/dev/null, zero,
// full, random, urandom) and O_PATH handles. Each holds a reference to its
// inode (File.node) and an OpenNode (File.extra) with the path it was
// opened by, for /proc/self/fd.
import { getRandomBytes } from "../../drivers/entropy";
import { COOKIE_DOT, COOKIE_DOTDOT, direntName, dirNext } from "../../fs/ramfs/dir";
import { dataReadThrough, dataSeek, dataTruncate, dataWriteThrough, dataZeroPage } from "../../fs/ramfs/data";
import { Inode, inodeGet, inodePut, inodeType, RamFs, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from "../../fs/ramfs/inode";
import { EFAULT, EINVAL, EISDIR, ENOMEM, ENOSPC, ENXIO, EOVERFLOW } from "../errno";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import { PAGE_SIZE } from "../mm/physical";
import { NANOS_PER_SECOND } from "../time/clock";
import {
  File, FileReadWrite, FileReaddir, FileRelease, FileSeek, FileStat, FileTruncate, fileCreate, fileIsType, ioCopyIn,
  ioCopyOut, O_APPEND,
} from "./file";
import { mountCross, parentOf, vfsLock, vfsNow, vfsUnlock } from "./mount";
import { specialListPrepare } from "./special";

const PAGE: u64 = <u64>PAGE_SIZE;
const SEEK_SET: u32 = 0;
const SEEK_CUR: u32 = 1;
const SEEK_END: u32 = 2;
const SEEK_DATA: u32 = 3;
const SEEK_HOLE: u32 = 4;
/** Linux's MAX_LFS_FILESIZE: offsets beyond are -EINVAL/-EOVERFLOW. */
const MAX_OFFSET: i64 = 0x7fffffffffffffff;

@unmanaged
export class OpenNode {
  path: usize;
  pathLength: u32;
  /** Generated files: the text (a heap block) and its length. */
  data: usize;
  dataLength: u32;
}

export function fileInode(file: File): Inode | null {
  if (!fileIsNode(file)) return null;
  return changetype<Inode>(file.node);
}

export function fileOpenNode(file: File): OpenNode {
  return changetype<OpenNode>(file.extra);
}

export function fileIsNode(file: File): bool {
  return fileIsType(file, REGULAR_OPS) || fileIsType(file, DIR_OPS) || fileIsType(file, GENERATED_OPS) ||
    fileIsType(file, PATH_OPS) || fileIsType(file, NULL_OPS) || fileIsType(file, ZERO_OPS) ||
    fileIsType(file, FULL_OPS) || fileIsType(file, RANDOM_OPS);
}

/** Linux's new_encode_dev. */
export function encodeDev(dev: u32): u64 {
  let major = dev >> 8;
  let minor = dev & 0xff;
  return <u64>((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12));
}

/** struct stat (x86-64) of an inode at AS pointer `st` (zeroed by the caller). */
export function inodeStat(inode: Inode, st: usize): void {
  store<u64>(st, <u64>changetype<RamFs>(inode.fs).dev);
  store<u64>(st, inode.ino, 8);
  store<u64>(st, <u64>inode.nlink, 16);
  store<u32>(st, inode.mode, 24);
  store<u32>(st, inode.uid, 28);
  store<u32>(st, inode.gid, 32);
  store<u64>(st, encodeDev(inode.rdev), 40);
  store<u64>(st, inode.size, 48);
  store<u64>(st, PAGE, 56);
  store<u64>(st, <u64>inode.pages * (PAGE / 512), 64);
  store<u64>(st, inode.atime / NANOS_PER_SECOND, 72);
  store<u64>(st, inode.atime % NANOS_PER_SECOND, 80);
  store<u64>(st, inode.mtime / NANOS_PER_SECOND, 88);
  store<u64>(st, inode.mtime % NANOS_PER_SECOND, 96);
  store<u64>(st, inode.ctime / NANOS_PER_SECOND, 104);
  store<u64>(st, inode.ctime % NANOS_PER_SECOND, 112);
}

function nodeStat(file: File, st: usize): i64 {
  vfsLock();
  inodeStat(changetype<Inode>(file.node), st);
  vfsUnlock();
  return 0;
}

function nodeRelease(file: File): void {
  let open = fileOpenNode(file);
  vfsLock();
  inodePut(changetype<Inode>(file.node));
  vfsUnlock();
  if (open.path != 0) heapFree(open.path);
  if (open.data != 0) heapFree(open.data);
  heapFree(changetype<usize>(open));
}

/** lseek for files of `size` bytes (SEEK_DATA/HOLE: the whole file is data). */
function seekWithin(file: File, offset: i64, whence: u32, size: u64): i64 {
  let base: i64;
  switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = <i64>file.offset; break;
    case SEEK_END: base = <i64>size; break;
    case SEEK_DATA:
      if (offset < 0 || <u64>offset >= size) return -ENXIO;
      file.offset = <u64>offset;
      return offset;
    case SEEK_HOLE:
      if (offset < 0 || <u64>offset >= size) return -ENXIO;
      file.offset = size;
      return <i64>size;
    default: return -EINVAL;
  }
  if (offset > 0 && base > MAX_OFFSET - offset) return -EOVERFLOW;
  let result = base + offset;
  if (result < 0) return -EINVAL;
  file.offset = <u64>result;
  return result;
}

// ---------------------------------------------------------------------------
// Regular files

function applicationCopyOut(filePage: usize, buffer: u64, bytes: usize, flags: u32): i32 {
  return ioCopyOut(buffer, filePage, bytes, flags) < 0 ? -EFAULT : 0;
}

function applicationCopyIn(filePage: usize, buffer: u64, bytes: usize, flags: u32): i32 {
  return ioCopyIn(filePage, buffer, bytes, flags) < 0 ? -EFAULT : 0;
}

function regularRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  vfsLock();
  let offset = load<u64>(position);
  let result = dataReadThrough(changetype<Inode>(file.node), offset, buffer, count, applicationCopyOut, flags);
  if (result > 0) store<u64>(position, offset + <u64>result);
  vfsUnlock();
  return result;
}

function regularWrite(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  let inode = changetype<Inode>(file.node);
  vfsLock();
  let offset = (file.status & O_APPEND) != 0 ? inode.size : load<u64>(position);
  let result = dataWriteThrough(inode, offset, buffer, count, applicationCopyIn, flags, vfsNow());
  if (result >= 0) store<u64>(position, offset + <u64>result);
  vfsUnlock();
  return result;
}

function regularSeek(file: File, offset: i64, whence: u32): i64 {
  let inode = changetype<Inode>(file.node);
  vfsLock();
  let result: i64;
  if (whence == SEEK_DATA || whence == SEEK_HOLE) {
    result = offset < 0 ? -ENXIO : dataSeek(inode, <u64>offset, whence == SEEK_HOLE);
    if (result >= 0) file.offset = <u64>result;
  } else {
    result = seekWithin(file, offset, whence, inode.size);
  }
  vfsUnlock();
  return result;
}

function regularTruncate(file: File, length: u64): i64 {
  if (<i64>length < 0) return -EINVAL;
  vfsLock();
  let result = dataTruncate(changetype<Inode>(file.node), length, vfsNow());
  vfsUnlock();
  return result;
}

export const REGULAR_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>regularRead),
  changetype<usize>(<FileReadWrite>regularWrite),
  0, // poll: always ready
  0, // ioctl: -ENOTTY
  changetype<usize>(<FileStat>nodeStat),
  changetype<usize>(<FileSeek>regularSeek),
  0, // readdir: -ENOTDIR
  changetype<usize>(<FileTruncate>regularTruncate),
  changetype<usize>(<FileRelease>nodeRelease),
];

// ---------------------------------------------------------------------------
// Directories

function dirRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  return -EISDIR;
}

const DT_CHR: u8 = 2;
const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;

function direntType(inode: Inode): u8 {
  switch (inodeType(inode)) {
    case S_IFDIR: return DT_DIR;
    case S_IFREG: return DT_REG;
    case S_IFLNK: return DT_LNK;
    case S_IFCHR: return DT_CHR;
  }
  return 0;
}

const direntBuffer = memory.data(512, 8);

/**
 * getdents64 (`legacy` false) or getdents into an application buffer, from
 * the cookie in file.offset: bytes written, 0 at the end, -EINVAL when the
 * buffer cannot hold the next entry.
 */
export function directoryList(file: File, buffer: u64, count: u64, legacy: bool): i64 {
  let dir = changetype<Inode>(file.node);
  vfsLock();
  specialListPrepare(dir, file.offset);
  let written: u64 = 0;
  let result: i64 = 0;
  while (true) {
    let cookie = file.offset;
    let name: usize;
    let length: u32;
    let inode: Inode;
    let nextCookie: u64;
    if (cookie < COOKIE_DOT) {
      name = changetype<usize>(".");
      length = 1;
      inode = dir;
      nextCookie = COOKIE_DOT;
    } else if (cookie < COOKIE_DOTDOT) {
      name = changetype<usize>("..");
      length = 2;
      inode = parentOf(dir);
      nextCookie = COOKIE_DOTDOT;
    } else {
      if (dir.nlink == 0) break; // removed: empty, as Linux
      let entry = dirNext(dir, cookie);
      if (entry === null) break;
      name = direntName(entry);
      length = entry.length;
      inode = mountCross(changetype<Inode>(entry.inode));
      nextCookie = entry.cookie;
    }
    let ascii = nextCookie <= COOKIE_DOTDOT; // the literals are UTF-16
    let record: u64 = legacy ? (18 + <u64>length + 2 + 7) & ~7 : (19 + <u64>length + 1 + 7) & ~7;
    if (written + record > count) {
      if (written == 0) result = -EINVAL;
      break;
    }
    let d = direntBuffer;
    memory.fill(d, 0, <usize>record);
    store<u64>(d, inode.ino);
    store<u64>(d, nextCookie, 8);
    store<u16>(d, <u16>record, 16);
    let nameAt: usize = legacy ? 18 : 19;
    if (!legacy) store<u8>(d, direntType(inode), 18);
    else store<u8>(d + <usize>record - 1, direntType(inode));
    for (let i: u32 = 0; i < length; i++) {
      store<u8>(d + nameAt + i, ascii ? <u8>load<u16>(name + (<usize>i << 1)) : load<u8>(name + i));
    }
    if (ioCopyOut(buffer + written, d, <usize>record, 0) < 0) {
      result = -EFAULT;
      break;
    }
    written += record;
    file.offset = nextCookie;
  }
  vfsUnlock();
  return written > 0 ? <i64>written : result;
}

function dirReaddir(file: File, buffer: u64, count: u64): i64 {
  return directoryList(file, buffer, count, false);
}

function dirSeek(file: File, offset: i64, whence: u32): i64 {
  // Positions are cookies: SEEK_SET to one a listing returned, or SEEK_CUR 0.
  if (whence == SEEK_SET) {
    if (offset < 0) return -EINVAL;
    file.offset = <u64>offset;
    return offset;
  }
  if (whence == SEEK_CUR) {
    if (offset == 0) return <i64>file.offset;
    let result = <i64>file.offset + offset;
    if (result < 0) return -EINVAL;
    file.offset = <u64>result;
    return result;
  }
  return -EINVAL;
}

export const DIR_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>dirRead),
  0, // write: -EINVAL (opening a directory for writing is -EISDIR first)
  0,
  0,
  changetype<usize>(<FileStat>nodeStat),
  changetype<usize>(<FileSeek>dirSeek),
  changetype<usize>(<FileReaddir>dirReaddir),
  0,
  changetype<usize>(<FileRelease>nodeRelease),
];

// ---------------------------------------------------------------------------
// Generated files: the text made at open time.

function generatedRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  let open = fileOpenNode(file);
  let offset = load<u64>(position);
  if (offset >= <u64>open.dataLength) return 0;
  let available = <u64>open.dataLength - offset;
  if (count > available) count = available;
  if (ioCopyOut(buffer, open.data + <usize>offset, <usize>count, flags) < 0) return -EFAULT;
  store<u64>(position, offset + count);
  return <i64>count;
}

function generatedSeek(file: File, offset: i64, whence: u32): i64 {
  return seekWithin(file, offset, whence, <u64>fileOpenNode(file).dataLength);
}

export const GENERATED_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>generatedRead),
  0,
  0,
  0,
  changetype<usize>(<FileStat>nodeStat),
  changetype<usize>(<FileSeek>generatedSeek),
  0,
  0,
  changetype<usize>(<FileRelease>nodeRelease),
];

// ---------------------------------------------------------------------------
// O_PATH: a place in the tree, for fstat, fchdir and *at calls only.

export const PATH_OPS: StaticArray<usize> = [
  0, 0, 0, 0, changetype<usize>(<FileStat>nodeStat), 0, 0, 0, changetype<usize>(<FileRelease>nodeRelease),
];

// ---------------------------------------------------------------------------
// Memory devices (major 1).

function nullRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  return 0;
}

function nullWrite(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  return <i64>count;
}

function zeroRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  let done: u64 = 0;
  while (done < count) {
    let chunk = count - done < PAGE ? count - done : PAGE;
    if (ioCopyOut(buffer + done, dataZeroPage, <usize>chunk, flags) < 0) return done > 0 ? <i64>done : -EFAULT;
    done += chunk;
  }
  return <i64>done;
}

function fullWrite(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  return count == 0 ? 0 : -ENOSPC;
}

function randomRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  // A buffer per call: readers on other CPUs must not see (or zero) these bytes.
  let chunkBuffer = heapAlloc(256, TAG_FS);
  if (chunkBuffer == 0) return -ENOMEM;
  let done: u64 = 0;
  let result: i64 = 0;
  while (done < count) {
    let chunk = count - done < 256 ? count - done : 256;
    getRandomBytes(chunkBuffer, <usize>chunk);
    if (ioCopyOut(buffer + done, chunkBuffer, <usize>chunk, flags) < 0) {
      result = -EFAULT;
      break;
    }
    done += chunk;
  }
  memory.fill(chunkBuffer, 0, 256);
  heapFree(chunkBuffer);
  return done > 0 ? <i64>done : result;
}

/** The memory devices' lseek: always succeeds with 0 (null, zero) as Linux's. */
function deviceSeek(file: File, offset: i64, whence: u32): i64 {
  file.offset = 0;
  return 0;
}

export const NULL_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>nullRead), changetype<usize>(<FileReadWrite>nullWrite), 0, 0,
  changetype<usize>(<FileStat>nodeStat), changetype<usize>(<FileSeek>deviceSeek), 0, 0,
  changetype<usize>(<FileRelease>nodeRelease),
];
export const ZERO_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>zeroRead), changetype<usize>(<FileReadWrite>nullWrite), 0, 0,
  changetype<usize>(<FileStat>nodeStat), changetype<usize>(<FileSeek>deviceSeek), 0, 0,
  changetype<usize>(<FileRelease>nodeRelease),
];
export const FULL_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>zeroRead), changetype<usize>(<FileReadWrite>fullWrite), 0, 0,
  changetype<usize>(<FileStat>nodeStat), changetype<usize>(<FileSeek>deviceSeek), 0, 0,
  changetype<usize>(<FileRelease>nodeRelease),
];
export const RANDOM_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>randomRead), changetype<usize>(<FileReadWrite>nullWrite), 0, 0,
  changetype<usize>(<FileStat>nodeStat), changetype<usize>(<FileSeek>deviceSeek), 0, 0,
  changetype<usize>(<FileRelease>nodeRelease),
];

/**
 * A File on `inode` with `ops`, holding a reference to the inode and a copy
 * of `path`; `data` (a heap block, taken over) for generated files. Called
 * with the VFS lock held. Null when out of memory (nothing is taken then).
 */
export function nodeFileCreate(ops: StaticArray<usize>, status: u32, inode: Inode, path: usize, pathLength: u32, data: usize, dataLength: u32): File | null {
  let open = heapAlloc(offsetof<OpenNode>(), TAG_FS);
  if (open == 0) return null;
  let copy = heapAlloc(<usize>pathLength + 1, TAG_FS);
  if (copy == 0) {
    heapFree(open);
    return null;
  }
  memory.copy(copy, path, pathLength);
  let record = changetype<OpenNode>(open);
  record.path = copy;
  record.pathLength = pathLength;
  record.data = data;
  record.dataLength = dataLength;
  let file = fileCreate(ops, status, changetype<usize>(inode), open);
  if (file === null) {
    heapFree(copy);
    heapFree(open);
    return null;
  }
  inodeGet(inode);
  return file;
}
