// Boots the Linux baseline guest only as far as its ready line and stops it
// there: what the boot and ram benchmarks need (bootLinuxGuest in
// scripts/linux-guest/run.ts runs a whole benchmark and waits for power-off).
// The QEMU command line and the kernel's are built by the same functions as
// bootLinuxGuest's, so the guest is the same.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { guestPaths } from "../linux-guest/build.ts";
import { hostTscKhz, INIT_LINE, linuxCmdline, type KernelFormat } from "../linux-guest/run.ts";
import { chooseAccelerator, type AcceleratorChoice, type AcceleratorDecision } from "../run/accelerator.ts";
import { qemuArgs } from "../run/qemu.ts";

/** /init's second line: it has mounted /proc and read the clocksource and uptime. */
export const READY_LINE = /^linux: (\d+) cpus, clocksource (\S+), uptime ([\d.]+) s\r?$/m;
/** Lines after which the guest will not reach its ready line (it may hang instead of exiting). */
export const LINUX_FAILURE = /Kernel panic - not syncing[^\n]*|Out of memory[^\n]*|Initramfs unpacking failed[^\n]*/;

export interface LinuxCommandOptions {
  smp: number;
  memory: string;
  accel: AcceleratorChoice;
  kernel: KernelFormat;
  /** Default build/linux-guest/initramfs.cpio.gz. */
  initramfs?: string;
  /** wisp.bench= and its arguments. */
  bench?: string;
  benchArgs?: string[];
  /** More kernel parameters (e.g. earlyprintk, to see panics that come before the console). */
  extraCmdline?: string[];
  /** More QEMU arguments (network devices). */
  extraQemuArgs?: string[];
}

export interface LinuxCommand {
  args: string[];
  cmdline: string;
  accelerator: AcceleratorDecision;
}

/** QEMU's arguments for the Linux guest: exactly what bootLinuxGuest passes, plus extraQemuArgs. */
export function linuxQemuCommand(options: LinuxCommandOptions): LinuxCommand {
  const paths = guestPaths();
  const kernel = options.kernel === "vmlinux" ? paths.vmlinux : paths.vmlinuz;
  const initramfs = options.initramfs ?? paths.initramfs;
  for (const file of [kernel, initramfs]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npx tsx scripts/linux-guest/build.ts`);
  }
  const accelerator = chooseAccelerator(options.accel);
  const cmdline = linuxCmdline(
    { bench: options.bench ?? "pingpong", args: options.bench === undefined ? ["same", "1", "1"] : options.benchArgs, extraCmdline: options.extraCmdline },
    accelerator.accelerator,
    accelerator.accelerator === "tcg" ? hostTscKhz() : null,
  );
  const args = qemuArgs({
    kernel,
    machine: "microvm",
    accelerator: accelerator.accelerator,
    memory: options.memory,
    smp: options.smp,
    cmdline,
    extraArgs: ["-initrd", initramfs, ...(options.extraQemuArgs ?? [])],
  });
  return { args, cmdline, accelerator };
}

export interface LinuxBootOptions extends Omit<LinuxCommandOptions, "bench" | "benchArgs"> {
  timeoutMs: number;
  qemuBinary?: string;
}

export interface LinuxBootResult {
  /** The ready line came: init runs and has read /proc. */
  ready: boolean;
  /** QEMU start to "linux: init started". */
  initAtMs: number | null;
  /** The kernel's uptime when init started (its clock, 10 ms resolution). */
  uptimeAtInitMs: number | null;
  cpus: number | null;
  /** Why it did not get ready: a failure line, QEMU's exit, or the timeout. */
  failure: string | null;
  wallMs: number;
  output: string;
  stderr: string;
  args: string[];
  cmdline: string;
  accelerator: AcceleratorDecision;
}

/**
 * Boots to the ready line and kills QEMU there. The benchmark named on the
 * command line never starts (pingpong with one round trip, should a run
 * ever get that far).
 */
export function bootLinuxToReady(options: LinuxBootOptions): Promise<LinuxBootResult> {
  const { args, cmdline, accelerator } = linuxQemuCommand(options);
  const started = process.hrtime.bigint();
  const elapsedMs = (): number => Number(process.hrtime.bigint() - started) / 1e6;

  return new Promise((resolve, reject) => {
    const qemu = spawn(options.qemuBinary ?? "qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let stderr = "";
    let initAtMs: number | null = null;
    let ready: RegExpExecArray | null = null;
    let failure: string | null = null;
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      qemu.kill("SIGKILL");
    };
    const timer = setTimeout(() => {
      failure = `no ready line after ${Math.round(options.timeoutMs / 1000)} s`;
      stop();
    }, options.timeoutMs);
    qemu.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("latin1");
      if (stopping) return;
      if (initAtMs === null && output.includes(INIT_LINE)) initAtMs = elapsedMs();
      ready = READY_LINE.exec(output);
      if (ready !== null) return stop();
      const bad = LINUX_FAILURE.exec(output);
      if (bad !== null) {
        failure = bad[0].trim();
        stop();
      }
    });
    qemu.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    qemu.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start QEMU: ${error.message}`));
    });
    qemu.on("close", (code) => {
      clearTimeout(timer);
      const match = ready as RegExpExecArray | null;
      if (match === null && failure === null) {
        const said = stderr.trim().split("\n")[0] ?? "";
        failure = `QEMU exited (code ${code}) before the ready line${said ? `: ${said}` : ""}`;
      }
      resolve({
        ready: match !== null,
        initAtMs,
        uptimeAtInitMs: match ? Math.round(Number(match[3]) * 1000) : null,
        cpus: match ? Number(match[1]) : null,
        failure: match ? null : failure,
        wallMs: elapsedMs(),
        output: output.replace(/\r\n/g, "\n"),
        stderr,
        args,
        cmdline,
        accelerator,
      });
    });
  });
}
