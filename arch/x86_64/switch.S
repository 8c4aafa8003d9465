/*
 * Thread context switch. switch_context(u64 *save_rsp, u64 new_rsp,
 * void *save_fpu, void *restore_fpu): saves the callee-saved registers on the
 * current stack, stores RSP in *save_rsp, saves the application FPU/SSE/AVX
 * state if save_fpu is not null (XSAVE when enabled, else FXSAVE), switches
 * to new_rsp, restores FPU state from restore_fpu if not null, pops the new
 * thread's registers and returns into it. The kernel itself uses no FPU
 * (-mgeneral-regs-only), so this is only the application's state.
 */
	.text
	.global switch_context
switch_context:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	test %rdx, %rdx
	jz 1f
	mov %rdx, %r12
	call fpu_save
1:	mov %rsp, (%rdi)
	mov %rsi, %rsp
	test %rcx, %rcx
	jz 2f
	mov %rcx, %r12
	call fpu_restore
2:	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/* r12: save area (64-byte aligned). Clobbers rax, rdx. */
fpu_save:
	cmpb $0, fpu_use_xsave(%rip)
	je 3f
	mov $-1, %eax
	mov $-1, %edx
	xsave64 (%r12)
	ret
3:	fxsave64 (%r12)
	ret

fpu_restore:
	cmpb $0, fpu_use_xsave(%rip)
	je 4f
	mov $-1, %eax
	mov $-1, %edx
	xrstor64 (%r12)
	ret
4:	fxrstor64 (%r12)
	ret

/*
 * First code of every new thread: switch_context "returns" here with the
 * AS entry arguments in r12 (unused) and interrupts disabled; the AS side
 * finishes the switch and runs the thread's function.
 */
	.global thread_trampoline
thread_trampoline:
	xor %ebp, %ebp          /* ends backtraces */
	call thread_start_c
	ud2

	.data
	.global fpu_use_xsave
fpu_use_xsave:
	.byte 0
