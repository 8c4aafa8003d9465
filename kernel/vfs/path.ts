// Path resolution (Linux's path_lookupat): absolute or relative to a start
// directory, "." and "..", mounts, symbolic links expanded in place with at
// most 40 followed per walk (-ELOOP), names up to NAME_MAX (-ENAMETOOLONG),
// -ENOTDIR when a component that must be a directory is not. The caller
// holds the VFS lock; the result's inodes are valid while it does.
import { dirLookup, NAME_MAX } from "../../fs/ramfs/dir";
import { Inode, isDir, isSymlink } from "../../fs/ramfs/inode";
import { EFAULT, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR } from "../errno";
import { mountCross, parentOf, Vfs } from "./mount";
import { specialLookupPrepare, symlinkTarget } from "./special";
import { LINK_FD } from "./kinds";

export const PATH_MAX: u32 = 4096;
/** Symbolic links one walk follows at most (Linux's MAXSYMLINKS). */
export const MAX_SYMLINKS: u32 = 40;

/** Follow a symbolic link in the last component. */
export const WALK_FOLLOW: u32 = 1;
/** A missing last component is not an error: inode 0, parent and name set (create). */
export const WALK_CREATE: u32 = 2;
/** open: stop at a /proc/self/fd/N link in the last component (it reopens the descriptor's file). */
export const WALK_DESCRIPTOR_LINK: u32 = 4;

@unmanaged
export class Walk {
  /** What the path names (0: missing, with WALK_CREATE). */
  inode: usize;
  /** The directory of the last component. */
  parent: usize;
  /** The last component, in the walk's buffer (valid until the next walk). */
  name: usize;
  length: u32;
  /** The path ended with "/". */
  trailingSlash: bool;
  /** The last component was "." or ".." (or the path was "/"): nothing to create or remove. */
  dotted: bool;
}

// Two buffers: the path being walked and the next one while a link is spliced in.
const bufferA = memory.data(<i32>(PATH_MAX * 2));
const bufferB = memory.data(<i32>(PATH_MAX * 2));
const linkBuffer = memory.data(<i32>PATH_MAX);
const walkData = memory.data(offsetof<Walk>(), 8);

/** A Walk record for one call (under the VFS lock). */
export function walkRecord(): Walk {
  return changetype<Walk>(walkData);
}

/**
 * Resolves [path, path + length) (kernel memory) from `start` (the working
 * directory or a dirfd's directory; ignored for absolute paths). 0 or -errno.
 */
export function walkPath(start: Inode, path: usize, length: u32, flags: u32, walk: Walk): i32 {
  if (length >= PATH_MAX) return -ENAMETOOLONG;
  if (length == 0) return -ENOENT;
  let buffer = bufferA;
  let spare = bufferB;
  memory.copy(buffer, path, length);
  let end = length;
  let pos: u32 = 0;
  let links: u32 = 0;
  let current = start;
  if (load<u8>(buffer) == 0x2f) current = changetype<Inode>(Vfs.root);
  walk.inode = 0;
  walk.parent = changetype<usize>(current);
  walk.name = 0;
  walk.length = 0;
  walk.trailingSlash = false;
  walk.dotted = true;
  while (true) {
    while (pos < end && load<u8>(buffer + pos) == 0x2f) pos++;
    if (pos >= end) {
      // "/" or a path of slashes: the directory itself.
      walk.inode = changetype<usize>(current);
      walk.parent = changetype<usize>(current);
      walk.trailingSlash = true;
      walk.dotted = true;
      return 0;
    }
    let nameStart = pos;
    while (pos < end && load<u8>(buffer + pos) != 0x2f) pos++;
    let nameLength = pos - nameStart;
    let slashes = pos < end;
    while (pos < end && load<u8>(buffer + pos) == 0x2f) pos++;
    let last = pos >= end;
    if (!isDir(current)) return -ENOTDIR;
    let name = buffer + nameStart;
    let next: Inode | null;
    let dotted = false;
    if (nameLength == 1 && load<u8>(name) == 0x2e) {
      next = current;
      dotted = true;
    } else if (nameLength == 2 && load<u16>(name) == 0x2e2e) {
      next = parentOf(current);
      dotted = true;
    } else {
      if (nameLength > NAME_MAX) return -ENAMETOOLONG;
      specialLookupPrepare(current);
      next = dirLookup(current, name, nameLength);
      if (next !== null) next = mountCross(next);
    }
    if (last) {
      walk.parent = changetype<usize>(current);
      walk.name = name;
      walk.length = nameLength;
      walk.trailingSlash = slashes;
      walk.dotted = dotted;
      if (next === null) {
        if ((flags & WALK_CREATE) != 0) return 0;
        return -ENOENT;
      }
      let descriptorLink = isSymlink(next) && next.special == LINK_FD && (flags & WALK_DESCRIPTOR_LINK) != 0;
      if (!isSymlink(next) || ((flags & WALK_FOLLOW) == 0 && !slashes) || (descriptorLink && (flags & WALK_FOLLOW) != 0)) {
        if (slashes && !isDir(next) && !isSymlink(next)) return -ENOTDIR;
        walk.inode = changetype<usize>(next);
        return 0;
      }
    } else {
      if (next === null) return -ENOENT;
      if (!isSymlink(next)) {
        if (!isDir(next)) return -ENOTDIR;
        current = next;
        continue;
      }
    }
    // A symbolic link: its target, then the rest of the path.
    if (++links > MAX_SYMLINKS) return -ELOOP;
    let targetLength = symlinkTarget(next, linkBuffer, PATH_MAX);
    if (targetLength < 0) return targetLength;
    if (targetLength == 0) return -ENOENT;
    let rest = end - pos;
    if (<u32>targetLength + 1 + rest >= PATH_MAX) return -ENAMETOOLONG;
    memory.copy(spare, linkBuffer, <usize>targetLength);
    let used = <u32>targetLength;
    if (rest > 0 || (last && walk.trailingSlash)) {
      store<u8>(spare + used, 0x2f);
      used++;
    }
    memory.copy(spare + used, buffer + pos, rest);
    used += rest;
    let swap = buffer;
    buffer = spare;
    spare = swap;
    end = used;
    pos = 0;
    if (load<u8>(buffer) == 0x2f) current = changetype<Inode>(Vfs.root);
  }
  return -EFAULT; // not reached
}
