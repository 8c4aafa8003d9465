/*
 * The kernel's first instructions. Both boot paths arrive here in 32-bit
 * protected mode with paging off and EBX pointing at an hvm_start_info:
 * QEMU's PVH loader (through the ELF note below) and our MBR loader, which
 * builds the same structure. This code records the TSC, zeroes .bss, builds
 * the boot page tables (direct map of the first 4 GiB in the upper half with
 * the null page unmapped and the top GiB uncached, the kernel at -2 GiB, and
 * a temporary identity map), enters long mode and jumps to the kernel's
 * high-half C entry wisp_start64(start_info_phys, boot_tsc).
 */
#include "layout.h"

#define PTE_PRESENT   0x001
#define PTE_WRITE     0x002
#define PTE_PWT       0x008
#define PTE_PCD       0x010
#define PTE_LARGE     0x080

/* Xen PVH entry note: QEMU's -kernel loader jumps to this physical address. */
	.section .note.Xen, "a", @note
	.p2align 2
	.long 4                 /* name size ("Xen\0") */
	.long 8                 /* descriptor size */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.quad pvh_entry32
	.p2align 2

/* Page tables and the 32-bit stack: linked at their physical addresses and
 * zeroed here, since the MBR loader copies file bytes only. */
	.section .boot.bss, "aw", @nobits
	.p2align 12
boot_pagetables_start:
	.global boot_pml4
boot_pml4:       .skip 4096
	.global boot_pdpt_low
boot_pdpt_low:   .skip 4096
boot_pdpt_direct:.skip 4096
boot_pdpt_kernel:.skip 4096
boot_pd_direct:  .skip 4096 * BOOT_DIRECT_MAP_GIB
boot_pt_first:   .skip 4096
boot_pagetables_end:
boot_stack32:    .skip 1024
boot_stack32_top:

	.section .boot.data, "aw"
	.p2align 3
boot_gdt64:
	.quad 0                          /* null */
	.quad 0x00af9a000000ffff         /* 0x08: 64-bit code, ring 0 */
	.quad 0x00cf92000000ffff         /* 0x10: data, ring 0 */
boot_gdt64_end:
boot_gdt64_ptr:
	.word boot_gdt64_end - boot_gdt64 - 1
	.long boot_gdt64

boot_tsc:        .quad 0
boot_start_info: .long 0

	.section .boot.text, "ax"
	.code32
	.global pvh_entry32
pvh_entry32:
	cli
	cld
	/* The first kernel instruction that counts for "booted in". */
	mov %ebx, boot_start_info
	rdtsc
	mov %eax, boot_tsc
	mov %edx, boot_tsc + 4
	mov $boot_stack32_top, %esp

	/* Zero the boot page tables and the kernel's .bss (linked high). */
	xor %eax, %eax
	mov $boot_pagetables_start, %edi
	mov $(boot_pagetables_end - boot_pagetables_start) / 4, %ecx
	rep stosl
	mov $__bss_start_phys, %edi
	mov $__bss_end_phys, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	rep stosl

	/* PML4: [0] identity (until the high half runs), [256] direct map,
	 * [511] kernel image. */
	movl $boot_pdpt_low + PTE_PRESENT + PTE_WRITE, boot_pml4
	movl $boot_pdpt_direct + PTE_PRESENT + PTE_WRITE, boot_pml4 + 256 * 8
	movl $boot_pdpt_kernel + PTE_PRESENT + PTE_WRITE, boot_pml4 + 511 * 8

	/* Direct map: one page directory of 2 MiB pages per GiB. */
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $12, %eax
	add $boot_pd_direct + PTE_PRESENT + PTE_WRITE, %eax
	mov %eax, boot_pdpt_direct(, %ecx, 8)
	inc %ecx
	cmp $BOOT_DIRECT_MAP_GIB, %ecx
	jb 1b

	xor %ecx, %ecx                   /* ecx: 2 MiB page number */
2:	mov %ecx, %eax
	shl $21, %eax
	or $PTE_PRESENT + PTE_WRITE + PTE_LARGE, %eax
	cmp $BOOT_UNCACHED_FROM, %eax
	jb 3f
	or $PTE_PCD + PTE_PWT, %eax
3:	mov %eax, boot_pd_direct(, %ecx, 8)
	inc %ecx
	cmp $BOOT_DIRECT_MAP_GIB * 512, %ecx
	jb 2b

	/* The first 2 MiB through 4 KiB pages, so that the kernel can unmap
	 * physical page 0 (the null AS pointer) once it has copied the boot
	 * data loaders leave there (kernel/main.ts). */
	xor %ecx, %ecx
4:	mov %ecx, %eax
	shl $12, %eax
	or $PTE_PRESENT + PTE_WRITE, %eax
	mov %eax, boot_pt_first(, %ecx, 8)
	inc %ecx
	cmp $512, %ecx
	jb 4b
	movl $boot_pt_first + PTE_PRESENT + PTE_WRITE, boot_pd_direct

	/* The first GiB appears three times: direct map, identity, kernel. */
	movl $boot_pd_direct + PTE_PRESENT + PTE_WRITE, boot_pdpt_low
	movl $boot_pd_direct + PTE_PRESENT + PTE_WRITE, boot_pdpt_kernel + 510 * 8

	/* Long mode: PAE + PGE, EFER.LME, then paging with write protect. */
	mov %cr4, %eax
	or $0x20 | 0x80, %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax
	and $~0x60000000, %eax           /* caches on: clear CD and NW */
	mov %eax, %cr0
	lgdt boot_gdt64_ptr
	ljmp $GDT_KERNEL_CODE, $long_mode_low

	.code64
long_mode_low:
	mov $GDT_KERNEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov boot_start_info, %edi
	mov boot_tsc, %rsi
	movabs $long_mode_high, %rax
	jmp *%rax

	.text
long_mode_high:
	lea boot_stack_top(%rip), %rsp
	xor %ebp, %ebp                   /* ends the backtrace */
	call wisp_start64
5:	cli
	hlt
	jmp 5b

	.bss
	.p2align 12
	.global boot_stack_bottom
boot_stack_bottom:
	.skip 64 * 1024
	.global boot_stack_top
boot_stack_top:
