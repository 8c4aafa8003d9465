// From an inode back to its absolute path (getcwd, /proc/self/cwd, the path
// an open file remembers): up the parent links, across mounts, finding each
// directory's name in its parent.
import { Dirent, direntName, dirNext } from "../../fs/ramfs/dir";
import { Inode } from "../../fs/ramfs/inode";
import { ENAMETOOLONG, ENOENT } from "../errno";
import { mountOfRoot, Vfs } from "./mount";

/** The entry of `parent` naming `child`, or null. */
function entryOf(parent: Inode, child: Inode): Dirent | null {
  let cookie: u64 = 0;
  while (true) {
    let entry = dirNext(parent, cookie);
    if (entry === null) return null;
    if (entry.inode == changetype<usize>(child)) return entry;
    cookie = entry.cookie;
  }
  return null;
}

/**
 * Writes the absolute path of directory `dir` to `out` (no NUL, at most
 * `max` bytes): its length, -ENOENT when it was removed, -ENAMETOOLONG.
 */
export function inodePath(dir: Inode, out: usize, max: u32): i32 {
  // Built backwards from the end of `out`, then moved to the front.
  let at = max;
  let d = dir;
  while (changetype<usize>(d) != Vfs.root) {
    let named = d;
    if (d.parent == changetype<usize>(d)) {
      let mount = mountOfRoot(d);
      if (mount === null || mount.mountpoint == 0) return -ENOENT;
      named = changetype<Inode>(mount.mountpoint);
    }
    if (named.nlink == 0) return -ENOENT;
    let parent = changetype<Inode>(named.parent);
    let entry = entryOf(parent, named);
    if (entry === null) return -ENOENT;
    if (entry.length + 1 > at) return -ENAMETOOLONG;
    at -= entry.length;
    memory.copy(out + at, direntName(entry), entry.length);
    at--;
    store<u8>(out + at, 0x2f);
    d = parent;
  }
  if (at == max) {
    if (max == 0) return -ENAMETOOLONG;
    store<u8>(out, 0x2f);
    return 1;
  }
  let length = max - at;
  memory.copy(out, out + at, length);
  return <i32>length;
}

/** The path of `name` in directory `dir`: the directory's path, "/", the name. */
export function childPath(dir: Inode, name: usize, length: u32, out: usize, max: u32): i32 {
  let n = inodePath(dir, out, max);
  if (n < 0) return n;
  let used = <u32>n;
  if (used == 1) used = 0; // the root: "/" + name
  if (used + 1 + length > max) return -ENAMETOOLONG;
  store<u8>(out + used, 0x2f);
  memory.copy(out + used + 1, name, length);
  return <i32>(used + 1 + length);
}
