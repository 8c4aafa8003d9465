// The special files: /dev (null, zero, full, urandom, the standard links),
// /proc/self (exe, maps, status, fd, cmdline), /proc/cpuinfo, meminfo,
// mounts, /sys cpu ranges, /etc files, /tmp; then sendfile and mmap of a
// file.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "check.h"

static char text[65536];

/** Reads a whole file into text (NUL-terminated): its length, or -1. */
static long slurp(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  long total = 0, n;
  while ((n = read(fd, text + total, sizeof text - 1 - total)) > 0) total += n;
  close(fd);
  text[total] = 0;
  return total;
}

int main(int argc, char **argv) {
  char buffer[4096];
  struct stat st;
  int fd = open("/dev/null", O_RDWR);
  check(fd >= 0 && write(fd, "x", 1) == 1 && read(fd, buffer, 10) == 0, "/dev/null swallows and reads empty");
  check(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3, "/dev/null is char 1:3");
  close(fd);
  fd = open("/dev/zero", O_RDONLY);
  memset(buffer, 1, sizeof buffer);
  check(fd >= 0 && read(fd, buffer, sizeof buffer) == sizeof buffer && buffer[0] == 0 && buffer[4095] == 0, "/dev/zero reads zeros");
  close(fd);
  fd = open("/dev/full", O_WRONLY);
  CHECK_ERRNO(write(fd, "x", 1), ENOSPC, "/dev/full is full");
  close(fd);
  fd = open("/dev/urandom", O_RDONLY);
  unsigned char r1[32] = {0}, r2[32] = {0};
  check(fd >= 0 && read(fd, r1, 32) == 32 && read(fd, r2, 32) == 32 && memcmp(r1, r2, 32) != 0, "/dev/urandom gives different bytes");
  close(fd);
  check(stat("/dev/random", &st) == 0 && S_ISCHR(st.st_mode), "/dev/random exists");
  fd = open("/dev/console", O_WRONLY);
  check(fd >= 0 && write(fd, "console\n", 8) == 8, "/dev/console writes");
  close(fd);
  fd = open("/dev/stdout", O_WRONLY);
  check(fd >= 0 && write(fd, "stdout\n", 7) == 7, "/dev/stdout through /proc/self/fd/1");
  close(fd);
  ssize_t n = readlink("/dev/stdin", buffer, sizeof buffer);
  check(n == 15 && memcmp(buffer, "/proc/self/fd/0", 15) == 0, "/dev/stdin links to /proc/self/fd/0");

  // /proc/self
  n = readlink("/proc/self", buffer, sizeof buffer);
  check(n == 1 && buffer[0] == '1', "/proc/self is 1");
  n = readlink("/proc/self/exe", buffer, sizeof buffer);
  buffer[n > 0 ? n : 0] = 0;
  check(n > 0 && strcmp(buffer, argv[0]) == 0, "/proc/self/exe is the program (%s)", buffer);
  check(slurp("/proc/self/maps") > 0, "/proc/self/maps reads");
  check(strstr(text, "[stack]") != NULL, "maps shows the stack");
  check(strstr(text, argv[0]) != NULL && strstr(text, "r-xp") != NULL, "maps shows the binary's code");
  check(slurp("/proc/self/status") > 0 && strstr(text, "Name:\tspecials\n") && strstr(text, "Pid:\t1\n") &&
        strstr(text, "PPid:\t0\n") && strstr(text, "Uid:\t0\t0\t0\t0\n") && strstr(text, "Threads:\t1\n") &&
        strstr(text, "VmRSS:") && strstr(text, "FDSize:"), "/proc/self/status fields");
  long length = slurp("/proc/self/cmdline");
  check(length > 0 && strcmp(text, argv[0]) == 0 && (argc < 2 || strcmp(text + strlen(argv[0]) + 1, argv[1]) == 0),
        "/proc/self/cmdline is argv with NULs");
  fd = open("/tmp", O_RDONLY | O_DIRECTORY);
  snprintf(buffer, sizeof buffer, "/proc/self/fd/%d", fd);
  char target[256];
  n = readlink(buffer, target, sizeof target);
  check(n == 4 && memcmp(target, "/tmp", 4) == 0, "/proc/self/fd/N names the open directory");
  n = readlink("/proc/self/fd/1", target, sizeof target);
  check(n == 12 && memcmp(target, "/dev/console", 12) == 0, "/proc/self/fd/1 is /dev/console");
  close(fd);
  check(stat("/proc/self/fd/0", &st) == 0 && S_ISCHR(st.st_mode), "stat through /proc/self/fd/0");
  int tmpfd = open("/tmp/reopen", O_CREAT | O_RDWR, 0644);
  write(tmpfd, "abc", 3);
  snprintf(buffer, sizeof buffer, "/proc/self/fd/%d", tmpfd);
  int again = open(buffer, O_RDONLY);
  check(again >= 0 && again != tmpfd && lseek(again, 0, SEEK_CUR) == 0 && read(again, target, 3) == 3 &&
        memcmp(target, "abc", 3) == 0, "opening /proc/self/fd/N of a file opens it anew at offset 0");
  close(again);
  close(tmpfd);
  int listed = 0;
  DIR *fds = opendir("/proc/self/fd");
  struct dirent *e;
  while (fds != NULL && (e = readdir(fds)) != NULL) listed += e->d_name[0] != '.';
  check(fds != NULL && listed == 4, "/proc/self/fd lists 0, 1, 2 and the directory's own descriptor (%d)", listed);
  if (fds) closedir(fds);
  chdir("/tmp");
  n = readlink("/proc/self/cwd", target, sizeof target);
  check(n == 4 && memcmp(target, "/tmp", 4) == 0, "/proc/self/cwd follows chdir");
  chdir("/");
  check(slurp("/proc/cpuinfo") > 0 && strstr(text, "processor\t: 0") && strstr(text, "vendor_id") && strstr(text, "flags"),
        "/proc/cpuinfo");
  check(slurp("/proc/meminfo") > 0 && strncmp(text, "MemTotal:", 9) == 0 && strstr(text, "MemFree:"), "/proc/meminfo");
  check(slurp("/proc/uptime") > 0 && strchr(text, '.') != NULL, "/proc/uptime");
  check(slurp("/proc/mounts") > 0 && strstr(text, "proc /proc proc") && strstr(text, " / "), "/proc/mounts");
  check(slurp("/proc/stat") > 0 && strncmp(text, "cpu ", 4) == 0 && strstr(text, "btime "), "/proc/stat");
  check(slurp("/sys/devices/system/cpu/online") > 0 && strcmp(text, "0\n") == 0, "cpu/online is 0 on one CPU");
  check(slurp("/sys/devices/system/cpu/possible") > 0 && text[0] == '0', "cpu/possible");
  CHECK_ERRNO(open("/proc/cpuinfo", O_WRONLY), EACCES, "a /proc file opened for writing");
  CHECK_ERRNO(mkdir("/proc/x", 0755), EROFS, "/proc is read-only");
  struct statfs sfs;
  check(statfs("/proc", &sfs) == 0 && sfs.f_type == 0x9fa0, "statfs /proc says proc");

  // /etc and /tmp
  check(slurp("/etc/passwd") > 0 && strncmp(text, "root:x:0:0:", 11) == 0, "/etc/passwd has root");
  check(slurp("/etc/hosts") > 0 && strstr(text, "localhost"), "/etc/hosts");
  check(slurp("/etc/hostname") > 0, "/etc/hostname");
  check(stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777, "/tmp is 1777");
  fd = open("/tmp/probe", O_CREAT | O_RDWR, 0600);
  check(fd >= 0 && write(fd, "ok", 2) == 2, "/tmp is writable");
  close(fd);

  // sendfile between two files, with and without an offset.
  static char data[20000];
  for (int i = 0; i < 20000; i++) data[i] = (char)(i * 7 + 1);
  int in = open("/tmp/in", O_CREAT | O_RDWR, 0644);
  check(write(in, data, sizeof data) == sizeof data, "write 20000 bytes");
  int out = open("/tmp/out", O_CREAT | O_RDWR | O_TRUNC, 0644);
  off_t offset = 100;
  check(sendfile(out, in, &offset, 10000) == 10000 && offset == 10100, "sendfile with an offset copies and moves it");
  check(lseek(in, 0, SEEK_CUR) == 20000, "the input's own offset stays");
  lseek(in, 0, SEEK_SET);
  check(sendfile(out, in, NULL, 1 << 20) == 20000 && lseek(in, 0, SEEK_CUR) == 20000, "sendfile without offset to the end");
  check(fstat(out, &st) == 0 && st.st_size == 30000, "the output has 30000 bytes");
  char a[64], b[64];
  pread(in, a, 64, 100);
  pread(out, b, 64, 0);
  check(memcmp(a, b, 64) == 0, "the copied bytes match");
  CHECK_ERRNO(sendfile(out, 999, NULL, 10), EBADF, "sendfile from a closed descriptor");

  // mmap of a file, private, with an offset, and the zero-filled tail.
  void *map = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, in, 16384);
  check(map != MAP_FAILED, "mmap MAP_PRIVATE at offset 16384");
  if (map != MAP_FAILED) {
    pread(in, a, 64, 16384);
    check(memcmp(map, a, 64) == 0, "the mapping has the file's bytes from the offset");
    const char *m = map;
    check(m[20000 - 16384 - 1] == data[20000 - 1] && m[20000 - 16384] == 0 && m[8191] == 0,
          "bytes past the end of the file are zero");
    munmap(map, 8192);
  }
  // As ld.so loads a library: reserve the span from the file, then map a segment over it with MAP_FIXED.
  char *span = mmap(NULL, 5 * 4096, PROT_READ, MAP_PRIVATE | MAP_DENYWRITE, in, 0);
  check(span != MAP_FAILED && memcmp(span + 100, data + 100, 64) == 0, "a library-style reservation maps the file");
  if (span != MAP_FAILED) {
    char *segment = mmap(span + 2 * 4096, 3 * 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, in, 8192);
    check(segment == span + 2 * 4096 && memcmp(segment, data + 8192, 64) == 0 && segment[20000 - 8192 - 1] == data[19999] &&
          segment[20000 - 8192] == 0, "MAP_FIXED over it at a file offset, zero after the end of the file");
    check(munmap(span, 5 * 4096) == 0, "munmap the span");
  }
  void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, in, 0);
  check(w != MAP_FAILED, "a writable private mapping");
  if (w != MAP_FAILED) {
    ((char *)w)[0] = 'Z';
    pread(in, a, 1, 0);
    check(a[0] != 'Z', "private writes do not reach the file");
  }
  void *s = mmap(NULL, 4096, PROT_READ, MAP_SHARED, in, 0);
  check(s != MAP_FAILED, "a read-only shared mapping");
  CHECK_ERRNO(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 999, 0), EBADF, "mmap of a closed descriptor");
  CHECK_ERRNO(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, in, 100), EINVAL, "mmap at an unaligned offset");
  int wo = open("/tmp/out", O_WRONLY);
  CHECK_ERRNO(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, wo, 0), EACCES, "mmap of a write-only descriptor");
  close(in);
  close(out);
  return finish("specials");
}
