/* Freestanding string.h for the wasm2c-generated kernel code. -ffreestanding
 * implies -fno-builtin, so route the calls to the builtins: small constant-size
 * copies (every wasm load and store is a memcpy) then compile to moves. */
#ifndef WISP_STRING_H
#define WISP_STRING_H
#include <stddef.h>
void *memcpy(void *dest, const void *src, size_t n);
void *memmove(void *dest, const void *src, size_t n);
void *memset(void *dest, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#define memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define memset(d, c, n) __builtin_memset((d), (c), (n))
#define memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
#endif
