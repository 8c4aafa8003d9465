// Memory: malloc small and large, realloc, mmap/munmap/mprotect/mremap,
// madvise, brk, mlock/msync; and the errors for bad arguments.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"

static int all_bytes(const unsigned char *p, size_t n, unsigned char value) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != value) return 0;
  return 1;
}

int main(void) {
  // Many small blocks, filled and verified.
  enum { SMALL = 2000 };
  static unsigned char *blocks[SMALL];
  int ok = 1;
  for (int i = 0; i < SMALL; i++) {
    blocks[i] = malloc(16 + i % 200);
    if (!blocks[i]) { ok = 0; break; }
    memset(blocks[i], i & 0xff, 16 + i % 200);
  }
  for (int i = 0; ok && i < SMALL; i++) ok = all_bytes(blocks[i], 16 + i % 200, i & 0xff);
  check(ok, "%d small malloc blocks hold their bytes", SMALL);
  for (int i = 0; i < SMALL; i += 2) free(blocks[i]);
  for (int i = 1; ok && i < SMALL; i += 2) ok = all_bytes(blocks[i], 16 + i % 200, i & 0xff);
  check(ok, "freeing every other block leaves the rest intact");
  for (int i = 1; i < SMALL; i += 2) free(blocks[i]);

  // A large block (mmap'ed by malloc), touched on every page.
  size_t large = 24 << 20;
  unsigned char *big = malloc(large);
  check(big != NULL, "malloc(24 MiB)");
  if (big) {
    for (size_t i = 0; i < large; i += 4096) big[i] = (unsigned char)(i >> 12);
    ok = 1;
    for (size_t i = 0; i < large; i += 4096) ok &= big[i] == (unsigned char)(i >> 12);
    check(ok, "every page of the large block holds its byte");
    free(big);
  }

  // realloc growth keeps the contents.
  char *r = malloc(100);
  memset(r, 'x', 100);
  for (size_t size = 200; size <= (4 << 20); size *= 2) r = realloc(r, size);
  check(r && all_bytes((unsigned char *)r, 100, 'x'), "realloc up to 4 MiB keeps the first bytes");
  free(r);

  // Anonymous mmap, zero-filled, then munmap.
  size_t len = 1 << 20;
  unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(m != MAP_FAILED, "mmap 1 MiB anonymous");
  check(all_bytes(m, len, 0), "fresh anonymous memory reads as zeros");
  memset(m, 0xab, len);
  check(all_bytes(m, len, 0xab), "mapped memory holds what was written");
  check(mprotect(m, len, PROT_READ) == 0, "mprotect read-only");
  check(all_bytes(m, len, 0xab), "read-only memory still reads");
  check(mprotect(m, len, PROT_READ | PROT_WRITE) == 0, "mprotect read-write again");
  m[10] = 1;
  check(m[10] == 1, "writable again");
  check(madvise(m, len, MADV_DONTNEED) == 0, "madvise MADV_DONTNEED");
  check(all_bytes(m, len, 0), "after MADV_DONTNEED private pages read as zeros");

  // mremap: grow with MREMAP_MAYMOVE, contents preserved.
  memset(m, 0x5a, len);
  unsigned char *grown = mremap(m, len, 4 * len, MREMAP_MAYMOVE);
  check(grown != MAP_FAILED, "mremap grows 1 MiB to 4 MiB");
  if (grown != MAP_FAILED) {
    check(all_bytes(grown, len, 0x5a), "mremap keeps the contents");
    check(all_bytes(grown + len, 3 * len, 0), "the new part is zeros");
    check(munmap(grown, 4 * len) == 0, "munmap the remapped area");
  }

  // PROT_NONE, then made accessible.
  unsigned char *n = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(n != MAP_FAILED, "mmap PROT_NONE");
  check(mprotect(n, 8192, PROT_READ | PROT_WRITE) == 0, "mprotect PROT_NONE to read-write");
  n[8191] = 7;
  check(n[8191] == 7, "the formerly inaccessible page is writable");
  munmap(n, 8192);

  // MAP_FIXED at a chosen address, and MAP_FIXED_NOREPLACE over it.
  void *want = (void *)0x200000000000ull;
  void *fixed = mmap(want, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  check(fixed == want, "MAP_FIXED maps at the address asked for");
  CHECK_ERRNO(mmap(want, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED ? -1 : 0,
              EEXIST, "MAP_FIXED_NOREPLACE over a mapping");
  munmap(fixed, 65536);

  // brk through sbrk.
  void *before = sbrk(0);
  check(before != (void *)-1, "sbrk(0)");
  char *heap = sbrk(1 << 20);
  check(heap == before, "sbrk(1 MiB) returns the old break");
  memset(heap, 3, 1 << 20);
  check(all_bytes((unsigned char *)heap, 1 << 20, 3), "the brk heap holds what was written");
  check(sbrk(-(1 << 20)) != (void *)-1 && sbrk(0) == before, "sbrk back down");

  // Locking and msync: arguments checked as Linux does (nothing is swapped or written back).
  unsigned char *l = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(l != MAP_FAILED, "mmap 3 pages for mlock and msync");
  check(mlock(l + 100, 4096) == 0 && munlock(l + 100, 4096) == 0, "mlock/munlock of a mapped range (an unaligned start rounds down)");
  check(msync(l, 3 * 4096, MS_SYNC) == 0 && msync(l, 100, MS_ASYNC | MS_INVALIDATE) == 0, "msync of a mapped range");
  CHECK_ERRNO(msync(l + 1, 4096, MS_SYNC), EINVAL, "msync of an unaligned address");
  CHECK_ERRNO(msync(l, 4096, MS_SYNC | MS_ASYNC), EINVAL, "msync with MS_SYNC and MS_ASYNC");
  CHECK_ERRNO(msync(l, 4096, 0x100), EINVAL, "msync with an unknown flag");
  check(mlockall(MCL_CURRENT | MCL_FUTURE) == 0 && munlockall() == 0, "mlockall/munlockall");
  CHECK_ERRNO(mlockall(0), EINVAL, "mlockall without flags");
  CHECK_ERRNO(mlockall(~(MCL_CURRENT | MCL_FUTURE)), EINVAL, "mlockall with unknown flags");
  munmap(l + 4096, 4096);
  CHECK_ERRNO(mlock(l, 3 * 4096), ENOMEM, "mlock of a range with a hole");
  CHECK_ERRNO(msync(l, 3 * 4096, MS_SYNC), ENOMEM, "msync of a range with a hole");
  check(msync(l, 4096, MS_SYNC) == 0, "msync of the page before the hole");
  munmap(l, 3 * 4096);

  // Errors.
  CHECK_ERRNO(munmap((void *)0x1001, 4096), EINVAL, "munmap of an unaligned address");
  CHECK_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0, EINVAL, "mmap of 0 bytes");
  CHECK_ERRNO(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 42, 0) == MAP_FAILED ? -1 : 0, EBADF, "mmap of a descriptor that is not open");
  CHECK_ERRNO(mprotect((void *)0x300000000000ull, 4096, PROT_READ), ENOMEM, "mprotect of unmapped memory");
  return finish("memory");
}
