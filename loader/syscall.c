/* C side of the system call path (arch/x86_64/syscall.S): the call into the
 * AS dispatcher, per-CPU MSR set-up and the imports libc and kernel/app.ts use. */
#include "wisp.h"
#include "wasm-rt.h"
#include "kernel.h"

struct Z_arch_instance_t;
#define ARCH struct Z_arch_instance_t *unused

#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_FMASK 0xc0000084u
#define MSR_FS_BASE 0xc0000100u
#define EFER_SCE 1ull
/* Cleared on entry: IF, DF, TF, AC. */
#define SYSCALL_FMASK ((1ull << 9) | (1ull << 10) | (1ull << 8) | (1ull << 18))

extern void syscall_entry(void);
extern void app_resume(const void *frame, u64 entry_top) __attribute__((noreturn));
extern u8 fpu_use_xsave;

static u64 rdmsr(u32 msr) {
  u32 lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((u64)hi << 32) | lo;
}

static void wrmsr(u32 msr, u64 value) {
  __asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)value), "d"((u32)(value >> 32)) : "memory");
}

/* From syscall_entry, on the thread's entry stack with interrupts on. */
void syscall_c(u64 *frame) {
  wasm_kernel_syscall(virt_to_as(frame));
}

/* Enables `syscall` on this CPU: entry at syscall_entry with the kernel's
 * code and stack segments (CS 0x08, SS 0x10), IF/DF/TF/AC cleared. */
void Z_archZ_syscallCpuInit(ARCH) {
  (void)unused;
  wrmsr(MSR_STAR, (u64)GDT_KERNEL_CODE << 32);
  wrmsr(MSR_LSTAR, (u64)syscall_entry);
  wrmsr(MSR_FMASK, SYSCALL_FMASK);
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

/* Starts application code on the running thread (never returns). */
void Z_archZ_appResume(ARCH, u32 frame, u64 entry_top) {
  (void)unused;
  app_resume(as_to_virt(frame), entry_top);
}

/* Loads the FS base (the running application thread's TLS pointer). */
void Z_archZ_setFsBase(ARCH, u64 value) {
  (void)unused;
  wrmsr(MSR_FS_BASE, value);
}

/* Saves the live application FPU/SSE/AVX state into the save area at AS
 * pointer `area` (a new thread starts with a copy of its creator's). */
void Z_archZ_fpuSaveTo(ARCH, u32 area) {
  (void)unused;
  void *p = as_to_virt(area);
  if (fpu_use_xsave)
    __asm__ volatile("xsave64 (%0)" ::"r"(p), "a"(-1), "d"(-1) : "memory");
  else
    __asm__ volatile("fxsave64 (%0)" ::"r"(p) : "memory");
}
