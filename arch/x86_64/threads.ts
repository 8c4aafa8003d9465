// Context switching and FPU state, as C/asm imports (loader/threads.c,
// arch/x86_64/switch.S).

/** Saves the running thread's registers in record `from` and resumes `to`
 * (records start with savedRsp and fpuArea; see kernel/sched/thread.ts). */
@external("arch", "switchContext") export declare function switchContext(from: usize, to: usize): void;
/** Where every thread's AS shadow-stack pointer starts (loader/kernel_prelude.h). */
@external("arch", "shadowStackBase") export declare function shadowStackBase(): u32;
/** Where a new thread's first switch returns to. */
@external("arch", "threadTrampolineAddress") export declare function threadTrampolineAddress(): u64;
/** Enables SSE/AVX state for applications; returns the bytes of a save area. */
@external("arch", "fpuInit") export declare function fpuInit(): u32;
/** Test hooks: load `value` into every byte of xmm0 / read xmm0's first 8 bytes. */
@external("arch", "fpuTestLoad") export declare function fpuTestLoad(value: u32): void;
@external("arch", "fpuTestRead") export declare function fpuTestRead(): u64;
