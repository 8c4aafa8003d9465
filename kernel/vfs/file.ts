// Open files ("open file descriptions"): what a descriptor refers to. A File
// has a reference count (each descriptor, each call in progress, each user
// such as sendfile holds one), the open(2) status flags, an offset for
// seekable files, its type's operations and its PollHead. Types (the
// console, ramfs files and directories, pipes, eventfd, epoll, timerfd,
// sockets) each supply a FileOps table; a missing operation (0) gets the
// Linux answer for files that cannot do it.
//
// Buffers given to read and write are application addresses unless `flags`
// has IO_KERNEL, then they are AS pointers (sendfile, the kernel's own use):
// ioCopyIn / ioCopyOut handle both, and a bad application address is -EFAULT.
import { accessCopyIn, accessCopyOut } from "../../arch/x86_64/access";
import { atomicAdd32 } from "../../arch/x86_64/atomic";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import { EBADF, EFAULT, EINVAL, ENOTDIR, ENOTTY, ESPIPE } from "../errno";
import { POLL_FREE, PollHead, pollHeadInit, pollNotify, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "./poll";

// open(2) status flags (asm-generic/fcntl.h).
export const O_ACCMODE: u32 = 3;
export const O_RDONLY: u32 = 0;
export const O_WRONLY: u32 = 1;
export const O_RDWR: u32 = 2;
export const O_CREAT: u32 = 0x40;
export const O_EXCL: u32 = 0x80;
export const O_NOCTTY: u32 = 0x100;
export const O_TRUNC: u32 = 0x200;
export const O_APPEND: u32 = 0x400;
export const O_NONBLOCK: u32 = 0x800;
export const O_DSYNC: u32 = 0x1000;
export const O_ASYNC: u32 = 0x2000;
export const O_DIRECT: u32 = 0x4000;
export const O_LARGEFILE: u32 = 0x8000;
export const O_DIRECTORY: u32 = 0x10000;
export const O_NOFOLLOW: u32 = 0x20000;
export const O_NOATIME: u32 = 0x40000;
export const O_CLOEXEC: u32 = 0x80000;
export const O_PATH: u32 = 0x200000;
export const O_TMPFILE: u32 = 0x410000;

/** read/write flag: the buffer is an AS pointer, not an application address. */
export const IO_KERNEL: u32 = 1;

/** Bytes of struct stat on x86-64. */
export const STAT_BYTES: usize = 144;

// st_mode file types.
export const S_IFMT: u32 = 0xf000;
export const S_IFSOCK: u32 = 0xc000;
export const S_IFLNK: u32 = 0xa000;
export const S_IFREG: u32 = 0x8000;
export const S_IFBLK: u32 = 0x6000;
export const S_IFDIR: u32 = 0x4000;
export const S_IFCHR: u32 = 0x2000;
export const S_IFIFO: u32 = 0x1000;

/** read and write: (file, buffer, count, position, flags) -> bytes or -errno.
 * `position` is an AS pointer to the u64 offset to use and advance (the
 * file's own for read/write, a local one for pread/pwrite), 0 for streams. */
export type FileReadWrite = (file: File, buffer: u64, count: u64, position: usize, flags: u32) => i64;
/** The poll(2) events the file is ready for now. */
export type FilePoll = (file: File) => u32;
export type FileIoctl = (file: File, request: u32, argument: u64) => i64;
/** Fills a struct stat (STAT_BYTES, zeroed by the caller) at AS pointer `out`. */
export type FileStat = (file: File, out: usize) => i64;
/** lseek: the new offset or -errno. */
export type FileSeek = (file: File, offset: i64, whence: u32) => i64;
/** getdents64 into application buffer: bytes written, 0 at the end, or -errno. */
export type FileReaddir = (file: File, buffer: u64, count: u64) => i64;
/** ftruncate. */
export type FileTruncate = (file: File, length: u64) => i64;
/** Frees the type's state when the last reference goes. */
export type FileRelease = (file: File) => void;

// A FileOps table is a StaticArray<usize> of these slots (0: not supported),
// so that it is static data:
//   const PIPE_OPS: StaticArray<usize> = [changetype<usize>(<FileReadWrite>pipeRead), ...];
export const OP_READ: i32 = 0;
export const OP_WRITE: i32 = 1;
export const OP_POLL: i32 = 2;
export const OP_IOCTL: i32 = 3;
export const OP_STAT: i32 = 4;
export const OP_SEEK: i32 = 5;
export const OP_READDIR: i32 = 6;
export const OP_TRUNCATE: i32 = 7;
export const OP_RELEASE: i32 = 8;
export const OP_COUNT: i32 = 9;

@unmanaged
export class File {
  refs: u32;
  /** open(2) status flags: access mode, O_APPEND, O_NONBLOCK, ... */
  status: u32;
  /** The type's FileOps (a StaticArray<usize> of OP_COUNT slots). */
  ops: usize;
  /** The offset read, write and lseek use on seekable files. */
  offset: u64;
  /** The type's object: an inode, a pipe, a socket, an epoll instance ... */
  node: usize;
  /** More type state (a pipe end, a directory cursor ...). */
  extra: usize;
  /** The PollHead (one field). */
  pollFirst: usize;
}

/** A new File with one reference, or null when out of memory. */
export function fileCreate(ops: StaticArray<usize>, status: u32, node: usize, extra: usize): File | null {
  if (ops.length != OP_COUNT) abort("fileCreate: FileOps table of the wrong size");
  let address = heapAlloc(offsetof<File>(), TAG_FS);
  if (address == 0) return null;
  let file = changetype<File>(address);
  file.refs = 1;
  file.status = status & ~O_CLOEXEC;
  file.ops = changetype<usize>(ops);
  file.offset = 0;
  file.node = node;
  file.extra = extra;
  pollHeadInit(filePollHead(file));
  return file;
}

export function filePollHead(file: File): PollHead {
  return changetype<PollHead>(changetype<usize>(file) + offsetof<File>("pollFirst"));
}

/** Tells poll and epoll waiters that `events` may have changed on `file`. */
export function fileNotify(file: File, events: u32): void {
  pollNotify(filePollHead(file), events);
}

export function fileGet(file: File): File {
  atomicAdd32(changetype<usize>(file) + offsetof<File>("refs"), 1);
  return file;
}

/** Drops a reference; the last one detaches pollers, releases the type's state and frees the File. */
export function filePut(file: File): void {
  let old = atomicAdd32(changetype<usize>(file) + offsetof<File>("refs"), <u32>-1);
  if (old != 1) return;
  pollNotify(filePollHead(file), POLL_FREE);
  let release = op(file, OP_RELEASE);
  if (release != 0) changetype<FileRelease>(release)(file);
  heapFree(changetype<usize>(file));
}

function op(file: File, slot: i32): usize {
  return load<usize>(file.ops + (<usize>slot << alignof<usize>()));
}

/** Does the file's type implement this operation? */
export function fileHas(file: File, slot: i32): bool {
  return op(file, slot) != 0;
}

export function fileIsType(file: File, ops: StaticArray<usize>): bool {
  return file.ops == changetype<usize>(ops);
}

export function fileCanRead(file: File): bool {
  return (file.status & O_ACCMODE) != O_WRONLY && (file.status & O_PATH) == 0;
}

export function fileCanWrite(file: File): bool {
  let mode = file.status & O_ACCMODE;
  return (mode == O_WRONLY || mode == O_RDWR) && (file.status & O_PATH) == 0;
}

export function fileIsNonblocking(file: File): bool {
  return (file.status & O_NONBLOCK) != 0;
}

export function fileRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  if (!fileCanRead(file)) return -EBADF;
  let f = op(file, OP_READ);
  if (f == 0) return -EINVAL;
  return changetype<FileReadWrite>(f)(file, buffer, count, position, flags);
}

export function fileWrite(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  if (!fileCanWrite(file)) return -EBADF;
  let f = op(file, OP_WRITE);
  if (f == 0) return -EINVAL;
  return changetype<FileReadWrite>(f)(file, buffer, count, position, flags);
}

/** Files without a poll operation are always ready, as on Linux. */
export function filePoll(file: File): u32 {
  let f = op(file, OP_POLL);
  if (f == 0) return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
  return changetype<FilePoll>(f)(file);
}

export function fileIoctl(file: File, request: u32, argument: u64): i64 {
  let f = op(file, OP_IOCTL);
  if (f == 0) return -ENOTTY;
  return changetype<FileIoctl>(f)(file, request, argument);
}

/** struct stat into AS buffer `out` (STAT_BYTES). */
export function fileStat(file: File, out: usize): i64 {
  memory.fill(out, 0, STAT_BYTES);
  let f = op(file, OP_STAT);
  if (f == 0) return -EINVAL;
  return changetype<FileStat>(f)(file, out);
}

export function fileSeek(file: File, offset: i64, whence: u32): i64 {
  let f = op(file, OP_SEEK);
  if (f == 0) return -ESPIPE;
  return changetype<FileSeek>(f)(file, offset, whence);
}

export function fileReaddir(file: File, buffer: u64, count: u64): i64 {
  let f = op(file, OP_READDIR);
  if (f == 0) return -ENOTDIR;
  return changetype<FileReaddir>(f)(file, buffer, count);
}

export function fileTruncate(file: File, length: u64): i64 {
  if (!fileCanWrite(file)) return -EINVAL;
  let f = op(file, OP_TRUNCATE);
  if (f == 0) return -EINVAL;
  return changetype<FileTruncate>(f)(file, length);
}

/** Copies `count` bytes into a read's buffer: 0 or -EFAULT. */
export function ioCopyOut(buffer: u64, source: usize, count: usize, flags: u32): i64 {
  if ((flags & IO_KERNEL) != 0) {
    memory.copy(<usize>buffer, source, count);
    return 0;
  }
  return accessCopyOut(buffer, source, <u32>count) < 0 ? -EFAULT : 0;
}

/** Copies `count` bytes from a write's buffer: 0 or -EFAULT. */
export function ioCopyIn(destination: usize, buffer: u64, count: usize, flags: u32): i64 {
  if ((flags & IO_KERNEL) != 0) {
    memory.copy(destination, <usize>buffer, count);
    return 0;
  }
  return accessCopyIn(destination, buffer, <u32>count) < 0 ? -EFAULT : 0;
}
