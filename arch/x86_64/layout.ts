// The memory layout, mirrored from arch/x86_64/layout.h (a test checks they agree).

/** Virtual address of physical address 0; the wasm linear memory starts here. */
export const DIRECT_MAP_BASE: u64 = 0xffff800000000000;
/** The kernel image is linked at KERNEL_VIRT_BASE + its physical address. */
export const KERNEL_VIRT_BASE: u64 = 0xffffffff80000000;
export const KERNEL_PHYS_BASE: usize = 0x200000;
/** The AS program's static data lives in [AS_DATA_BASE, KERNEL_PHYS_BASE). */
export const AS_DATA_BASE: usize = 0x100000;
export const GDT_KERNEL_CODE: u32 = 0x08;
export const GDT_KERNEL_DATA: u32 = 0x10;

/** Physical address (an AS pointer) of a kernel virtual address, or 0 when it
 * is in neither the direct map (below 4 GiB) nor the kernel image. */
export function virtToPhys(virt: u64): usize {
  if (virt >= KERNEL_VIRT_BASE) return <usize>(virt - KERNEL_VIRT_BASE);
  if (virt >= DIRECT_MAP_BASE && virt - DIRECT_MAP_BASE < 0x100000000) return <usize>(virt - DIRECT_MAP_BASE);
  return 0;
}

export function physToDirectMap(phys: usize): u64 {
  return DIRECT_MAP_BASE + <u64>phys;
}
