// Context-switch cost: two threads hand a token back and forth through one
// futex word. Each hand-over wakes the other thread and puts this one to
// sleep in FUTEX_WAIT, so a round trip is two context switches (on one CPU)
// or two cross-CPU wake-ups (on two).
//
//   futex_pingpong [same|cross|any] [round trips] [max seconds]
//
//   same   both threads pinned to CPU 0
//   cross  main thread on CPU 0, partner on CPU 1
//   any    no pinning (default)
//
// Prints exactly one line on stdout:
//   pingpong: <round trips> round trips, <ns> ns per switch (<placement>)
// and exits 0; on failure prints "pingpong: error: ..." on stderr, exits 1.
//
// Build: gcc -static -O2 -pthread -o futex_pingpong futex_pingpong.c
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { MAIN_TURN = 0, PARTNER_TURN = 1, STOP = 2 };

#define WARMUP_ROUND_TRIPS 200
#define CLOCK_CHECK_EVERY 256

static int turn = MAIN_TURN;
static int partner_cpu = -1;
static const char *partner_error;

static void fail(const char *what) {
  fprintf(stderr, "pingpong: error: %s: %s\n", what, strerror(errno));
  exit(1);
}

static long futex(int *word, int op, int value) {
  return syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, value, NULL, NULL, 0);
}

// Blocks until *word is no longer `current`.
static void wait_while(int *word, int current) {
  while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == current) {
    if (futex(word, FUTEX_WAIT, current) < 0 && errno != EAGAIN && errno != EINTR) fail("FUTEX_WAIT");
  }
}

static void hand_over(int *word, int value) {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
  if (futex(word, FUTEX_WAKE, 1) < 0) fail("FUTEX_WAKE");
}

static int pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // pid 0: the calling thread only.
  return sched_setaffinity(0, sizeof set, &set);
}

static void *partner(void *unused) {
  (void)unused;
  if (partner_cpu >= 0 && pin_to(partner_cpu) != 0) {
    partner_error = strerror(errno);
    partner_cpu = -2;
  }
  for (;;) {
    wait_while(&turn, MAIN_TURN);
    if (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == STOP) return NULL;
    hand_over(&turn, MAIN_TURN);
  }
}

static void round_trip(void) {
  hand_over(&turn, PARTNER_TURN);
  wait_while(&turn, PARTNER_TURN);
}

static int64_t now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) fail("clock_gettime");
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long parse_positive(const char *text, const char *what) {
  char *end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value <= 0) {
    fprintf(stderr, "pingpong: error: %s must be a positive whole number, not '%s'\n", what, text);
    exit(1);
  }
  return value;
}

int main(int argc, char **argv) {
  const char *placement = argc > 1 ? argv[1] : "any";
  long max_round_trips = argc > 2 ? parse_positive(argv[2], "round trips") : 20000;
  long max_seconds = argc > 3 ? parse_positive(argv[3], "max seconds") : 10;
  if (argc > 4) {
    fprintf(stderr, "usage: %s [same|cross|any] [round trips] [max seconds]\n", argv[0]);
    return 1;
  }

  int main_cpu = -1;
  if (strcmp(placement, "same") == 0) {
    main_cpu = 0;
    partner_cpu = 0;
  } else if (strcmp(placement, "cross") == 0) {
    main_cpu = 0;
    partner_cpu = 1;
  } else if (strcmp(placement, "any") != 0) {
    fprintf(stderr, "pingpong: error: placement must be same, cross or any, not '%s'\n", placement);
    return 1;
  }
  if (main_cpu >= 0 && pin_to(main_cpu) != 0) fail("sched_setaffinity (main thread, CPU 0)");

  pthread_t thread;
  int error = pthread_create(&thread, NULL, partner, NULL);
  if (error != 0) {
    errno = error;
    fail("pthread_create");
  }

  // The first round trips start the partner and warm the caches; they also
  // carry the partner's pinning result back before timing starts.
  for (int i = 0; i < WARMUP_ROUND_TRIPS; i++) round_trip();
  if (partner_cpu == -2) {
    fprintf(stderr, "pingpong: error: sched_setaffinity (partner thread, CPU %d): %s\n",
            strcmp(placement, "cross") == 0 ? 1 : 0, partner_error);
    return 1;
  }

  const int64_t deadline_ns = max_seconds * 1000000000LL;
  const int64_t start = now_ns();
  int64_t elapsed = 0;
  long done = 0;
  while (done < max_round_trips) {
    round_trip();
    done++;
    if (done % CLOCK_CHECK_EVERY == 0) {
      elapsed = now_ns() - start;
      if (elapsed >= deadline_ns) break;
    }
  }
  elapsed = now_ns() - start;

  __atomic_store_n(&turn, STOP, __ATOMIC_RELEASE);
  if (futex(&turn, FUTEX_WAKE, 1) < 0) fail("FUTEX_WAKE");
  pthread_join(thread, NULL);

  const char *where = main_cpu < 0 ? "any: unpinned"
                      : partner_cpu == main_cpu ? "same: cpu 0 and cpu 0"
                                                : "cross: cpu 0 and cpu 1";
  printf("pingpong: %ld round trips, %.1f ns per switch (%s)\n", done, (double)elapsed / (2.0 * (double)done), where);
  return 0;
}
