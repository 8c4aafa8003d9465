/*
 * System call entry and the way into application code. Applications run at
 * ring 0, so `syscall` (through IA32_LSTAR) keeps CPL 0 and we never use
 * `sysret`, which would drop to ring 3. On entry RCX holds the return RIP,
 * R11 the application's RFLAGS, interrupts are off (IA32_FMASK clears IF, DF,
 * TF and AC) and RSP is still the application's: nothing may be pushed there
 * (its red zone, or no stack at all). Per-CPU slots (loader/start.c):
 *   gs:8   the application's RSP while the entry switches stacks
 *   gs:16  the running thread's kernel entry stack top (the context switch
 *          sets it from Thread.entryStack)
 *
 * The frame (libc/frame.ts has the same offsets) sits at the top of the entry
 * stack: r15 r14 r13 r12 rbp rbx r9 r8 r10 rdx rsi rdi rax nr rip rflags rsp
 * and a pad word, 144 bytes, so RSP stays 16-byte aligned. rax is the result
 * (-ENOSYS until the dispatcher stores one); nr is the number as called.
 */
	.set FRAME_BYTES, 144
	.set FRAME_QWORDS, 18

	.text
	.global syscall_entry
	.p2align 4
syscall_entry:
	mov %rsp, %gs:8
	mov %gs:16, %rsp
	pushq $0                        /* pad */
	pushq %gs:8                     /* rsp */
	push %r11                       /* rflags */
	push %rcx                       /* rip */
	push %rax                       /* nr */
	pushq $-38                      /* rax: -ENOSYS */
	push %rdi
	push %rsi
	push %rdx
	push %r10
	push %r8
	push %r9
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	xor %ebp, %ebp                  /* backtraces end here, not in application frames */
	sti
	mov %rsp, %rdi
	call syscall_c
	cli
	/* fall through */

/* RSP: a frame; interrupts off. Restores the application's registers, its
 * RFLAGS (R11 gets them too, as after sysret) and RSP, and jumps to RIP
 * through RCX. An interrupt after popfq lands below RSP on the kernel stack,
 * or, once RSP is the application's, on the entry stack (isr.S trap_entry). */
syscall_exit:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r9
	pop %r8
	pop %r10
	pop %rdx
	pop %rsi
	pop %rdi
	pop %rax
	add $8, %rsp                    /* nr */
	pop %rcx                        /* rip */
	mov (%rsp), %r11
	popfq
	mov (%rsp), %rsp
	jmp *%rcx

/*
 * void app_resume(const void *frame, u64 entry_top): starts application code
 * on this thread: copies `frame` (anywhere in kernel memory, not on this
 * stack) to the top of the thread's entry stack, abandons the kernel frames
 * below (an application thread leaves only through exit, from a system
 * call), resets the AS shadow-stack pointer and leaves through syscall_exit.
 */
	.global app_resume
app_resume:
	cli
	mov %rsi, %gs:16
	mov shadow_stack_base(%rip), %eax
	mov %eax, %gs:4
	lea -FRAME_BYTES(%rsi), %rdx
	mov %rdi, %rsi
	mov %rdx, %rdi
	mov $FRAME_QWORDS, %ecx
	cld
	rep movsq
	mov %rdx, %rsp
	xor %ebp, %ebp
	jmp syscall_exit
