/* Freestanding assert.h: the generated code asserts only on instantiation
 * invariants; a failure is a kernel bug and panics. */
#ifndef WISP_ASSERT_H
#define WISP_ASSERT_H
void wisp_assert_failed(const char *expr, const char *file, int line) __attribute__((noreturn));
#define assert(e) ((e) ? (void)0 : wisp_assert_failed(#e, __FILE__, __LINE__))
#endif
