// Root archives for the ABI tests: a cpio "newc" archive (the writer the
// Linux guest uses, scripts/linux-guest/cpio.ts) written to build/programs/abi/.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CpioWriter } from "../../scripts/linux-guest/cpio.ts";
import { OUTPUT_DIR } from "./programs.ts";

export interface ArchiveFile {
  path: string;
  data: Uint8Array | string;
  mode?: number;
}

/** Writes an archive of `files` (and `symlinks`: path -> target) as build/programs/abi/<name>.cpio. */
export function writeArchive(name: string, files: ArchiveFile[], symlinks: Record<string, string> = {}, mtime = 1_700_000_000): string {
  return saveArchive(name, archiveBytes(files, symlinks, mtime));
}

/** The bytes of an archive of `files` and `symlinks` (the writer adds parent directories). */
export function archiveBytes(files: ArchiveFile[], symlinks: Record<string, string> = {}, mtime = 1_700_000_000, configure?: (writer: CpioWriter) => void): Buffer {
  const writer = new CpioWriter(mtime);
  for (const file of files) writer.file(file.path, file.data, file.mode ?? 0o644);
  for (const [path, target] of Object.entries(symlinks)) writer.symlink(path, target);
  configure?.(writer);
  return writer.toBuffer();
}

/** Writes archive bytes as build/programs/abi/<name>.cpio. */
export function saveArchive(name: string, bytes: Uint8Array): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const output = join(OUTPUT_DIR, `${name}.cpio`);
  writeFileSync(output, bytes);
  return output;
}

/** Renames an entry in place (the new name must have the old one's length): for names the writer refuses. */
export function renameEntry(bytes: Buffer, from: string, to: string): void {
  if (from.length !== to.length) throw new Error("renameEntry: names of different lengths");
  const at = bytes.indexOf(`${from}\0`);
  if (at < 0) throw new Error(`renameEntry: ${from} not found`);
  bytes.write(to, at, "ascii");
}
