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
