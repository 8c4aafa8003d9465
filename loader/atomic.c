/* The AS kernel's atomic and interrupt-state imports (arch/x86_64/atomic.ts).
 * Each is a locked instruction or a volatile access through the direct map. */
#include "wisp.h"
#include "wasm-rt.h"
#include "kernel.h"

struct Z_arch_instance_t;
#define ARCH struct Z_arch_instance_t *unused
#define WORD32(a) ((volatile u32 *)as_to_virt(a))
#define WORD64(a) ((volatile u64 *)as_to_virt(a))

u32 Z_archZ_atomicCompareExchange32(ARCH, u32 address, u32 expected, u32 desired) {
  (void)unused;
  /* On failure the builtin writes the current value into expected. */
  __atomic_compare_exchange_n(WORD32(address), &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}

u64 Z_archZ_atomicCompareExchange64(ARCH, u32 address, u64 expected, u64 desired) {
  (void)unused;
  __atomic_compare_exchange_n(WORD64(address), &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}

u32 Z_archZ_atomicExchange32(ARCH, u32 address, u32 value) {
  (void)unused;
  return __atomic_exchange_n(WORD32(address), value, __ATOMIC_SEQ_CST);
}

u32 Z_archZ_atomicAdd32(ARCH, u32 address, u32 delta) {
  (void)unused;
  return __atomic_fetch_add(WORD32(address), delta, __ATOMIC_SEQ_CST);
}

u64 Z_archZ_atomicAdd64(ARCH, u32 address, u64 delta) {
  (void)unused;
  return __atomic_fetch_add(WORD64(address), delta, __ATOMIC_SEQ_CST);
}

u32 Z_archZ_atomicLoad32(ARCH, u32 address) { (void)unused; return __atomic_load_n(WORD32(address), __ATOMIC_ACQUIRE); }
u64 Z_archZ_atomicLoad64(ARCH, u32 address) { (void)unused; return __atomic_load_n(WORD64(address), __ATOMIC_ACQUIRE); }
void Z_archZ_atomicStore32(ARCH, u32 address, u32 value) { (void)unused; __atomic_store_n(WORD32(address), value, __ATOMIC_RELEASE); }
void Z_archZ_atomicStore64(ARCH, u32 address, u64 value) { (void)unused; __atomic_store_n(WORD64(address), value, __ATOMIC_RELEASE); }
void Z_archZ_memoryFence(ARCH) { (void)unused; __atomic_thread_fence(__ATOMIC_SEQ_CST); }

u64 Z_archZ_interruptsSave(ARCH) {
  (void)unused;
  u64 flags;
  __asm__ volatile("pushfq; pop %0; cli" : "=r"(flags) : : "memory");
  return flags;
}

void Z_archZ_interruptsRestore(ARCH, u64 flags) {
  (void)unused;
  if (flags & 0x200) __asm__ volatile("sti" ::: "memory");
}

/* gs:0 holds this CPU's index (loader/start.c cpu_local_init). */
u32 Z_archZ_cpuIndex(ARCH) {
  (void)unused;
  u32 index;
  __asm__ volatile("mov %%gs:0, %0" : "=r"(index));
  return index;
}
