# mk/mbr.mk: the 512-byte MBR boot loader (arch/x86_64/mbr.S -> $(BUILD)/mbr.bin).
#
# Included from the root Makefile, or used alone:
#   make -f mk/mbr.mk build/mbr.bin          (BUILD defaults to build)
#
# The result must be exactly one sector ending in 55 AA; the rule fails
# otherwise. Intermediate files go to $(BUILD)/mbr/ so they cannot collide
# with the kernel's object files. mbr.S is 16-bit boot code: it must not be
# part of kernel.elf.

BUILD ?= build
MBR_AS ?= as
MBR_LD ?= ld
MBR_OBJCOPY ?= objcopy
MBR_SRC := arch/x86_64/mbr.S
MBR_OBJDIR := $(BUILD)/mbr

$(BUILD)/mbr.bin: $(MBR_SRC) mk/mbr.mk
	@mkdir -p $(MBR_OBJDIR)
	$(MBR_AS) --32 -o $(MBR_OBJDIR)/mbr.o $(MBR_SRC)
	$(MBR_LD) -m elf_i386 -Ttext=0x7c00 -e _start -o $(MBR_OBJDIR)/mbr.elf $(MBR_OBJDIR)/mbr.o
	$(MBR_OBJCOPY) -O binary -j .text $(MBR_OBJDIR)/mbr.elf $(MBR_OBJDIR)/mbr.bin.tmp
	@size=$$(stat -c %s $(MBR_OBJDIR)/mbr.bin.tmp); \
	 sig=$$(od -An -tx1 -j510 -N2 $(MBR_OBJDIR)/mbr.bin.tmp | tr -d ' \n'); \
	 if [ "$$size" != 512 ] || [ "$$sig" != 55aa ]; then \
	   echo "mbr.mk: $(MBR_OBJDIR)/mbr.bin.tmp is $$size bytes ending in '$$sig', want 512 bytes ending in 55aa" >&2; \
	   exit 1; \
	 fi
	@mv $(MBR_OBJDIR)/mbr.bin.tmp $@
	@end=$$(nm $(MBR_OBJDIR)/mbr.elf | sed -n 's/^\([0-9a-f]*\) T mbr_code_end$$/\1/p'); \
	 echo "mbr: $@ ($$((0x$$end - 0x7c00)) of 440 code bytes used)"
