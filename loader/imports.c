/* The AS kernel's "arch" imports (declared in arch/x86_64/cpu.ts): one
 * privileged instruction each, inlined into their AS callers by LTO. */
#include "wisp.h"
#include "wasm-rt.h"
#include "kernel.h"

struct Z_arch_instance_t;
#define ARCH struct Z_arch_instance_t *unused

void Z_archZ_outb(ARCH, u32 port, u32 v) { (void)unused; __asm__ volatile("outb %b0, %w1" ::"a"(v), "Nd"(port)); }
void Z_archZ_outw(ARCH, u32 port, u32 v) { (void)unused; __asm__ volatile("outw %w0, %w1" ::"a"(v), "Nd"(port)); }
void Z_archZ_outl(ARCH, u32 port, u32 v) { (void)unused; __asm__ volatile("outl %0, %w1" ::"a"(v), "Nd"(port)); }
u32 Z_archZ_inb(ARCH, u32 port) { (void)unused; u8 v; __asm__ volatile("inb %w1, %0" : "=a"(v) : "Nd"(port)); return v; }
u32 Z_archZ_inw(ARCH, u32 port) { (void)unused; u16 v; __asm__ volatile("inw %w1, %0" : "=a"(v) : "Nd"(port)); return v; }
u32 Z_archZ_inl(ARCH, u32 port) { (void)unused; u32 v; __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port)); return v; }

u64 Z_archZ_rdtsc(ARCH) {
  (void)unused;
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((u64)hi << 32) | lo;
}

void Z_archZ_cpuid(ARCH, u32 leaf, u32 subleaf, u32 out) {
  (void)unused;
  u32 a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(subleaf));
  u32 *p = as_to_virt(out);
  p[0] = a;
  p[1] = b;
  p[2] = c;
  p[3] = d;
}

void Z_archZ_halt(ARCH) { (void)unused; __asm__ volatile("hlt"); }
void Z_archZ_pause(ARCH) { (void)unused; __asm__ volatile("pause"); }
void Z_archZ_interruptsOff(ARCH) { (void)unused; __asm__ volatile("cli" ::: "memory"); }
void Z_archZ_interruptsOn(ARCH) { (void)unused; __asm__ volatile("sti" ::: "memory"); }
void Z_archZ_waitForInterrupt(ARCH) { (void)unused; __asm__ volatile("sti; hlt" ::: "memory"); }

u64 Z_archZ_readMsr(ARCH, u32 msr) {
  (void)unused;
  u32 lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((u64)hi << 32) | lo;
}

void Z_archZ_writeMsr(ARCH, u32 msr, u64 value) {
  (void)unused;
  __asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)value), "d"((u32)(value >> 32)) : "memory");
}

#define READ_CR(n)                                        \
  u64 Z_archZ_readCr##n(ARCH) {                           \
    (void)unused;                                         \
    u64 v;                                                \
    __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));     \
    return v;                                             \
  }
READ_CR(0)
READ_CR(2)
READ_CR(3)
READ_CR(4)

void Z_archZ_invalidatePage(ARCH, u64 virt) {
  (void)unused;
  __asm__ volatile("invlpg (%0)" ::"r"(virt) : "memory");
}

void Z_archZ_flushTlbAll(ARCH) {
  (void)unused;
  __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

u64 Z_archZ_framePointer(ARCH) {
  (void)unused;
  return (u64)__builtin_frame_address(0);
}

struct __attribute__((packed)) descriptor_pointer {
  u16 limit;
  u64 base;
};

void Z_archZ_loadGdt(ARCH, u32 base, u32 limit) {
  (void)unused;
  struct descriptor_pointer p = {(u16)limit, (u64)as_to_virt(base)};
  __asm__ volatile(
      "lgdt %0\n\t"
      "mov %1, %%ds\n\t"
      "mov %1, %%es\n\t"
      "mov %1, %%ss\n\t"
      "pushq %2\n\t"
      "lea 1f(%%rip), %%rax\n\t"
      "pushq %%rax\n\t"
      "lretq\n"
      "1:"
      :
      : "m"(p), "r"((u64)GDT_KERNEL_DATA), "i"(GDT_KERNEL_CODE)
      : "rax", "memory");
}

void Z_archZ_loadIdt(ARCH, u32 base, u32 limit) {
  (void)unused;
  struct descriptor_pointer p = {(u16)limit, (u64)as_to_virt(base)};
  __asm__ volatile("lidt %0" ::"m"(p) : "memory");
}

void Z_archZ_loadTaskRegister(ARCH, u32 selector) {
  (void)unused;
  __asm__ volatile("ltr %w0" ::"r"(selector) : "memory");
}

extern const u64 trap_stub_table[256];
u64 Z_archZ_trapStubAddress(ARCH, u32 vector) {
  (void)unused;
  return vector < 256 ? trap_stub_table[vector] : 0;
}

extern const u8 __ksymtab_start[];
extern const u8 _text_start[], _text_end[];
extern const u8 _kernel_phys_end[];
u32 Z_archZ_kernelSymbolTable(ARCH) { (void)unused; return virt_to_as(__ksymtab_start); }
u32 Z_archZ_kernelPhysEnd(ARCH) { (void)unused; return (u32)(u64)_kernel_phys_end; }
u64 Z_archZ_kernelTextStart(ARCH) { (void)unused; return (u64)_text_start; }
u64 Z_archZ_kernelTextEnd(ARCH) { (void)unused; return (u64)_text_end; }

void Z_archZ_debugExit(ARCH, u32 status) {
  (void)unused;
  port_out32(0xf4, status);
}

void Z_archZ_triggerDoubleFault(ARCH) {
  (void)unused;
  __asm__ volatile("xor %%esp, %%esp\n\tint3" ::: "memory");
}

u64 access_read32(u64 address);
u64 access_write32(u64 address, u32 value);
u64 access_cmpxchg32(u64 address, u32 expected, u32 desired);

/* Canonical addresses only: a non-canonical one raises #GP, not #PF. */
static bool canonical(u64 address) {
  return address < 0x0000800000000000ull || address >= 0xffff800000000000ull;
}

u64 Z_archZ_accessRead32(ARCH, u64 address) {
  (void)unused;
  return canonical(address) && !(address & 3) ? access_read32(address) : (u64)-14;
}

u64 Z_archZ_accessWrite32(ARCH, u64 address, u32 value) {
  (void)unused;
  return canonical(address) && !(address & 3) ? access_write32(address, value) : (u64)-14;
}

u64 Z_archZ_accessCompareExchange32(ARCH, u64 address, u32 expected, u32 desired) {
  (void)unused;
  return canonical(address) && !(address & 3) ? access_cmpxchg32(address, expected, desired) : (u64)-14;
}

/* A plain read with no fault fixup: for the guard-page self-test, whose
 * fault must reach the page-fault handler's application path. */
u64 Z_archZ_probeRead64(ARCH, u64 address) {
  (void)unused;
  return *(volatile u64 *)address;
}

u64 access_copy(void *dst, const void *src, u64 count);
u64 access_clear(void *dst, u64 count);
u64 access_strnlen(const char *s, u64 max);
u64 access_write64(u64 address, u64 value);

/* [address, address + count) lies in the application's half: below the
 * canonical hole, without wrapping. Kernel addresses fail like unmapped ones. */
static bool application_range(u64 address, u64 count) {
  return address < 0x0000800000000000ull && count <= 0x0000800000000000ull - address;
}

/* Application memory to kernel memory at AS pointer `dst`: 0, or -14. */
u64 Z_archZ_accessCopyIn(ARCH, u32 dst, u64 src, u32 count) {
  (void)unused;
  if (count == 0) return 0;
  if (!application_range(src, count)) return (u64)-14;
  return access_copy(as_to_virt(dst), (const void *)src, count);
}

/* Kernel memory at AS pointer `src` to application memory: 0, or -14. */
u64 Z_archZ_accessCopyOut(ARCH, u64 dst, u32 src, u32 count) {
  (void)unused;
  if (count == 0) return 0;
  if (!application_range(dst, count)) return (u64)-14;
  return access_copy((void *)dst, as_to_virt(src), count);
}

u64 Z_archZ_accessClear(ARCH, u64 dst, u64 count) {
  (void)unused;
  if (count == 0) return 0;
  if (!application_range(dst, count)) return (u64)-14;
  return access_clear((void *)dst, count);
}

/* Length of the NUL-terminated string at `address`, `max` if longer, or -14. */
u64 Z_archZ_accessStringLength(ARCH, u64 address, u64 max) {
  (void)unused;
  if (address >= 0x0000800000000000ull) return (u64)-14;
  if (max > 0x0000800000000000ull - address) max = 0x0000800000000000ull - address;
  return access_strnlen((const char *)address, max);
}

u64 Z_archZ_accessWrite64(ARCH, u64 address, u64 value) {
  (void)unused;
  if (!application_range(address, 8)) return (u64)-14;
  return access_write64(address, value);
}
