// A tiny check harness for the Linux ABI test programs: every check prints
// "ok - <what>" or "not ok - <what> (<detail>)", and finish() prints the
// totals and returns the exit status (0 only when every check held).
#ifndef WISP_ABI_CHECK_H
#define WISP_ABI_CHECK_H
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int checks_run;
static int checks_failed;

__attribute__((format(printf, 2, 3))) static int check(int ok, const char *what, ...) {
  char text[256];
  va_list args;
  va_start(args, what);
  vsnprintf(text, sizeof text, what, args);
  va_end(args);
  checks_run++;
  if (ok) {
    printf("ok - %s\n", text);
  } else {
    checks_failed++;
    printf("not ok - %s (errno %d: %s)\n", text, errno, strerror(errno));
  }
  return ok;
}

/** A call that must fail with `expected` errno (the result was -1). */
#define CHECK_ERRNO(call, expected, what) \
  do { errno = 0; long r_ = (long)(call); int e_ = errno; \
       check(r_ == -1 && e_ == (expected), "%s fails with %s (got %ld, errno %d)", what, #expected, r_, e_); } while (0)

static int finish(const char *program) {
  printf("%s: %d checks, %d failed\n", program, checks_run, checks_failed);
  fflush(stdout);
  return checks_failed == 0 ? 0 : 1;
}
#endif
