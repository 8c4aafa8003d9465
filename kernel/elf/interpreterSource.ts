// Where the ELF loader reads a program's interpreter (PT_INTERP) from: the
// VFS. A module of its own so that the Node tests of the loader (tests/elf)
// substitute a double for it. Its result is two u64 words: address, size.
export { vfsReadWholeFile } from "../vfs/vfs";
