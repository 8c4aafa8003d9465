// The vDSO: AT_SYSINFO_EHDR names an ELF shared object in memory; this
// program finds its dynamic symbols itself (DT_HASH / DT_GNU_HASH, DT_SYMTAB,
// DT_STRTAB, DT_VERSYM and DT_VERDEF for the LINUX_2.6 version), calls
// __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time and __vdso_getcpu
// and compares them with the system calls; then glibc's own clock_gettime,
// which goes through the vDSO too. tests/abi/loading.test.ts counts this
// program's clock_gettime, gettimeofday and time system calls under
// wisp.strace: change the explicit syscall()s here and the counts there.
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <sched.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

struct vdso {
  uintptr_t bias;
  const Elf64_Sym *symbols;
  const char *strings;
  const Elf64_Versym *versym;
  const Elf64_Verdef *verdef;
  uint32_t symbolCount;
};

static long timespec_ns(const struct timespec *t) { return t->tv_sec * 1000000000L + t->tv_nsec; }

/** The symbol count from DT_GNU_HASH: one past the highest chained index. */
static uint32_t gnu_hash_count(const uint32_t *table) {
  uint32_t buckets = table[0], symoffset = table[1], bloomSize = table[2];
  const uint32_t *bucket = table + 4 + bloomSize * 2;
  const uint32_t *chain = bucket + buckets;
  uint32_t highest = 0;
  for (uint32_t i = 0; i < buckets; i++) if (bucket[i] > highest) highest = bucket[i];
  if (highest < symoffset) return symoffset;
  while ((chain[highest - symoffset] & 1) == 0) highest++;
  return highest + 1;
}

static int vdso_open(struct vdso *v, uintptr_t base) {
  const Elf64_Ehdr *ehdr = (const Elf64_Ehdr *)base;
  check(memcmp(ehdr->e_ident, ELFMAG, SELFMAG) == 0, "the vDSO starts with the ELF magic");
  check(ehdr->e_ident[EI_CLASS] == ELFCLASS64 && ehdr->e_type == ET_DYN && ehdr->e_machine == EM_X86_64,
        "the vDSO is an ELF64 x86-64 ET_DYN object (type %d)", ehdr->e_type);
  const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + ehdr->e_phoff);
  const Elf64_Dyn *dynamic = NULL;
  int loads = 0, found_load = 0;
  for (int i = 0; i < ehdr->e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD) {
      if (!found_load) v->bias = base + ph[i].p_offset - ph[i].p_vaddr;
      found_load = 1;
      loads++;
      check((ph[i].p_flags & (PF_R | PF_X)) == (PF_R | PF_X) && (ph[i].p_flags & PF_W) == 0, "its PT_LOAD is read+execute");
    }
  }
  for (int i = 0; i < ehdr->e_phnum; i++) if (ph[i].p_type == PT_DYNAMIC) dynamic = (const Elf64_Dyn *)(v->bias + ph[i].p_vaddr);
  check(loads == 1, "the vDSO has one PT_LOAD (%d)", loads);
  if (!check(dynamic != NULL, "the vDSO has PT_DYNAMIC")) return 0;
  const uint32_t *hash = NULL, *gnuHash = NULL;
  for (const Elf64_Dyn *d = dynamic; d->d_tag != DT_NULL; d++) {
    uintptr_t at = v->bias + d->d_un.d_ptr;
    switch (d->d_tag) {
      case DT_HASH: hash = (const uint32_t *)at; break;
      case DT_GNU_HASH: gnuHash = (const uint32_t *)at; break;
      case DT_SYMTAB: v->symbols = (const Elf64_Sym *)at; break;
      case DT_STRTAB: v->strings = (const char *)at; break;
      case DT_VERSYM: v->versym = (const Elf64_Versym *)at; break;
      case DT_VERDEF: v->verdef = (const Elf64_Verdef *)at; break;
    }
  }
  check(hash != NULL || gnuHash != NULL, "the vDSO has DT_HASH or DT_GNU_HASH");
  check(v->symbols != NULL && v->strings != NULL, "the vDSO has DT_SYMTAB and DT_STRTAB");
  check(v->versym != NULL && v->verdef != NULL, "the vDSO has DT_VERSYM and DT_VERDEF");
  v->symbolCount = hash != NULL ? hash[1] : gnuHash != NULL ? gnu_hash_count(gnuHash) : 0;
  return v->symbols != NULL && v->strings != NULL && v->symbolCount > 0;
}

/** The version name of symbol `index`, from DT_VERSYM and DT_VERDEF. */
static const char *vdso_version(const struct vdso *v, uint32_t index) {
  if (v->versym == NULL || v->verdef == NULL) return "";
  unsigned wanted = v->versym[index] & 0x7fff;
  const Elf64_Verdef *def = v->verdef;
  for (;;) {
    if (def->vd_ndx == wanted) {
      const Elf64_Verdaux *aux = (const Elf64_Verdaux *)((const char *)def + def->vd_aux);
      return v->strings + aux->vda_name;
    }
    if (def->vd_next == 0) return "";
    def = (const Elf64_Verdef *)((const char *)def + def->vd_next);
  }
}

static void *vdso_symbol(const struct vdso *v, const char *name) {
  for (uint32_t i = 1; i < v->symbolCount; i++) {
    const Elf64_Sym *s = &v->symbols[i];
    if (s->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s->st_info) != STT_FUNC) continue;
    if (strcmp(v->strings + s->st_name, name) != 0) continue;
    const char *version = vdso_version(v, i);
    check(strcmp(version, "LINUX_2.6") == 0, "%s has version LINUX_2.6 (%s)", name, version);
    return (void *)(v->bias + s->st_value);
  }
  check(0, "the vDSO exports %s", name);
  return NULL;
}

static int found_vdso_object;
static int phdr_callback(struct dl_phdr_info *info, size_t size, void *data) {
  uintptr_t base = (uintptr_t)data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type == PT_LOAD && info->dlpi_addr + info->dlpi_phdr[i].p_vaddr == base) found_vdso_object = 1;
  }
  return 0;
}

int main(void) {
  uintptr_t base = getauxval(AT_SYSINFO_EHDR);
  if (!check(base != 0 && base % 4096 == 0, "AT_SYSINFO_EHDR is a page address (0x%lx)", (unsigned long)base)) return finish("vdso");
  struct vdso v = {0};
  if (!vdso_open(&v, base)) return finish("vdso");

  int (*vdso_clock_gettime)(clockid_t, struct timespec *) = vdso_symbol(&v, "__vdso_clock_gettime");
  int (*vdso_gettimeofday)(struct timeval *, void *) = vdso_symbol(&v, "__vdso_gettimeofday");
  time_t (*vdso_time)(time_t *) = vdso_symbol(&v, "__vdso_time");
  long (*vdso_getcpu)(unsigned *, unsigned *, void *) = vdso_symbol(&v, "__vdso_getcpu");
  int (*vdso_clock_getres)(clockid_t, struct timespec *) = vdso_symbol(&v, "__vdso_clock_getres");
  check(vdso_symbol(&v, "clock_gettime") == (void *)vdso_clock_gettime, "clock_gettime is an alias of __vdso_clock_gettime");
  if (!vdso_clock_gettime || !vdso_gettimeofday || !vdso_time || !vdso_getcpu || !vdso_clock_getres) return finish("vdso");

  static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW};
  for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
    struct timespec before, middle, after;
    syscall(SYS_clock_gettime, clocks[i], &before);
    int r = vdso_clock_gettime(clocks[i], &middle);
    syscall(SYS_clock_gettime, clocks[i], &after);
    check(r == 0 && timespec_ns(&before) <= timespec_ns(&middle) && timespec_ns(&middle) <= timespec_ns(&after),
          "__vdso_clock_gettime(%d) lies between two system calls", clocks[i]);
  }
  struct timespec t;
  check(vdso_clock_gettime(12345, &t) == -22, "__vdso_clock_gettime of a bad clock returns -EINVAL");
  struct timespec res;
  check(vdso_clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0, "__vdso_clock_getres(CLOCK_MONOTONIC)");

  struct timeval tv;
  struct timespec now;
  syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
  check(vdso_gettimeofday(&tv, NULL) == 0 && tv.tv_sec >= now.tv_sec && tv.tv_sec <= now.tv_sec + 1 && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
        "__vdso_gettimeofday agrees with CLOCK_REALTIME (%ld vs %ld)", (long)tv.tv_sec, (long)now.tv_sec);
  time_t stored = 0;
  time_t seconds = vdso_time(&stored);
  long viaSyscall = syscall(SYS_time, NULL);
  check(seconds == stored && seconds >= now.tv_sec && seconds <= viaSyscall, "__vdso_time agrees with time(2) (%ld, %ld)", (long)seconds, viaSyscall);
  unsigned cpu = 99, node = 99, syscallCpu = 77, syscallNode = 77;
  long r = vdso_getcpu(&cpu, &node, NULL);
  syscall(SYS_getcpu, &syscallCpu, &syscallNode, NULL);
  check(r == 0 && cpu == syscallCpu && node == syscallNode, "__vdso_getcpu agrees with getcpu(2) (cpu %u node %u)", cpu, node);

  // glibc's own functions (it found the vDSO from AT_SYSINFO_EHDR).
  struct timespec libcBefore, libcAfter;
  check(clock_gettime(CLOCK_MONOTONIC, &libcBefore) == 0 && vdso_clock_gettime(CLOCK_MONOTONIC, &t) == 0 &&
        clock_gettime(CLOCK_MONOTONIC, &libcAfter) == 0 && timespec_ns(&libcBefore) <= timespec_ns(&t) &&
        timespec_ns(&t) <= timespec_ns(&libcAfter), "glibc's clock_gettime and the vDSO's agree");
  check(time(NULL) >= now.tv_sec, "glibc's time()");
  check(sched_getcpu() == (int)syscallCpu, "glibc's sched_getcpu()");
  dl_iterate_phdr(phdr_callback, (void *)base);
  check(found_vdso_object, "glibc lists the vDSO among the loaded objects (dl_iterate_phdr)");
  return finish("vdso");
}
