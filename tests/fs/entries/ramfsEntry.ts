// Test entry: ramfs (fs/ramfs) with the page allocator and heap under it,
// compiled for Node. Objects cross the boundary as addresses.
export * from "../../../kernel/mm/physical";
export * from "../../../kernel/mm/heap";
import { Inode, inodeCreate, inodeGet, inodePut, RamFs, ramfsCreate, S_IFDIR, S_IFREG } from "../../../fs/ramfs/inode";
import { dataRead, dataSeek, dataTruncate, dataWrite } from "../../../fs/ramfs/data";
import { Dirent, direntName, dirLink, dirLookup, dirNext, dirRename, dirUnlink } from "../../../fs/ramfs/dir";

export function fsCreate(dev: u32, now: u64): usize {
  let fs = ramfsCreate(dev, now);
  return fs === null ? 0 : changetype<usize>(fs);
}
export function fsRoot(fs: usize): usize { return changetype<RamFs>(fs).root; }
export function fsInodes(fs: usize): u32 { return changetype<RamFs>(fs).inodes; }
export function fsPages(fs: usize): u64 { return changetype<RamFs>(fs).pages; }

/** Creates and links a file (directory when `directory`): the inode or -errno. */
export function create(fs: usize, dir: usize, name: usize, length: u32, directory: bool, now: u64): i64 {
  let inode = inodeCreate(changetype<RamFs>(fs), directory ? S_IFDIR | 0o755 : S_IFREG | 0o644, now);
  if (inode === null) return -12;
  inodeGet(inode);
  let result = dirLink(changetype<Inode>(dir), name, length, inode, now);
  inodePut(inode);
  return result < 0 ? <i64>result : <i64>changetype<usize>(inode);
}
export function link(dir: usize, name: usize, length: u32, inode: usize, now: u64): i32 {
  return dirLink(changetype<Inode>(dir), name, length, changetype<Inode>(inode), now);
}
export function lookup(dir: usize, name: usize, length: u32): usize {
  let inode = dirLookup(changetype<Inode>(dir), name, length);
  return inode === null ? 0 : changetype<usize>(inode);
}
export function unlink(dir: usize, name: usize, length: u32, directory: bool, now: u64): i32 {
  return dirUnlink(changetype<Inode>(dir), name, length, directory, now);
}
export function rename(od: usize, on: usize, ol: u32, nd: usize, nn: usize, nl: u32, flags: u32, now: u64): i32 {
  return dirRename(changetype<Inode>(od), on, ol, changetype<Inode>(nd), nn, nl, flags, now);
}
export function write(inode: usize, offset: u64, source: usize, count: u64, now: u64): i64 {
  return dataWrite(changetype<Inode>(inode), offset, source, count, now);
}
export function read(inode: usize, offset: u64, out: usize, count: u64): u64 {
  return dataRead(changetype<Inode>(inode), offset, out, count);
}
export function truncate(inode: usize, size: u64, now: u64): i32 {
  return dataTruncate(changetype<Inode>(inode), size, now);
}
export function seek(inode: usize, offset: u64, hole: bool): i64 {
  return dataSeek(changetype<Inode>(inode), offset, hole);
}
export function hold(inode: usize): void { inodeGet(changetype<Inode>(inode)); }
export function release(inode: usize): void { inodePut(changetype<Inode>(inode)); }
export function inodeSize(inode: usize): u64 { return changetype<Inode>(inode).size; }
export function inodeNlink(inode: usize): u32 { return changetype<Inode>(inode).nlink; }
export function inodeIno(inode: usize): u64 { return changetype<Inode>(inode).ino; }
export function inodeMtime(inode: usize): u64 { return changetype<Inode>(inode).mtime; }
export function inodePages(inode: usize): u32 { return changetype<Inode>(inode).pages; }
export function inodeEntries(inode: usize): u32 { return changetype<Inode>(inode).entries; }
export function next(dir: usize, cookie: u64): usize {
  let entry = dirNext(changetype<Inode>(dir), cookie);
  return entry === null ? 0 : changetype<usize>(entry);
}
export function entryName(entry: usize): usize { return direntName(changetype<Dirent>(entry)); }
export function entryLength(entry: usize): u32 { return changetype<Dirent>(entry).length; }
export function entryCookie(entry: usize): u64 { return changetype<Dirent>(entry).cookie; }
export function entryInode(entry: usize): usize { return changetype<Dirent>(entry).inode; }
