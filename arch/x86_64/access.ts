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

// Byte ranges in application memory (the system calls' arguments): the
// application's side must lie in the lower half, and any fault demand paging
// cannot resolve gives -14 (EFAULT). Kernel-side buffers are AS pointers.

/** Copies `count` bytes from application address `src` to `dst`: 0 or -14. */
@external("arch", "accessCopyIn") export declare function accessCopyIn(dst: usize, src: u64, count: u32): i64;
/** Copies `count` bytes from `src` to application address `dst`: 0 or -14. */
@external("arch", "accessCopyOut") export declare function accessCopyOut(dst: u64, src: usize, count: u32): i64;
/** Zeroes `count` bytes at application address `dst`: 0 or -14. */
@external("arch", "accessClear") export declare function accessClear(dst: u64, count: u64): i64;
/** Bytes before the NUL of the string at application address `address`, `max` if none within `max`, or -14. */
@external("arch", "accessStringLength") export declare function accessStringLength(address: u64, max: u64): i64;
/** Stores a u64 at application address `address` (any alignment): 0 or -14. */
@external("arch", "accessWrite64") export declare function accessWrite64(address: u64, value: u64): i64;
