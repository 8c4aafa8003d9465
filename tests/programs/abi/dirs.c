// Directories: mkdir, listing with getdents64 across several calls,
// chdir/getcwd/fchdir, rmdir, nested and relative paths, "..", symlink
// loops (ELOOP), *at calls with a directory descriptor, rename of
// directories.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

struct linux_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/** Lists `path` with small getdents64 buffers; returns how many names and puts them (sorted order not assumed) in seen. */
static int list(const char *path, char seen[][32], int max, int bufsize) {
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -1;
  char buffer[4096];
  int count = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buffer, bufsize);
    if (n <= 0) break;
    for (long at = 0; at < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buffer + at);
      if (count < max) snprintf(seen[count], 32, "%s", d->d_name);
      count++;
      at += d->d_reclen;
    }
  }
  close(fd);
  return count;
}

static int contains(char seen[][32], int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(seen[i], name) == 0) return 1;
  return 0;
}

int main(void) {
  char cwd[256];
  check(getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, "/") == 0, "the working directory starts at / (%s)", cwd);
  check(mkdir("/tmp/d", 0755) == 0, "mkdir");
  CHECK_ERRNO(mkdir("/tmp/d", 0755), EEXIST, "mkdir an existing directory");
  check(mkdir("/tmp/d/e/", 0700) == 0, "mkdir with a trailing slash");
  CHECK_ERRNO(mkdir("/tmp/missing/x", 0755), ENOENT, "mkdir under a missing directory");
  struct stat st;
  check(stat("/tmp/d", &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 3 && (st.st_mode & 0777) == 0755,
        "a directory with one subdirectory has 3 links");
  check(stat("/tmp/d/e", &st) == 0 && (st.st_mode & 0777) == 0700 && st.st_nlink == 2, "the subdirectory has 2 links");

  // Many entries, listed with a buffer that holds only a few per call.
  char name[64];
  for (int i = 0; i < 40; i++) {
    snprintf(name, sizeof name, "/tmp/d/file%02d", i);
    int fd = open(name, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
  }
  static char seen[64][32];
  int n = list("/tmp/d", seen, 64, 120);
  check(n == 43, "getdents64 lists 40 files, e, . and .. across calls (%d)", n);
  check(contains(seen, n, ".") && contains(seen, n, "..") && contains(seen, n, "e") && contains(seen, n, "file39"),
        "the listing has ., .., e and file39");
  int fd = open("/tmp/d", O_RDONLY | O_DIRECTORY);
  char tiny[16];
  CHECK_ERRNO(syscall(SYS_getdents64, fd, tiny, sizeof tiny), EINVAL, "getdents64 into a buffer too small for one entry");
  char buffer[512];
  long first = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
  check(first > 0, "a first getdents64 call");
  // Removing entries already listed does not disturb the rest of the listing.
  unlink("/tmp/d/file00");
  unlink("/tmp/d/file01");
  int rest = 0;
  long r;
  struct linux_dirent64 *last = NULL;
  while ((r = syscall(SYS_getdents64, fd, buffer, sizeof buffer)) > 0) {
    for (long at = 0; at < r;) {
      last = (struct linux_dirent64 *)(buffer + at);
      rest++;
      at += last->d_reclen;
    }
  }
  check(r == 0 && last != NULL && strcmp(last->d_name, "file39") == 0, "the listing ends at file39 after changes");
  check(lseek(fd, 0, SEEK_SET) == 0, "rewind");
  DIR *dir = fdopendir(fd);
  int viaReaddir = 0;
  struct dirent *entry;
  while (dir != NULL && (entry = readdir(dir)) != NULL) viaReaddir++;
  check(viaReaddir == 41, "readdir after rewinddir lists 41 names (%d)", viaReaddir);
  if (dir) closedir(dir);
  CHECK_ERRNO(syscall(SYS_getdents64, 0, buffer, sizeof buffer), ENOTDIR, "getdents64 on the console");

  // Working directory.
  check(chdir("/tmp/d/e") == 0 && getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, "/tmp/d/e") == 0, "chdir, getcwd (%s)", cwd);
  check(chdir("..") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/tmp/d") == 0, "chdir .. (%s)", cwd);
  check(open("file05", O_RDONLY) >= 0, "a relative path from the working directory");
  check(stat("e/../file05", &st) == 0, "e/../file05");
  check(stat("./././e/.", &st) == 0 && S_ISDIR(st.st_mode), "./././e/.");
  check(stat("/../../tmp/../tmp/d", &st) == 0, "/.. is /");
  int root = open("/", O_RDONLY | O_DIRECTORY);
  check(fchdir(root) == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0, "fchdir to /");
  errno = 0;
  check(getcwd(cwd, 1) == NULL && errno == ERANGE, "getcwd into one byte fails with ERANGE");
  CHECK_ERRNO(chdir("/tmp/d/file05"), ENOTDIR, "chdir to a file");
  fd = open("/tmp/d/file05", O_RDONLY);
  CHECK_ERRNO(fchdir(fd), ENOTDIR, "fchdir to a file");
  close(fd);

  // *at calls with a directory descriptor.
  int d = open("/tmp/d", O_RDONLY | O_DIRECTORY);
  check(mkdirat(d, "sub", 0755) == 0 && fstatat(d, "sub", &st, 0) == 0 && S_ISDIR(st.st_mode), "mkdirat, fstatat");
  fd = openat(d, "sub/x", O_CREAT | O_WRONLY, 0644);
  check(fd >= 0, "openat under a directory descriptor");
  close(fd);
  check(renameat(d, "sub/x", d, "y") == 0 && faccessat(d, "y", F_OK, 0) == 0, "renameat, faccessat");
  check(unlinkat(d, "y", 0) == 0, "unlinkat");
  check(fstatat(d, "", &st, AT_EMPTY_PATH) == 0 && S_ISDIR(st.st_mode), "fstatat AT_EMPTY_PATH");
  int file = open("/tmp/d/file05", O_RDONLY);
  CHECK_ERRNO(openat(file, "x", O_RDONLY), ENOTDIR, "openat with a file as the directory");
  CHECK_ERRNO(openat(999, "x", O_RDONLY), EBADF, "openat with a closed descriptor");
  check(openat(999, "/tmp/d/file05", O_RDONLY) >= 0, "an absolute path ignores the directory descriptor");

  // rmdir.
  CHECK_ERRNO(rmdir("/tmp/d"), ENOTEMPTY, "rmdir a non-empty directory");
  CHECK_ERRNO(rmdir("/tmp/d/file05"), ENOTDIR, "rmdir a file");
  CHECK_ERRNO(rmdir("/tmp/d/sub/."), EINVAL, "rmdir of .");
  check(unlinkat(d, "sub", AT_REMOVEDIR) == 0, "unlinkat AT_REMOVEDIR");
  check(stat("/tmp/d", &st) == 0 && st.st_nlink == 3, "the parent lost a link");

  // Directory renames.
  check(mkdir("/tmp/r1", 0755) == 0 && mkdir("/tmp/r1/inner", 0755) == 0, "mkdir /tmp/r1/inner");
  CHECK_ERRNO(rename("/tmp/r1", "/tmp/r1/inner/x"), EINVAL, "rename a directory below itself");
  CHECK_ERRNO(rename("/tmp/r1", "/tmp/d"), ENOTEMPTY, "rename onto a non-empty directory");
  check(mkdir("/tmp/r2", 0755) == 0 && rename("/tmp/r1", "/tmp/r2") == 0, "rename onto an empty directory");
  check(stat("/tmp/r2/inner", &st) == 0, "its contents moved");
  check(syscall(SYS_renameat2, AT_FDCWD, "/tmp/r2", AT_FDCWD, "/tmp/d", 2 /* RENAME_EXCHANGE */) == 0 &&
        stat("/tmp/d/inner", &st) == 0 && stat("/tmp/r2/file05", &st) == 0, "RENAME_EXCHANGE swaps two directories");
  CHECK_ERRNO(syscall(SYS_renameat2, AT_FDCWD, "/tmp/r2", AT_FDCWD, "/tmp/d", 1 /* RENAME_NOREPLACE */), EEXIST,
              "RENAME_NOREPLACE onto an existing name");
  CHECK_ERRNO(syscall(SYS_renameat2, AT_FDCWD, "/tmp/r2", AT_FDCWD, "/tmp/d", 3), EINVAL, "both renameat2 flags");

  // Symbolic link loops and deep paths.
  check(symlink("loop2", "/tmp/loop1") == 0 && symlink("loop1", "/tmp/loop2") == 0, "two links in a loop");
  CHECK_ERRNO(open("/tmp/loop1", O_RDONLY), ELOOP, "open through a loop");
  CHECK_ERRNO(stat("/tmp/loop1/x", &st), ELOOP, "a loop in the middle of a path");
  check(symlink("/tmp/d", "/tmp/dlink") == 0 && stat("/tmp/dlink/inner", &st) == 0, "a link to a directory in a path");
  check(chdir("/tmp/dlink") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/tmp/d") == 0,
        "getcwd after chdir through a link is the real path (%s)", cwd);
  chdir("/");
  char deep[4200];
  strcpy(deep, "/tmp");
  while (strlen(deep) < 4100) strcat(deep, "/./.");
  CHECK_ERRNO(stat(deep, &st), ENAMETOOLONG, "a path of 4096 bytes or more");
  return finish("dirs");
}
