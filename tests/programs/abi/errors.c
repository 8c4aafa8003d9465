// Errors: unknown system calls return ENOSYS, bad pointers EFAULT, bad file
// descriptors EBADF, and the kernel carries on; plus the identity calls.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "check.h"

// An address the compiler cannot see through (so it does not warn about it).
static void *bad(uintptr_t address) {
  void *volatile pointer = (void *)address;
  return pointer;
}

int main(int argc, char **argv) {
  CHECK_ERRNO(syscall(999), ENOSYS, "system call 999");
  CHECK_ERRNO(syscall(SYS_acct, NULL), ENOSYS, "acct (not implemented)");
  CHECK_ERRNO(syscall(400), ENOSYS, "system call 400 (unused on x86-64)");
  CHECK_ERRNO(syscall(100000), ENOSYS, "system call 100000");

  CHECK_ERRNO(write(1, bad(16), 10), EFAULT, "write from the null page");
  CHECK_ERRNO(write(1, bad(0x123400000000ull), 10), EFAULT, "write from unmapped memory");
  CHECK_ERRNO(write(1, bad(0xffff800000100000ull), 10), EFAULT, "write from a kernel address");
  CHECK_ERRNO(write(1, bad(0x7ffffffffff0ull), 100), EFAULT, "write from a range crossing the top of user space");
  CHECK_ERRNO(syscall(SYS_uname, bad(8)), EFAULT, "uname into the null page");
  CHECK_ERRNO(syscall(SYS_getcwd, bad(0xffffffff80000000ull), 64), EFAULT, "getcwd into the kernel image");
  CHECK_ERRNO(open(bad(24), O_RDONLY), EFAULT, "open of a bad path pointer");
  CHECK_ERRNO(getrandom(bad(32), 16, 0), EFAULT, "getrandom into the null page");

  char byte = 'x';
  CHECK_ERRNO(write(42, &byte, 1), EBADF, "write to descriptor 42");
  CHECK_ERRNO(read(42, &byte, 1), EBADF, "read from descriptor 42");
  CHECK_ERRNO(close(42), EBADF, "close of descriptor 42");
  CHECK_ERRNO(write(-1, &byte, 1), EBADF, "write to descriptor -1");
  struct stat st;
  CHECK_ERRNO(fstat(42, &st), EBADF, "fstat of descriptor 42");
  CHECK_ERRNO(lseek(1, 0, SEEK_SET), ESPIPE, "lseek on the console");
  CHECK_ERRNO(open("/nonexistent", O_RDONLY), ENOENT, "open of a missing file");
  CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGKILL, &(struct sigaction){0}, NULL, 8), EINVAL, "sigaction on SIGKILL");
  CHECK_ERRNO(syscall(SYS_rt_sigprocmask, 7, &(sigset_t){0}, NULL, 8), EINVAL, "sigprocmask with a bad how");
  CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4), EINVAL, "sigaction with a bad set size");

  // The console is a terminal on descriptors 0-2.
  check(fstat(1, &st) == 0 && S_ISCHR(st.st_mode), "stdout is a character device");
  struct termios tio;
  check(tcgetattr(1, &tio) == 0 && isatty(1), "stdout is a terminal");
  struct winsize ws;
  check(ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0, "TIOCGWINSZ gives a size");
  check(write(2, "to stderr\n", 10) == 10, "write to stderr");

  struct utsname u;
  check(uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0,
        "uname says Linux on x86_64 (%s %s %s)", u.sysname, u.release, u.machine);
  check(getpid() > 0 && syscall(SYS_gettid) == getpid(), "getpid and gettid agree for the main thread");
  check(getuid() == 0 && geteuid() == 0 && getgid() == 0 && getegid() == 0, "root identities");
  char path[256] = {0};
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  check(n > 0 && strcmp(path, argv[0]) == 0, "readlink /proc/self/exe is the program path (%s)", path);
  char cwd[64];
  check(getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, "/") == 0, "getcwd is /");
  unsigned char random[32] = {0};
  int nonzero = 0;
  check(getrandom(random, sizeof random, 0) == sizeof random, "getrandom fills 32 bytes");
  for (size_t i = 0; i < sizeof random; i++) nonzero |= random[i];
  check(nonzero != 0, "the random bytes are not all zero");
  struct rlimit limit;
  check(getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur == 8 << 20, "RLIMIT_STACK is 8 MiB");
  check(getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur == 1024, "RLIMIT_NOFILE is 1024");
  limit.rlim_cur = limit.rlim_max;
  check(setrlimit(RLIMIT_NOFILE, &limit) == 0 && getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur == limit.rlim_max,
        "setrlimit then getrlimit");
  limit.rlim_cur = limit.rlim_max + 1;
  CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &limit), EINVAL, "setrlimit with soft above hard");
  cpu_set_t set;
  int affinity = sched_getaffinity(0, sizeof set, &set);
  check(affinity == 0 && CPU_COUNT(&set) >= 1, "sched_getaffinity: %d CPUs", CPU_COUNT(&set));
  check(sysconf(_SC_NPROCESSORS_ONLN) >= 1, "sysconf(_SC_NPROCESSORS_ONLN)");

  // Signal bookkeeping: an action set is read back; an ignored signal is harmless.
  struct sigaction action = {0}, old = {0};
  action.sa_handler = SIG_IGN;
  check(sigaction(SIGTERM, &action, NULL) == 0 && sigaction(SIGTERM, NULL, &old) == 0 && old.sa_handler == SIG_IGN,
        "sigaction stores and returns the action");
  check(raise(SIGTERM) == 0, "raise of an ignored signal returns");
  sigset_t block, previous;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  check(sigprocmask(SIG_BLOCK, &block, NULL) == 0 && sigprocmask(SIG_BLOCK, NULL, &previous) == 0 &&
        sigismember(&previous, SIGUSR2), "sigprocmask blocks and reports");
  stack_t alt = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0}, got;
  check(sigaltstack(&alt, NULL) == 0 && sigaltstack(NULL, &got) == 0 && got.ss_sp == alt.ss_sp, "sigaltstack");
  alt.ss_size = 100;
  CHECK_ERRNO(sigaltstack(&alt, NULL), ENOMEM, "sigaltstack smaller than MINSIGSTKSZ");
  printf("the kernel survived every bad call\n");
  return finish("errors");
}
