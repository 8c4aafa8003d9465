// Boots the Linux baseline guest only as far as its ready line and stops it
// there: what the boot and ram benchmarks need (bootLinuxGuest in
// scripts/linux-guest/run.ts runs a whole benchmark and waits for power-off).
// The QEMU command line is bootLinuxGuest's (linuxQemuCommand), so the guest
// is the same.
import { INIT_LINE, linuxQemuCommand, type KernelFormat } from "../linux-guest/run.ts";
import type { AcceleratorChoice, AcceleratorDecision } from "../run/accelerator.ts";
import { runQemuProcess } from "../run/qemuProcess.ts";

/** /init's second line: it has mounted /proc and read the clocksource and uptime. */
export const READY_LINE = /^linux: (\d+) cpus, clocksource (\S+), uptime ([\d.]+) s\r?$/m;
/** Lines after which the guest will not reach its ready line (it may hang instead of exiting). */
export const LINUX_FAILURE = /Kernel panic - not syncing[^\n]*|Out of memory[^\n]*|Initramfs unpacking failed[^\n]*/;

export interface LinuxBootOptions {
  smp: number;
  memory: string;
  accel: AcceleratorChoice;
  kernel: KernelFormat;
  /** More kernel parameters (e.g. earlyprintk, to see panics that come before the console). */
  extraCmdline?: string[];
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
export async function bootLinuxToReady(options: LinuxBootOptions): Promise<LinuxBootResult> {
  const { args, cmdline, accelerator } = linuxQemuCommand({ ...options, bench: "pingpong", args: ["same", "1", "1"] });
  let initAtMs: number | null = null;
  let ready: RegExpExecArray | null = null;
  let failure: string | null = null;
  const run = await runQemuProcess({
    args,
    qemuBinary: options.qemuBinary,
    timeoutMs: options.timeoutMs,
    watch: (output, elapsedMs) => {
      if (initAtMs === null && output.includes(INIT_LINE)) initAtMs = elapsedMs;
      ready = READY_LINE.exec(output);
      if (ready !== null) return true;
      const bad = LINUX_FAILURE.exec(output);
      if (bad !== null) failure = bad[0].trim();
      return bad !== null;
    },
  });
  const match = ready as RegExpExecArray | null;
  if (match === null && failure === null) {
    if (run.timedOut) {
      failure = `no ready line after ${Math.round(options.timeoutMs / 1000)} s`;
    } else {
      const said = run.stderr.trim().split("\n")[0] ?? "";
      failure = `QEMU exited (code ${run.code}) before the ready line${said ? `: ${said}` : ""}`;
    }
  }
  return {
    ready: match !== null,
    initAtMs,
    uptimeAtInitMs: match ? Math.round(Number(match[3]) * 1000) : null,
    cpus: match ? Number(match[1]) : null,
    failure: match ? null : failure,
    wallMs: run.wallMs,
    output: run.output,
    stderr: run.stderr,
    args,
    cmdline,
    accelerator,
  };
}
