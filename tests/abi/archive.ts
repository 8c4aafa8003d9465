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
  const writer = new CpioWriter(mtime);
  for (const file of files) writer.file(file.path, file.data, file.mode ?? 0o644);
  for (const [path, target] of Object.entries(symlinks)) writer.symlink(path, target);
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const output = join(OUTPUT_DIR, `${name}.cpio`);
  writeFileSync(output, writer.toBuffer());
  return output;
}
