// Clocks and sleeping: monotonic time only increases, sleeps last at least
// what was asked, the other clocks are consistent, bad arguments fail.
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int64_t nanos(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(void) {
  int64_t previous = nanos(CLOCK_MONOTONIC);
  int never_back = 1;
  for (int i = 0; i < 1000; i++) {
    int64_t now = nanos(CLOCK_MONOTONIC);
    if (now < previous) never_back = 0;
    previous = now;
  }
  check(never_back, "CLOCK_MONOTONIC never goes back over 1000 reads");
  int64_t start = nanos(CLOCK_MONOTONIC);
  volatile uint64_t spin = 0;
  for (int i = 0; i < 1000000; i++) spin += i;
  check(nanos(CLOCK_MONOTONIC) > start, "CLOCK_MONOTONIC advances over a busy loop");

  struct timespec request = {0, 50 * 1000 * 1000};
  start = nanos(CLOCK_MONOTONIC);
  check(nanosleep(&request, NULL) == 0, "nanosleep 50 ms");
  int64_t slept = nanos(CLOCK_MONOTONIC) - start;
  check(slept >= 50 * 1000 * 1000, "nanosleep slept at least 50 ms (%lld ns)", (long long)slept);
  check(slept < 5LL * 1000 * 1000 * 1000, "nanosleep woke within 5 s");

  struct timespec target;
  clock_gettime(CLOCK_MONOTONIC, &target);
  target.tv_nsec += 30 * 1000 * 1000;
  if (target.tv_nsec >= 1000000000) { target.tv_sec++; target.tv_nsec -= 1000000000; }
  check(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, NULL) == 0, "clock_nanosleep until an absolute time");
  int64_t after = nanos(CLOCK_MONOTONIC);
  check(after >= (int64_t)target.tv_sec * 1000000000 + target.tv_nsec, "it woke no earlier than the target");
  struct timespec relative = {0, 10 * 1000 * 1000};
  start = nanos(CLOCK_MONOTONIC);
  check(clock_nanosleep(CLOCK_REALTIME, 0, &relative, NULL) == 0, "clock_nanosleep 10 ms on CLOCK_REALTIME");
  check(nanos(CLOCK_MONOTONIC) - start >= 10 * 1000 * 1000, "it slept at least 10 ms");

  int64_t real = nanos(CLOCK_REALTIME);
  check(real > 1577836800LL * 1000000000, "CLOCK_REALTIME is after 2020");
  struct timeval tv;
  check(gettimeofday(&tv, NULL) == 0, "gettimeofday");
  int64_t tod = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
  check(tod - real < 1000000000LL && real - tod < 1000000000LL, "gettimeofday agrees with CLOCK_REALTIME");
  time_t t = time(NULL);
  check(t - real / 1000000000 <= 1 && real / 1000000000 - t <= 1, "time() agrees with CLOCK_REALTIME");
  check(nanos(CLOCK_BOOTTIME) > 0 && nanos(CLOCK_MONOTONIC_COARSE) > 0 && nanos(CLOCK_REALTIME_COARSE) > 0,
        "BOOTTIME and the COARSE clocks read");

  struct timespec res;
  check(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0, "clock_getres(CLOCK_MONOTONIC)");

  int64_t cpu0 = nanos(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < 3000000; i++) spin += i;
  int64_t cpu1 = nanos(CLOCK_THREAD_CPUTIME_ID);
  check(cpu1 > cpu0, "CLOCK_THREAD_CPUTIME_ID advances while running");
  check(nanos(CLOCK_PROCESS_CPUTIME_ID) >= cpu1, "CLOCK_PROCESS_CPUTIME_ID is at least the thread's");

  struct timespec bad = {0, 1000000000};
  CHECK_ERRNO(nanosleep(&bad, NULL), EINVAL, "nanosleep with tv_nsec = 1e9");
  struct timespec negative = {-1, 0};
  CHECK_ERRNO(nanosleep(&negative, NULL), EINVAL, "nanosleep with a negative time");
  CHECK_ERRNO(syscall(SYS_clock_gettime, 100, &res), EINVAL, "clock_gettime of an unknown clock");
  CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)16), EFAULT, "clock_gettime into a bad pointer");
  CHECK_ERRNO(syscall(SYS_nanosleep, (void *)16, NULL), EFAULT, "nanosleep from a bad pointer");
  return finish("clock");
}
