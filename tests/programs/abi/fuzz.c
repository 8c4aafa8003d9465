// Robustness: calls every system call number (0-470 and a few beyond) with
// arguments drawn from values that break naive kernels (NULL, misaligned,
// unmapped, kernel and non-canonical addresses, huge sizes, negative
// numbers), many times over, and checks the kernel is still there. Calls
// that would end or wreck the program itself (exit, clone, signals, memory
// mapping at random addresses, TLS, closing the console) or block forever
// (futex waits, sleeps on garbage, pipes and eventfds nobody writes) are left
// out; their own tests cover them. poll, select and epoll_wait get a zero
// timeout.
//   fuzz [seed]
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint64_t next(void) {
  // xorshift64*
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1dull;
}

static int skipped(long nr) {
  switch (nr) {
    case SYS_exit: case SYS_exit_group: case SYS_clone: case SYS_clone3: case SYS_fork: case SYS_vfork:
    case SYS_kill: case SYS_tkill: case SYS_tgkill: case SYS_rt_sigqueueinfo: case SYS_rt_tgsigqueueinfo:
    case SYS_mmap: case SYS_munmap: case SYS_mremap: case SYS_mprotect: case SYS_madvise: case SYS_brk:
    case SYS_arch_prctl: case SYS_close: case SYS_futex: case SYS_write: case SYS_writev: case SYS_pwritev:
    case SYS_pwritev2: case SYS_execve: case SYS_execveat: case SYS_nanosleep: case SYS_clock_nanosleep:
    case SYS_pause: case SYS_rt_sigsuspend: case SYS_set_tid_address: case SYS_sched_setaffinity:
    case SYS_reboot: case SYS_close_range:
    // Files whose reads block until someone writes (the fuzzer never does).
    case SYS_pipe: case SYS_pipe2: case SYS_eventfd: case SYS_eventfd2: case SYS_timerfd_create:
      return 1;
  }
  return 0;
}

static struct { long seconds, fraction; } zero_timeout;

// The readiness waits run with a zero timeout: with a longer one they may
// wait that long, as on Linux.
static void bound_wait(long nr, uint64_t *a) {
  switch (nr) {
    case SYS_poll: a[2] = 0; break;
    case SYS_ppoll: a[2] = (uint64_t)&zero_timeout; break;
    case SYS_select: case SYS_pselect6: a[4] = (uint64_t)&zero_timeout; break;
    case SYS_epoll_wait: case SYS_epoll_pwait: a[3] = 0; break;
    case SYS_epoll_pwait2: a[3] = (uint64_t)&zero_timeout; break;
  }
}

int main(int argc, char **argv) {
  if (argc > 1) state ^= (uint64_t)atoll(argv[1]) * 0x100000001b3ull;
  // A writable arena for the "valid pointer" arguments.
  unsigned char *arena = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(arena != MAP_FAILED, "mmap the arena");
  const uint64_t values[] = {
      0, 1, 2, 3, 7, 8, 16, 64, 4095, 4096, 65536, 0x7fffffff, 0x80000000, 0xffffffff,
      (uint64_t)-1, (uint64_t)-2, (uint64_t)-100, 0x7fffffffffffffffull, 0x8000000000000000ull,
      0x1000, 0x10000, 0x123456789000ull, 0x7ffffffff000ull, 0x7fffffffffffull, 0x800000000000ull,
      0xffff800000000000ull, 0xffff800000100000ull, 0xffffffff80000000ull, 0xdead0000beefull,
      (uint64_t)arena, (uint64_t)arena + 1, (uint64_t)arena + 4093, (uint64_t)arena + (1 << 16) - 8,
  };
  const int count = sizeof values / sizeof values[0];
  long calls = 0;
  for (int round = 0; round < 40; round++) {
    for (long nr = 0; nr < 470; nr++) {
      if (skipped(nr)) continue;
      uint64_t a[6];
      for (int i = 0; i < 6; i++) a[i] = values[next() % count];
      bound_wait(nr, a);
      syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
      calls++;
    }
  }
  for (int i = 0; i < 200; i++) syscall((long)(next() | 0x1000), 0, 0, 0, 0, 0, 0);
  check(calls > 15000, "%ld calls with hostile arguments", calls);
  check(getpid() > 0 && write(1, "", 0) == 0, "the kernel still answers");
  return finish("fuzz");
}
