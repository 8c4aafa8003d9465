// Prints the host's TSC rate in kHz. Under TCG, QEMU's guest TSC is the
// host's TSC, so the runner hands this to the Linux guest as tsc_early_khz=
// and the guest never calibrates against the PIT (see docs/linux-guest.md).
//
// Method: 7 windows of 20 ms; each reads (clock, TSC, clock) at both ends,
// keeps the pair only if the clock reads are close (no preemption between
// them), and the median of the windows' rates is printed. Being descheduled
// in the middle of a window does not matter: both clocks keep running.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static int64_t raw_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// A TSC read and the clock at the same moment; 0 if the reads were not close.
static int sample(int64_t *ns, uint64_t *tsc) {
  for (int tries = 0; tries < 100; tries++) {
    int64_t before = raw_ns();
    uint64_t t = rdtsc();
    int64_t after = raw_ns();
    if (after - before < 2000) {
      *ns = before + (after - before) / 2;
      *tsc = t;
      return 1;
    }
  }
  return 0;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  enum { WINDOWS = 7 };
  double khz[WINDOWS];
  int n = 0;
  for (int w = 0; w < WINDOWS; w++) {
    int64_t ns0, ns1;
    uint64_t tsc0, tsc1;
    if (!sample(&ns0, &tsc0)) continue;
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    if (!sample(&ns1, &tsc1) || ns1 <= ns0 || tsc1 <= tsc0) continue;
    khz[n++] = (double)(tsc1 - tsc0) * 1e6 / (double)(ns1 - ns0);
  }
  if (n == 0) {
    fprintf(stderr, "host-tsc-khz: no clean measurement\n");
    return 1;
  }
  qsort(khz, n, sizeof khz[0], compare);
  printf("%.0f\n", khz[n / 2]);
  return 0;
}
