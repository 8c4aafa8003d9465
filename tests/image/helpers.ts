/** Shared helpers for the disk-image tests. */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "../../scripts/image/cliIo.js";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** A fresh temporary directory and its remover. */
export function makeTempDir(tag: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `wisp-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the TypeScript CLIs the way `npx tsx` would. */
export function runScript(script: string, args: string[]): RunResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO, script), ...args], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function qemuImg(args: string[]): RunResult {
  const r = spawnSync("qemu-img", args, { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Builds mbr.bin with mk/mbr.mk into dir; returns its path. */
export function buildMbr(dir: string): string {
  execFileSync("make", ["-s", "-f", "mk/mbr.mk", `BUILD=${dir}`, join(dir, "mbr.bin")], { cwd: REPO, stdio: "pipe" });
  return join(dir, "mbr.bin");
}

export interface CapturedIo extends CliIo {
  outLines: string[];
  errLines: string[];
}

export function captureIo(): CapturedIo {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
}

export interface BootOptions {
  machine: "pc" | "q35";
  image: string;
  format: "qcow2" | "raw";
  /** Use -nographic (serial and monitor on stdio) instead of -display none -serial stdio. */
  nographic?: boolean;
  /** Resolve (and kill QEMU) as soon as the output matches. */
  stopWhen?: RegExp;
  timeoutMs?: number;
}

export interface BootResult {
  /** QEMU's exit status; isa-debug-exit makes it (value << 1) | 1. */
  status: number | null;
  output: string;
  timedOut: boolean;
}

/** Boots an image under TCG with isa-debug-exit; QEMU never outlives timeoutMs. */
export function bootQemu(o: BootOptions): Promise<BootResult> {
  const args = [
    "-M", o.machine,
    "-accel", "tcg",
    "-m", "128",
    "-drive", `file=${o.image},format=${o.format}`,
    "-no-reboot",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ...(o.nographic ? ["-nographic"] : ["-display", "none", "-serial", "stdio", "-monitor", "none"]),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let timedOut = false;
    let stopped = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, o.timeoutMs ?? 60_000);
    const onData = (d: Buffer): void => {
      output += d.toString("latin1");
      if (!stopped && o.stopWhen?.test(output)) {
        stopped = true;
        child.kill("SIGKILL");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code, output: output.replace(/\r/g, ""), timedOut });
    });
  });
}
