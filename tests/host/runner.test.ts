// Host tooling without QEMU: accelerator choice, QEMU arguments, exit codes.
import { describe, expect, it } from "vitest";
import { probeKvm } from "../../scripts/run/accelerator.ts";
import { parseBootLine } from "../../scripts/run/guest.ts";
import { guestStatusFromQemuExit, qemuArgs, type GuestConfig } from "../../scripts/run/qemu.ts";

const base: GuestConfig = { machine: "microvm", accelerator: "tcg", memory: "128M", smp: 1, extraArgs: [] };

describe("accelerator probe", () => {
  it("refuses the software-emulated kvm_pvm and a missing /dev/kvm", () => {
    expect(probeKvm(["kvm", "kvm_pvm"], "/dev/null").accelerator).toBe("tcg");
    expect(probeKvm(["kvm", "kvm_intel"], "/nonexistent/kvm").accelerator).toBe("tcg");
  });
  it("takes hardware KVM", () => {
    const decision = probeKvm(["kvm", "kvm_intel"], "/dev/null");
    expect(decision.accelerator).toBe("kvm");
    expect(decision.reason).toContain("hardware");
  });
});

describe("QEMU arguments", () => {
  it("direct boot passes the kernel, command line, debug-exit device and extra args", () => {
    const args = qemuArgs({ ...base, kernel: "k.elf", cmdline: "a=1", extraArgs: ["-s"] });
    expect(args).toEqual(expect.arrayContaining(["-kernel", "k.elf", "-append", "a=1", "-accel", "tcg", "-s"]));
    expect(args.join(" ")).toContain("isa-debug-exit,iobase=0xf4,iosize=4");
    expect(args[args.length - 1]).toBe("-s");
  });
  it("runs several vCPUs on several host threads under TCG", () => {
    expect(qemuArgs({ ...base, kernel: "k", smp: 4 }).join(" ")).toContain("-accel tcg,thread=multi");
    expect(qemuArgs({ ...base, kernel: "k", smp: 1 }).join(" ")).toContain("-accel tcg ");
  });
  it("uses -cpu host only with KVM", () => {
    expect(qemuArgs({ ...base, kernel: "k" }).join(" ")).toContain("-cpu qemu64");
    expect(qemuArgs({ ...base, kernel: "k", accelerator: "kvm" }).join(" ")).toContain("-accel kvm -cpu host");
  });
  it("disk boot attaches the image and refuses microvm, which has no BIOS", () => {
    expect(qemuArgs({ ...base, machine: "q35", image: "w.qcow2" }).join(" ")).toContain("-drive file=w.qcow2,format=qcow2,if=virtio");
    expect(() => qemuArgs({ ...base, image: "w.qcow2" })).toThrow(/BIOS/);
    expect(() => qemuArgs({ ...base })).toThrow(/exactly one/);
  });
});

describe("exit status and boot line", () => {
  it("maps isa-debug-exit and ACPI power-off back to the guest status", () => {
    expect(guestStatusFromQemuExit(0)).toBe(0);
    expect(guestStatusFromQemuExit(1)).toBe(0);
    expect(guestStatusFromQemuExit(255)).toBe(127);
    expect(guestStatusFromQemuExit(7)).toBe(3);
    expect(guestStatusFromQemuExit(2)).toBeNull();
    expect(guestStatusFromQemuExit(null)).toBeNull();
  });
  it("reads the machine-readable boot line", () => {
    expect(parseBootLine("x\nwisp: booted in 0.84 ms\n")).toBe(0.84);
    expect(parseBootLine("wisp: booted in 12 ms")).toBe(12);
    expect(parseBootLine("no line")).toBeNull();
  });
});
