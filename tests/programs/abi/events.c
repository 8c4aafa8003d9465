// eventfd, poll/ppoll/select/pselect6, epoll and timerfd: counters and
// semaphores, readiness with and without timeouts, level- and
// edge-triggered epoll, ONESHOT and MOD, items vanishing with their files,
// 64 pipes fed by a thread, timer expirations.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define MS 1000000LL

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * MS};
  nanosleep(&t, NULL);
}

// A thread that sleeps, then writes 8 bytes (an eventfd increment of 1, or
// pipe data) to a descriptor.
struct delayed {
  int fd;
  int ms;
};

static void *write_later(void *arg) {
  struct delayed *d = arg;
  sleep_ms(d->ms);
  uint64_t one = 1;
  if (write(d->fd, &one, sizeof one) != sizeof one) return (void *)1;
  return NULL;
}

static pthread_t start_writer(struct delayed *d, int fd, int ms) {
  pthread_t thread;
  d->fd = fd;
  d->ms = ms;
  pthread_create(&thread, NULL, write_later, d);
  return thread;
}

static void eventfd_checks(void) {
  uint64_t value = 0;
  int fd = eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC);
  check(fd >= 0, "eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC)");
  check(fcntl(fd, F_GETFD) == FD_CLOEXEC && (fcntl(fd, F_GETFL) & O_NONBLOCK), "its flags");
  check(read(fd, &value, 8) == 8 && value == 5, "counter mode reads the whole count (%llu)", (unsigned long long)value);
  CHECK_ERRNO(read(fd, &value, 8), EAGAIN, "read at 0 without blocking");
  value = 3;
  check(write(fd, &value, 8) == 8, "write 3");
  value = 4;
  check(write(fd, &value, 8) == 8, "write 4");
  uint64_t wide[2] = {0, 0};
  check(read(fd, wide, 16) == 8 && wide[0] == 7, "a read takes the sum (%llu)", (unsigned long long)wide[0]);
  CHECK_ERRNO(read(fd, &value, 7), EINVAL, "a 7-byte read");
  CHECK_ERRNO(write(fd, &value, 4), EINVAL, "a 4-byte write");
  value = UINT64_MAX;
  CHECK_ERRNO(write(fd, &value, 8), EINVAL, "writing 0xffffffffffffffff");
  value = 1;
  write(fd, &value, 8);
  value = UINT64_MAX - 1;
  CHECK_ERRNO(write(fd, &value, 8), EAGAIN, "a write past 0xfffffffffffffffe without blocking");
  value = UINT64_MAX - 2;
  check(write(fd, &value, 8) == 8, "a write up to 0xfffffffffffffffe");
  check(read(fd, &value, 8) == 8 && value == UINT64_MAX - 1, "reads the maximum");
  struct stat st;
  check(fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0 && (st.st_mode & 0777) == 0600,
        "fstat: an anonymous inode, mode 0600 (%o)", st.st_mode);
  close(fd);

  fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
  int ones = 0;
  for (int i = 0; i < 3; i++) ones += read(fd, &value, 8) == 8 && value == 1;
  check(ones == 3, "semaphore mode reads 1 three times");
  CHECK_ERRNO(read(fd, &value, 8), EAGAIN, "then EAGAIN");
  close(fd);

  // Blocking: a read sleeps until another thread writes.
  fd = eventfd(0, 0);
  struct delayed d;
  int64_t start = now_ns();
  pthread_t thread = start_writer(&d, fd, 30);
  check(read(fd, &value, 8) == 8 && value == 1, "a blocking read wakes for a write from another thread");
  check(now_ns() - start >= 30 * MS, "after the writer's 30 ms");
  pthread_join(thread, NULL);
  close(fd);

  fd = syscall(SYS_eventfd, 2);
  check(fd >= 0 && read(fd, &value, 8) == 8 && value == 2, "the old eventfd call");
  close(fd);
  CHECK_ERRNO(eventfd(0, 0x4), EINVAL, "eventfd2 with an unknown flag");
}

static void poll_select_checks(void) {
  int p[2];
  pipe(p);
  struct pollfd fds[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}};
  check(poll(fds, 3, 0) == 1 && fds[0].revents == 0 && fds[1].revents == POLLOUT && fds[2].revents == 0,
        "poll: an empty pipe is writable, not readable; a negative fd is skipped");
  int64_t start = now_ns();
  check(poll(fds, 1, 50) == 0, "poll on an empty pipe times out");
  int64_t waited = now_ns() - start;
  check(waited >= 50 * MS, "a 50 ms poll timeout takes >= 50 ms (%lld ms)", (long long)(waited / MS));
  check(waited < 2000 * MS, "and not much longer");
  write(p[1], "x", 1);
  check(poll(fds, 2, -1) == 2 && fds[0].revents == POLLIN, "poll: readable after a write");

  // Blocking poll woken by a writer thread.
  char c;
  read(p[0], &c, 1);
  struct delayed d;
  start = now_ns();
  pthread_t thread = start_writer(&d, p[1], 30);
  check(poll(fds, 1, 5000) == 1 && fds[0].revents == POLLIN, "a blocking poll wakes for another thread's write");
  check(now_ns() - start >= 30 * MS, "after the writer's 30 ms");
  pthread_join(thread, NULL);
  uint64_t drain;
  read(p[0], &drain, 8);

  int closed = dup(0);
  close(closed);
  struct pollfd bad = {closed, POLLIN, 0};
  check(poll(&bad, 1, 0) == 1 && bad.revents == POLLNVAL, "poll: POLLNVAL for a closed descriptor");
  CHECK_ERRNO(syscall(SYS_poll, (void *)16, 1, 0), EFAULT, "poll with a bad array");
  CHECK_ERRNO(syscall(SYS_poll, fds, 1u << 30, 0), EINVAL, "poll with more entries than RLIMIT_NOFILE");

  // ppoll with a timeout and a signal mask.
  sigset_t mask;
  sigemptyset(&mask);
  struct timespec timeout = {0, 50 * MS};
  start = now_ns();
  check(ppoll(fds, 1, &timeout, &mask) == 0, "ppoll times out");
  check(now_ns() - start >= 50 * MS, "a 50 ms ppoll timeout takes >= 50 ms");
  write(p[1], "y", 1);
  timeout.tv_sec = 1;
  check(ppoll(fds, 1, &timeout, &mask) == 1 && fds[0].revents == POLLIN, "ppoll: readable");
  check(ppoll(fds, 1, NULL, NULL) == 1, "ppoll without a timeout, data ready");
  struct timespec negative = {-1, 0};
  CHECK_ERRNO(ppoll(fds, 1, &negative, NULL), EINVAL, "ppoll with a negative timeout");
  CHECK_ERRNO(syscall(SYS_ppoll, fds, 1, NULL, &mask, 4), EINVAL, "ppoll with a wrong sigset size");

  // select.
  fd_set readable, writable;
  FD_ZERO(&readable);
  FD_ZERO(&writable);
  FD_SET(p[0], &readable);
  FD_SET(p[1], &writable);
  int n = p[0] > p[1] ? p[0] + 1 : p[1] + 1;
  check(select(n, &readable, &writable, NULL, NULL) == 2 && FD_ISSET(p[0], &readable) && FD_ISSET(p[1], &writable),
        "select: readable and writable");
  read(p[0], &c, 1);
  FD_ZERO(&readable);
  FD_SET(p[0], &readable);
  struct timeval tv = {0, 50000};
  start = now_ns();
  check(select(n, &readable, NULL, NULL, &tv) == 0 && !FD_ISSET(p[0], &readable), "select times out with an empty set");
  waited = now_ns() - start;
  check(waited >= 50 * MS, "a 50 ms select timeout takes >= 50 ms (%lld ms)", (long long)(waited / MS));
  check(tv.tv_sec == 0 && tv.tv_usec == 0, "select wrote back the time left (0)");
  FD_SET(p[0], &readable);
  tv.tv_sec = 10;
  tv.tv_usec = 0;
  thread = start_writer(&d, p[1], 20);
  check(select(n, &readable, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &readable), "a blocking select wakes for a write");
  check(tv.tv_sec < 10 && tv.tv_sec >= 9, "and leaves the rest of its timeout (%ld s %ld us)", (long)tv.tv_sec, (long)tv.tv_usec);
  pthread_join(thread, NULL);
  read(p[0], &drain, 8);
  FD_ZERO(&readable);
  FD_SET(closed, &readable);
  CHECK_ERRNO(select(closed + 1, &readable, NULL, NULL, NULL), EBADF, "select on a closed descriptor");
  tv.tv_sec = -1;
  tv.tv_usec = 0;
  FD_ZERO(&readable);
  CHECK_ERRNO(select(1, &readable, NULL, NULL, &tv), EINVAL, "select with a negative timeout");
  CHECK_ERRNO(select(-1, NULL, NULL, NULL, NULL), EINVAL, "select with nfds -1");
  tv.tv_sec = 0;
  tv.tv_usec = 20000;
  start = now_ns();
  check(select(0, NULL, NULL, NULL, &tv) == 0 && now_ns() - start >= 20 * MS, "select(0, ...) sleeps its timeout");

  // pselect6 with a signal mask.
  FD_ZERO(&readable);
  FD_SET(p[0], &readable);
  timeout.tv_sec = 0;
  timeout.tv_nsec = 50 * MS;
  start = now_ns();
  check(pselect(n, &readable, NULL, NULL, &timeout, &mask) == 0, "pselect times out");
  check(now_ns() - start >= 50 * MS, "a 50 ms pselect timeout takes >= 50 ms");
  write(p[1], "z", 1);
  FD_SET(p[0], &readable);
  check(pselect(n, &readable, NULL, NULL, NULL, &mask) == 1 && FD_ISSET(p[0], &readable), "pselect: readable");
  read(p[0], &c, 1);

  // poll and select on an eventfd; POLLHUP once the writer is gone.
  int e = eventfd(0, EFD_NONBLOCK);
  struct pollfd ef = {e, POLLIN | POLLOUT, 0};
  check(poll(&ef, 1, 0) == 1 && ef.revents == POLLOUT, "eventfd at 0: writable only");
  uint64_t one = 1;
  write(e, &one, 8);
  check(poll(&ef, 1, 0) == 1 && ef.revents == (POLLIN | POLLOUT), "eventfd at 1: readable and writable");
  FD_ZERO(&readable);
  FD_SET(e, &readable);
  check(select(e + 1, &readable, NULL, NULL, NULL) == 1 && FD_ISSET(e, &readable), "select on an eventfd");
  close(e);
  close(p[1]);
  fds[0].events = POLLIN;
  check(poll(fds, 1, 0) == 1 && (fds[0].revents & POLLHUP), "POLLHUP on the read end when the writer is gone");
  close(p[0]);
  pipe(p);
  close(p[0]);
  struct pollfd wf = {p[1], POLLOUT, 0};
  check(poll(&wf, 1, 0) == 1 && (wf.revents & POLLERR), "POLLERR on the write end when the reader is gone");
  close(p[1]);
}

// 64 pipes in one epoll; a thread writes ROUNDS bytes to each in turns.
#define PIPES 64
#define ROUNDS 50
static int many[PIPES][2];

static void *spray(void *arg) {
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < PIPES; i++) {
      int k = (i * 37 + round) % PIPES;
      if (write(many[k][1], "m", 1) != 1) return (void *)1;
    }
    if (round % 10 == 0) sleep_ms(1);
  }
  return NULL;
}

static void epoll_checks(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  check(ep >= 0 && fcntl(ep, F_GETFD) == FD_CLOEXEC, "epoll_create1(EPOLL_CLOEXEC)");
  int p[2];
  pipe(p);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
  check(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "EPOLL_CTL_ADD a pipe's read end");
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST, "adding it again");
  struct epoll_event out[8];
  int64_t start = now_ns();
  check(epoll_wait(ep, out, 8, 50) == 0, "epoll_wait on an empty pipe times out");
  int64_t waited = now_ns() - start;
  check(waited >= 50 * MS, "a 50 ms epoll_wait timeout takes >= 50 ms (%lld ms)", (long long)(waited / MS));
  write(p[1], "ab", 2);
  check(epoll_wait(ep, out, 8, -1) == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 0x1122334455667788ULL,
        "level-triggered: readable, with its data");
  check(epoll_wait(ep, out, 8, 0) == 1, "level-triggered: still reported while data remains");
  char buffer[16];
  read(p[0], buffer, sizeof buffer);
  check(epoll_wait(ep, out, 8, 0) == 0, "level-triggered: not once drained");

  // Blocking epoll_wait woken by another thread.
  struct delayed d;
  start = now_ns();
  pthread_t thread = start_writer(&d, p[1], 30);
  check(epoll_wait(ep, out, 8, 5000) == 1 && out[0].events == EPOLLIN, "a blocking epoll_wait wakes for a write");
  check(now_ns() - start >= 30 * MS, "after the writer's 30 ms");
  pthread_join(thread, NULL);
  read(p[0], buffer, sizeof buffer);

  // poll on the epoll descriptor itself.
  struct pollfd pe = {ep, POLLIN, 0};
  check(poll(&pe, 1, 0) == 0, "poll on an idle epoll: nothing");
  write(p[1], "c", 1);
  check(poll(&pe, 1, 1000) == 1 && pe.revents == POLLIN, "poll on an epoll with a ready item: POLLIN");
  read(p[0], buffer, sizeof buffer);

  // Edge-triggered.
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u32 = 7;
  check(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "EPOLL_CTL_MOD to edge-triggered");
  write(p[1], "d", 1);
  check(epoll_wait(ep, out, 8, 1000) == 1 && out[0].data.u32 == 7, "edge-triggered: reported once");
  check(epoll_wait(ep, out, 8, 0) == 0, "edge-triggered: not again without a new write");
  write(p[1], "e", 1);
  check(epoll_wait(ep, out, 8, 1000) == 1, "edge-triggered: reported after a new write");
  read(p[0], buffer, sizeof buffer);

  // ONESHOT, then MOD re-arms.
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u32 = 9;
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
  write(p[1], "f", 1);
  check(epoll_wait(ep, out, 8, 1000) == 1 && out[0].data.u32 == 9, "ONESHOT: reported");
  write(p[1], "g", 1);
  check(epoll_wait(ep, out, 8, 50) == 0, "ONESHOT: disabled after firing");
  check(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "MOD re-arms");
  check(epoll_wait(ep, out, 8, 1000) == 1 && out[0].data.u32 == 9, "ONESHOT: reported again after MOD");
  read(p[0], buffer, sizeof buffer);

  // The write end: EPOLLOUT; EPOLLERR once the reader is gone. DEL.
  ev.events = EPOLLOUT;
  ev.data.u32 = 11;
  check(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev) == 0, "ADD the write end for EPOLLOUT");
  check(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0, "DEL the read end");
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT, "DEL it again");
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT, "MOD an unregistered descriptor");
  check(epoll_wait(ep, out, 8, 0) == 1 && out[0].events == EPOLLOUT && out[0].data.u32 == 11, "the write end is writable");
  close(p[0]);
  check(epoll_wait(ep, out, 8, 0) == 1 && out[0].events == (EPOLLOUT | EPOLLERR), "EPOLLERR once the reader is gone (%x)",
        out[0].events);
  close(p[1]);
  check(epoll_wait(ep, out, 8, 0) == 0, "closing a registered descriptor removes its item");

  // Closing a ready, registered file removes it too; a dup keeps it.
  pipe(p);
  ev.events = EPOLLIN;
  ev.data.u32 = 12;
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  write(p[1], "h", 1);
  int copy = dup(p[0]);
  close(p[0]);
  check(epoll_wait(ep, out, 8, 0) == 1 && out[0].data.u32 == 12, "an item lives while a dup keeps its file open");
  close(copy);
  check(epoll_wait(ep, out, 8, 0) == 0, "and goes with the file's last descriptor");
  close(p[1]);

  // eventfd in epoll, edge-triggered.
  int e = eventfd(0, EFD_NONBLOCK);
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u32 = 13;
  epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
  check(epoll_wait(ep, out, 8, 0) == 0, "eventfd at 0: nothing");
  uint64_t one = 1;
  write(e, &one, 8);
  check(epoll_wait(ep, out, 8, 1000) == 1 && out[0].data.u32 == 13, "eventfd: an edge after a write");
  check(epoll_wait(ep, out, 8, 0) == 0, "eventfd: one edge only");
  write(e, &one, 8);
  check(epoll_wait(ep, out, 8, 1000) == 1, "eventfd: a new edge after another write");
  ev.events = EPOLLIN;
  epoll_ctl(ep, EPOLL_CTL_MOD, e, &ev);
  check(epoll_wait(ep, out, 8, 0) == 1, "eventfd level-triggered after MOD: readable");
  uint64_t value;
  read(e, &value, 8);
  check(epoll_wait(ep, out, 8, 0) == 0, "eventfd level-triggered: not after the read");
  close(e);

  // epoll_pwait and epoll_pwait2.
  sigset_t mask;
  sigemptyset(&mask);
  start = now_ns();
  check(epoll_pwait(ep, out, 8, 30, &mask) == 0 && now_ns() - start >= 30 * MS, "epoll_pwait times out after >= 30 ms");
  struct timespec ts = {0, 30 * MS};
  start = now_ns();
  check(syscall(441, ep, out, 8, &ts, NULL, 8) == 0 && now_ns() - start >= 30 * MS, "epoll_pwait2 times out after >= 30 ms");
  CHECK_ERRNO(syscall(SYS_epoll_pwait, ep, out, 8, 0, &mask, 4), EINVAL, "epoll_pwait with a wrong sigset size");

  // Errors.
  pipe(p);
  CHECK_ERRNO(epoll_wait(ep, out, 0, 0), EINVAL, "epoll_wait with maxevents 0");
  CHECK_ERRNO(epoll_wait(p[0], out, 8, 0), EINVAL, "epoll_wait on a pipe");
  int closed = dup(0);
  close(closed);
  CHECK_ERRNO(epoll_wait(closed, out, 8, 0), EBADF, "epoll_wait on a closed descriptor");
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, closed, &ev), EBADF, "adding a closed descriptor");
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL, "adding an epoll to itself");
  CHECK_ERRNO(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL, "epoll_ctl on a pipe");
  CHECK_ERRNO(epoll_ctl(ep, 99, p[0], &ev), EINVAL, "an unknown op");
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], NULL), EFAULT, "ADD without an event");
  ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EINVAL, "EPOLLEXCLUSIVE with EPOLLONESHOT");
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  check(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "EPOLLEXCLUSIVE is accepted");
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL, "MOD of an EPOLLEXCLUSIVE item");
  CHECK_ERRNO(epoll_create(0), EINVAL, "epoll_create(0)");
  CHECK_ERRNO(epoll_create1(1), EINVAL, "epoll_create1 with an unknown flag");
  int old = epoll_create(1);
  check(old >= 0 && fcntl(old, F_GETFD) == 0, "epoll_create(1)");
  close(old);
  close(p[0]);
  close(p[1]);

  // 64 pipes, one writer thread.
  int ep2 = epoll_create1(0);
  int registered = 0;
  for (int i = 0; i < PIPES; i++) {
    pipe(many[i]);
    struct epoll_event item = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    registered += epoll_ctl(ep2, EPOLL_CTL_ADD, many[i][0], &item) == 0;
  }
  check(registered == PIPES, "64 pipes registered");
  pthread_t sprayer;
  pthread_create(&sprayer, NULL, spray, NULL);
  int counts[PIPES] = {0};
  int total = 0, bad = 0;
  start = now_ns();
  while (total < PIPES * ROUNDS && now_ns() - start < 30000 * MS) {
    struct epoll_event events[16];
    int n = epoll_wait(ep2, events, 16, 2000);
    if (n < 0) {
      bad++;
      break;
    }
    for (int j = 0; j < n; j++) {
      uint32_t i = events[j].data.u32;
      if (i >= PIPES || events[j].events != EPOLLIN) {
        bad++;
        continue;
      }
      char bytes[ROUNDS];
      ssize_t r = read(many[i][0], bytes, sizeof bytes);
      if (r > 0) {
        counts[i] += (int)r;
        total += (int)r;
      }
    }
  }
  void *status;
  pthread_join(sprayer, &status);
  int exact = 1;
  for (int i = 0; i < PIPES; i++) exact &= counts[i] == ROUNDS;
  check(bad == 0 && status == NULL && total == PIPES * ROUNDS && exact, "every byte of %d came through epoll (%d)", PIPES * ROUNDS,
        total);
  check(epoll_wait(ep2, out, 8, 0) == 0, "nothing left afterwards");
  for (int i = 0; i < PIPES; i++) {
    close(many[i][0]);
    close(many[i][1]);
  }
  close(ep2);
  close(ep);
}

// Files registered and closed by one thread while another waits on the
// epoll: items vanish with their files while epoll_wait examines them.
#define CHURN 1500
static int churn_ep;
static volatile int churn_done;

static void *churn(void *arg) {
  long failures = 0;
  for (int i = 0; i < CHURN; i++) {
    int q[2];
    if (pipe(q) != 0) {
      failures++;
      continue;
    }
    struct epoll_event item = {.events = (i & 1) ? EPOLLIN : EPOLLIN | EPOLLET, .data.u32 = 1000};
    failures += epoll_ctl(churn_ep, EPOLL_CTL_ADD, q[0], &item) != 0;
    failures += write(q[1], "c", 1) != 1;
    if (i % 3 == 0) failures += epoll_ctl(churn_ep, EPOLL_CTL_DEL, q[0], NULL) != 0;
    close(q[0]);
    close(q[1]);
  }
  __atomic_store_n(&churn_done, 1, __ATOMIC_SEQ_CST);
  return (void *)failures;
}

static void churn_checks(int leaks) {
  churn_ep = epoll_create1(0);
  pthread_t thread;
  pthread_create(&thread, NULL, churn, NULL);
  long waits = 0, seen = 0, wrong = 0;
  while (!__atomic_load_n(&churn_done, __ATOMIC_SEQ_CST)) {
    struct epoll_event events[8];
    int n = epoll_wait(churn_ep, events, 8, 1);
    waits++;
    if (n < 0) wrong++;
    for (int j = 0; j < n; j++) {
      seen++;
      if (events[j].data.u32 != 1000) wrong++;
    }
  }
  void *failures;
  pthread_join(thread, &failures);
  check(failures == NULL && wrong == 0, "%d pipes registered and closed during %ld epoll_waits (%ld events)", CHURN, waits, seen);
  struct epoll_event out;
  check(epoll_wait(churn_ep, &out, 1, 0) == 0, "no item outlives its file");

  // Closing an epoll with live items leaves the files working.
  int q[2];
  pipe(q);
  struct epoll_event item = {.events = EPOLLIN, .data.u32 = 1};
  epoll_ctl(churn_ep, EPOLL_CTL_ADD, q[0], &item);
  write(q[1], "x", 1);
  close(churn_ep);
  char c;
  check(read(q[0], &c, 1) == 1 && write(q[1], "y", 1) == 1 && read(q[0], &c, 1) == 1,
        "a pipe still works after its epoll is closed");
  close(q[0]);
  close(q[1]);

  // Nothing leaks: 6000 rounds of an epoll with a registered pipe, an
  // eventfd and an armed timerfd, closed in alternating orders (6000 leaked
  // 64 KiB pipes would not fit the test VM's memory).
  if (!leaks) return;
  int rounds = 0;
  for (int i = 0; i < 6000; i++) {
    int ep = epoll_create1(0);
    int e = eventfd(0, 0);
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    if (ep < 0 || e < 0 || t < 0 || pipe(q) != 0) break;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
    struct itimerspec later = {{0, 0}, {10, 0}};
    timerfd_settime(t, 0, &later, NULL);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) != 0)
      break;
    if (i & 1) close(ep);
    close(q[0]);
    close(q[1]);
    close(e);
    close(t);
    if (!(i & 1)) close(ep);
    rounds++;
  }
  check(rounds == 6000, "6000 rounds of epoll, pipe, eventfd and timerfd opened and closed (%d)", rounds);
}

static void timerfd_checks(void) {
  int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  check(t >= 0 && fcntl(t, F_GETFD) == FD_CLOEXEC, "timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)");
  struct itimerspec spec = {{0, 0}, {0, 50 * MS}};
  struct itimerspec old;
  int64_t start = now_ns();
  check(timerfd_settime(t, 0, &spec, NULL) == 0, "arm a 50 ms one-shot");
  struct itimerspec now;
  check(timerfd_gettime(t, &now) == 0 && now.it_value.tv_sec == 0 && now.it_value.tv_nsec > 0 &&
            now.it_value.tv_nsec <= 50 * MS && now.it_interval.tv_nsec == 0,
        "gettime: time left (%ld ns)", now.it_value.tv_nsec);
  uint64_t count = 0;
  check(read(t, &count, 8) == 8 && count == 1, "a blocking read: one expiration");
  int64_t waited = now_ns() - start;
  check(waited >= 50 * MS, "after >= 50 ms (%lld ms)", (long long)(waited / MS));
  check(timerfd_gettime(t, &now) == 0 && now.it_value.tv_sec == 0 && now.it_value.tv_nsec == 0, "a fired one-shot is disarmed");

  // Periodic: 20 ms period, counted without reading for ~110 ms.
  int nb = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
  CHECK_ERRNO(read(nb, &count, 8), EAGAIN, "a disarmed nonblocking timerfd: EAGAIN");
  spec.it_interval.tv_nsec = 20 * MS;
  spec.it_value.tv_nsec = 20 * MS;
  start = now_ns();
  timerfd_settime(nb, 0, &spec, NULL);
  sleep_ms(110);
  check(read(nb, &count, 8) == 8, "periodic: read");
  int64_t elapsed = now_ns() - start;
  int64_t expected = elapsed / (20 * MS);
  check(count >= 4 && (int64_t)count <= expected, "periodic: %llu expirations in %lld ms", (unsigned long long)count,
        (long long)(elapsed / MS));
  struct pollfd pf = {nb, POLLIN, 0};
  check(poll(&pf, 1, 1000) == 1 && pf.revents == POLLIN, "poll: readable at the next period");
  check(read(nb, &count, 8) == 8 && count >= 1, "and the read counts it");
  check(timerfd_gettime(nb, &now) == 0 && now.it_interval.tv_nsec == 20 * MS, "gettime shows the interval");
  struct itimerspec off = {{0, 0}, {0, 0}};
  check(timerfd_settime(nb, 0, &off, &old) == 0 && old.it_interval.tv_nsec == 20 * MS, "disarm returns the old setting");
  sleep_ms(50);
  CHECK_ERRNO(read(nb, &count, 8), EAGAIN, "disarmed: nothing more");

  // In epoll, with an absolute CLOCK_REALTIME expiry.
  int rt = timerfd_create(CLOCK_REALTIME, 0);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 5};
  epoll_ctl(ep, EPOLL_CTL_ADD, rt, &ev);
  struct timespec wall;
  // The elapsed time counts from before the wall clock is read: a pause
  // between the two (the host descheduling a vCPU) must not look like an
  // early expiry.
  start = now_ns();
  clock_gettime(CLOCK_REALTIME, &wall);
  wall.tv_nsec += 30 * MS;
  if (wall.tv_nsec >= 1000000000) {
    wall.tv_sec++;
    wall.tv_nsec -= 1000000000;
  }
  struct itimerspec absolute = {{0, 0}, wall};
  check(timerfd_settime(rt, TFD_TIMER_ABSTIME, &absolute, NULL) == 0, "arm CLOCK_REALTIME absolute, 30 ms ahead");
  struct epoll_event out;
  check(epoll_wait(ep, &out, 1, 2000) == 1 && out.data.u32 == 5, "epoll_wait sees the expiry");
  check(now_ns() - start >= 29 * MS, "after about 30 ms (%lld ms)", (long long)((now_ns() - start) / MS));
  check(read(rt, &count, 8) == 8 && count == 1, "one expiration");
  absolute.it_value.tv_sec = 1;
  absolute.it_value.tv_nsec = 0;
  timerfd_settime(rt, TFD_TIMER_ABSTIME, &absolute, NULL);
  check(epoll_wait(ep, &out, 1, 1000) == 1 && read(rt, &count, 8) == 8 && count == 1, "an absolute time in the past fires at once");
  close(ep);
  close(rt);

  // Errors.
  CHECK_ERRNO(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL, "timerfd on a CPU-time clock");
  CHECK_ERRNO(timerfd_create(CLOCK_MONOTONIC, 0x1), EINVAL, "timerfd_create with an unknown flag");
  spec.it_value.tv_nsec = 1000000000;
  CHECK_ERRNO(timerfd_settime(t, 0, &spec, NULL), EINVAL, "tv_nsec = 1000000000");
  spec.it_value.tv_nsec = 1;
  CHECK_ERRNO(timerfd_settime(t, 0x10, &spec, NULL), EINVAL, "settime with an unknown flag");
  int p[2];
  pipe(p);
  CHECK_ERRNO(timerfd_settime(p[0], 0, &spec, NULL), EINVAL, "settime on a pipe");
  CHECK_ERRNO(timerfd_gettime(p[0], &now), EINVAL, "gettime on a pipe");
  CHECK_ERRNO(read(t, &count, 4), EINVAL, "a 4-byte read");
  close(p[0]);
  close(p[1]);
  // Closing an armed periodic timer is safe.
  spec.it_interval.tv_nsec = 1 * MS;
  spec.it_value.tv_nsec = 1 * MS;
  timerfd_settime(t, 0, &spec, NULL);
  sleep_ms(5);
  close(t);
  close(nb);
  sleep_ms(5);
  check(1, "closed an armed 1 ms periodic timer");
}

int main(int argc, char **argv) {
  // "leaks": also the (slow) loop that would exhaust memory if files leaked.
  int leaks = argc > 1 && strcmp(argv[1], "leaks") == 0;
  signal(SIGPIPE, SIG_IGN);
  eventfd_checks();
  poll_select_checks();
  epoll_checks();
  churn_checks(leaks);
  timerfd_checks();
  return finish("events");
}
