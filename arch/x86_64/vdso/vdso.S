/*
 * The vDSO: the shared object the kernel maps into the application and
 * names in AT_SYSINFO_EHDR. C libraries call these entry points instead of
 * system calls for the time and the CPU number. Applications run at ring 0
 * here, so a `syscall` costs no privilege change: each entry point makes the
 * system call itself, which is exactly what the call means (the results are
 * the kernel's own). Linked by vdso.lds with the versions of vdso.map.
 */
#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309

.macro entry name, number
	.globl __vdso_\name
	.type __vdso_\name, @function
	.weak \name
	.type \name, @function
	.balign 16
__vdso_\name:
\name:
	.cfi_startproc
	movl $\number, %eax
	syscall
	ret
	.cfi_endproc
	.size __vdso_\name, . - __vdso_\name
	.size \name, . - __vdso_\name
.endm

	.text
	entry clock_gettime, SYS_clock_gettime
	entry gettimeofday, SYS_gettimeofday
	entry time, SYS_time
	entry getcpu, SYS_getcpu
	entry clock_getres, SYS_clock_getres

/* What Linux's vDSO notes say: the kernel that built it (LINUX_VERSION_CODE
 * of the version uname reports is not needed by glibc; 0 is accepted). */
	.section .note.Linux, "a", @note
	.balign 4
	.long 6          /* name size: "Linux\0" */
	.long 4          /* descriptor size */
	.long 0          /* type */
	.asciz "Linux"
	.balign 4
	.long 0
	.balign 4

	.section .note.GNU-stack, "", @progbits
