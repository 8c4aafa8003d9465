/* C side of every interrupt and exception: called by trap_common with the
 * saved registers. Exceptions go to kernel/trap.ts onTrap; device and
 * inter-processor interrupts to onInterrupt. If the AS exception handler
 * itself faults, report raw registers from here instead. */
#include "wisp.h"

#define MAX_CPUS 64
static volatile int exception_depth[MAX_CPUS];

static u32 this_cpu(void) {
  u32 index;
  __asm__ volatile("mov %%gs:0, %0" : "=r"(index));
  return index < MAX_CPUS ? index : 0;
}

/* Pairs of (faulting instruction, where to resume), from arch/x86_64/uaccess.S. */
extern const u64 __fixup_table_start[], __fixup_table_end[];

/* If the fault hit an instruction that expects faults, resume at its fixup. */
static bool fixup_lookup(u64 *frame) {
  for (const u64 *entry = __fixup_table_start; entry < __fixup_table_end; entry += 2) {
    if (frame[17] == entry[0]) {
      frame[17] = entry[1];
      return true;
    }
  }
  return false;
}

struct Z_arch_instance_t;
u32 Z_archZ_applyFaultFixup(struct Z_arch_instance_t *unused, u32 frame_phys) {
  (void)unused;
  return fixup_lookup(as_to_virt(frame_phys));
}

void arch_trap(u64 *frame) {
  /* TrapFrame: r15..rax (15 qwords), vector, error, rip, cs, rflags, rsp, ss */
  u64 vector = frame[15];
  u32 frame_phys = virt_to_as(frame);
  if (!frame_phys) early_fail("trap frame outside the direct map and the kernel image");
  if (vector >= 32) {
    wasm_kernel_on_interrupt((u32)vector, frame_phys);
    return;
  }
  u32 cpu = this_cpu();
  if (++exception_depth[cpu] > 2) {
    u64 cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    early_puts("\nwisp: fault while handling a fault: vector ");
    early_put_hex(vector);
    early_puts(" error ");
    early_put_hex(frame[16]);
    early_puts(" rip ");
    early_put_hex(frame[17]);
    early_puts(" cr2 ");
    early_put_hex(cr2);
    early_fail("nested fault");
  }
  wasm_kernel_on_trap(frame_phys);
  exception_depth[cpu]--;
}
