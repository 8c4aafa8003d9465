/* Virtual and physical memory layout shared by the boot code, the loader and
 * the linker script. The AssemblyScript side mirrors these in
 * arch/x86_64/layout.ts; tests check both agree. */
#ifndef WISP_LAYOUT_H
#define WISP_LAYOUT_H

/* Physical memory of the whole machine is mapped here; the wasm linear
 * memory's byte 0 is this address, so an AS pointer is a physical address. */
#define DIRECT_MAP_BASE   0xffff800000000000
/* The kernel image is linked at KERNEL_VIRT_BASE + its physical address. */
#define KERNEL_VIRT_BASE  0xffffffff80000000
/* Physical load address of the kernel image (2 MiB aligned). */
#define KERNEL_PHYS_BASE  0x200000
/* The AS program's static data (wasm data segments) lives in
 * [AS_DATA_BASE, KERNEL_PHYS_BASE); asc is run with --memoryBase AS_DATA_BASE. */
#define AS_DATA_BASE      0x100000

/* Boot page tables map this much physical memory in the direct map. */
#define BOOT_DIRECT_MAP_GIB 4
/* Physical addresses at or above this are mapped uncached at boot (the PCI
 * hole, IOAPIC, HPET, LAPIC); the memory manager refines it from e820. */
#define BOOT_UNCACHED_FROM 0xC0000000

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10

#endif
