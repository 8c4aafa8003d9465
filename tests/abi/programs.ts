// Helpers for the Linux ABI tests: build the C programs of
// tests/programs/abi/ with gcc -static and -static-pie into
// build/programs/abi/, and boot one under QEMU (TCG, microvm) as the
// application: the binary is the initrd (PVH module 0) and the command line
// `-- [NAME=value ...] /<name> [args]`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { runGuest, type RunResult } from "../../scripts/run/guest.ts";
import type { Machine } from "../../scripts/run/qemu.ts";

export const KERNEL = "build/kernel.elf";
export const SOURCE_DIR = "tests/programs/abi";
export const OUTPUT_DIR = "build/programs/abi";

export type Linking = "static" | "static-pie" | "dynamic";

/** The binary's path for a program and a way of linking it. */
export function programPath(name: string, linking: Linking = "static"): string {
  const suffix = linking === "static" ? "" : linking === "static-pie" ? "-pie" : "-dynamic";
  return join(OUTPUT_DIR, name + suffix);
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

/** Compiles tests/programs/abi/<name>.c unless the binary is newer than its
 * sources; the binary appears atomically (test files build in parallel). */
export function buildProgram(name: string, linking: Linking = "static"): string {
  const source = join(SOURCE_DIR, `${name}.c`);
  const output = programPath(name, linking);
  const newest = Math.max(mtime(source), mtime(join(SOURCE_DIR, "check.h")));
  if (mtime(output) > newest) return output;
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const temporary = `${output}.${process.pid}.tmp`;
  const flags = linking === "static" ? ["-static"] : linking === "static-pie" ? ["-static-pie"] : [];
  execFileSync("gcc", [...flags, "-O2", "-Wall", "-pthread", "-o", temporary, source], { stdio: "pipe" });
  renameSync(temporary, output);
  return output;
}

export interface ProgramRun {
  name: string;
  linking?: Linking;
  /** Arguments after the program's path. */
  args?: string[];
  /** NAME=value words before the path (the environment). */
  env?: string[];
  smp?: number;
  machine?: Machine;
  /** Kernel options before `--`. */
  options?: string;
  /** The initrd; the program's binary unless given. */
  initrd?: string | null;
  /** argv[0] (the path or the name searched in PATH); `/<name>` unless given. */
  program?: string;
  timeoutMs?: number;
}

/** Boots the kernel with the program as its application. */
export function runProgram(run: ProgramRun): Promise<RunResult> {
  const binary = run.initrd === undefined ? buildProgram(run.name, run.linking ?? "static") : run.initrd;
  const words = [run.options ?? "", "--", ...(run.env ?? []), run.program ?? `/${run.name}`, ...(run.args ?? [])];
  return runGuest({
    kernel: KERNEL,
    machine: run.machine ?? "microvm",
    accel: "tcg",
    smp: run.smp ?? 1,
    memory: "256M",
    cmdline: words.filter((w) => w.length > 0).join(" "),
    extraArgs: binary === null ? [] : ["-initrd", binary],
    timeoutMs: run.timeoutMs ?? 60_000,
  });
}

/** The "ok"/"not ok" lines a check program printed. */
export function checkLines(output: string): { ok: string[]; failed: string[] } {
  const lines = output.split("\n");
  return {
    ok: lines.filter((line) => line.startsWith("ok - ")),
    failed: lines.filter((line) => line.startsWith("not ok - ")),
  };
}
