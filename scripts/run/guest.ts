// Boots a Wisp guest in QEMU, relays or captures its serial console, and
// reports its exit status, the in-guest boot time and the QEMU wall time.
import { chooseAccelerator, type AcceleratorChoice, type AcceleratorDecision } from "./accelerator.ts";
import { deviceArgs, type DeviceOptions } from "./devices.ts";
import { runQemuProcess } from "./qemuProcess.ts";
import { guestStatusFromQemuExit, qemuArgs, type GuestConfig, type Machine } from "./qemu.ts";

export interface RunOptions {
  kernel?: string;
  image?: string;
  imageFormat?: "qcow2" | "raw";
  machine?: Machine;
  accel?: AcceleratorChoice;
  memory?: string;
  smp?: number;
  cmdline?: string;
  /** virtio devices: data disk, network, rng (scripts/run/devices.ts); none when absent. */
  devices?: DeviceOptions;
  extraArgs?: string[];
  /** Kill QEMU after this many milliseconds (0: never). */
  timeoutMs?: number;
  /** Copy the serial console to this process's stdout as it arrives. */
  echo?: boolean;
  qemuBinary?: string;
}

export interface RunResult {
  /** The guest's exit status, or null if QEMU failed or was killed. */
  status: number | null;
  qemuExitCode: number | null;
  output: string;
  stderr: string;
  timedOut: boolean;
  /** QEMU process start to exit, in milliseconds. */
  wallMs: number;
  /** Milliseconds from QEMU start to the guest's boot line on the console. */
  bootLineAtMs: number | null;
  /** The guest's own figure from "wisp: booted in <ms> ms". */
  guestBootMs: number | null;
  accelerator: AcceleratorDecision;
  args: string[];
}

const BOOT_LINE = /wisp: booted in ([0-9]+(?:\.[0-9]+)?) ms/;

export function parseBootLine(output: string): number | null {
  const match = BOOT_LINE.exec(output);
  return match ? Number(match[1]) : null;
}

export async function runGuest(options: RunOptions): Promise<RunResult> {
  const accelerator = chooseAccelerator(options.accel ?? "auto");
  const machine = options.machine ?? (options.image !== undefined ? "q35" : "microvm");
  const config: GuestConfig = {
    kernel: options.kernel,
    image: options.image,
    imageFormat: options.imageFormat,
    machine,
    accelerator: accelerator.accelerator,
    memory: options.memory ?? "128M",
    smp: options.smp ?? 1,
    cmdline: options.cmdline,
    extraArgs: deviceArgs(machine, options.devices ?? {}).concat(options.extraArgs ?? []),
  };
  const args = qemuArgs(config);
  let bootLineAtMs: number | null = null;
  const run = await runQemuProcess({
    args,
    qemuBinary: options.qemuBinary,
    timeoutMs: options.timeoutMs,
    echo: options.echo,
    watch: (output, elapsedMs) => {
      if (bootLineAtMs === null && BOOT_LINE.test(output)) bootLineAtMs = elapsedMs;
      return false;
    },
  });
  return {
    // QEMU's own failures also exit 1, which isa-debug-exit uses for
    // status 0: the kernel always says its status before exiting.
    status: run.timedOut || (run.code === 1 && !run.output.includes("wisp: exit status")) ? null : guestStatusFromQemuExit(run.code),
    qemuExitCode: run.code,
    output: run.output,
    stderr: run.stderr,
    timedOut: run.timedOut,
    wallMs: run.wallMs,
    bootLineAtMs,
    guestBootMs: parseBootLine(run.output),
    accelerator,
    args,
  };
}
