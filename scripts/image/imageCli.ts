/** `npx tsx scripts/image.ts`: build build/wisp.qcow2 (see --help). */
import { CMDLINE_MAX_BYTES } from "./bootHeader.js";
import { buildImage } from "./buildImage.js";
import { parseArgs, parseSize } from "./cliArgs.js";
import { formatBytes, type CliIo } from "./cliIo.js";
import type { DiskFormat } from "./diskFile.js";
import { UsageError, userErrorMessage } from "./errors.js";
import { hex } from "./bytes.js";
import { DEFAULT_DISK_BYTES } from "./layout.js";

export const IMAGE_USAGE = `usage: npx tsx scripts/image.ts [options]

Builds a bootable Wisp disk image: MBR loader, boot header with the kernel
command line, the kernel's PT_LOAD bytes, and a data partition after them.

  --kernel PATH     kernel ELF with a PVH entry note   (default build/kernel.elf)
  --mbr PATH        512-byte MBR loader                 (default build/mbr.bin)
  --out PATH        output image                        (default build/wisp.qcow2)
  --cmdline STR     kernel command line, at most ${CMDLINE_MAX_BYTES} bytes (default "")
  --size N[K|M|G]   virtual disk size                   (default 64M)
  --format F        qcow2 or raw                        (default qcow2)
  --help            this text

Change the command line later with: npx tsx scripts/cmdline.ts IMAGE "new line"`;

const FLAGS = [
  { name: "kernel", takesValue: true },
  { name: "mbr", takesValue: true },
  { name: "out", takesValue: true },
  { name: "cmdline", takesValue: true },
  { name: "size", takesValue: true },
  { name: "format", takesValue: true },
  { name: "help", takesValue: false },
];

/** Runs the image CLI; returns the exit status (0 ok, 2 user error). */
export function runImageCli(argv: string[], io: CliIo): number {
  try {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (flags.has("help")) {
      io.out(IMAGE_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (see --help)`);
    const format = flags.get("format") ?? "qcow2";
    if (format !== "qcow2" && format !== "raw") throw new UsageError(`--format must be qcow2 or raw, not "${format}"`);
    const nonEmpty = (name: string, dflt: string): string => {
      const v = flags.get(name) ?? dflt;
      if (v === "") throw new UsageError(`--${name} needs a non-empty value`);
      return v;
    };
    const sizeText = flags.get("size");
    const opts = {
      kernelPath: nonEmpty("kernel", "build/kernel.elf"),
      mbrPath: nonEmpty("mbr", "build/mbr.bin"),
      outPath: nonEmpty("out", "build/wisp.qcow2"),
      cmdline: flags.get("cmdline") ?? "",
      diskBytes: sizeText === undefined ? DEFAULT_DISK_BYTES : parseSize(sizeText),
      format: format as DiskFormat,
    };
    const r = buildImage(opts);
    io.out(
      `image: ${opts.outPath} (${opts.format}, ${formatBytes(r.fileBytes)} file, ${formatBytes(opts.diskBytes)} disk): ` +
        `kernel ${r.kernel.blob.length} bytes at ${hex(r.kernel.loadAddr)}, entry ${hex(r.kernel.entry)}, ` +
        `data partition at LBA ${r.layout.dataLba}; cmdline ${JSON.stringify(opts.cmdline)}`,
    );
    return 0;
  } catch (e) {
    const msg = userErrorMessage(e);
    if (msg === null) throw e;
    io.err(`image: error: ${msg}`);
    return 2;
  }
}
