/* The built vDSO (build/vdso/vdso.so), embedded read-only in the kernel;
 * the ELF loader copies it into each application's address space. */
	.section .rodata.vdso, "a"
	.balign 4096
	.globl vdso_image_start, vdso_image_end
vdso_image_start:
	.incbin "vdso/vdso.so"
vdso_image_end:
	.section .note.GNU-stack, "", @progbits
