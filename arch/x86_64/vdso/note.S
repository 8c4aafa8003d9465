/* The vDSO's PT_NOTE, as Linux's: an "Linux" note (type 0) whose descriptor
 * would be LINUX_VERSION_CODE; C libraries do not require it, 0 is fine. */
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
