// size: what each system needs on disk and loads into memory to boot.
//  - kernel ELF file: build/kernel.elf vs build/linux-guest/vmlinux (both booted through PVH)
//  - kernel bytes loaded: the PT_LOAD segments' file bytes of each
//  - boot image: a fresh wisp.qcow2 (as npm run image writes it) vs the
//    bzImage plus initramfs (the smallest set of files a Linux guest boots from)
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { guestPaths } from "../../linux-guest/build.ts";
import { buildImage } from "../../image/buildImage.ts";
import { parseElf64, PT_LOAD } from "../../image/elf.ts";
import { DEFAULT_DISK_BYTES } from "../../image/layout.ts";
import type { Context, Suite } from "../context.ts";
import { makeRow, measured, type Row } from "../results.ts";

export interface LoadedBytes {
  fileBytes: number;
  /** Sum of PT_LOAD p_filesz: what a loader copies. */
  loadFileBytes: number;
  /** Sum of PT_LOAD p_memsz: what it occupies once .bss is zeroed. */
  loadMemBytes: number;
}

export function loadedBytes(path: string): LoadedBytes {
  const file = readFileSync(path);
  const loads = parseElf64(file).programHeaders.filter((ph) => ph.type === PT_LOAD);
  return {
    fileBytes: file.length,
    loadFileBytes: loads.reduce((sum, ph) => sum + ph.filesz, 0),
    loadMemBytes: loads.reduce((sum, ph) => sum + ph.memsz, 0),
  };
}

const KiB = (bytes: number): number => Math.round((bytes / 1024) * 10) / 10;

export const sizeSuite: Suite = {
  names: ["size"],
  title: "kernel and boot image bytes",
  async run(ctx: Context): Promise<Row[]> {
    const linux = guestPaths();
    const wispElf = loadedBytes(ctx.wispKernel);
    const linuxElf = loadedBytes(linux.vmlinux);
    const imagePath = join(ctx.options.out, "wisp.qcow2");
    const image = buildImage({ kernelPath: ctx.wispKernel, mbrPath: ctx.wispMbr, outPath: imagePath, cmdline: "", diskBytes: DEFAULT_DISK_BYTES, format: "qcow2" });
    const vmlinuz = statSync(linux.vmlinuz).size;
    const initramfs = statSync(linux.initramfs).size;
    ctx.log(`size: kernel.elf ${wispElf.fileBytes} B (loads ${wispElf.loadFileBytes}), wisp.qcow2 ${image.fileBytes} B; vmlinux ${linuxElf.fileBytes} B (loads ${linuxElf.loadFileBytes}), vmlinuz ${vmlinuz} B, initramfs ${initramfs} B`);
    const common = { benchmark: "size" as const, unit: "KiB", better: "lower" as const, smp: null };
    return [
      makeRow({
        ...common,
        id: "size.elf",
        label: "size: kernel ELF file",
        wisp: measured([KiB(wispElf.fileBytes)]),
        linux: measured([KiB(linuxElf.fileBytes)]),
        note: "build/kernel.elf vs build/linux-guest/vmlinux (Debian's kernel decompressed; both boot through their PVH note). Debug info is in neither.",
        detail: { wisp: { path: ctx.wispKernel, ...wispElf }, linux: { path: linux.vmlinux, ...linuxElf } },
      }),
      makeRow({
        ...common,
        id: "size.load",
        label: "size: kernel bytes loaded (PT_LOAD filesz)",
        wisp: measured([KiB(wispElf.loadFileBytes)]),
        linux: measured([KiB(linuxElf.loadFileBytes)]),
        note: `what the loader copies into guest memory; with .bss (p_memsz) Wisp ${KiB(wispElf.loadMemBytes)} KiB, Linux ${KiB(linuxElf.loadMemBytes)} KiB.`,
        detail: { wispMemBytes: wispElf.loadMemBytes, linuxMemBytes: linuxElf.loadMemBytes },
      }),
      makeRow({
        ...common,
        id: "size.image",
        label: "size: boot image (Wisp qcow2 vs bzImage + initramfs)",
        wisp: measured([KiB(image.fileBytes)]),
        linux: measured([KiB(vmlinuz + initramfs)]),
        note: `a fresh wisp.qcow2 as npm run image writes it (MBR loader + kernel; no application yet) vs vmlinuz ${KiB(vmlinuz)} KiB + initramfs ${KiB(initramfs)} KiB (busybox, /init, the benchmark programs); with vmlinux instead of the bzImage Linux needs ${KiB(linuxElf.fileBytes + initramfs)} KiB.`,
        detail: { image: imagePath, imageBytes: image.fileBytes, vmlinuzBytes: vmlinuz, initramfsBytes: initramfs },
      }),
    ];
  },
};
