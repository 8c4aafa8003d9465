// The memory system calls: thin wrappers over kernel/mm/mmap.ts, which has
// Linux's semantics and errno values, plus the checks Linux makes before it
// reaches the memory manager (the file descriptor of a file mapping).
import { applicationSpace } from "../kernel/mm/vm";
import { brk, madvise, MAP_ANONYMOUS, mmap, mprotect, mremap, munmap } from "../kernel/mm/mmap";
import { fdGet } from "../kernel/vfs/fdtable";
import { filePut } from "../kernel/vfs/file";
import { EBADF, EINVAL } from "./errno";

export function sysMmap(address: u64, length: u64, prot: u64, flags: u64, fd: u64, offset: u64): i64 {
  if ((offset & 4095) != 0) return -EINVAL;
  // A file mapping needs an open file; the memory manager maps none yet (-ENODEV).
  if ((<u32>flags & MAP_ANONYMOUS) == 0) {
    let file = fdGet(fd);
    if (file === null) return -EBADF;
    filePut(file);
  }
  return mmap(applicationSpace(), address, length, <u32>prot, <u32>flags, <i32>fd, offset);
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

/** mlock, munlock, mlockall, munlockall: every page stays in memory anyway (no swap). */
export function sysMlock(address: u64, length: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return 0;
}
