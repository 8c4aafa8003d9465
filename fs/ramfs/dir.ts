// ramfs directories: a doubly linked list of entries in creation order
// (with a hash table over it once a directory has more than a few). Each
// entry has a cookie, increasing within the directory, that readdir uses as
// its position: a listing resumed from a cookie neither repeats nor skips
// entries that stayed, whatever was added or removed meanwhile (cookies 1
// and 2 are "." and ".."). Link counts follow Linux: a directory has 2 plus
// one per subdirectory.
import { heapAlloc, heapFree, TAG_FS } from "../../kernel/mm/heap";
import { EEXIST, EINVAL, EISDIR, ENOENT, ENOMEM, ENOTDIR, ENOTEMPTY } from "../../kernel/errno";
import { Inode, inodeFreeIfUnused, isDir } from "./inode";

/** Longest name in a directory (NAME_MAX). */
export const NAME_MAX: u32 = 255;
export const COOKIE_DOT: u64 = 1;
export const COOKIE_DOTDOT: u64 = 2;

export const RENAME_NOREPLACE: u32 = 1;
export const RENAME_EXCHANGE: u32 = 2;

@unmanaged
export class Dirent {
  next: usize;
  prev: usize;
  inode: usize;
  cookie: u64;
  length: u32;
  hash: u32;
  /** Next entry in the same hash chain. */
  chain: usize;
  // The name's bytes follow.
}

/** Directories up to this many entries are searched linearly. */
const TABLE_MIN_ENTRIES: u32 = 8;

/** FNV-1a of a name. */
function nameHash(name: usize, length: u32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < length; i++) h = (h ^ <u32>load<u8>(name + i)) * 0x01000193;
  return h;
}

@inline function bucket(dir: Inode, hash: u32): usize {
  return dir.table + (<usize>(hash & (dir.tableSize - 1)) << alignof<usize>());
}

/** Rebuilds the hash table with room for the entries (best effort: without memory, lookups stay linear). */
function rebuildTable(dir: Inode): void {
  let size: u32 = 16;
  while (size < dir.entries) size <<= 1;
  let bytes = <usize>size << alignof<usize>();
  let table = heapAlloc(bytes, TAG_FS);
  if (table == 0) return;
  memory.fill(table, 0, bytes);
  if (dir.table != 0) heapFree(dir.table);
  dir.table = table;
  dir.tableSize = size;
  let e = dir.first;
  while (e != 0) {
    let entry = changetype<Dirent>(e);
    let head = bucket(dir, entry.hash);
    entry.chain = load<usize>(head);
    store<usize>(head, e);
    e = entry.next;
  }
}

export function direntName(entry: Dirent): usize {
  return changetype<usize>(entry) + offsetof<Dirent>();
}

function find(dir: Inode, name: usize, length: u32): Dirent | null {
  if (dir.table != 0) {
    let hash = nameHash(name, length);
    let e = load<usize>(bucket(dir, hash));
    while (e != 0) {
      let entry = changetype<Dirent>(e);
      if (entry.hash == hash && entry.length == length && memory.compare(direntName(entry), name, length) == 0) return entry;
      e = entry.chain;
    }
    return null;
  }
  let e = dir.first;
  while (e != 0) {
    let entry = changetype<Dirent>(e);
    if (entry.length == length && memory.compare(direntName(entry), name, length) == 0) return entry;
    e = entry.next;
  }
  return null;
}

/** The inode `name` names in `dir`, or null. */
export function dirLookup(dir: Inode, name: usize, length: u32): Inode | null {
  let entry = find(dir, name, length);
  return entry === null ? null : changetype<Inode>(entry.inode);
}

/** The first entry after cookie `cookie`, or null at the end. */
export function dirNext(dir: Inode, cookie: u64): Dirent | null {
  let e = dir.first;
  while (e != 0) {
    let entry = changetype<Dirent>(e);
    if (entry.cookie > cookie) return entry;
    e = entry.next;
  }
  return null;
}

function append(dir: Inode, name: usize, length: u32, inode: Inode): Dirent | null {
  let address = heapAlloc(offsetof<Dirent>() + <usize>length, TAG_FS);
  if (address == 0) return null;
  let entry = changetype<Dirent>(address);
  entry.next = 0;
  entry.prev = dir.last;
  entry.inode = changetype<usize>(inode);
  entry.cookie = dir.nextCookie++;
  entry.length = length;
  entry.hash = nameHash(name, length);
  entry.chain = 0;
  memory.copy(direntName(entry), name, length);
  if (dir.last != 0) changetype<Dirent>(dir.last).next = address;
  else dir.first = address;
  dir.last = address;
  dir.entries++;
  if (dir.table != 0) {
    let head = bucket(dir, entry.hash);
    entry.chain = load<usize>(head);
    store<usize>(head, address);
  }
  if (dir.entries > TABLE_MIN_ENTRIES && (dir.table == 0 || dir.entries > dir.tableSize * 2)) rebuildTable(dir);
  return entry;
}

function detach(dir: Inode, entry: Dirent): void {
  if (dir.table != 0) {
    let link = bucket(dir, entry.hash);
    while (load<usize>(link) != changetype<usize>(entry)) link = load<usize>(link) + offsetof<Dirent>("chain");
    store<usize>(link, entry.chain);
  }
  if (entry.prev != 0) changetype<Dirent>(entry.prev).next = entry.next;
  else dir.first = entry.next;
  if (entry.next != 0) changetype<Dirent>(entry.next).prev = entry.prev;
  else dir.last = entry.prev;
  dir.entries--;
  heapFree(changetype<usize>(entry));
  // A directory that shrank back goes linear again (and gives its table back).
  if (dir.table != 0 && dir.entries < TABLE_MIN_ENTRIES / 2) {
    heapFree(dir.table);
    dir.table = 0;
    dir.tableSize = 0;
  }
}

/** Links `inode` into `dir` as `name`: 0, -EEXIST or -ENOMEM. A directory
 * gets `dir` as its parent (it must not be linked anywhere else). */
export function dirLink(dir: Inode, name: usize, length: u32, inode: Inode, now: u64): i32 {
  if (length == 0 || length > NAME_MAX) return -EINVAL;
  if (find(dir, name, length) !== null) return -EEXIST;
  if (append(dir, name, length, inode) === null) return -ENOMEM;
  inode.nlink++;
  if (isDir(inode)) {
    inode.nlink++; // its own "."
    inode.parent = changetype<usize>(dir);
    dir.nlink++;
  }
  inode.ctime = now;
  dir.mtime = now;
  dir.ctime = now;
  return 0;
}

/** Drops the link an entry holds (the entry is already detached). */
function unlinkInode(dir: Inode, inode: Inode, now: u64): void {
  if (isDir(inode)) {
    inode.nlink = 0;
    dir.nlink--;
  } else {
    inode.nlink--;
  }
  inode.ctime = now;
  inodeFreeIfUnused(inode);
}

/**
 * Removes `name` from `dir`: unlink (`directory` false: -EISDIR for a
 * directory) or rmdir (`directory` true: -ENOTDIR for a non-directory,
 * -ENOTEMPTY unless empty). 0, -ENOENT or the error.
 */
export function dirUnlink(dir: Inode, name: usize, length: u32, directory: bool, now: u64): i32 {
  let entry = find(dir, name, length);
  if (entry === null) return -ENOENT;
  let inode = changetype<Inode>(entry.inode);
  if (isDir(inode)) {
    if (!directory) return -EISDIR;
    if (inode.entries != 0) return -ENOTEMPTY;
  } else if (directory) {
    return -ENOTDIR;
  }
  detach(dir, entry);
  dir.mtime = now;
  dir.ctime = now;
  unlinkInode(dir, inode, now);
  return 0;
}

/** Is `dir` `ancestor` or below it? */
function isWithin(dir: Inode, ancestor: Inode): bool {
  let d = dir;
  while (true) {
    if (changetype<usize>(d) == changetype<usize>(ancestor)) return true;
    if (d.parent == changetype<usize>(d) || d.parent == 0) return false;
    d = changetype<Inode>(d.parent);
  }
  return false;
}

/** Moves a directory's parent link from `from` to `to`. */
function reparent(inode: Inode, from: Inode, to: Inode): void {
  if (!isDir(inode) || changetype<usize>(from) == changetype<usize>(to)) return;
  from.nlink--;
  to.nlink++;
  inode.parent = changetype<usize>(to);
}

/**
 * rename(2) within one ramfs, with renameat2's RENAME_NOREPLACE and
 * RENAME_EXCHANGE: 0 or -errno as Linux (ENOENT, EEXIST, ENOTDIR, EISDIR,
 * ENOTEMPTY, EINVAL for a directory moved below itself, ENOMEM).
 */
export function dirRename(
  oldDir: Inode, oldName: usize, oldLength: u32, newDir: Inode, newName: usize, newLength: u32, flags: u32, now: u64,
): i32 {
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) return -EINVAL;
  if (flags == (RENAME_NOREPLACE | RENAME_EXCHANGE)) return -EINVAL;
  if (newLength == 0 || newLength > NAME_MAX) return -EINVAL;
  let source = find(oldDir, oldName, oldLength);
  if (source === null) return -ENOENT;
  let target = find(newDir, newName, newLength);
  let inode = changetype<Inode>(source.inode);
  if ((flags & RENAME_EXCHANGE) != 0) {
    if (target === null) return -ENOENT;
    let other = changetype<Inode>(target.inode);
    if (changetype<usize>(source) == changetype<usize>(target)) return 0;
    if (isDir(inode) && isWithin(newDir, inode)) return -EINVAL;
    if (isDir(other) && isWithin(oldDir, other)) return -EINVAL;
    source.inode = changetype<usize>(other);
    target.inode = changetype<usize>(inode);
    reparent(inode, oldDir, newDir);
    reparent(other, newDir, oldDir);
    inode.ctime = now;
    other.ctime = now;
    oldDir.mtime = oldDir.ctime = now;
    newDir.mtime = newDir.ctime = now;
    return 0;
  }
  if (isDir(inode) && isWithin(newDir, inode)) return -EINVAL;
  if (target !== null) {
    if ((flags & RENAME_NOREPLACE) != 0) return -EEXIST;
    let replaced = changetype<Inode>(target.inode);
    // Two names of one inode: Linux does nothing and succeeds.
    if (changetype<usize>(replaced) == changetype<usize>(inode)) return 0;
    if (isDir(inode)) {
      if (!isDir(replaced)) return -ENOTDIR;
      if (replaced.entries != 0) return -ENOTEMPTY;
    } else if (isDir(replaced)) {
      return -EISDIR;
    }
  }
  // The new entry first, so that running out of memory changes nothing.
  let placed: Dirent | null = null;
  if (target !== null) {
    let replaced = changetype<Inode>(target.inode);
    target.inode = changetype<usize>(inode);
    unlinkInode(newDir, replaced, now);
  } else {
    placed = append(newDir, newName, newLength, inode);
    if (placed === null) return -ENOMEM;
  }
  detach(oldDir, source);
  reparent(inode, oldDir, newDir);
  inode.ctime = now;
  oldDir.mtime = oldDir.ctime = now;
  newDir.mtime = newDir.ctime = now;
  return 0;
}

/** Removes every entry (a generated directory being rebuilt, or a freed one). */
export function dirClear(dir: Inode, now: u64): void {
  while (dir.first != 0) {
    let entry = changetype<Dirent>(dir.first);
    let inode = changetype<Inode>(entry.inode);
    detach(dir, entry);
    if (isDir(inode)) {
      dirClear(inode, now);
      unlinkInode(dir, inode, now);
    } else {
      unlinkInode(dir, inode, now);
    }
  }
}

export function dirRelease(dir: Inode): void {
  dirClear(dir, dir.mtime);
  if (dir.table != 0) heapFree(dir.table);
  dir.table = 0;
  dir.tableSize = 0;
}
