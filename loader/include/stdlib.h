/* Freestanding stdlib.h: nothing in the kernel allocates through libc. */
#ifndef WISP_STDLIB_H
#define WISP_STDLIB_H
#include <stddef.h>
void abort(void) __attribute__((noreturn));
#endif
