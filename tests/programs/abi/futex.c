// futex(2) through syscall(): WAIT and WAKE, timeouts, bitsets, requeue,
// WAKE_OP, the private flag, and the errors.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static long futex(uint32_t *word, int op, uint32_t value, const void *timeout, uint32_t *word2, uint32_t value3) {
  return syscall(SYS_futex, word, op, value, timeout, word2, value3);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t word1, word2;
static volatile int woke;

// Waits on `arg` (a word) while it is 0; counts the wake-ups.
static void *waiter(void *arg) {
  uint32_t *word = arg;
  while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == 0) futex(word, FUTEX_WAIT, 0, NULL, NULL, 0);
  __atomic_fetch_add(&woke, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static uint32_t bitset_word;
static void *bitset_waiter(void *arg) {
  long r = futex(&bitset_word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0x2);
  return (void *)r;
}

// Waits until `count` threads sleep in the futex hash: wake-ups are only
// counted once they are asleep, so poll with a 0-count requeue... simply
// give them time.
static void settle(void) {
  struct timespec pause = {0, 30 * 1000 * 1000};
  nanosleep(&pause, NULL);
}

int main(void) {
  uint32_t word = 1;
  CHECK_ERRNO(futex(&word, FUTEX_WAIT, 0, NULL, NULL, 0), EAGAIN, "FUTEX_WAIT on a changed value");
  check(futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "FUTEX_WAKE without waiters wakes 0");

  struct timespec timeout = {0, 20 * 1000 * 1000};
  word = 0;
  int64_t start = now_ns();
  CHECK_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 0, &timeout, NULL, 0), ETIMEDOUT, "FUTEX_WAIT with a 20 ms timeout");
  check(now_ns() - start >= 20 * 1000 * 1000, "the timeout waited at least 20 ms");

  struct timespec absolute;
  clock_gettime(CLOCK_REALTIME, &absolute);
  absolute.tv_nsec += 10 * 1000 * 1000;
  if (absolute.tv_nsec >= 1000000000) { absolute.tv_sec++; absolute.tv_nsec -= 1000000000; }
  CHECK_ERRNO(futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &absolute, NULL, FUTEX_BITSET_MATCH_ANY),
              ETIMEDOUT, "FUTEX_WAIT_BITSET with an absolute CLOCK_REALTIME timeout");

  // WAIT / WAKE between threads.
  pthread_t a;
  pthread_create(&a, NULL, waiter, &word1);
  settle();
  __atomic_store_n(&word1, 1, __ATOMIC_SEQ_CST);
  long woken = futex(&word1, FUTEX_WAKE, 1, NULL, NULL, 0);
  pthread_join(a, NULL);
  check(woken == 1 && woke == 1, "FUTEX_WAKE wakes the sleeping thread (woken %ld)", woken);

  // Bitsets: a wake with a disjoint bitset leaves the waiter asleep.
  pthread_t b;
  pthread_create(&b, NULL, bitset_waiter, NULL);
  settle();
  check(futex(&bitset_word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0x1) == 0,
        "FUTEX_WAKE_BITSET with a disjoint bitset wakes nobody");
  check(futex(&bitset_word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0x6) == 1,
        "FUTEX_WAKE_BITSET with an intersecting bitset wakes the waiter");
  void *result;
  pthread_join(b, &result);
  check(result == 0, "the bitset waiter returned 0");

  // CMP_REQUEUE: two waiters on word1; wake one, move one to word2.
  word1 = 0;
  word2 = 0;
  woke = 0;
  pthread_t c1, c2;
  pthread_create(&c1, NULL, waiter, &word1);
  pthread_create(&c2, NULL, waiter, &word1);
  settle();
  CHECK_ERRNO(futex(&word1, FUTEX_CMP_REQUEUE, 1, (void *)1, &word2, 5), EAGAIN, "FUTEX_CMP_REQUEUE with a stale value");
  // Both waiters check word1, so set it before waking (the requeued one
  // still sleeps on word2 until woken there).
  __atomic_store_n(&word1, 1, __ATOMIC_SEQ_CST);
  long moved = futex(&word1, FUTEX_CMP_REQUEUE, 1, (void *)1, &word2, 1);
  check(moved == 2, "FUTEX_CMP_REQUEUE wakes 1 and requeues 1 (returned %ld)", moved);
  settle();
  check(woke == 1, "one waiter woke");
  check(futex(&word1, FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "nobody is left on the first word");
  check(futex(&word2, FUTEX_WAKE, 1, NULL, NULL, 0) == 1, "the requeued waiter is on the second word");
  pthread_join(c1, NULL);
  pthread_join(c2, NULL);
  check(woke == 2, "both waiters finished");

  // WAKE_OP: word2 += 5 (old value 0 == 0, so wake on word2 too).
  word1 = 0;
  word2 = 0;
  long r = futex(&word1, FUTEX_WAKE_OP, 1, (void *)1, &word2, FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0));
  check(r == 0 && word2 == 5, "FUTEX_WAKE_OP applies its operation (returned %ld, word %u)", r, word2);

  // Errors.
  CHECK_ERRNO(futex((uint32_t *)((char *)&word + 1), FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL, "FUTEX_WAIT on a misaligned word");
  CHECK_ERRNO(futex((uint32_t *)16, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT, "FUTEX_WAIT on an unmapped word");
  CHECK_ERRNO(futex(&word, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0), EINVAL, "FUTEX_WAIT_BITSET with an empty bitset");
  struct timespec bad = {0, 2000000000};
  word = 0;
  CHECK_ERRNO(futex(&word, FUTEX_WAIT, 0, &bad, NULL, 0), EINVAL, "FUTEX_WAIT with an invalid timeout");
  CHECK_ERRNO(futex(&word, FUTEX_LOCK_PI, 0, NULL, NULL, 0), ENOSYS, "FUTEX_LOCK_PI (not implemented)");
  CHECK_ERRNO(futex(&word, 99, 0, NULL, NULL, 0), ENOSYS, "an unknown futex operation");
  return finish("futex");
}
