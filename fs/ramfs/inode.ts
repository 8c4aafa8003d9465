// ramfs inodes: one record per file, directory, symbolic link or device
// node, with Linux's attributes (mode, owner, link count, times in
// nanoseconds since 1970). An inode lives while a directory entry names it
// (nlink) or something uses it (refs: open files, the working directory, a
// path walk in progress); the last of both to go frees it and its data.
// Callers pass the time (`now`) so that this code needs no clock and runs
// the same in Node tests.
import { heapAlloc, heapFree, TAG_FS } from "../../kernel/mm/heap";
import { dataRelease } from "./data";
import { dirRelease } from "./dir";

export const S_IFMT: u32 = 0xf000;
export const S_IFLNK: u32 = 0xa000;
export const S_IFREG: u32 = 0x8000;
export const S_IFDIR: u32 = 0x4000;
export const S_IFCHR: u32 = 0x2000;

/** One mounted ramfs instance (st_dev and inode numbers are per instance). */
@unmanaged
export class RamFs {
  dev: u32;
  /** MS_RDONLY: changes are -EROFS (checked by the VFS). */
  readOnly: u32;
  nextIno: u64;
  root: usize;
  inodes: u32;
  /** Data pages held by regular files. */
  pages: u64;
}

@unmanaged
export class Inode {
  fs: usize;
  ino: u64;
  mode: u32;
  uid: u32;
  gid: u32;
  nlink: u32;
  refs: u32;
  /** Device number (major << 8 | minor) of a device node. */
  rdev: u32;
  size: u64;
  atime: u64;
  mtime: u64;
  ctime: u64;
  /** Regular files: the page table (usize per page, 0 = hole); symlinks: the target bytes. */
  data: usize;
  /** Slots of the page table. */
  slots: u32;
  /** Data pages held. */
  pages: u32;
  // Directories: entries in creation order (the readdir cursor order).
  first: usize;
  last: usize;
  /** The directory holding this one (itself for a root). */
  parent: usize;
  /** Cookie of the next entry (1 and 2 are "." and ".."). */
  nextCookie: u64;
  entries: u32;
  /** Directories with many entries: a hash table of entry chains (dir.ts), 0 until needed. */
  table: usize;
  tableSize: u32;
  /** The mount covering this directory (kernel/vfs/mount.ts), 0 if none. */
  mount: usize;
  /** What generates the contents (the VFS's special files), 0 for plain files. */
  special: u32;
  /** A number for the generator (a descriptor number ...). */
  specialArg: u32;
}

export function ramfsCreate(dev: u32, now: u64): RamFs | null {
  let address = heapAlloc(offsetof<RamFs>(), TAG_FS);
  if (address == 0) return null;
  let fs = changetype<RamFs>(address);
  fs.dev = dev;
  fs.readOnly = 0;
  fs.nextIno = 1;
  fs.inodes = 0;
  fs.pages = 0;
  let root = inodeCreate(fs, S_IFDIR | 0o755, now);
  if (root === null) {
    heapFree(address);
    return null;
  }
  root.parent = changetype<usize>(root);
  root.nlink = 2;
  root.refs = 1; // the mount's
  fs.root = changetype<usize>(root);
  return fs;
}

export function fsOf(inode: Inode): RamFs {
  return changetype<RamFs>(inode.fs);
}

/** A new inode with no links and no references (link it or take one), or null. */
export function inodeCreate(fs: RamFs, mode: u32, now: u64): Inode | null {
  let address = heapAlloc(offsetof<Inode>(), TAG_FS);
  if (address == 0) return null;
  memory.fill(address, 0, offsetof<Inode>());
  let inode = changetype<Inode>(address);
  inode.fs = changetype<usize>(fs);
  inode.ino = fs.nextIno++;
  inode.mode = mode;
  inode.atime = now;
  inode.mtime = now;
  inode.ctime = now;
  inode.nextCookie = 3;
  fs.inodes++;
  return inode;
}

export function inodeType(inode: Inode): u32 {
  return inode.mode & S_IFMT;
}

export function isDir(inode: Inode): bool {
  return (inode.mode & S_IFMT) == S_IFDIR;
}

export function isRegular(inode: Inode): bool {
  return (inode.mode & S_IFMT) == S_IFREG;
}

export function isSymlink(inode: Inode): bool {
  return (inode.mode & S_IFMT) == S_IFLNK;
}

export function inodeGet(inode: Inode): Inode {
  inode.refs++;
  return inode;
}

/** Drops a reference; frees the inode when nothing names or uses it. */
export function inodePut(inode: Inode): void {
  inode.refs--;
  inodeFreeIfUnused(inode);
}

export function inodeFreeIfUnused(inode: Inode): void {
  if (inode.refs != 0 || inode.nlink != 0) return;
  if (isDir(inode)) dirRelease(inode);
  else if (isSymlink(inode)) {
    if (inode.data != 0) heapFree(inode.data);
  } else dataRelease(inode);
  fsOf(inode).inodes--;
  heapFree(changetype<usize>(inode));
}

/** Sets a symlink's target (copied): 0 or -ENOMEM (as a negative number). */
export function symlinkSetTarget(inode: Inode, target: usize, length: u32): i32 {
  let copy = heapAlloc(length > 0 ? <usize>length : 1, TAG_FS);
  if (copy == 0) return -12;
  memory.copy(copy, target, length);
  if (inode.data != 0) heapFree(inode.data);
  inode.data = copy;
  inode.size = length;
  return 0;
}
