// Builds the QEMU command line for a Wisp guest.
import type { Accelerator } from "./accelerator.ts";

export type Machine = "microvm" | "q35" | "pc";
export const MACHINES: readonly Machine[] = ["microvm", "q35", "pc"];

/** Port of the isa-debug-exit device; the kernel writes its exit status there. */
export const DEBUG_EXIT_PORT = 0xf4;

export interface GuestConfig {
  /** Direct PVH boot of a kernel ELF (qemu -kernel). */
  kernel?: string;
  /** Disk boot from an image through SeaBIOS and our MBR loader. */
  image?: string;
  imageFormat?: "qcow2" | "raw";
  machine: Machine;
  accelerator: Accelerator;
  memory: string;
  smp: number;
  /** Kernel command line (direct boot only; a disk image stores its own). */
  cmdline?: string;
  extraArgs: string[];
}

export function qemuArgs(config: GuestConfig): string[] {
  if ((config.kernel === undefined) === (config.image === undefined)) {
    throw new Error("give exactly one of a kernel (direct boot) or an image (disk boot)");
  }
  if (config.image !== undefined && config.machine === "microvm") {
    throw new Error("disk boot needs a BIOS: use --machine q35 or pc, not microvm");
  }
  // Several vCPUs under TCG run on several host threads (MTTCG).
  const accel = config.accelerator === "kvm" ? "kvm" : config.smp > 1 ? "tcg,thread=multi" : "tcg";
  const args = [
    "-M", config.machine,
    "-accel", accel,
    "-cpu", config.accelerator === "kvm" ? "host" : "qemu64",
    "-m", config.memory,
    "-smp", String(config.smp),
    "-nodefaults",
    "-no-user-config",
    "-display", "none",
    "-serial", "stdio",
    "-no-reboot",
    "-device", `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=4`,
  ];
  if (config.kernel !== undefined) {
    args.push("-kernel", config.kernel);
    if (config.cmdline !== undefined && config.cmdline.length > 0) args.push("-append", config.cmdline);
  } else if (config.image !== undefined) {
    args.push("-drive", `file=${config.image},format=${config.imageFormat ?? "qcow2"},if=virtio`);
  }
  return args.concat(config.extraArgs);
}

/**
 * The guest's exit status from QEMU's: isa-debug-exit makes QEMU exit with
 * (status << 1) | 1; an ACPI power-off exits 0. Anything else is QEMU's own
 * failure (bad arguments, killed), returned as null.
 */
export function guestStatusFromQemuExit(code: number | null): number | null {
  if (code === null) return null;
  if (code === 0) return 0;
  if (code % 2 === 1) return code >> 1;
  return null;
}
