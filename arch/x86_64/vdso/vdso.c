/*
 * The vDSO's functions. The clocks are computed here from the TSC and the
 * kernel's data page (struct vdso_data, mapped read-only one page below the
 * vDSO, filled by kernel/elf/vdso.ts), with the kernel's own integer
 * formulas (kernel/time/clock.ts), so a result is exactly what the system
 * call would have returned at that instant. Anything else (CPU-time clocks,
 * unknown clocks, a data page without its version) makes the system call:
 * applications run at ring 0, so that costs no privilege change.
 */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;

#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309

#define NANOS_PER_SECOND 1000000000UL
/* kernel/elf/vdso.ts VDSO_DATA_VERSION */
#define VDSO_DATA_VERSION 1

struct vdso_data {
  u32 version;
  u32 reserved;
  u64 boot_tsc;
  u64 tsc_hz;
  /* Wall-clock seconds since 1970 at monotonic time rtc_monotonic (ns). */
  u64 rtc_epoch_seconds;
  u64 rtc_monotonic;
};

struct timespec64 {
  i64 tv_sec;
  i64 tv_nsec;
};

struct timeval64 {
  i64 tv_sec;
  i64 tv_usec;
};

/* Defined by vdso.lds one page below the vDSO's first byte. */
extern const volatile struct vdso_data vdso_data __attribute__((visibility("hidden")));

static inline i64 syscall2(i64 number, i64 a0, i64 a1) {
  i64 result;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a0), "S"(a1) : "rcx", "r11", "memory");
  return result;
}

static inline i64 syscall3(i64 number, i64 a0, i64 a1, i64 a2) {
  i64 result;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a0), "S"(a1), "d"(a2) : "rcx", "r11", "memory");
  return result;
}

static inline u64 rdtsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((u64)hi << 32) | lo;
}

/* Clock.ticksToNanos, the same arithmetic. */
static u64 ticks_to_nanos(u64 ticks, u64 hz) {
  return (ticks / hz) * NANOS_PER_SECOND + (ticks % hz) * NANOS_PER_SECOND / hz;
}

/* Nanoseconds of `clock` in *nanos: 1, or 0 when only the kernel knows. */
static int clock_nanos(i64 clock, u64 *nanos) {
  const volatile struct vdso_data *data = &vdso_data;
  if (data->version != VDSO_DATA_VERSION || data->tsc_hz == 0) return 0;
  u64 monotonic = ticks_to_nanos(rdtsc() - data->boot_tsc, data->tsc_hz);
  switch (clock) {
    case 0:  /* CLOCK_REALTIME */
    case 5:  /* CLOCK_REALTIME_COARSE */
    case 11: /* CLOCK_TAI */
      *nanos = data->rtc_epoch_seconds * NANOS_PER_SECOND + (monotonic - data->rtc_monotonic);
      return 1;
    case 1:  /* CLOCK_MONOTONIC */
    case 4:  /* CLOCK_MONOTONIC_RAW */
    case 6:  /* CLOCK_MONOTONIC_COARSE */
    case 7:  /* CLOCK_BOOTTIME */
      *nanos = monotonic;
      return 1;
  }
  return 0;
}

int __vdso_clock_gettime(i64 clock, struct timespec64 *ts) {
  u64 nanos;
  if (!clock_nanos(clock, &nanos)) return (int)syscall2(SYS_clock_gettime, clock, (i64)ts);
  ts->tv_sec = (i64)(nanos / NANOS_PER_SECOND);
  ts->tv_nsec = (i64)(nanos % NANOS_PER_SECOND);
  return 0;
}

int __vdso_gettimeofday(struct timeval64 *tv, void *tz) {
  u64 nanos;
  if (tz != 0 || !clock_nanos(0, &nanos)) return (int)syscall2(SYS_gettimeofday, (i64)tv, (i64)tz);
  if (tv != 0) {
    tv->tv_sec = (i64)(nanos / NANOS_PER_SECOND);
    tv->tv_usec = (i64)((nanos % NANOS_PER_SECOND) / 1000);
  }
  return 0;
}

i64 __vdso_time(i64 *result) {
  u64 nanos;
  if (!clock_nanos(0, &nanos)) return syscall2(SYS_time, (i64)result, 0);
  i64 seconds = (i64)(nanos / NANOS_PER_SECOND);
  if (result != 0) *result = seconds;
  return seconds;
}

long __vdso_getcpu(u32 *cpu, u32 *node, void *cache) {
  return syscall3(SYS_getcpu, (i64)cpu, (i64)node, (i64)cache);
}

int __vdso_clock_getres(i64 clock, struct timespec64 *res) {
  return (int)syscall2(SYS_clock_getres, clock, (i64)res);
}

int clock_gettime(i64, struct timespec64 *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval64 *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
i64 time(i64 *) __attribute__((weak, alias("__vdso_time")));
long getcpu(u32 *, u32 *, void *) __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(i64, struct timespec64 *) __attribute__((weak, alias("__vdso_clock_getres")));
