// Pipes: 1 MiB between two threads with a checksum, nonblocking EAGAIN, end
// of file, EPIPE, atomic PIPE_BUF writes from four threads, FIONREAD, fstat,
// pipe2 flags and errors.
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#define TOTAL (1024 * 1024)

static uint32_t checksum(uint32_t sum, const unsigned char *data, size_t n) {
  for (size_t i = 0; i < n; i++) sum = sum * 31 + data[i];
  return sum;
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 11)); }

struct stream {
  int fd;
  uint32_t sum;
  size_t bytes;
};

static void *writer(void *arg) {
  struct stream *s = arg;
  static unsigned char chunk[7000];
  size_t sent = 0;
  while (sent < TOTAL) {
    size_t n = sizeof chunk;
    if (n > TOTAL - sent) n = TOTAL - sent;
    for (size_t i = 0; i < n; i++) chunk[i] = pattern(sent + i);
    ssize_t w = write(s->fd, chunk, n);
    if (w <= 0) break;
    s->sum = checksum(s->sum, chunk, (size_t)w);
    sent += (size_t)w;
  }
  s->bytes = sent;
  close(s->fd);
  return NULL;
}

#define WRITERS 4
#define RECORDS 200

static int atomic_fd;

// Writes RECORDS records of PIPE_BUF bytes, each filled with its writer's tag.
static void *record_writer(void *arg) {
  unsigned char tag = (unsigned char)(uintptr_t)arg;
  static __thread unsigned char record[PIPE_BUF];
  memset(record, tag, sizeof record);
  for (int i = 0; i < RECORDS; i++) {
    if (write(atomic_fd, record, sizeof record) != (ssize_t)sizeof record) return (void *)1;
  }
  return NULL;
}

int main(int argc, char **argv) {
  // "leaks": also the (slow) loops that would exhaust memory if files leaked.
  int leaks = argc > 1 && strcmp(argv[1], "leaks") == 0;
  signal(SIGPIPE, SIG_IGN);
  int fds[2];

  // 1 MiB from a writer thread, read in odd-sized pieces.
  check(pipe(fds) == 0, "pipe");
  struct stream s = {fds[1], 0, 0};
  pthread_t thread;
  pthread_create(&thread, NULL, writer, &s);
  static unsigned char buffer[9001];
  uint32_t sum = 0;
  size_t received = 0;
  int in_order = 1;
  for (;;) {
    ssize_t r = read(fds[0], buffer, sizeof buffer);
    if (r <= 0) {
      check(r == 0, "the reader sees end of file after the writer closes (r=%zd)", r);
      break;
    }
    for (ssize_t i = 0; i < r; i++) {
      if (buffer[i] != pattern(received + (size_t)i)) in_order = 0;
    }
    sum = checksum(sum, buffer, (size_t)r);
    received += (size_t)r;
  }
  pthread_join(thread, NULL);
  check(s.bytes == TOTAL && received == TOTAL, "1 MiB went through (sent %zu, received %zu)", s.bytes, received);
  check(sum == s.sum && in_order, "the bytes arrived in order with a matching checksum");
  close(fds[0]);

  // Nonblocking: an empty pipe gives EAGAIN, a full one too.
  check(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0, "pipe2(O_NONBLOCK | O_CLOEXEC)");
  check((fcntl(fds[0], F_GETFL) & O_NONBLOCK) && (fcntl(fds[1], F_GETFL) & O_NONBLOCK), "both ends are nonblocking");
  check(fcntl(fds[0], F_GETFD) == FD_CLOEXEC && fcntl(fds[1], F_GETFD) == FD_CLOEXEC, "both ends are close-on-exec");
  check((fcntl(fds[0], F_GETFL) & O_ACCMODE) == O_RDONLY && (fcntl(fds[1], F_GETFL) & O_ACCMODE) == O_WRONLY,
        "read end O_RDONLY, write end O_WRONLY");
  CHECK_ERRNO(read(fds[0], buffer, 10), EAGAIN, "read from an empty nonblocking pipe");
  size_t filled = 0;
  for (;;) {
    ssize_t w = write(fds[1], buffer, 4096);
    if (w < 0) break;
    filled += (size_t)w;
  }
  check(errno == EAGAIN && filled == 65536, "a nonblocking writer fills 64 KiB, then EAGAIN (filled %zu)", filled);
  int available = -1;
  check(ioctl(fds[0], FIONREAD, &available) == 0 && available == 65536, "FIONREAD says 65536 (%d)", available);
  check(read(fds[0], buffer, 100) == 100, "read 100 bytes");
  CHECK_ERRNO(write(fds[1], buffer, 200), EAGAIN, "a 200-byte (atomic) write with 100 bytes free");
  check(read(fds[0], buffer, 4096) == 4096, "read another 4096 bytes");
  check(write(fds[1], buffer, 4096) == 4096, "now a PIPE_BUF write fits");
  CHECK_ERRNO(read(fds[1], buffer, 1), EBADF, "reading the write end");
  CHECK_ERRNO(write(fds[0], buffer, 1), EBADF, "writing the read end");
  CHECK_ERRNO(lseek(fds[0], 0, SEEK_SET), ESPIPE, "lseek on a pipe");
  struct stat st;
  check(fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode), "fstat says S_IFIFO (mode %o)", st.st_mode);
  struct stat st2;
  check(fstat(fds[1], &st2) == 0 && st2.st_ino == st.st_ino, "both ends have one inode");
  close(fds[0]);
  CHECK_ERRNO(write(fds[1], buffer, 1), EPIPE, "writing with no reader left");
  close(fds[1]);

  // End of file with data still in the pipe: the data first, then 0.
  check(pipe(fds) == 0, "pipe");
  check(write(fds[1], "hello", 5) == 5, "write 5 bytes");
  close(fds[1]);
  check(read(fds[0], buffer, sizeof buffer) == 5 && memcmp(buffer, "hello", 5) == 0, "the data survives the writer's close");
  check(read(fds[0], buffer, sizeof buffer) == 0, "then end of file");
  check(read(fds[0], buffer, 0) == 0, "a zero-byte read");
  close(fds[0]);

  // A reader blocked on an empty pipe wakes for a write from another thread
  // (covered above), and a dup'd write end keeps the pipe open.
  check(pipe(fds) == 0, "pipe");
  int copy = dup(fds[1]);
  close(fds[1]);
  check(write(copy, "x", 1) == 1, "write through a dup of the write end");
  close(copy);
  check(read(fds[0], buffer, 10) == 1 && read(fds[0], buffer, 10) == 0, "end of file once the last write descriptor closes");
  close(fds[0]);

  // Four threads write PIPE_BUF records: none is split.
  check(pipe(fds) == 0, "pipe");
  atomic_fd = fds[1];
  pthread_t writers[WRITERS];
  for (int i = 0; i < WRITERS; i++) pthread_create(&writers[i], NULL, record_writer, (void *)(uintptr_t)('A' + i));
  int records[WRITERS] = {0};
  int torn = 0;
  static unsigned char record[PIPE_BUF];
  for (int n = 0; n < WRITERS * RECORDS; n++) {
    size_t got = 0;
    while (got < PIPE_BUF) {
      ssize_t r = read(fds[0], record + got, PIPE_BUF - got);
      if (r <= 0) break;
      got += (size_t)r;
    }
    if (got != PIPE_BUF) {
      torn++;
      break;
    }
    unsigned char tag = record[0];
    for (size_t i = 1; i < PIPE_BUF; i++) {
      if (record[i] != tag) {
        torn++;
        break;
      }
    }
    if (tag >= 'A' && tag < 'A' + WRITERS) records[tag - 'A']++;
  }
  void *status;
  int failed_writers = 0;
  for (int i = 0; i < WRITERS; i++) {
    pthread_join(writers[i], &status);
    if (status != NULL) failed_writers++;
  }
  check(torn == 0 && failed_writers == 0, "%d records of PIPE_BUF bytes from %d threads arrive whole", WRITERS * RECORDS, WRITERS);
  int all = 1;
  for (int i = 0; i < WRITERS; i++) all &= records[i] == RECORDS;
  check(all, "every writer's records arrived (%d %d %d %d)", records[0], records[1], records[2], records[3]);
  close(fds[0]);
  close(fds[1]);

  // Released pipes give their 64 KiB back: 5000 of them (312 MiB) would not
  // fit the test VM's memory otherwise.
  if (leaks) {
    int opened = 0;
    for (int i = 0; i < 5000; i++) {
      if (pipe(fds) != 0) break;
      write(fds[1], "z", 1);
      close(fds[0]);
      close(fds[1]);
      opened++;
    }
    check(opened == 5000, "5000 pipes opened and closed (%d)", opened);
  }

  // F_GETPIPE_SZ and F_SETPIPE_SZ.
  check(pipe2(fds, O_NONBLOCK) == 0, "pipe2(O_NONBLOCK)");
  check(fcntl(fds[0], F_GETPIPE_SZ) == 65536, "F_GETPIPE_SZ: 64 KiB");
  check(fcntl(fds[1], F_SETPIPE_SZ, 100) == 4096, "F_SETPIPE_SZ(100) gives one page");
  check(write(fds[1], buffer, 4096) == 4096, "a page fills it");
  CHECK_ERRNO(write(fds[1], buffer, 1), EAGAIN, "then it is full");
  check(fcntl(fds[1], F_SETPIPE_SZ, 10000) == 16384, "F_SETPIPE_SZ(10000) gives 16 KiB");
  check(write(fds[1], "tail", 4) == 4, "room again");
  CHECK_ERRNO(fcntl(fds[1], F_SETPIPE_SZ, 4096), EBUSY, "shrinking below the data held");
  static unsigned char kept[8192];
  size_t drained = 0;
  for (;;) {
    ssize_t r = read(fds[0], kept + drained, sizeof kept - drained);
    if (r <= 0) break;
    drained += (size_t)r;
  }
  check(drained == 4100 && memcmp(kept + 4096, "tail", 4) == 0, "the data survived the resizes (%zu bytes)", drained);
  int counter = eventfd(0, 0);
  CHECK_ERRNO(fcntl(counter, F_GETPIPE_SZ), EBADF, "F_GETPIPE_SZ on an eventfd");
  close(counter);
  close(fds[0]);
  close(fds[1]);

  // Errors.
  CHECK_ERRNO(pipe2(fds, O_DIRECT), EINVAL, "pipe2(O_DIRECT) (packet mode is not supported)");
  CHECK_ERRNO(pipe2(fds, 0x12345678), EINVAL, "pipe2 with unknown flags");
  CHECK_ERRNO(syscall(SYS_pipe, (void *)16), EFAULT, "pipe into a bad address");
  int before = dup(0);
  close(before);
  CHECK_ERRNO(syscall(SYS_pipe2, (void *)16, 0), EFAULT, "pipe2 into a bad address");
  int after = dup(0);
  close(after);
  check(before == after, "a failed pipe leaves no descriptors behind (%d, %d)", before, after);
  return finish("pipe");
}
