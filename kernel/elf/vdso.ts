// The vDSO (arch/x86_64/vdso/): a small ELF shared object built with the
// kernel and embedded in it. Each application gets a read+execute copy, and
// AT_SYSINFO_EHDR tells its C library where; glibc then calls
// __vdso_clock_gettime and friends instead of making those system calls.
import { accessCopyOut } from "../../arch/x86_64/access";
import { MAP_ANONYMOUS, MAP_PRIVATE, mmap, mprotect, munmap } from "../mm/mmap";
import { AddressSpace, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE } from "../mm/vma";

/** The embedded image (an AS pointer; 0 when the kernel has none) and its size. */
@external("arch", "vdsoImage") declare function vdsoImage(): u32;
@external("arch", "vdsoImageBytes") declare function vdsoImageBytes(): u32;

/**
 * Maps a copy of the vDSO in `space` where mmap would place it (top down,
 * as Linux places it without randomization). Its address (AT_SYSINFO_EHDR),
 * 0 when the kernel has no vDSO, or -errno.
 */
export function vdsoMap(space: AddressSpace): i64 {
  let image = <usize>vdsoImage();
  let bytes = <u64>vdsoImageBytes();
  if (image == 0 || bytes == 0) return 0;
  let length = (bytes + PAGE - 1) & ~(PAGE - 1);
  let address = mmap(space, 0, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (address < 0) return address;
  let copied = accessCopyOut(<u64>address, image, <u32>bytes);
  let protect = copied < 0 ? copied : mprotect(space, <u64>address, length, PROT_READ | PROT_EXEC);
  if (protect < 0) {
    munmap(space, <u64>address, length);
    return protect;
  }
  return address;
}
