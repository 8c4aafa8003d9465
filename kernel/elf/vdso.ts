// The vDSO (arch/x86_64/vdso/): a small ELF shared object built with the
// kernel and embedded in it. Each application gets a read+execute copy, and
// AT_SYSINFO_EHDR tells its C library where; glibc then calls
// __vdso_clock_gettime and friends instead of making those system calls.
//
// One read-only data page sits right below it (vdso.lds puts the symbol
// vdso_data there): the TSC frequency and the clock origins of
// kernel/time/clock.ts, which never change after boot, so the vDSO computes
// the clocks exactly as the system calls do. Layout (struct vdso_data in
// arch/x86_64/vdso/vdso.c): u32 version, u32 0, u64 boot TSC, u64 TSC Hz,
// u64 RTC epoch seconds, u64 RTC monotonic ns.
import { accessCopyOut } from "../../arch/x86_64/access";
import { MAP_ANONYMOUS, MAP_PRIVATE, mmap, mprotect, munmap } from "../mm/mmap";
import { AddressSpace, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE } from "../mm/vma";
import { Clock } from "../time/clock";
import { Tsc } from "../time/tsc";

/** arch/x86_64/vdso/vdso.c VDSO_DATA_VERSION. */
export const VDSO_DATA_VERSION: u32 = 1;
export const VDSO_DATA_BYTES: u32 = 40;

/** The embedded image (an AS pointer; 0 when the kernel has none) and its size. */
@external("arch", "vdsoImage") declare function vdsoImage(): u32;
@external("arch", "vdsoImageBytes") declare function vdsoImageBytes(): u32;

const data = memory.data(<i32>VDSO_DATA_BYTES, 8);

/**
 * Maps the data page and a copy of the vDSO above it in `space` where mmap
 * would place them (top down, as Linux places them without randomization).
 * The vDSO's address (AT_SYSINFO_EHDR), 0 when the kernel has none, or -errno.
 */
export function vdsoMap(space: AddressSpace): i64 {
  let image = <usize>vdsoImage();
  let bytes = <u64>vdsoImageBytes();
  if (image == 0 || bytes == 0) return 0;
  let length = (bytes + PAGE - 1) & ~(PAGE - 1);
  let base = mmap(space, 0, PAGE + length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base < 0) return base;
  let vdso = <u64>base + PAGE;
  store<u32>(data, VDSO_DATA_VERSION);
  store<u32>(data, 0, 4);
  store<u64>(data, Clock.bootTsc, 8);
  store<u64>(data, Tsc.hz, 16);
  store<u64>(data, Clock.rtcEpochSeconds, 24);
  store<u64>(data, Clock.rtcMonotonic, 32);
  let result = accessCopyOut(<u64>base, data, VDSO_DATA_BYTES);
  if (result == 0) result = accessCopyOut(vdso, image, <u32>bytes);
  if (result == 0) result = mprotect(space, <u64>base, PAGE, PROT_READ);
  if (result == 0) result = mprotect(space, vdso, length, PROT_READ | PROT_EXEC);
  if (result < 0) {
    munmap(space, <u64>base, PAGE + length);
    return result;
  }
  return <i64>vdso;
}
