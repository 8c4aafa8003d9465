/*
 * Interrupt and exception entry stubs. Each of the 256 vectors pushes a zero
 * error code where the CPU pushes none, then its vector number, and joins
 * trap_common, which saves the general registers as a TrapFrame (layout in
 * arch/x86_64/trapframe.ts) and calls arch_trap(frame) in C.
 */
	.text


	.macro trap_stub vector
	.p2align 4
trap_stub_\vector:
	.if !((\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30))
	pushq $0
	.endif
	pushq $\vector
	jmp trap_common
	.endm

	.altmacro
	.set vec, 0
	.rept 256
	trap_stub %vec
	.set vec, vec + 1
	.endr

trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	cld
	mov %rsp, %rdi
	call arch_trap
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp                    /* vector and error code */
	iretq

/* Addresses of the stubs, indexed by vector, for building the IDT. */
	.section .rodata
	.p2align 3
	.global trap_stub_table
trap_stub_table:
	.macro trap_stub_address vector
	.quad trap_stub_\vector
	.endm
	.set vec, 0
	.rept 256
	trap_stub_address %vec
	.set vec, vec + 1
	.endr
