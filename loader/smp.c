/* Application processor bring-up, C side: installs the trampoline
 * (arch/x86_64/ap_trampoline.S) for one CPU at a time, and receives each AP
 * in the high half before handing it to the AS kernel (apMain). */
#include "wisp.h"
#include "wasm-rt.h"
#include "kernel.h"

struct Z_arch_instance_t;
#define ARCH struct Z_arch_instance_t *unused
#define AP_TRAMPOLINE_BASE 0x8000

extern const u8 ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[];
extern u64 boot_pml4[];
extern u8 boot_pdpt_low[];
void cpu_local_init(u32 index);

static void reload_cr3(void) { __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory"); }

static void ap_entry_c(u32 cpu) {
  /* The boot CPU drops the identity map once every AP is up and shoots it
   * down from every TLB (kernel/sched/smp.ts). */
  cpu_local_init(cpu);
  wasm_kernel_ap_main(cpu);
  early_fail("apMain returned");
}

/* Copies the trampoline below 1 MiB with the parameters for `cpu`; returns its page. */
u32 Z_archZ_apPrepare(ARCH, u32 cpu, u32 stack_top_phys) {
  (void)unused;
  u8 *base = as_to_virt(AP_TRAMPOLINE_BASE);
  size_t size = (size_t)(ap_trampoline_end - ap_trampoline_start);
  for (size_t i = 0; i < size; i++) base[i] = ap_trampoline_start[i];
  u64 *params = (u64 *)(base + (ap_trampoline_params - ap_trampoline_start));
  u64 cr3;
  __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  params[0] = cr3;
  params[1] = DIRECT_MAP_BASE + stack_top_phys - 8; /* as if called: RSP % 16 == 8 */
  params[2] = (u64)ap_entry_c;
  params[3] = cpu;
  return AP_TRAMPOLINE_BASE;
}

/* While APs start they need the identity map of the first GiB (the
 * trampoline runs there with paging on); nothing else runs in the lower half yet. */
void Z_archZ_apIdentityMap(ARCH, u32 on) {
  (void)unused;
  u64 *pml4 = (u64 *)as_to_virt((u32)(u64)boot_pml4);
  pml4[0] = on ? ((u64)boot_pdpt_low | 3) : 0;
  reload_cr3();
}
