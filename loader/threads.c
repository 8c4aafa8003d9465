/* C side of threads: the context switch import, the first call into a new
 * thread, and FPU setup for application state (arch/x86_64/switch.S). */
#include "wisp.h"
#include "wasm-rt.h"
#include "kernel.h"

struct Z_arch_instance_t;
#define ARCH struct Z_arch_instance_t *unused

void switch_context(u64 *save_rsp, u64 new_rsp, void *save_fpu, void *restore_fpu);
extern u8 fpu_use_xsave;
extern void thread_trampoline(void);

extern u32 shadow_stack_base;

/* A thread record (kernel/sched/thread.ts) starts with u64 savedRsp, u64
 * fpuArea (physical address of its XSAVE area, or 0) and u32 shadowSp (its
 * AS shadow-stack pointer while it is not running; gs:4 while it is).
 * Application threads also have u64 fsBase and u64 entryStack at these
 * offsets (checked at compile time by kernel/app.ts). */
#define THREAD_FS_BASE 112
#define THREAD_ENTRY_STACK 120

void Z_archZ_switchContext(ARCH, u32 from, u32 to) {
  (void)unused;
  u64 *from_record = as_to_virt(from);
  u64 *to_record = as_to_virt(to);
  /* The entry stack of syscalls and interrupts from application code (gs:16,
   * arch/x86_64/syscall.S), and the FS base an application thread runs with
   * (kernel threads leave it alone; between two application threads with the
   * same base the MSR already holds it). */
  u64 entry = to_record[THREAD_ENTRY_STACK / 8];
  __asm__ volatile("movq %0, %%gs:16" ::"r"(entry) : "memory");
  if (entry) {
    u64 fs = to_record[THREAD_FS_BASE / 8];
    if (!from_record[THREAD_ENTRY_STACK / 8] || from_record[THREAD_FS_BASE / 8] != fs)
      __asm__ volatile("wrmsr" ::"c"(0xc0000100u), "a"((u32)fs), "d"((u32)(fs >> 32)) : "memory");
  }
  u32 shadow_sp;
  __asm__ volatile("movl %%gs:4, %0" : "=r"(shadow_sp));
  ((u32 *)from_record)[4] = shadow_sp;
  shadow_sp = ((u32 *)to_record)[4];
  __asm__ volatile("movl %0, %%gs:4" ::"r"(shadow_sp) : "memory");
  void *save = from_record[1] ? as_to_virt((u32)from_record[1]) : NULL;
  void *restore = to_record[1] ? as_to_virt((u32)to_record[1]) : NULL;
  switch_context(&from_record[0], to_record[0], save, restore);
}

u32 Z_archZ_shadowStackBase(ARCH) {
  (void)unused;
  return shadow_stack_base;
}

u64 Z_archZ_threadTrampolineAddress(ARCH) {
  (void)unused;
  return (u64)thread_trampoline;
}

void thread_start_c(void) {
  wasm_kernel_thread_start();
}

static void xsetbv(u32 index, u64 value) {
  __asm__ volatile("xsetbv" ::"c"(index), "a"((u32)value), "d"((u32)(value >> 32)));
}

/* Enables SSE (and XSAVE with AVX when the CPU has them) for applications;
 * returns the size of a thread's FPU save area. */
u32 Z_archZ_fpuInit(ARCH) {
  (void)unused;
  u32 a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
  u64 cr0, cr4;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  cr0 = (cr0 & ~((1ull << 2) | (1ull << 3))) | (1ull << 1); /* EM off, TS off, MP on */
  __asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  cr4 |= (1ull << 9) | (1ull << 10); /* OSFXSR, OSXMMEXCPT */
  bool has_xsave = (c >> 26) & 1;
  bool has_avx = (c >> 28) & 1;
  if (has_xsave) cr4 |= 1ull << 18; /* OSXSAVE */
  __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
  if (!has_xsave) {
    fpu_use_xsave = 0;
    return 512;
  }
  xsetbv(0, has_avx ? 7 : 3); /* x87 | SSE (| AVX) */
  fpu_use_xsave = 1;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(0));
  return b; /* bytes needed for the enabled components */
}

/* Self-test hooks for FPU state across switches. The kernel is built with
 * -mgeneral-regs-only, so xmm0 is touched only here, in assembly. */
void Z_archZ_fpuTestLoad(ARCH, u32 value) {
  (void)unused;
  u64 pattern = 0x0101010101010101ull * (value & 0xff);
  __asm__ volatile("movq %0, %%xmm0" ::"r"(pattern) : "memory"); /* xmm0 is no kernel register */
}

u64 Z_archZ_fpuTestRead(ARCH) {
  (void)unused;
  u64 value;
  __asm__ volatile("movq %%xmm0, %0" : "=r"(value));
  return value;
}
