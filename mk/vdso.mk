# mk/vdso.mk: the vDSO (arch/x86_64/vdso/) -> $(BUILD)/vdso/vdso.so, a small
# ET_DYN shared object linked at 0, embedded in the kernel by image.S.
VDSO_DIR := arch/x86_64/vdso
# Position independent, no stack protector or libc, general registers only
# (it runs on the application's stack in the application's context).
VDSO_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -fPIC -ffreestanding -fno-builtin -fno-stack-protector -funwind-tables \
  -mgeneral-regs-only -fcf-protection=none
VDSO_LDFLAGS := -shared -nostdlib -Wl,-T,$(VDSO_DIR)/vdso.lds -Wl,--version-script=$(VDSO_DIR)/vdso.map \
  -Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both -Wl,--eh-frame-hdr -Wl,-z,max-page-size=4096 \
  -Wl,-z,noexecstack -Wl,--build-id=none -Wl,--no-undefined

$(BUILD)/vdso/vdso.o: $(VDSO_DIR)/vdso.c mk/vdso.mk
	@mkdir -p $(@D)
	$(CC) $(VDSO_CFLAGS) -c $< -o $@

$(BUILD)/vdso/note.o: $(VDSO_DIR)/note.S
	@mkdir -p $(@D)
	$(CC) -fPIC -c $< -o $@

$(BUILD)/vdso/vdso.so: $(BUILD)/vdso/vdso.o $(BUILD)/vdso/note.o $(VDSO_DIR)/vdso.lds $(VDSO_DIR)/vdso.map
	$(CC) $(VDSO_LDFLAGS) $(BUILD)/vdso/vdso.o $(BUILD)/vdso/note.o -o $@.full
	@# Position independent and self-contained: no relocations to apply.
	@! readelf -r $@.full | grep -q "^Relocation section" || { echo "error: the vDSO has relocations" >&2; exit 1; }
	objcopy --strip-all $@.full $@

$(OBJ)/arch/vdso/image.o: $(VDSO_DIR)/image.S $(BUILD)/vdso/vdso.so
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -I$(BUILD) -c $< -o $@

ASM_OBJECTS += $(OBJ)/arch/vdso/image.o
