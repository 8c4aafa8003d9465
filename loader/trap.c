/* C side of every interrupt and exception: called by trap_common with the
 * saved registers, hands the frame to the AS kernel (kernel/trap.ts). If the
 * AS handler itself faults, report raw registers from here instead. */
#include "wisp.h"

static volatile int trap_depth;

void arch_trap(u64 *frame) {
  /* TrapFrame: r15..rax (15 qwords), vector, error, rip, cs, rflags, rsp, ss */
  if (++trap_depth > 1) {
    u64 cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    early_puts("\nwisp: fault while handling a fault: vector ");
    early_put_hex(frame[15]);
    early_puts(" error ");
    early_put_hex(frame[16]);
    early_puts(" rip ");
    early_put_hex(frame[17]);
    early_puts(" cr2 ");
    early_put_hex(cr2);
    early_fail("nested fault");
  }
  u32 frame_phys = virt_to_as(frame);
  if (!frame_phys) early_fail("trap frame outside the direct map and the kernel image");
  wasm_kernel_on_trap(frame_phys);
  trap_depth--;
}
