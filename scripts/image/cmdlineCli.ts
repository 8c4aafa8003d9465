/** `npx tsx scripts/cmdline.ts IMAGE [NEW]`: show or rewrite the stored command line. */
import { BOOT_HEADER_OFFSET, CMDLINE_MAX_BYTES, SECTOR_SIZE, decodeBootHeader, encodeCmdline, writeCmdline } from "./bootHeader.js";
import { parseArgs } from "./cliArgs.js";
import type { CliIo } from "./cliIo.js";
import { existsSync } from "node:fs";
import { openDiskFile, type DiskFile } from "./diskFile.js";
import { ImageError, UsageError, userErrorMessage } from "./errors.js";

export const CMDLINE_USAGE = `usage: npx tsx scripts/cmdline.ts IMAGE            print the stored kernel command line
       npx tsx scripts/cmdline.ts IMAGE "NEW LINE" replace it in place (at most ${CMDLINE_MAX_BYTES} bytes)

IMAGE is a Wisp disk image (qcow2 or raw) written by scripts/image.ts.
Put -- before a command line that starts with "-". Do not run it on an
image that a QEMU has open.`;

export function readImageCmdline(path: string): string {
  const disk = openDiskFile(path, false);
  try {
    return decodeBootHeader(readHeaderSector(disk)).cmdline;
  } finally {
    disk.close();
  }
}

export function writeImageCmdline(path: string, cmdline: string): void {
  encodeCmdline(cmdline); // refuse a bad line before opening for writing
  const disk = openDiskFile(path, true);
  try {
    const sector = readHeaderSector(disk);
    writeCmdline(sector, cmdline);
    disk.write(BOOT_HEADER_OFFSET, sector);
  } finally {
    disk.close();
  }
}

function readHeaderSector(disk: DiskFile): Uint8Array {
  let sector: Uint8Array;
  try {
    sector = disk.read(BOOT_HEADER_OFFSET, SECTOR_SIZE);
  } catch (e) {
    if (e instanceof ImageError) throw new ImageError(`no Wisp boot header: ${e.message}`);
    throw e;
  }
  try {
    decodeBootHeader(sector);
  } catch (e) {
    if (e instanceof ImageError && disk.format === "raw") {
      throw new ImageError(`${e.message} (not a qcow2 file; read as a raw image)`);
    }
    throw e;
  }
  return sector;
}

/** Runs the cmdline CLI; returns the exit status (0 ok, 2 user error). */
export function runCmdlineCli(argv: string[], io: CliIo): number {
  try {
    const { flags, positionals } = parseArgs(argv, [{ name: "help", takesValue: false }]);
    if (flags.has("help")) {
      io.out(CMDLINE_USAGE);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError("missing IMAGE (see --help)");
    if (positionals.length > 2) throw new UsageError(`too many arguments (quote the command line; see --help)`);
    const [path, next] = positionals;
    if (!existsSync(path)) throw new ImageError(`image ${path} not found`);
    if (next === undefined) {
      io.out(readImageCmdline(path));
    } else {
      writeImageCmdline(path, next);
      io.out(`cmdline: ${path}: set to ${JSON.stringify(next)}`);
    }
    return 0;
  } catch (e) {
    const msg = userErrorMessage(e);
    if (msg === null) throw e;
    io.err(`cmdline: error: ${msg}`);
    return 2;
  }
}
