// Threads: create and join 4 threads, a mutex-protected counter, a condition
// variable, __thread variables, exit values (returned and through
// pthread_exit), distinct thread ids, FPU state that survives switches.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

enum { THREADS = 4, ROUNDS = 20000 };

static __thread int tls_index = -1;
static __thread char tls_buffer[64];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long counter;
static int arrived;
static int released;
static pid_t tids[THREADS];
static int tls_ok[THREADS];
static int fpu_ok[THREADS];

static double harmonic(int n, double scale) {
  double sum = 0;
  for (int k = 1; k <= n; k++) sum += scale / k;
  return sum;
}

static void *worker(void *arg) {
  int index = (int)(intptr_t)arg;
  tls_index = index;
  snprintf(tls_buffer, sizeof tls_buffer, "thread %d", index);
  tids[index] = (pid_t)syscall(SYS_gettid);
  double expected = harmonic(20000, index + 1.5);
  for (int i = 0; i < ROUNDS; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    pthread_mutex_unlock(&lock);
    if (i % 5000 == 0) sched_yield();
  }
  // Meet the others: everyone waits until all arrived and main releases them.
  pthread_mutex_lock(&lock);
  arrived++;
  pthread_cond_broadcast(&changed);
  while (!released) pthread_cond_wait(&changed, &lock);
  pthread_mutex_unlock(&lock);
  char want[64];
  snprintf(want, sizeof want, "thread %d", index);
  tls_ok[index] = tls_index == index && strcmp(tls_buffer, want) == 0;
  // SSE state: recomputing after all the switches gives the same bits.
  fpu_ok[index] = harmonic(20000, index + 1.5) == expected;
  if (index == THREADS - 1) pthread_exit((void *)(intptr_t)(200 + index));
  return (void *)(intptr_t)(100 + index);
}

// Fills the 128-byte red zone below RSP (which leaf code may use without
// moving RSP), spins long enough to be preempted by timer interrupts, and
// counts the red-zone words that changed meanwhile: on Wisp, applications
// run at ring 0, and an interrupt must not push its frame there.
static long red_zone_damage(long spins) {
  long damaged;
  __asm__ volatile(
      "mov $0x5a5aa5a5c3c33c3c, %%rax\n\t"
      "mov $-128, %%rcx\n"
      "1:\n\t"
      "mov %%rax, (%%rsp,%%rcx)\n\t"
      "add $8, %%rcx\n\t"
      "jnz 1b\n"
      "2:\n\t"
      "dec %[spins]\n\t"
      "jnz 2b\n\t"
      "xor %[damaged], %[damaged]\n\t"
      "mov $-128, %%rcx\n"
      "3:\n\t"
      "cmp %%rax, (%%rsp,%%rcx)\n\t"
      "je 4f\n\t"
      "inc %[damaged]\n"
      "4:\n\t"
      "add $8, %%rcx\n\t"
      "jnz 3b\n"
      : [damaged] "=&r"(damaged), [spins] "+r"(spins)
      :
      : "rax", "rcx", "cc", "memory");
  return damaged;
}

static long spinner_damage[2];
static int spinner_tls_ok[2];

static void *spinner(void *arg) {
  int index = (int)(intptr_t)arg;
  tls_index = 1000 + index;
  long damage = 0;
  for (int round = 0; round < 8; round++) damage += red_zone_damage(3000000);
  spinner_damage[index] = damage;
  spinner_tls_ok[index] = tls_index == 1000 + index;
  return NULL;
}

static _Atomic long churn_total;

static void *short_lived(void *arg) {
  tls_index = (int)(intptr_t)arg;
  char *scratch = malloc(512 + tls_index);
  memset(scratch, tls_index, 512);
  churn_total += tls_index;
  free(scratch);
  return (void *)(intptr_t)(tls_index * 2);
}

int main(void) {
  tls_index = 99;
  pthread_t threads[THREADS];
  int created = 1;
  for (int i = 0; i < THREADS; i++) created &= pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i) == 0;
  check(created, "pthread_create x%d", THREADS);

  pthread_mutex_lock(&lock);
  while (arrived < THREADS) pthread_cond_wait(&changed, &lock);
  check(counter == (long)THREADS * ROUNDS, "mutex counter reached %ld (want %d)", counter, THREADS * ROUNDS);
  released = 1;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);

  int exits_ok = 1;
  for (int i = 0; i < THREADS; i++) {
    void *value = NULL;
    int joined = pthread_join(threads[i], &value);
    intptr_t want = i == THREADS - 1 ? 200 + i : 100 + i;
    if (joined != 0 || (intptr_t)value != want) exits_ok = 0;
  }
  check(exits_ok, "pthread_join returns each thread's exit value (return and pthread_exit)");
  int all_tls = 1, all_fpu = 1, distinct = 1;
  for (int i = 0; i < THREADS; i++) {
    all_tls &= tls_ok[i];
    all_fpu &= fpu_ok[i];
    for (int j = 0; j < i; j++) distinct &= tids[i] != tids[j];
    distinct &= tids[i] != getpid() && tids[i] > 0;
  }
  check(all_tls, "each thread sees its own __thread variables");
  check(tls_index == 99, "the main thread's __thread variable is untouched");
  check(all_fpu, "floating-point results survive context switches");
  check(distinct, "threads have distinct ids, none the process id");
  check(syscall(SYS_gettid) == getpid(), "the main thread's id is the process id");

  // A second round: threads that end before anyone joins them.
  pthread_t quick[THREADS];
  int ok = 1;
  for (int i = 0; i < THREADS; i++) ok &= pthread_create(&quick[i], NULL, worker, (void *)(intptr_t)i) == 0;
  for (int i = 0; i < THREADS; i++) ok &= pthread_join(quick[i], NULL) == 0;
  check(ok && counter == 2L * THREADS * ROUNDS, "a second round of threads runs and joins");

  // Two threads spinning at once: on one CPU they preempt each other.
  pthread_t spinners[2];
  for (int i = 0; i < 2; i++) pthread_create(&spinners[i], NULL, spinner, (void *)(intptr_t)i);
  long main_damage = red_zone_damage(3000000);
  for (int i = 0; i < 2; i++) pthread_join(spinners[i], NULL);
  check(spinner_damage[0] == 0 && spinner_damage[1] == 0 && main_damage == 0,
        "the red zone survives interrupts and preemption (damaged words: %ld %ld %ld)",
        spinner_damage[0], spinner_damage[1], main_damage);
  check(spinner_tls_ok[0] && spinner_tls_ok[1], "__thread variables survive preemption");

  // Many short-lived threads: ids, stacks and kernel records are reused.
  long churn_expected = 0;
  int churn_ok = 1;
  for (int round = 0; round < 10; round++) {
    pthread_t batch[16];
    for (int i = 0; i < 16; i++) {
      churn_ok &= pthread_create(&batch[i], NULL, short_lived, (void *)(intptr_t)(i + 1)) == 0;
      churn_expected += i + 1;
    }
    for (int i = 0; i < 16; i++) {
      void *value = NULL;
      churn_ok &= pthread_join(batch[i], &value) == 0 && (intptr_t)value == 2 * (i + 1);
    }
  }
  check(churn_ok && churn_total == churn_expected, "160 short-lived threads in batches of 16");

  // A detached thread.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t detached;
  check(pthread_create(&detached, &attr, worker, (void *)(intptr_t)0) == 0, "pthread_create detached");
  return finish("pthread");
}
