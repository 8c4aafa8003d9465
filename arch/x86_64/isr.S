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
	.if (\vector == 2) || (\vector == 8) || (\vector == 18)
	jmp trap_common
	.else
	jmp trap_entry
	.endif
	.endm

	.altmacro
	.set vec, 0
	.rept 256
	trap_stub %vec
	.set vec, vec + 1
	.endr

/*
 * Once applications run, vectors other than NMI, #DF and #MC arrive on the
 * CPU's entry stack (IST4, idt.ts idtUseEntryStack) and the frame moves to
 * where the handler belongs: below the interrupted RSP if that was a kernel
 * stack (as a delivery without IST would have put it), else to the top of
 * the running thread's kernel entry stack (gs:16, set by the context switch
 * for application threads), leaving the application's stack untouched.
 * Frames delivered without IST are already in place: there RSP + 72 (the
 * frame, rax and rcx) is the interrupted RSP aligned down to 16.
 */
trap_entry:                         /* vector, error, rip, cs, rflags, rsp, ss */
	push %rax
	push %rcx
	mov 56(%rsp), %rax              /* the interrupted RSP */
	and $-16, %rax
	lea 72(%rsp), %rcx
	cmp %rax, %rcx
	je 2f                           /* delivered without IST: stay */
	test %rax, %rax
	js 1f                           /* a kernel stack: continue below it */
	mov %gs:16, %rax                /* application code: its thread's entry stack */
	test %rax, %rax
	jz 2f                           /* none (a kernel thread on a bad stack): stay */
1:	sub $72, %rax
	.irp offset, 0, 8, 16, 24, 32, 40, 48, 56, 64
	mov \offset(%rsp), %rcx
	mov %rcx, \offset(%rax)
	.endr
	mov %rax, %rsp
2:	pop %rcx
	pop %rax

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
