// The C programs of tests/programs/net/ (socket system calls): built with
// gcc -static into build/programs/net/ and booted as the application, as
// tests/abi/programs.ts does for the ABI programs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";

export const NET_SOURCE_DIR = "tests/programs/net";
export const NET_OUTPUT_DIR = "build/programs/net";

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

/** Compiles tests/programs/net/<name>.c unless the binary is newer; the binary appears atomically. */
export function buildNetProgram(name: string): string {
  const source = join(NET_SOURCE_DIR, `${name}.c`);
  const output = join(NET_OUTPUT_DIR, name);
  const newest = Math.max(mtime(source), mtime("tests/programs/abi/check.h"));
  if (mtime(output) > newest) return output;
  mkdirSync(NET_OUTPUT_DIR, { recursive: true });
  const temporary = `${output}.${process.pid}.tmp`;
  execFileSync("gcc", ["-static", "-O2", "-Wall", "-pthread", "-o", temporary, source], { stdio: "pipe" });
  renameSync(temporary, output);
  return output;
}
