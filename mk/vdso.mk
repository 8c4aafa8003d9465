# mk/vdso.mk: the vDSO (arch/x86_64/vdso/) -> $(BUILD)/vdso/vdso.so, a small
# ET_DYN shared object linked at 0, embedded in the kernel by image.S.
VDSO_DIR := arch/x86_64/vdso
VDSO_LDFLAGS := -shared -nostdlib -Wl,-T,$(VDSO_DIR)/vdso.lds -Wl,--version-script=$(VDSO_DIR)/vdso.map \
  -Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both -Wl,--eh-frame-hdr -Wl,-z,max-page-size=4096 \
  -Wl,-z,noexecstack -Wl,--build-id=none

$(BUILD)/vdso/vdso.o: $(VDSO_DIR)/vdso.S
	@mkdir -p $(@D)
	$(CC) -fPIC -c $< -o $@

$(BUILD)/vdso/vdso.so: $(BUILD)/vdso/vdso.o $(VDSO_DIR)/vdso.lds $(VDSO_DIR)/vdso.map
	$(CC) $(VDSO_LDFLAGS) $< -o $@.full
	objcopy --strip-all $@.full $@

$(OBJ)/arch/vdso/image.o: $(VDSO_DIR)/image.S $(BUILD)/vdso/vdso.so
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -I$(BUILD) -c $< -o $@

ASM_OBJECTS += $(OBJ)/arch/vdso/image.o
