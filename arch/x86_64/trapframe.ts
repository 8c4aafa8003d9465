// Byte offsets in the frame that arch/x86_64/isr.S saves on every trap:
// the general registers (r15 lowest), vector, error code, then what the CPU pushed.

export const FRAME_R15: usize = 0;
export const FRAME_RAX: usize = 112;
export const FRAME_RBP: usize = 64;
export const FRAME_VECTOR: usize = 120;
export const FRAME_ERROR: usize = 128;
export const FRAME_RIP: usize = 136;
export const FRAME_CS: usize = 144;
export const FRAME_RFLAGS: usize = 152;
export const FRAME_RSP: usize = 160;
export const FRAME_SS: usize = 168;

/** Register names in frame order, for reports: r15 at offset 0 up to rax at 112. */
export const FRAME_GPR_NAMES = "r15r14r13r12r11r10r9 r8 rbprdirsirdxrcxrbxrax";
export const FRAME_GPR_COUNT: usize = 15;
