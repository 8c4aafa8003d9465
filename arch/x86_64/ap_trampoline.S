/*
 * Application processor start-up code. The boot CPU copies the bytes between
 * ap_trampoline_start and ap_trampoline_end to AP_TRAMPOLINE_BASE (a page
 * below 1 MiB), fills in the parameter block at its end, and sends
 * INIT-SIPI-SIPI. The AP starts here in real mode at AP_TRAMPOLINE_BASE:0,
 * goes through protected mode into long mode on the kernel's page tables
 * (with the boot identity map, which the boot CPU restores while APs start)
 * and jumps to ap_entry_c(cpu) in the high half with its own stack.
 */
#define AP_TRAMPOLINE_BASE 0x8000
#define ABS(x) (AP_TRAMPOLINE_BASE + (x) - ap_trampoline_start)

	.section .rodata
	.global ap_trampoline_start, ap_trampoline_end, ap_trampoline_params
	.code16
ap_trampoline_start:
	cli
	cld
	xor %ax, %ax
	mov %ax, %ds
	lgdtl ABS(ap_gdt_pointer)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $ABS(ap_protected)

	.code32
ap_protected:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $0x20 | 0x80, %eax            /* PAE, PGE */
	mov %eax, %cr4
	mov ABS(ap_param_cr3), %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx
	rdmsr
	or $0x100, %eax                  /* LME */
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax             /* PG, WP, PE */
	and $~0x60000000, %eax
	mov %eax, %cr0
	ljmp $0x18, $ABS(ap_long)

	.code64
ap_long:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov ABS(ap_param_stack), %rsp
	mov ABS(ap_param_cpu), %edi
	mov ABS(ap_param_entry), %rax
	xor %ebp, %ebp
	jmp *%rax

	.p2align 3
ap_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff         /* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff         /* 0x10: data */
	.quad 0x00af9a000000ffff         /* 0x18: 64-bit code */
ap_gdt_pointer:
	.word ap_gdt_pointer - ap_gdt - 1
	.long ABS(ap_gdt)

	.p2align 3
ap_trampoline_params:
ap_param_cr3:   .quad 0
ap_param_stack: .quad 0
ap_param_entry: .quad 0
ap_param_cpu:   .quad 0
ap_trampoline_end:
