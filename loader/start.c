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
  u32 reserved;
};
static struct cpu_local cpu_locals[64];

void cpu_local_init(u32 index) {
  cpu_locals[index].index = index;
  u64 base = (u64)&cpu_locals[index];
  __asm__ volatile("wrmsr" ::"c"(0xc0000101), "a"((u32)base), "d"((u32)(base >> 32)));
}
static bool kernel_instantiated;

void wisp_start64(u32 start_info_phys, u64 boot_tsc) {
  /* The lower half belongs to the application from now on. */
  u64 *pml4 = (u64 *)as_to_virt((u32)(u64)boot_pml4);
  pml4[0] = 0;
  __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");

  cpu_local_init(0);
  wasm_rt_init();
  Z_kernel_init_module();
  Z_kernel_instantiate(&kernel_instance, NULL);
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

void wasm_kernel_ap_main(u32 cpu) {
  Z_kernelZ_apMain(&kernel_instance, cpu);
}
