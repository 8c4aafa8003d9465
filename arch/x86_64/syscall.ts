// The system call path's imports (arch/x86_64/syscall.S, loader/syscall.c)
// and the layout of the register frame syscall_entry builds at the top of
// the running thread's kernel entry stack.

/** Frame offsets: the application's registers at the `syscall` instruction. */
export const FRAME_R15: usize = 0;
export const FRAME_R14: usize = 8;
export const FRAME_R13: usize = 16;
export const FRAME_R12: usize = 24;
export const FRAME_RBP: usize = 32;
export const FRAME_RBX: usize = 40;
export const FRAME_R9: usize = 48;
export const FRAME_R8: usize = 56;
export const FRAME_R10: usize = 64;
export const FRAME_RDX: usize = 72;
export const FRAME_RSI: usize = 80;
export const FRAME_RDI: usize = 88;
/** The result the application sees in RAX. */
export const FRAME_RAX: usize = 96;
/** The system call number as called. */
export const FRAME_NR: usize = 104;
/** Where the application resumes (RCX at entry). */
export const FRAME_RIP: usize = 112;
export const FRAME_RFLAGS: usize = 120;
export const FRAME_RSP: usize = 128;
/** 144 bytes in all (a pad word keeps RSP 16-byte aligned below it). */
export const FRAME_BYTES: usize = 144;

/** RFLAGS for new application threads: IF and the always-one bit 1. */
export const RFLAGS_INITIAL: u64 = 0x202;

/** Enables `syscall` on this CPU (EFER.SCE, STAR, LSTAR, FMASK). */
@external("arch", "syscallCpuInit") export declare function syscallCpuInit(): void;
/** Starts application code on the running thread with the registers in the
 * frame at `frame` (copied to the top of `entryTop`, the thread's kernel
 * entry stack, a direct-map address). Never returns. */
@external("arch", "appResume") export declare function appResume(frame: usize, entryTop: u64): void;
/** Loads the FS base register (IA32_FS_BASE). */
@external("arch", "setFsBase") export declare function setFsBase(value: u64): void;
/** Saves the live application FPU/SSE/AVX state into the save area at `area`. */
@external("arch", "fpuSaveTo") export declare function fpuSaveTo(area: usize): void;
