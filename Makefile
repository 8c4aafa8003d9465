SHELL := /bin/bash
# Wisp kernel build: AssemblyScript -> wasm -> C (wasm2c) -> x86-64 ELF.
# `make` builds build/kernel.elf and build/mbr.bin; `npm run image` packs the disk.
# Every step is a file target, so only what depends on a changed file rebuilds.

BUILD ?= build
OBJ := $(BUILD)/obj

ASC := node_modules/.bin/asc
TSX := node_modules/.bin/tsx
WASM2C ?= wasm2c
CC := gcc
LD := ld

# Every AssemblyScript file of the kernel: one program, one wasm module.
AS_DIRS := kernel arch drivers net fs libc
AS_SOURCES := $(shell find $(AS_DIRS) -name '*.ts' 2>/dev/null)
AS_ENTRY := kernel/main.ts
AS_DATA_BASE := 1048576
ASC_FLAGS := -O3 --debug --runtime ./kernel/runtime/index \
  --use abort=kernel/panic/onAbort --memoryBase $(AS_DATA_BASE)

GCC_INCLUDE := $(shell $(CC) -print-file-name=include)
CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
  -ffreestanding -nostdinc -isystem $(GCC_INCLUDE) -Iloader/include -I$(BUILD)/include -I$(BUILD) \
  -mgeneral-regs-only -mno-red-zone -mcmodel=kernel -fno-pic -fno-pie \
  -fno-stack-protector -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
  -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns -fcf-protection=none \
  -flto=auto
# wasm2c output: no per-access bounds checks (the page tables are the check).
KERNEL_C_FLAGS := -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1 -DWASM_RT_SKIP_SIGNAL_RECOVERY=1 \
  -DWISP_LINEAR_MEMORY_BASE=0xffff800000000000ull -Wno-unused-function -Wno-unused-variable \
  -Wno-unused-but-set-variable -Wno-sign-compare -Wno-unused-label -Wno-unused-value -Wno-infinite-recursion
ASFLAGS := -Iarch/x86_64 -fno-pic

LOADER_C := $(wildcard loader/*.c)
ARCH_S := $(wildcard arch/x86_64/*.S)
ARCH_S := $(filter-out arch/x86_64/mbr.S,$(ARCH_S))
LTO_OBJECTS := $(OBJ)/kernel.o $(patsubst loader/%.c,$(OBJ)/loader/%.o,$(LOADER_C))
ASM_OBJECTS := $(patsubst arch/x86_64/%.S,$(OBJ)/arch/%.o,$(ARCH_S))

.PHONY: all kernel clean
all: kernel $(BUILD)/mbr.bin
kernel: $(BUILD)/kernel.elf

include mk/vdso.mk

$(BUILD)/kernel.wasm: $(AS_SOURCES) $(ASC) | $(BUILD)
	$(ASC) $(AS_ENTRY) $(ASC_FLAGS) -o $@ --textFile $(BUILD)/kernel.wat

# wasm2c writes kernel.raw.c and kernel.raw.h; the post-processed C is what we
# compile. kernel.h (the imports and exports) is replaced only when it changes,
# so editing an AS function does not recompile the loader's C files.
$(BUILD)/kernel.merged.wasm: $(BUILD)/kernel.wasm scripts/build/mergeDataSegments.ts
	$(TSX) scripts/build/mergeDataSegments.ts $< $@

$(BUILD)/kernel.raw.c: $(BUILD)/kernel.merged.wasm
	$(WASM2C) $< -n kernel -o $@

$(BUILD)/kernel.h: $(BUILD)/kernel.raw.c
	cmp -s $(BUILD)/kernel.raw.h $@ || cp $(BUILD)/kernel.raw.h $@

$(BUILD)/kernel.c $(BUILD)/kernel.names.json &: $(BUILD)/kernel.raw.c scripts/build/postprocessKernelC.ts scripts/build/wasmNames.ts
	$(TSX) scripts/build/postprocessKernelC.ts $(BUILD)/kernel.wasm $< $(BUILD)/kernel.c $(BUILD)/kernel.names.json
	sed -i 's/#include "kernel.raw.h"/#include "kernel.h"/' $(BUILD)/kernel.c


$(BUILD)/include/wasm-rt.h: /usr/include/wasm-rt.h | $(BUILD)
	mkdir -p $(BUILD)/include && cp $< $@

$(OBJ)/kernel.o: $(BUILD)/kernel.c $(BUILD)/kernel.h $(BUILD)/include/wasm-rt.h loader/kernel_prelude.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(KERNEL_C_FLAGS) -include loader/kernel_prelude.h -c $< -o $@

$(OBJ)/loader/%.o: loader/%.c $(wildcard loader/*.h) arch/x86_64/layout.h $(BUILD)/kernel.h $(BUILD)/include/wasm-rt.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/arch/%.o: arch/x86_64/%.S arch/x86_64/layout.h
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c $< -o $@

# LTO happens once, into one relocatable object; both links below reuse it.
$(OBJ)/kernel.lto.o: $(LTO_OBJECTS)
	$(CC) $(CFLAGS) -r -nostdlib -flinker-output=nolto-rel $^ -o $@

LINK = $(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments -T loader/kernel.ld

# Pass 1 with an empty symbol table; its symbols make the real table for pass 2.
$(OBJ)/ksymtab.empty.S:
	@mkdir -p $(@D)
	$(TSX) scripts/build/symbolTable.ts --empty $@

$(OBJ)/%.o: $(OBJ)/%.S
	$(CC) $(ASFLAGS) -c $< -o $@

$(BUILD)/kernel.pass1.elf: $(OBJ)/kernel.lto.o $(ASM_OBJECTS) $(OBJ)/ksymtab.empty.o loader/kernel.ld
	$(LINK) $(OBJ)/kernel.lto.o $(ASM_OBJECTS) $(OBJ)/ksymtab.empty.o -o $@

$(OBJ)/ksymtab.S: $(BUILD)/kernel.pass1.elf $(BUILD)/kernel.names.json scripts/build/symbolTable.ts
	$(TSX) scripts/build/symbolTable.ts $< $(BUILD)/kernel.names.json $@

# The debug ELF keeps DWARF for gdb; kernel.elf is what boots.
$(BUILD)/kernel.debug.elf: $(OBJ)/kernel.lto.o $(ASM_OBJECTS) $(OBJ)/ksymtab.o loader/kernel.ld
	$(LINK) $(OBJ)/kernel.lto.o $(ASM_OBJECTS) $(OBJ)/ksymtab.o -o $@
	@# The symbol table must not have moved any code.
	@cmp <(nm -n $(BUILD)/kernel.pass1.elf | grep -i ' t ') <(nm -n $@ | grep -i ' t ') >/dev/null || \
	  { echo "error: code moved between link passes" >&2; exit 1; }

$(BUILD)/kernel.elf: $(BUILD)/kernel.debug.elf
	objcopy --strip-debug $< $@

$(BUILD):
	mkdir -p $(BUILD)

-include mk/mbr.mk

clean:
	rm -rf $(BUILD)
