// The memory system calls: thin wrappers over kernel/mm/mmap.ts, which has
// Linux's semantics and errno values, plus the checks Linux makes before it
// reaches the memory manager (the file descriptor of a file mapping).
//
// File mappings are copies: an anonymous private mapping filled with the
// file's bytes from `offset` (the part past the end of the file stays
// zero), which is what MAP_PRIVATE promises and what ld.so needs for
// libraries. MAP_SHARED is accepted read-only (a snapshot: later writes to
// the file do not show); a writable shared file mapping is -ENODEV.
import { PAGE_SIZE } from "../kernel/mm/physical";
import { applicationSpace } from "../kernel/mm/vm";
import {
  brk, madvise, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, mappedRange, mmap, mprotect, mremap,
  munmap,
} from "../kernel/mm/mmap";
import { PROT_READ, PROT_WRITE } from "../kernel/mm/vma";
import { fdGet } from "../kernel/vfs/fdtable";
import { File, fileCanRead, fileIsType, filePut, fileRead, O_ACCMODE, O_PATH, O_RDWR } from "../kernel/vfs/file";
import { fileInode, REGULAR_OPS, ZERO_OPS } from "../kernel/vfs/nodeFile";
import { scratchWords } from "./uaccess";
import { EACCES, EBADF, EINVAL, ENODEV, ENOMEM } from "./errno";

export function sysMmap(address: u64, length: u64, prot: u64, flags: u64, fd: u64, offset: u64): i64 {
  if ((offset & 4095) != 0) return -EINVAL;
  if ((<u32>flags & MAP_ANONYMOUS) != 0) {
    return mmap(applicationSpace(), address, length, <u32>prot, <u32>flags, <i32>fd, offset);
  }
  let file = fdGet(fd);
  if (file === null) return -EBADF;
  let result = mapFile(file, address, length, <u32>prot, <u32>flags, offset);
  filePut(file);
  return result;
}

function mapFile(file: File, address: u64, length: u64, prot: u32, flags: u32, offset: u64): i64 {
  if ((file.status & O_PATH) != 0) return -EBADF;
  let type = flags & MAP_TYPE;
  let shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
  // /dev/zero maps as anonymous memory.
  if (fileIsType(file, ZERO_OPS)) {
    return mmap(applicationSpace(), address, length, prot, flags | MAP_ANONYMOUS, -1, 0);
  }
  if (!fileIsType(file, REGULAR_OPS)) return -ENODEV;
  if (!fileCanRead(file)) return -EACCES;
  if (shared && (prot & PROT_WRITE) != 0) {
    if ((file.status & O_ACCMODE) != O_RDWR) return -EACCES;
    return -ENODEV;
  }
  if (type != MAP_PRIVATE && !shared) return -EINVAL;
  if (length == 0) return -EINVAL;
  let space = applicationSpace();
  // Writable while it is filled; the asked protection after.
  let privateFlags = (flags & ~MAP_TYPE) | MAP_PRIVATE | MAP_ANONYMOUS;
  let placed = mmap(space, address, length, PROT_READ | PROT_WRITE, privateFlags, -1, 0);
  if (placed < 0) return placed;
  let inode = fileInode(file);
  let size = inode !== null ? inode.size : 0;
  if (offset < size) {
    let count = size - offset < length ? size - offset : length;
    let position = scratchWords();
    store<u64>(position, offset);
    let got = fileRead(file, <u64>placed, count, position, 0);
    if (got < 0) {
      munmap(space, <u64>placed, length);
      return got;
    }
  }
  if (prot != (PROT_READ | PROT_WRITE)) {
    let changed = mprotect(space, <u64>placed, length, prot);
    if (changed < 0) {
      munmap(space, <u64>placed, length);
      return changed;
    }
  }
  return placed;
}

export function sysMunmap(address: u64, length: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return munmap(applicationSpace(), address, length);
}

export function sysMprotect(address: u64, length: u64, prot: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((prot >> 32) != 0) return -EINVAL;
  return mprotect(applicationSpace(), address, length, <u32>prot);
}

export function sysMremap(address: u64, oldSize: u64, newSize: u64, flags: u64, newAddress: u64, a5: u64): i64 {
  if ((flags >> 32) != 0) return -EINVAL;
  return mremap(applicationSpace(), address, oldSize, newSize, <u32>flags, newAddress);
}

export function sysMadvise(address: u64, length: u64, advice: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((advice >> 32) != 0) return -EINVAL;
  return madvise(applicationSpace(), address, length, <u32>advice);
}

export function sysBrk(address: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return brk(applicationSpace(), address);
}

const PAGE: u64 = <u64>PAGE_SIZE;
const MCL_CURRENT: u64 = 1;
const MCL_FUTURE: u64 = 2;
const MCL_ONFAULT: u64 = 4;
const MLOCK_ONFAULT: u64 = 1;
const MS_ASYNC: u64 = 1;
const MS_INVALIDATE: u64 = 2;
const MS_SYNC: u64 = 4;

/** The pages of [address, address + length), rounded out, must all be
 * mapped: 0, -ENOMEM at a hole, `wraps` when the range wraps around. */
function pagesMapped(address: u64, length: u64, wraps: i64): i64 {
  let start = address & ~(PAGE - 1);
  let last = address + length;
  if (last < address) return wraps;
  let end = (last + PAGE - 1) & ~(PAGE - 1);
  if (end < last) return wraps;
  if (end == start) return 0;
  return mappedRange(applicationSpace(), start, end);
}

// Locking: every page stays in memory anyway (no swap), so mlock and
// friends only check their arguments as Linux does.

/** mlock and munlock: the range (rounded out to pages) must be mapped. */
export function sysMlock(address: u64, length: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return pagesMapped(address, length, -EINVAL);
}

export function sysMlock2(address: u64, length: u64, flags: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~MLOCK_ONFAULT) != 0) return -EINVAL;
  return pagesMapped(address, length, -EINVAL);
}

export function sysMlockall(flags: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 || flags == MCL_ONFAULT) return -EINVAL;
  return 0;
}

export function sysMunlockall(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return 0;
}

/**
 * msync: nothing to write back (private mappings are private, shared file
 * mappings are read-only), so only Linux's argument checks: a page-aligned
 * address, known flags, not both MS_ASYNC and MS_SYNC, a mapped range.
 */
export function sysMsync(address: u64, length: u64, flags: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((address & (PAGE - 1)) != 0) return -EINVAL;
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) != 0) return -EINVAL;
  if ((flags & MS_ASYNC) != 0 && (flags & MS_SYNC) != 0) return -EINVAL;
  return pagesMapped(address, length, -ENOMEM);
}
