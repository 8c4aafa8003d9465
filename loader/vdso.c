/* Where the embedded vDSO (arch/x86_64/vdso/image.S) is, for the AS ELF
 * loader (kernel/elf/vdso.ts). */
#include "wisp.h"
#include "wasm-rt.h"
#include "kernel.h"

struct Z_arch_instance_t;
#define ARCH struct Z_arch_instance_t *unused

extern const char vdso_image_start[], vdso_image_end[];

u32 Z_archZ_vdsoImage(ARCH) { (void)unused; return virt_to_as(vdso_image_start); }
u32 Z_archZ_vdsoImageBytes(ARCH) { (void)unused; return (u32)(vdso_image_end - vdso_image_start); }
