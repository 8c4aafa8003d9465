// Test entry: the ELF loader (kernel/elf/elf.ts and vdso.ts) compiled for
// Node, with mmap, the heap and the interpreter source replaced by doubles
// (tests/elf/harness.ts). The test writes the program's bytes into
// programBuffer() and the vDSO's into vdsoBuffer().
import { AddressSpace } from "../../../kernel/mm/vma";
import { ElfImage, elfLoad } from "../../../kernel/elf/elf";

const programArea = memory.data(4 << 20, 16);
const vdsoArea = memory.data(64 << 10, 16);
const image = memory.data(<i32>offsetof<ElfImage>(), 8);

export function programBuffer(): usize {
  return programArea;
}

export function vdsoBuffer(): usize {
  return vdsoArea;
}

/** The ElfImage record that load() fills. */
export function imageRecord(): usize {
  return image;
}

export function imageBytes(): usize {
  return offsetof<ElfImage>();
}

/** Loads the `size` bytes at programBuffer(); an ELF_* code. */
export function load(size: u32): i32 {
  // The doubles ignore the space; any non-null record will do.
  return elfLoad(changetype<AddressSpace>(programArea), programArea, <u64>size, changetype<ElfImage>(image));
}
