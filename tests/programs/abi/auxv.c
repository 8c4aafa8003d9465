// The initial stack as Linux lays it out (fs/binfmt_elf.c): argc, argv[]
// and NULL, envp[] and NULL, then the auxiliary vector, every AT_* entry a
// C library may ask for with its right value. Run with arguments `one two`.
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "check.h"

extern const ElfW(Ehdr) __ehdr_start;
extern char _start[];
extern char **environ;

/** The raw value of entry `type` (glibc's getauxval(AT_HWCAP) reports its own
 * dl_hwcap on x86, not the vector's), 0 if absent. */
static unsigned long raw(const Elf64_auxv_t *auxv, unsigned long type) {
  for (; auxv->a_type != AT_NULL; auxv++) if (auxv->a_type == type) return auxv->a_un.a_val;
  return 0;
}

/** Is entry `type` in the vector (whatever its value)? */
static int present(const Elf64_auxv_t *auxv, unsigned long type) {
  for (; auxv->a_type != AT_NULL; auxv++) if (auxv->a_type == type) return 1;
  return 0;
}

int main(int argc, char **argv, char **envp) {
  check(argc == 3 && strcmp(argv[1], "one") == 0 && strcmp(argv[2], "two") == 0, "argc and argv (%d)", argc);
  check(argv[argc] == NULL, "argv ends with NULL");
  check(envp == argv + argc + 1, "envp follows argv's NULL");
  int count = 0;
  while (envp[count] != NULL) count++;
  check(count >= 1 && environ == envp, "the environment (%d strings)", count);
  const Elf64_auxv_t *auxv = (const Elf64_auxv_t *)(envp + count + 1);
  check((uintptr_t)(argv - 1) % 16 == 0, "the initial stack pointer (&argc) is 16-byte aligned");
  check(*(long *)(argv - 1) == argc, "argc sits just below argv");

  static const unsigned long wanted[] = {
    AT_SYSINFO_EHDR, AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE,
    AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM,
  };
  for (unsigned i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
    check(present(auxv, wanted[i]), "the auxiliary vector has entry %lu", wanted[i]);
  }
  check(auxv[0].a_type == AT_SYSINFO_EHDR && auxv[1].a_type == AT_MINSIGSTKSZ && auxv[2].a_type == AT_HWCAP,
        "the architecture's entries come first, as in Linux");

  const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)getauxval(AT_PHDR);
  int pie = __ehdr_start.e_type == ET_DYN;
  check(phdr == (const ElfW(Phdr) *)((const char *)&__ehdr_start + __ehdr_start.e_phoff), "AT_PHDR is where the program headers are");
  check(getauxval(AT_PHENT) == sizeof(ElfW(Phdr)), "AT_PHENT is %zu", sizeof(ElfW(Phdr)));
  check(getauxval(AT_PHNUM) == __ehdr_start.e_phnum, "AT_PHNUM is e_phnum (%lu)", getauxval(AT_PHNUM));
  check(getauxval(AT_PAGESZ) == 4096 && sysconf(_SC_PAGESIZE) == 4096, "AT_PAGESZ is 4096");
  check(getauxval(AT_ENTRY) == (uintptr_t)_start, "AT_ENTRY is _start");
  check(getauxval(AT_BASE) == 0, "AT_BASE is 0 without an interpreter");
  check(!pie || (uintptr_t)&__ehdr_start == 0x555555554000, "a static PIE loads at ELF_ET_DYN_BASE 0x555555554000, as Wisp places it (%p)", (void *)&__ehdr_start);
  check(pie || (uintptr_t)&__ehdr_start == 0x400000, "a static executable loads at its address (%p)", (void *)&__ehdr_start);
  const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
  int nonzero = 0;
  for (int i = 0; random != NULL && i < 16; i++) nonzero |= random[i];
  check(random != NULL && nonzero, "AT_RANDOM points at 16 random bytes");
  unsigned eax, ebx, ecx, edx;
  __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
  check(raw(auxv, AT_HWCAP) == edx, "AT_HWCAP is CPUID.1:EDX (0x%lx)", raw(auxv, AT_HWCAP));
  check(getauxval(AT_HWCAP2) == 0, "AT_HWCAP2 is 0");
  check(getauxval(AT_CLKTCK) == 100 && sysconf(_SC_CLK_TCK) == 100, "AT_CLKTCK is 100");
  check(getauxval(AT_SECURE) == 0, "AT_SECURE is 0");
  check(getauxval(AT_FLAGS) == 0, "AT_FLAGS is 0");
  check(getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid(), "AT_UID and AT_EUID");
  check(getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid(), "AT_GID and AT_EGID");
  check(getauxval(AT_MINSIGSTKSZ) >= 1024, "AT_MINSIGSTKSZ (%lu)", getauxval(AT_MINSIGSTKSZ));
  const char *platform = (const char *)getauxval(AT_PLATFORM);
  check(platform != NULL && strcmp(platform, "x86_64") == 0, "AT_PLATFORM is \"x86_64\"");
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  check(execfn != NULL && strcmp(execfn, argv[0]) == 0, "AT_EXECFN is the program's path (%s)", execfn ? execfn : "null");
  // Strings above the vector: argv's, then envp's, then AT_EXECFN at the top.
  check((const char *)(auxv + 20) < argv[0] && argv[0] < envp[0] && envp[0] < execfn, "the strings lie above the vectors, AT_EXECFN highest");
  check(platform < argv[0] && (const char *)random < platform, "AT_PLATFORM and AT_RANDOM lie between the vectors and the strings");
  uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
  check(ehdr != 0 && memcmp((const void *)ehdr, ELFMAG, SELFMAG) == 0, "AT_SYSINFO_EHDR points at an ELF header");
  return finish("auxv");
}
