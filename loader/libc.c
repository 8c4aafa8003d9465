/* The few libc routines gcc may call on its own (struct copies, large
 * builtins). Written with string instructions so gcc cannot turn them back
 * into calls to themselves. */
#include <stddef.h>

#undef memcpy
#undef memmove
#undef memset
#undef memcmp

void *memcpy(void *dest, const void *src, size_t n) {
  void *d = dest;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dest;
}

void *memmove(void *dest, const void *src, size_t n) {
  unsigned char *d = dest;
  const unsigned char *s = src;
  if (d <= s || d >= s + n) return memcpy(dest, src, n);
  /* Overlapping with dest above src: copy backwards. */
  d += n - 1;
  s += n - 1;
  __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return dest;
}

void *memset(void *dest, int c, size_t n) {
  void *d = dest;
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dest;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

/* gcc's fallback for __builtin_popcount without -mpopcnt (wasm's popcnt).
 * The volatile step keeps gcc from recognizing the idiom and calling us. */
int __popcountdi2(unsigned long x) {
  volatile unsigned long v = x - ((x >> 1) & 0x5555555555555555UL);
  unsigned long y = v;
  y = (y & 0x3333333333333333UL) + ((y >> 2) & 0x3333333333333333UL);
  y = (y + (y >> 4)) & 0x0f0f0f0f0f0f0f0fUL;
  return (int)((y * 0x0101010101010101UL) >> 56);
}
