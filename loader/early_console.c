/* The loader's last-resort output: raw COM1 writes for failures that happen
 * before the AS kernel runs, inside the wasm runtime, or while the AS trap
 * handler itself faults. Normal output goes through kernel/console.ts. */
#include "wisp.h"

#define COM1 0x3f8
#define ISA_DEBUG_EXIT_PORT 0xf4

static void early_putc(char c) {
  for (int spins = 0; spins < 100000 && !(port_in8(COM1 + 5) & 0x20); spins++) {
  }
  port_out8(COM1, (u8)c);
}

void early_puts(const char *s) {
  for (; *s; s++) {
    if (*s == '\n') early_putc('\r');
    early_putc(*s);
  }
}

void early_put_hex(u64 v) {
  char buf[19];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 16; i++) buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
  buf[18] = 0;
  early_puts(buf);
}

void machine_exit(u32 status) {
  /* isa-debug-exit makes QEMU exit with (status << 1) | 1; without it this
   * write goes nowhere and the CPU parks. */
  port_out32(ISA_DEBUG_EXIT_PORT, status);
  for (;;) __asm__ volatile("cli; hlt");
}

void early_fail(const char *why) {
  early_puts("\nwisp: panic: ");
  early_puts(why);
  early_puts("\n");
  machine_exit(0x7f);
}

void wisp_assert_failed(const char *expr, const char *file, int line) {
  (void)line;
  early_puts("\nwisp: assertion failed in generated code: ");
  early_puts(expr);
  early_puts(" at ");
  early_puts(file);
  early_fail("assert");
}

void abort(void) { early_fail("abort() called"); }
