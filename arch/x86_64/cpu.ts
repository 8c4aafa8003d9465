// Privileged instructions as tiny C imports (loader/imports.c): AssemblyScript
// cannot emit them, and LTO inlines each into its caller.

@external("arch", "outb") export declare function outb(port: u32, value: u32): void;
@external("arch", "outw") export declare function outw(port: u32, value: u32): void;
@external("arch", "outl") export declare function outl(port: u32, value: u32): void;
@external("arch", "inb") export declare function inb(port: u32): u32;
@external("arch", "inw") export declare function inw(port: u32): u32;
@external("arch", "inl") export declare function inl(port: u32): u32;

@external("arch", "rdtsc") export declare function rdtsc(): u64;
/** Runs CPUID and stores eax, ebx, ecx, edx as four u32 at `out`. */
@external("arch", "cpuid") export declare function cpuid(leaf: u32, subleaf: u32, out: usize): void;
@external("arch", "halt") export declare function halt(): void;
@external("arch", "pause") export declare function pause(): void;
@external("arch", "interruptsOff") export declare function interruptsOff(): void;
@external("arch", "interruptsOn") export declare function interruptsOn(): void;
/** sti; hlt as one step, so an interrupt between them cannot be lost. */
@external("arch", "waitForInterrupt") export declare function waitForInterrupt(): void;
@external("arch", "readMsr") export declare function readMsr(msr: u32): u64;
@external("arch", "writeMsr") export declare function writeMsr(msr: u32, value: u64): void;
@external("arch", "readCr0") export declare function readCr0(): u64;
@external("arch", "readCr2") export declare function readCr2(): u64;
@external("arch", "readCr3") export declare function readCr3(): u64;
@external("arch", "readCr4") export declare function readCr4(): u64;
@external("arch", "invalidatePage") export declare function invalidatePage(virt: u64): void;
/** Reloads CR3: flushes every non-global TLB entry of this CPU. */
@external("arch", "flushTlbAll") export declare function flushTlbAll(): void;
/** The caller's frame pointer (RBP), where a backtrace starts. */
@external("arch", "framePointer") export declare function framePointer(): u64;

/** lgdt of the table at physical `base`, then reloads every segment register. */
@external("arch", "loadGdt") export declare function loadGdt(base: usize, limit: u32): void;
@external("arch", "loadIdt") export declare function loadIdt(base: usize, limit: u32): void;
@external("arch", "loadTaskRegister") export declare function loadTaskRegister(selector: u32): void;
/** Virtual address of the entry stub for interrupt `vector` (arch/x86_64/isr.S). */
@external("arch", "trapStubAddress") export declare function trapStubAddress(vector: u32): u64;

/** Physical address of the kernel symbol table (.ksymtab), for backtraces. */
@external("arch", "kernelSymbolTable") export declare function kernelSymbolTable(): usize;
/** Physical end of the kernel image, .bss included. */
@external("arch", "kernelPhysEnd") export declare function kernelPhysEnd(): usize;
@external("arch", "kernelTextStart") export declare function kernelTextStart(): u64;
@external("arch", "kernelTextEnd") export declare function kernelTextEnd(): u64;

/** Ends the VM through isa-debug-exit when present (QEMU exits with
 * (status << 1) | 1); returns if there is no such device. */
@external("arch", "debugExit") export declare function debugExit(status: u32): void;

/** Points RSP at unmapped memory and raises #BP: delivery faults, and the CPU
 * raises #DF on its IST stack. For the double fault self-test only. */
@external("arch", "triggerDoubleFault") export declare function triggerDoubleFault(): void;
