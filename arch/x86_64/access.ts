// Accesses to words at any virtual address (application memory, futex
// words) that fail with -EFAULT instead of faulting the kernel: the C/asm
// side marks the instructions, and the page-fault path resumes them at a
// fixup (arch/x86_64/uaccess.S). Misaligned or non-canonical addresses fail.

/** The u32 at `address` (zero-extended), or -14 (EFAULT) as i64. */
@external("arch", "accessRead32") export declare function accessRead32(address: u64): i64;
/** 0, or -14 (EFAULT). */
@external("arch", "accessWrite32") export declare function accessWrite32(address: u64, value: u32): i64;
/** Atomic compare-exchange: the old value, or -14 (EFAULT). */
@external("arch", "accessCompareExchange32") export declare function accessCompareExchange32(address: u64, expected: u32, desired: u32): i64;
/** For the page-fault handler: if the faulting instruction has a fixup, moves the frame there and returns 1. */
@external("arch", "applyFaultFixup") export declare function applyFaultFixup(frame: usize): u32;
