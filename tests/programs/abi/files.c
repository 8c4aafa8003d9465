// Files on the root file system: create, write, read, positional I/O, lseek
// (SEEK_DATA/SEEK_HOLE), O_APPEND, truncate, stat fields, rename, unlink,
// link counts, symbolic links and readlink, and the errors Linux gives.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static char *const bad = (char *)1;

/** One of four threads making, checking and removing its own files while the others do the same. */
static void *churn(void *arg) {
  long id = (long)arg;
  char name[64], renamed[64], data[3000], back[3000];
  for (int i = 0; i < 100; i++) {
    snprintf(name, sizeof name, "/tmp/churn/t%ld-%d", id, i);
    snprintf(renamed, sizeof renamed, "/tmp/churn/r%ld-%d", id, i);
    memset(data, (int)(id * 31 + i), sizeof data);
    int fd = open(name, O_CREAT | O_EXCL | O_RDWR, 0644);
    if (fd < 0) return (void *)1;
    if (write(fd, data, sizeof data) != sizeof data || pread(fd, back, sizeof back, 0) != sizeof back ||
        memcmp(data, back, sizeof data) != 0) return (void *)2;
    close(fd);
    if (rename(name, renamed) != 0) return (void *)3;
    if (i % 2 == 0 && unlink(renamed) != 0) return (void *)4;
  }
  return NULL;
}

int main(void) {
  char buffer[8192];
  int fd = open("/tmp/a.txt", O_CREAT | O_RDWR | O_EXCL, 0640);
  check(fd >= 3, "open O_CREAT|O_EXCL gives a descriptor (%d)", fd);
  check(write(fd, "hello, world\n", 13) == 13, "write 13 bytes");
  check(lseek(fd, 0, SEEK_CUR) == 13, "offset after the write is 13");
  check(lseek(fd, 0, SEEK_SET) == 0, "lseek SEEK_SET 0");
  memset(buffer, 0, sizeof buffer);
  check(read(fd, buffer, sizeof buffer) == 13 && strcmp(buffer, "hello, world\n") == 0, "read back what was written");
  check(read(fd, buffer, sizeof buffer) == 0, "read at the end gives 0");
  check(pwrite(fd, "W", 1, 7) == 1, "pwrite one byte at 7");
  check(pread(fd, buffer, 5, 7) == 5 && memcmp(buffer, "World", 5) == 0, "pread sees it");
  check(lseek(fd, 0, SEEK_CUR) == 13, "pread/pwrite leave the offset alone");

  struct stat st;
  time_t now = time(NULL);
  check(fstat(fd, &st) == 0, "fstat");
  check(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0640, "mode is a regular file 0640 (umask 022): 0%o", st.st_mode);
  check(st.st_size == 13 && st.st_nlink == 1 && st.st_uid == 0 && st.st_gid == 0, "size 13, one link, root:root");
  check(st.st_blksize == 4096 && st.st_blocks == 8, "blksize 4096, 8 blocks of 512 (%ld)", (long)st.st_blocks);
  check(st.st_mtime >= now - 5 && st.st_mtime <= now + 5, "mtime is now");
  struct stat st2;
  check(stat("/tmp/a.txt", &st2) == 0 && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev, "stat by path names the same inode");

  // Sparse file: holes read as zeros; SEEK_DATA and SEEK_HOLE find them.
  check(pwrite(fd, "x", 1, 3 * 4096 + 5) == 1, "write past the end leaves a hole");
  check(pread(fd, buffer, 10, 4096) == 10 && buffer[0] == 0 && buffer[9] == 0, "the hole reads as zeros");
  check(lseek(fd, 4096, SEEK_DATA) == 3 * 4096, "SEEK_DATA skips the hole");
  check(lseek(fd, 0, SEEK_HOLE) == 4096, "SEEK_HOLE finds it");
  CHECK_ERRNO(lseek(fd, 1 << 20, SEEK_DATA), ENXIO, "SEEK_DATA past the end");
  CHECK_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL, "lseek to a negative offset");
  CHECK_ERRNO(lseek(fd, 0, 7), EINVAL, "lseek with a bad whence");

  // Truncate both ways.
  check(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate to 5");
  check(truncate("/tmp/a.txt", 100) == 0 && stat("/tmp/a.txt", &st) == 0 && st.st_size == 100, "truncate to 100");
  check(pread(fd, buffer, 100, 0) == 100 && memcmp(buffer, "hello", 5) == 0 && buffer[5] == 0 && buffer[99] == 0,
        "grown part reads as zeros");
  CHECK_ERRNO(ftruncate(fd, -1), EINVAL, "ftruncate to a negative length");
  close(fd);

  // O_APPEND writes at the end whatever the offset.
  fd = open("/tmp/a.txt", O_WRONLY | O_APPEND);
  check(fd >= 0, "open O_APPEND");
  lseek(fd, 0, SEEK_SET);
  check(write(fd, "END", 3) == 3, "append");
  check(lseek(fd, 0, SEEK_CUR) == 103, "offset moved to the end (%ld)", (long)lseek(fd, 0, SEEK_CUR));
  CHECK_ERRNO(read(fd, buffer, 1), EBADF, "read on a write-only descriptor");
  close(fd);
  fd = open("/tmp/a.txt", O_RDONLY);
  check(pread(fd, buffer, 3, 100) == 3 && memcmp(buffer, "END", 3) == 0, "appended bytes are at 100");
  CHECK_ERRNO(write(fd, "x", 1), EBADF, "write on a read-only descriptor");
  close(fd);
  fd = open("/tmp/a.txt", O_RDWR | O_TRUNC);
  check(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC empties the file");
  close(fd);
  fd = creat("/tmp/c.txt", 0600);
  check(fd >= 0 && write(fd, "c", 1) == 1, "creat makes a writable file");
  close(fd);

  // Hard links, rename, unlink.
  check(link("/tmp/a.txt", "/tmp/b.txt") == 0, "link");
  check(stat("/tmp/a.txt", &st) == 0 && st.st_nlink == 2, "two links");
  CHECK_ERRNO(link("/tmp/a.txt", "/tmp/b.txt"), EEXIST, "link onto an existing name");
  check(rename("/tmp/c.txt", "/tmp/b.txt") == 0, "rename replaces a file");
  check(stat("/tmp/a.txt", &st) == 0 && st.st_nlink == 1, "the replaced link is gone");
  check(stat("/tmp/b.txt", &st) == 0 && st.st_size == 1, "the new name has c's bytes");
  CHECK_ERRNO(stat("/tmp/c.txt", &st), ENOENT, "the old name is gone");
  fd = open("/tmp/b.txt", O_RDONLY);
  check(unlink("/tmp/b.txt") == 0, "unlink an open file");
  check(fstat(fd, &st) == 0 && st.st_nlink == 0, "still readable through the descriptor, 0 links");
  check(read(fd, buffer, 10) == 1 && buffer[0] == 'c', "its bytes are still there");
  close(fd);

  // Symbolic links.
  check(symlink("a.txt", "/tmp/sym") == 0, "symlink");
  check(lstat("/tmp/sym", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 5, "lstat sees a link of 5 bytes");
  check(stat("/tmp/sym", &st) == 0 && S_ISREG(st.st_mode), "stat follows it");
  ssize_t n = readlink("/tmp/sym", buffer, sizeof buffer);
  check(n == 5 && memcmp(buffer, "a.txt", 5) == 0, "readlink gives the target");
  check(readlink("/tmp/sym", buffer, 2) == 2, "readlink truncates to the buffer");
  CHECK_ERRNO(readlink("/tmp/a.txt", buffer, sizeof buffer), EINVAL, "readlink of a file");
  CHECK_ERRNO(open("/tmp/sym", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a link");
  fd = open("/tmp/sym", O_PATH | O_NOFOLLOW);
  check(fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode), "O_PATH|O_NOFOLLOW opens the link itself");
  CHECK_ERRNO(read(fd, buffer, 1), EBADF, "read on an O_PATH descriptor");
  close(fd);
  check(symlink("/tmp/dangling-target", "/tmp/dangling") == 0, "dangling symlink");
  CHECK_ERRNO(open("/tmp/dangling", O_RDONLY), ENOENT, "open through a dangling link");
  fd = open("/tmp/dangling", O_CREAT | O_WRONLY, 0644);
  check(fd >= 0 && stat("/tmp/dangling-target", &st) == 0, "O_CREAT through a dangling link creates the target");
  close(fd);
  CHECK_ERRNO(open("/tmp/dangling", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST, "O_CREAT|O_EXCL on a link");

  // Errors.
  CHECK_ERRNO(open("/tmp/missing", O_RDONLY), ENOENT, "open a missing file");
  CHECK_ERRNO(open("/tmp/a.txt", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST, "O_EXCL on an existing file");
  CHECK_ERRNO(open("/tmp/a.txt/x", O_RDONLY), ENOTDIR, "a file used as a directory");
  CHECK_ERRNO(open("/tmp/a.txt/", O_RDONLY), ENOTDIR, "a file with a trailing slash");
  CHECK_ERRNO(open("/tmp", O_WRONLY), EISDIR, "a directory opened for writing");
  CHECK_ERRNO(open("/tmp/new/", O_CREAT | O_WRONLY, 0644), EISDIR, "O_CREAT with a trailing slash");
  CHECK_ERRNO(open("/tmp/a.txt", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file");
  CHECK_ERRNO(unlink("/tmp"), EISDIR, "unlink a directory");
  CHECK_ERRNO(unlink("/tmp/missing"), ENOENT, "unlink a missing file");
  CHECK_ERRNO(rename("/tmp/missing", "/tmp/x"), ENOENT, "rename a missing file");
  CHECK_ERRNO(rename("/tmp/a.txt", "/tmp"), EISDIR, "rename a file onto a directory");
  CHECK_ERRNO(open(bad, O_RDONLY), EFAULT, "open with a bad path pointer");
  CHECK_ERRNO(stat(bad, &st), EFAULT, "stat with a bad path pointer");
  CHECK_ERRNO(stat("/tmp/a.txt", (struct stat *)bad), EFAULT, "stat into a bad buffer");
  CHECK_ERRNO(unlink(bad), EFAULT, "unlink with a bad path pointer");
  CHECK_ERRNO(open("", O_RDONLY), ENOENT, "open an empty path");
  CHECK_ERRNO(close(1000), EBADF, "close a descriptor that is not open");
  CHECK_ERRNO(fstat(1000, &st), EBADF, "fstat a descriptor that is not open");
  char longname[300];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  CHECK_ERRNO(open(longname, O_RDONLY), ENAMETOOLONG, "a name longer than 255 bytes");
  check(access("/tmp/a.txt", R_OK | W_OK) == 0, "access R_OK|W_OK as root");
  CHECK_ERRNO(access("/tmp/a.txt", X_OK), EACCES, "X_OK on a file without x bits");
  check(chmod("/tmp/a.txt", 0755) == 0 && access("/tmp/a.txt", X_OK) == 0, "chmod adds x: X_OK");
  check(stat("/tmp/a.txt", &st) == 0 && (st.st_mode & 07777) == 0755, "chmod sets the mode");
  check(chown("/tmp/a.txt", 1000, 1000) == 0 && stat("/tmp/a.txt", &st) == 0 && st.st_uid == 1000, "chown");
  struct timespec times[2] = {{1000000000, 5}, {1500000000, 7}};
  check(utimensat(AT_FDCWD, "/tmp/a.txt", times, 0) == 0 && stat("/tmp/a.txt", &st) == 0 &&
        st.st_mtim.tv_sec == 1500000000 && st.st_mtim.tv_nsec == 7 && st.st_atim.tv_sec == 1000000000,
        "utimensat sets the times");
  struct timeval tv[2] = {{1200000000, 3}, {1300000000, 9}};
  check(utimes("/tmp/a.txt", tv) == 0 && stat("/tmp/a.txt", &st) == 0 && st.st_mtim.tv_sec == 1300000000 &&
        st.st_mtim.tv_nsec == 9000, "utimes sets the times in microseconds");
  check(utimensat(AT_FDCWD, "/tmp/a.txt", times, 0) == 0, "utimensat again");
  struct statx sx;
  check(statx(AT_FDCWD, "/tmp/a.txt", 0, STATX_BASIC_STATS, &sx) == 0 && sx.stx_size == 0 &&
        (sx.stx_mode & 07777) == 0755 && sx.stx_mtime.tv_sec == 1500000000, "statx");
  check(fsync(0) == 0 && fdatasync(0) == 0, "fsync and fdatasync succeed");
  fd = open("/tmp/a.txt", O_RDONLY | O_CLOEXEC);
  check(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "O_CLOEXEC sets FD_CLOEXEC");
  check(flock(fd, LOCK_EX) == 0 && flock(fd, LOCK_UN) == 0, "flock");
  close(fd);

  // Threads working on one directory at once.
  check(mkdir("/tmp/churn", 0755) == 0, "mkdir /tmp/churn");
  pthread_t threads[4];
  for (long t = 0; t < 4; t++) pthread_create(&threads[t], NULL, churn, (void *)t);
  int failures = 0;
  for (int t = 0; t < 4; t++) {
    void *result;
    pthread_join(threads[t], &result);
    if (result != NULL) failures++;
  }
  check(failures == 0, "four threads create, write, read, rename and unlink 100 files each");
  check(stat("/tmp/churn", &st) == 0 && st.st_nlink == 2, "the directory has its 2 links");
  DIR *dir = opendir("/tmp/churn");
  int names = 0;
  struct dirent *entry;
  while (dir != NULL && (entry = readdir(dir)) != NULL) names += entry->d_name[0] == 'r';
  if (dir) closedir(dir);
  check(names == 200, "200 renamed files remain (%d)", names);
  return finish("files");
}
