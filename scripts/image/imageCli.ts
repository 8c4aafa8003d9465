/** `npx tsx scripts/image.ts`: build build/wisp.qcow2 (see --help). */
import { CMDLINE_MAX_BYTES } from "./bootHeader.js";
import { buildImage } from "./buildImage.js";
import { parseArgs, parseSize } from "./cliArgs.js";
import { formatBytes, type CliIo } from "./cliIo.js";
import type { DiskFormat } from "./diskFile.js";
import { UsageError, userErrorMessage } from "./errors.js";
import { hex } from "./bytes.js";
import { DEFAULT_DISK_BYTES } from "./layout.js";
import { writeFileSync } from "node:fs";
import { buildRootArchive } from "./rootArchive.js";

export const IMAGE_USAGE = `usage: npx tsx scripts/image.ts [options]

Builds a bootable Wisp disk image: MBR loader, boot header with the kernel
command line, the kernel's PT_LOAD bytes, the root file system (a cpio
archive, when there are files to put in it) and a data partition after them.

  --kernel PATH     kernel ELF with a PVH entry note   (default build/kernel.elf)
  --mbr PATH        512-byte MBR loader                 (default build/mbr.bin)
  --out PATH        output image                        (default build/wisp.qcow2)
  --cmdline STR     kernel command line, at most ${CMDLINE_MAX_BYTES} bytes (default "")
  --size N[K|M|G]   virtual disk size                   (default 64M)
  --format F        qcow2 or raw                        (default qcow2)
  --manifest FILE   files for the root file system, one "guest/path: host/path"
                    per line (# comments; directories are copied recursively)
  --archive-out P   also write the root archive here, for direct boot with
                    -initrd (default: the image's path with .cpio)
  --app PATH [ARGS] the application: copies the host executable PATH, its ELF
                    interpreter and the shared libraries it needs (found as
                    ldd finds them) and sets the command line to run it with
                    ARGS; everything after PATH is ARGS, so --app comes last
  --help            this text

Boot it:  npm run boot -- --image build/wisp.qcow2
    or:   npm run boot -- --initrd build/wisp.cpio "--cmdline=-- /bin/app args"

Change the command line later with: npx tsx scripts/cmdline.ts IMAGE "new line"`;

const FLAGS = [
  { name: "kernel", takesValue: true },
  { name: "mbr", takesValue: true },
  { name: "out", takesValue: true },
  { name: "cmdline", takesValue: true },
  { name: "size", takesValue: true },
  { name: "format", takesValue: true },
  { name: "manifest", takesValue: true },
  { name: "archive-out", takesValue: true },
  { name: "help", takesValue: false },
];

/** Runs the image CLI; returns the exit status (0 ok, 2 user error). */
export function runImageCli(argv: string[], io: CliIo): number {
  try {
    // --app PATH ARGS...: the rest of the line belongs to the application.
    const appAt = argv.indexOf("--app");
    let app: { path: string; args: string[] } | undefined;
    if (appAt >= 0) {
      if (appAt + 1 >= argv.length || argv[appAt + 1].length === 0) throw new UsageError("--app needs the path of an executable");
      app = { path: argv[appAt + 1], args: argv.slice(appAt + 2) };
      argv = argv.slice(0, appAt);
    }
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
    const manifest = flags.get("manifest");
    const outPath = nonEmpty("out", "build/wisp.qcow2");
    let cmdline = flags.get("cmdline") ?? "";
    let archive: Buffer | null = null;
    let archiveOut: string | null = null;
    let summary = "";
    if (manifest !== undefined || app !== undefined) {
      if (app !== undefined && /(^|\s)--(\s|$)/.test(cmdline)) {
        throw new UsageError("--cmdline already names a program after --; --app sets it");
      }
      const root = buildRootArchive({ manifest, app });
      archive = root.archive;
      if (root.commandTail.length > 0) cmdline = cmdline.length > 0 ? `${cmdline} ${root.commandTail}` : root.commandTail;
      archiveOut = flags.get("archive-out") ?? outPath.replace(/(\.qcow2|\.img|\.raw)?$/, ".cpio");
      summary = `; root archive ${formatBytes(archive.length)} (${root.tree.entries.size} entries${
        root.resolution ? `, ${root.resolution.libraries.length} libraries` : ""}) also in ${archiveOut}`;
    } else if (flags.has("archive-out")) {
      throw new UsageError("--archive-out needs --manifest or --app");
    }
    const opts = {
      kernelPath: nonEmpty("kernel", "build/kernel.elf"),
      mbrPath: nonEmpty("mbr", "build/mbr.bin"),
      outPath,
      cmdline,
      diskBytes: sizeText === undefined ? DEFAULT_DISK_BYTES : parseSize(sizeText),
      format: format as DiskFormat,
      archive,
    };
    const r = buildImage(opts);
    if (archive !== null && archiveOut !== null) writeFileSync(archiveOut, archive);
    io.out(
      `image: ${opts.outPath} (${opts.format}, ${formatBytes(r.fileBytes)} file, ${formatBytes(opts.diskBytes)} disk): ` +
        `kernel ${r.kernel.blob.length} bytes at ${hex(r.kernel.loadAddr)}, entry ${hex(r.kernel.entry)}, ` +
        `data partition at LBA ${r.layout.dataLba}; cmdline ${JSON.stringify(opts.cmdline)}${summary}`,
    );
    return 0;
  } catch (e) {
    const msg = userErrorMessage(e);
    if (msg === null) throw e;
    io.err(`image: error: ${msg}`);
    return 2;
  }
}
