// Boots the Linux baseline guest (build/linux-guest/, see build.ts) in QEMU
// with the settings a Wisp guest gets from scripts/run/qemu.ts, runs one
// benchmark and reports its output, exit status and timing.
//
//   npx tsx scripts/linux-guest/run.ts --bench pingpong --smp 2 [--runs 5] [-- args for the benchmark]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chooseAccelerator, type AcceleratorChoice, type AcceleratorDecision } from "../run/accelerator.ts";
import { qemuArgs } from "../run/qemu.ts";
import { runQemuProcess } from "../run/qemuProcess.ts";
import { findBenchmark, type BenchmarkResult } from "./benchmarks.ts";
import { buildLinuxGuest, guestPaths } from "./build.ts";

/**
 * The kernel command line, besides console=ttyS0 and wisp.bench=. Each one
 * is explained in docs/linux-guest.md; in short:
 *  - tsc_early_khz is added by the runner (the host's TSC rate, which TCG's
 *    guest TSC runs at): no PIT calibration, which fails on microvm under TCG
 *    when the host is busy and leaves Linux without a usable clocksource.
 *  - tsc=reliable: no clocksource watchdog, which under TCG would see a
 *    descheduled vCPU as TSC skew and fall back to jiffies (4 ms steps).
 *  - edd=off, no i8042, no PS/2 probing: nothing to find on microvm.
 *  - reboot=t panic=-1: a triple fault resets, and QEMU's -no-reboot exits.
 */
export const BASE_CMDLINE = [
  "console=ttyS0",
  "quiet",
  "tsc=reliable",
  "edd=off",
  "i8042.noaux",
  "i8042.nokbd",
  "i8042.nopnp",
  "reboot=t",
  "panic=-1",
];

export interface LinuxGuestOptions {
  bench: string;
  /** Arguments for the benchmark program (after " -- " on the command line). */
  args?: string[];
  smp?: number;
  memory?: string;
  accel?: AcceleratorChoice;
  /** Kill QEMU after this many milliseconds (0: never). Default 120 s. */
  timeoutMs?: number;
  /** Drop `quiet`: the kernel's log on the console too. */
  verbose?: boolean;
  /** More kernel parameters, appended to the defaults. */
  extraCmdline?: string[];
  /** Copy the console to this process's stdout as it arrives. */
  echo?: boolean;
  /**
   * vmlinuz: Debian's bzImage through the Linux boot protocol (the kernel
   * decompresses itself, about 2.5 s of xz under TCG). vmlinux: the same
   * kernel decompressed at build time, entered through its PVH note like
   * Wisp's kernel.elf. Default vmlinuz.
   */
  kernel?: KernelFormat;
  /** Override the kernel file (default build/linux-guest/<kernel>). */
  kernelPath?: string;
  initramfs?: string;
  qemuBinary?: string;
}

export interface LinuxGuestResult {
  /** Serial console, CRLF folded to LF. */
  output: string;
  /** The benchmark's exit status from "linux: exit status N"; null if the guest never said (crash, timeout). */
  status: number | null;
  qemuExitCode: number | null;
  timedOut: boolean;
  /** QEMU start to exit. */
  wallMs: number;
  /** QEMU start to the guest's "linux: init started" line; null if it never came. */
  initAtMs: number | null;
  /** The benchmark's figure, parsed from the output. */
  result: BenchmarkResult | null;
  stderr: string;
  accelerator: AcceleratorDecision;
  args: string[];
  cmdline: string;
}

export type KernelFormat = "vmlinuz" | "vmlinux";

export const INIT_LINE = "linux: init started";
const EXIT_LINE = /^linux: exit status (\d+)$/m;

/**
 * The host's TSC rate in kHz, which under TCG is the guest's: measured by
 * build/linux-guest/host-tsc-khz (once per process), null if that fails.
 */
let measuredTscKhz: number | null | undefined;
export function hostTscKhz(helper = guestPaths().hostTscKhz): number | null {
  if (measuredTscKhz !== undefined) return measuredTscKhz;
  const result = spawnSync(helper, [], { encoding: "utf8" });
  const khz = result.status === 0 ? Number(result.stdout.trim()) : NaN;
  measuredTscKhz = Number.isInteger(khz) && khz > 100_000 ? khz : null;
  return measuredTscKhz;
}

export function linuxCmdline(options: Pick<LinuxGuestOptions, "bench" | "args" | "verbose" | "extraCmdline">, accelerator: AcceleratorDecision["accelerator"], tscKhz: number | null): string {
  const words = BASE_CMDLINE.filter((word) => !(options.verbose && word === "quiet"));
  if (accelerator === "tcg" && tscKhz !== null) words.push(`tsc_early_khz=${tscKhz}`);
  words.push(...(options.extraCmdline ?? []), `wisp.bench=${options.bench}`);
  const args = options.args ?? [];
  for (const arg of args) {
    if (arg.length === 0 || /\s/.test(arg)) throw new Error(`benchmark arguments cannot be empty or contain spaces: '${arg}'`);
  }
  if (args.length > 0) words.push("--", ...args);
  return words.join(" ");
}

export interface LinuxCommandOptions extends Pick<LinuxGuestOptions, "bench" | "args" | "verbose" | "extraCmdline" | "smp" | "memory" | "accel" | "kernel" | "kernelPath" | "initramfs"> {
  /** More QEMU arguments (network devices). */
  extraQemuArgs?: string[];
}

export interface LinuxCommand {
  args: string[];
  cmdline: string;
  accelerator: AcceleratorDecision;
}

/** QEMU's arguments for the Linux guest: microvm, the same settings a Wisp guest gets (scripts/run/qemu.ts). */
export function linuxQemuCommand(options: LinuxCommandOptions): LinuxCommand {
  const paths = guestPaths();
  const kernel = options.kernelPath ?? ((options.kernel ?? "vmlinuz") === "vmlinux" ? paths.vmlinux : paths.vmlinuz);
  const initramfs = options.initramfs ?? paths.initramfs;
  for (const file of [kernel, initramfs]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npx tsx scripts/linux-guest/build.ts`);
  }
  const accelerator = chooseAccelerator(options.accel ?? "auto");
  const cmdline = linuxCmdline(options, accelerator.accelerator, accelerator.accelerator === "tcg" ? hostTscKhz() : null);
  const args = qemuArgs({
    kernel,
    machine: "microvm",
    accelerator: accelerator.accelerator,
    memory: options.memory ?? "128M",
    smp: options.smp ?? 1,
    cmdline,
    extraArgs: ["-initrd", initramfs, ...(options.extraQemuArgs ?? [])],
  });
  return { args, cmdline, accelerator };
}

export async function bootLinuxGuest(options: LinuxGuestOptions): Promise<LinuxGuestResult> {
  const benchmark = options.bench === "shell" ? null : findBenchmark(options.bench);
  const { args, cmdline, accelerator } = linuxQemuCommand(options);
  let initAtMs: number | null = null;
  const run = await runQemuProcess({
    args,
    qemuBinary: options.qemuBinary,
    timeoutMs: options.timeoutMs ?? 120_000,
    echo: options.echo,
    watch: (output, elapsedMs) => {
      if (initAtMs === null && output.includes(INIT_LINE)) initAtMs = elapsedMs;
      return false;
    },
  });
  const exit = EXIT_LINE.exec(run.output);
  return {
    output: run.output,
    status: exit && !run.timedOut ? Number(exit[1]) : null,
    qemuExitCode: run.code,
    timedOut: run.timedOut,
    wallMs: run.wallMs,
    initAtMs,
    result: benchmark?.parse(run.output) ?? null,
    stderr: run.stderr,
    accelerator,
    args,
    cmdline,
  };
}

export interface GuestInfo {
  cpus: number | null;
  /** The clocksource the benchmark ran under (the last one /init reported). */
  clocksource: string | null;
  /** /proc/uptime when /init started (10 ms resolution). */
  uptimeAtInitS: number | null;
}

/** What /init says about the guest before the benchmark runs. */
export function parseGuestInfo(output: string): GuestInfo {
  const first = /^linux: (\d+) cpus, clocksource (\S+), uptime ([\d.]+) s$/m.exec(output);
  const clocksources = [...output.matchAll(/^linux: (?:\d+ cpus, )?clocksource (\S+), uptime [\d.]+ s$/gm)];
  return {
    cpus: first ? Number(first[1]) : null,
    clocksource: clocksources.length > 0 ? clocksources[clocksources.length - 1][1] : null,
    uptimeAtInitS: first ? Number(first[3]) : null,
  };
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const USAGE = `usage: npx tsx scripts/linux-guest/run.ts --bench NAME [options] [-- benchmark args]
  --bench NAME      benchmark to run (pingpong), or shell for a console shell
  --smp N           vCPUs (default 1; TCG then runs with thread=multi)
  --memory SIZE     guest RAM (default 128M)
  --runs N          boot N times and print medians (default 1)
  --accel A         auto, kvm or tcg (default auto)
  --kernel K        vmlinuz (bzImage, default) or vmlinux (decompressed, PVH entry)
  --timeout S       seconds per boot before QEMU is killed (default 120)
  --verbose         show the kernel log (drops quiet) and every console line
  --no-build        do not build (or check) the guest first
pingpong's arguments: [same|cross|any] [round trips] [max seconds]; the default
is same with --smp 1 and cross otherwise.`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      bench: { type: "string" },
      smp: { type: "string", default: "1" },
      memory: { type: "string", default: "128M" },
      runs: { type: "string", default: "1" },
      accel: { type: "string", default: "auto" },
      kernel: { type: "string", default: "vmlinuz" },
      timeout: { type: "string", default: "120" },
      verbose: { type: "boolean", default: false },
      "no-build": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help || values.bench === undefined) {
    console.log(USAGE);
    if (values.bench === undefined && !values.help) process.exitCode = 2;
    return;
  }
  const whole = (text: string, what: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what} wants a whole number above 0, not '${text}'`);
    return n;
  };
  const smp = whole(values.smp, "--smp");
  const runs = whole(values.runs, "--runs");
  const timeoutMs = whole(values.timeout, "--timeout") * 1000;
  if (!["auto", "kvm", "tcg"].includes(values.accel)) throw new Error("--accel wants auto, kvm or tcg");
  if (!["vmlinuz", "vmlinux"].includes(values.kernel)) throw new Error("--kernel wants vmlinuz or vmlinux");
  const kernel = values.kernel as KernelFormat;
  const bench = values.bench;
  const interactive = bench === "shell";
  const benchmark = interactive ? null : findBenchmark(bench);
  let args = positionals;
  if (bench === "pingpong" && args.length === 0) args = [smp > 1 ? "cross" : "same"];

  if (!values["no-build"]) buildLinuxGuest({ log: values.verbose ? undefined : () => {} });

  if (interactive) {
    throw new Error("--bench shell needs a terminal on QEMU's stdio: run qemu-system-x86_64 by hand (docs/linux-guest.md)");
  }

  const figures: number[] = [];
  const boots: number[] = [];
  const uptimes: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const r = await bootLinuxGuest({
      bench, args, smp, kernel, memory: values.memory, accel: values.accel as AcceleratorChoice, timeoutMs, verbose: values.verbose, echo: values.verbose,
    });
    if (i === 1) {
      console.log(`accelerator: ${r.accelerator.accelerator} (${r.accelerator.reason}); -accel ${r.args[r.args.indexOf("-accel") + 1]} -smp ${smp} -m ${values.memory}, kernel ${kernel}`);
      console.log(`command line: ${r.cmdline}`);
    }
    if (r.timedOut || r.status !== 0 || r.result === null) {
      const why = r.timedOut ? `timed out after ${timeoutMs / 1000} s` : r.status === null ? `no exit line (QEMU exit ${r.qemuExitCode})` : `exit status ${r.status}`;
      throw new Error(`run ${i}: ${why}\n${r.output}${r.stderr}`);
    }
    const info = parseGuestInfo(r.output);
    console.log(
      `run ${i}: ${r.result.line}; init at ${r.initAtMs?.toFixed(0)} ms (kernel uptime ${info.uptimeAtInitS ?? "?"} s), QEMU exit at ${r.wallMs.toFixed(0)} ms; ${info.cpus ?? "?"} cpus, clocksource ${info.clocksource ?? "?"}`,
    );
    figures.push(r.result.value);
    if (r.initAtMs !== null) boots.push(r.initAtMs);
    if (info.uptimeAtInitS !== null) uptimes.push(info.uptimeAtInitS * 1000);
  }
  const range = (v: number[], d: number) => (v.length > 1 ? ` (${Math.min(...v).toFixed(d)}-${Math.max(...v).toFixed(d)})` : "");
  console.log(`${bench} ${args.join(" ")}: median ${median(figures).toFixed(1)} ${benchmark!.unit}${range(figures, 1)} over ${runs} run(s)`);
  console.log(`boot (QEMU start to "${INIT_LINE}"): median ${median(boots).toFixed(0)} ms${range(boots, 0)}`);
  if (uptimes.length > 0) console.log(`kernel's own uptime at init (its clock starts after decompression): median ${median(uptimes).toFixed(0)} ms${range(uptimes, 0)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: Error) => {
    console.error(`linux-guest: ${error.message}`);
    process.exit(1);
  });
}
