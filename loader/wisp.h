/* Declarations shared by the loader's C files: the glue between the boot
 * code, the wasm2c-generated kernel and the CPU. */
#ifndef WISP_LOADER_H
#define WISP_LOADER_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "../arch/x86_64/layout.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* A kernel pointer (direct map or kernel image) as an AS pointer, i.e. a
 * physical address; 0 when it is neither. */
static inline u32 virt_to_as(const void *p) {
  u64 v = (u64)p;
  if (v >= KERNEL_VIRT_BASE) return (u32)(v - KERNEL_VIRT_BASE);
  if (v >= DIRECT_MAP_BASE && v - DIRECT_MAP_BASE < 0x100000000ull) return (u32)(v - DIRECT_MAP_BASE);
  return 0;
}

static inline void *as_to_virt(u32 phys) { return (void *)(DIRECT_MAP_BASE + (u64)phys); }

static inline void port_out8(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 port_in8(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void port_out32(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }

/* Last-resort console and exit for failures before or beneath the AS kernel. */
void early_puts(const char *s);
void early_put_hex(u64 v);
void early_fail(const char *why) __attribute__((noreturn));

/* Called by the AS kernel's panic path and by early_fail. */
void machine_exit(u32 status) __attribute__((noreturn));

void wasm_kernel_start(u32 start_info_phys, u64 boot_tsc);
void wasm_kernel_on_trap(u32 frame_phys);
void wasm_kernel_on_wasm_trap(u32 kind);
void wasm_kernel_on_interrupt(u32 vector, u32 frame_phys);
void wasm_kernel_thread_start(void);
void wasm_kernel_ap_main(u32 cpu);
void wasm_kernel_syscall(u32 frame_phys);
#endif
