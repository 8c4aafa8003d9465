/* From the boot code to the AS kernel: drop the identity map the boot code
 * needed, instantiate the wasm2c-generated module (which copies the AS static
 * data into place at AS_DATA_BASE) and call kmain. */
#include "wisp.h"
#include "wasm-rt.h"
#include "kernel.h"

extern u64 boot_pml4[]; /* linked at its physical address */

static Z_kernel_instance_t kernel_instance;

/* Per-CPU data the C side needs, reached through GS: gs:0 is the CPU index
 * (read by the trap path and the cpuIndex import). */
struct cpu_local {
  u32 index;
  u32 shadow_sp; /* WISP_SHADOW_SP, loader/kernel_prelude.h */
  u64 syscall_rsp; /* gs:8, gs:16: arch/x86_64/syscall.S */
  u64 entry_stack;
};
static struct cpu_local cpu_locals[64];
/* The shadow-stack pointer's initial value, which every thread starts from. */
u32 shadow_stack_base;

void cpu_local_init(u32 index) {
  cpu_locals[index].index = index;
  cpu_locals[index].shadow_sp = shadow_stack_base;
  u64 base = (u64)&cpu_locals[index];
  __asm__ volatile("wrmsr" ::"c"(0xc0000101), "a"((u32)base), "d"((u32)(base >> 32)));
}
static bool kernel_instantiated;

/* TSC at the C entry, after module set-up and after instantiation, for wisp.boottrace. */
static u64 startup_tsc[3];

static u64 read_tsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((u64)hi << 32) | lo;
}

struct Z_arch_instance_t;
u64 Z_archZ_startupTsc(struct Z_arch_instance_t *unused, u32 index) {
  (void)unused;
  return index < 3 ? startup_tsc[index] : 0;
}

void wisp_start64(u32 start_info_phys, u64 boot_tsc) {
  startup_tsc[0] = read_tsc();
  /* The lower half belongs to the application from now on. */
  u64 *pml4 = (u64 *)as_to_virt((u32)(u64)boot_pml4);
  pml4[0] = 0;
  __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");

  cpu_local_init(0);
  wasm_rt_init();
  Z_kernel_init_module();
  startup_tsc[1] = read_tsc();
  Z_kernel_instantiate(&kernel_instance, NULL);
  shadow_stack_base = cpu_locals[0].shadow_sp; /* set by the module's globals */
  startup_tsc[2] = read_tsc();
  kernel_instantiated = true;
  Z_kernelZ_kmain(&kernel_instance, start_info_phys, boot_tsc);
  early_fail("kmain returned");
}

void wasm_kernel_on_trap(u32 frame_phys) {
  if (!kernel_instantiated) early_fail("CPU exception before the AS kernel was instantiated");
  Z_kernelZ_onTrap(&kernel_instance, frame_phys);
}

void wasm_kernel_on_wasm_trap(u32 kind) {
  if (kernel_instantiated) Z_kernelZ_onWasmTrap(&kernel_instance, kind);
}

void wasm_kernel_thread_start(void) {
  Z_kernelZ_threadStart(&kernel_instance);
}

void wasm_kernel_on_interrupt(u32 vector, u32 frame_phys) {
  Z_kernelZ_onInterrupt(&kernel_instance, vector, frame_phys);
}

void wasm_kernel_syscall(u32 frame_phys) {
  Z_kernelZ_syscallDispatch(&kernel_instance, frame_phys);
}

void wasm_kernel_ap_main(u32 cpu) {
  Z_kernelZ_apMain(&kernel_instance, cpu);
}
