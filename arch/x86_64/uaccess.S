/*
 * Memory accesses that may fault on purpose: reads and atomic updates of
 * words at arbitrary virtual addresses (application memory, futex words).
 * A fault on one of the marked instructions resumes at its fixup, which
 * returns -EFAULT (-14), instead of panicking; see fixup_lookup in
 * loader/trap.c and the .fixup_table section.
 */
	.text

/* u64 access_read32(u64 address): the zero-extended word, or -14. */
	.global access_read32
access_read32:
1:	movl (%rdi), %eax
	ret
2:	mov $-14, %rax
	ret

/* u64 access_write32(u64 address, u32 value): 0, or -14. */
	.global access_write32
access_write32:
3:	movl %esi, (%rdi)
	xor %eax, %eax
	ret
4:	mov $-14, %rax
	ret

/* u64 access_cmpxchg32(u64 address, u32 expected, u32 desired):
 * the old value (zero-extended; equal to expected on success), or -14. */
	.global access_cmpxchg32
access_cmpxchg32:
	mov %esi, %eax
5:	lock cmpxchgl %edx, (%rdi)
	ret
6:	mov $-14, %rax
	ret

	.section .fixup_table, "a"
	.p2align 3
	.quad 1b, 2b
	.quad 3b, 4b
	.quad 5b, 6b

/*
 * Byte ranges in application memory, for the system calls (loader/imports.c
 * checks that the application's side lies in the lower half first). A fault
 * that demand paging cannot resolve resumes at the fixup, which returns -14;
 * one it resolves restarts the interrupted `rep movsb` where it stopped.
 */

/* u64 access_copy(void *dst, const void *src, u64 count): 0, or -14. */
	.global access_copy
access_copy:
	mov %rdx, %rcx
7:	rep movsb
	xor %eax, %eax
	ret
8:	mov $-14, %rax
	ret

/* u64 access_clear(void *dst, u64 count): zeroes; 0, or -14. */
	.global access_clear
access_clear:
	mov %rsi, %rcx
	xor %eax, %eax
9:	rep stosb
	ret
10:	mov $-14, %rax
	ret

/* u64 access_strnlen(const char *s, u64 max): bytes before the first NUL,
 * max if there is none among the first max bytes, or -14. */
	.global access_strnlen
access_strnlen:
	xor %eax, %eax
	jmp 12f
11:	cmpb $0, (%rdi,%rax)
	je 13f
	inc %rax
12:	cmp %rsi, %rax
	jb 11b
13:	ret
14:	mov $-14, %rax
	ret

/* u64 access_write64(u64 address, u64 value): 0, or -14 (any alignment). */
	.global access_write64
access_write64:
15:	mov %rsi, (%rdi)
	xor %eax, %eax
	ret
16:	mov $-14, %rax
	ret

	.section .fixup_table, "a"
	.p2align 3
	.quad 7b, 8b
	.quad 9b, 10b
	.quad 11b, 14b
	.quad 15b, 16b
