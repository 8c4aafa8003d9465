// Application processor start-up, as C imports (loader/smp.c,
// arch/x86_64/ap_trampoline.S).

/** Installs the trampoline for `cpu` with the given stack; returns its physical page. */
@external("arch", "apPrepare") export declare function apPrepare(cpu: u32, stackTop: usize): usize;
/** Maps (1) or unmaps (0) the boot identity map the trampoline needs. */
@external("arch", "apIdentityMap") export declare function apIdentityMap(on: u32): void;
