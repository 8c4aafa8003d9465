// Where the ELF loader reads a program's interpreter (PT_INTERP) from.
// TEMPORARY: the VFS (kernel/vfs, another branch) provides
// vfsReadWholeFile with this signature; until it is merged there is no file
// to read, so every interpreter is missing. At the merge this file becomes a
// re-export of the VFS function (or kernel/elf/elf.ts imports it directly).
import { ENOENT } from "../errno";

/**
 * Reads the whole file at `path` (kernel memory, `length` bytes, no NUL)
 * into a heap buffer: out[0] = its address, out[1] = its size (two usize
 * words); the caller frees the buffer with heapFree. 0 or -errno.
 */
export function vfsReadWholeFile(path: usize, length: u32, out: usize): i32 {
  return -ENOENT;
}
