// Chooses QEMU's accelerator: KVM where it is real hardware virtualization,
// TCG otherwise. Some sandboxes expose /dev/kvm backed by a software
// emulation of VMX ("kvm_pvm") that runs ring-0 code thousands of times
// slower than TCG; a library OS runs everything at ring 0, so that is no KVM.
import { accessSync, constants, readdirSync, readFileSync } from "node:fs";

export type Accelerator = "kvm" | "tcg";
export type AcceleratorChoice = Accelerator | "auto";

export interface AcceleratorDecision {
  accelerator: Accelerator;
  reason: string;
}

/** The host's kernel modules: /proc/modules, else /sys/module (containers
 * often hide the former); empty when neither is readable. */
function loadedModules(): string[] {
  try {
    return readFileSync("/proc/modules", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[0])
      .filter((name) => name.length > 0);
  } catch {
    try {
      return readdirSync("/sys/module");
    } catch {
      return [];
    }
  }
}

export function probeKvm(modules: string[] = loadedModules(), kvmDevice = "/dev/kvm"): AcceleratorDecision {
  try {
    accessSync(kvmDevice, constants.R_OK | constants.W_OK);
  } catch {
    return { accelerator: "tcg", reason: `${kvmDevice} is not available` };
  }
  if (modules.includes("kvm_pvm")) {
    return { accelerator: "tcg", reason: "/dev/kvm is kvm_pvm (software-emulated, slower than TCG for ring-0 code)" };
  }
  if (modules.includes("kvm_intel") || modules.includes("kvm_amd")) {
    return { accelerator: "kvm", reason: "/dev/kvm backed by hardware virtualization" };
  }
  // /dev/kvm works but the backend is unknown (e.g. KVM built in): trust it.
  return { accelerator: "kvm", reason: "/dev/kvm is available" };
}

export function chooseAccelerator(choice: AcceleratorChoice): AcceleratorDecision {
  if (choice === "kvm") return { accelerator: "kvm", reason: "requested with --accel kvm" };
  if (choice === "tcg") return { accelerator: "tcg", reason: "requested with --accel tcg" };
  return probeKvm();
}
