// Atomic memory operations and interrupt-state control as C imports
// (loader/atomic.c): wasm2c 1.0.32 has no wasm atomics. All take physical
// addresses (AS pointers) and are full barriers, as x86 locked operations are.

/** Compares the u32 at `address` with `expected` and, if equal, stores `desired`. Returns the old value. */
@external("arch", "atomicCompareExchange32") export declare function atomicCompareExchange32(address: usize, expected: u32, desired: u32): u32;
@external("arch", "atomicCompareExchange64") export declare function atomicCompareExchange64(address: usize, expected: u64, desired: u64): u64;
/** Stores `value`, returns the old value. */
@external("arch", "atomicExchange32") export declare function atomicExchange32(address: usize, value: u32): u32;
/** Adds `delta` (wrapping), returns the old value. */
@external("arch", "atomicAdd32") export declare function atomicAdd32(address: usize, delta: u32): u32;
@external("arch", "atomicAdd64") export declare function atomicAdd64(address: usize, delta: u64): u64;
/** A load the compiler may not cache or reorder. */
@external("arch", "atomicLoad32") export declare function atomicLoad32(address: usize): u32;
@external("arch", "atomicLoad64") export declare function atomicLoad64(address: usize): u64;
/** A store with release semantics. */
@external("arch", "atomicStore32") export declare function atomicStore32(address: usize, value: u32): void;
@external("arch", "atomicStore64") export declare function atomicStore64(address: usize, value: u64): void;
/** mfence. */
@external("arch", "memoryFence") export declare function memoryFence(): void;

/** Disables interrupts and returns the previous RFLAGS, for interruptsRestore. */
@external("arch", "interruptsSave") export declare function interruptsSave(): u64;
/** Re-enables interrupts if they were on in `flags`. */
@external("arch", "interruptsRestore") export declare function interruptsRestore(flags: u64): void;
/** Index of the CPU running this code (0 on the boot CPU). */
@external("arch", "cpuIndex") export declare function cpuIndex(): u32;
