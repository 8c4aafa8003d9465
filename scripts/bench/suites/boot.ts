// boot: QEMU process start to the guest's ready line, Wisp and Linux booted
// alternately on the same microvm with the same -m, -smp and accelerator,
// both kernels uncompressed and entered through their PVH note.
//  - Wisp's ready line: "wisp: booted in X ms" (runGuest's bootLineAtMs)
//  - Linux's: "linux: init started", the first line userspace prints
// Also each guest's own figure: Wisp's X (first kernel instruction to the
// boot line, TSC) and Linux's uptime when /init starts (its clock starts at
// timekeeping init, not at its first instruction; 10 ms resolution).
import { runGuest } from "../../run/guest.ts";
import type { Context, Suite } from "../context.ts";
import { bootLinuxToReady } from "../linuxBoot.ts";
import { runsFor } from "../options.ts";
import { makeRow, qemuSaid, sideFrom, type Row } from "../results.ts";

const WISP_TIMEOUT_MS = 60_000;
const LINUX_TIMEOUT_MS = 120_000;

interface Samples {
  qemu: number[];
  guest: number[];
  failure: string | null;
}

const empty = (): Samples => ({ qemu: [], guest: [], failure: null });

export const bootSuite: Suite = {
  names: ["boot"],
  title: "QEMU start to the ready line",
  async run(ctx: Context): Promise<Row[]> {
    const { options } = ctx;
    const runs = runsFor(options, "boot");
    const wisp = new Map(options.smp.map((s) => [s, empty()]));
    const linux = new Map(options.smp.map((s) => [s, empty()]));

    const bootWisp = async (smp: number): Promise<string> => {
      const s = wisp.get(smp)!;
      const r = await runGuest({ kernel: ctx.wispKernel, machine: "microvm", accel: options.accel, smp, memory: options.memory, timeoutMs: WISP_TIMEOUT_MS });
      if (r.status !== 0 || r.bootLineAtMs === null || r.guestBootMs === null) {
        s.failure = `${r.timedOut ? "timed out" : `exit status ${r.status}`}, boot line ${r.bootLineAtMs === null ? "missing" : "seen"}${qemuSaid(r.stderr)}`;
        return `Wisp failed (${s.failure})`;
      }
      s.qemu.push(round(r.bootLineAtMs));
      s.guest.push(r.guestBootMs);
      return `Wisp ${round(r.bootLineAtMs)} ms (in guest ${r.guestBootMs} ms)`;
    };
    const bootLinux = async (smp: number): Promise<string> => {
      const s = linux.get(smp)!;
      const r = await bootLinuxToReady({ smp, memory: options.memory, accel: options.accel, kernel: options.linuxKernel, timeoutMs: LINUX_TIMEOUT_MS });
      if (!r.ready || r.initAtMs === null || r.uptimeAtInitMs === null) {
        s.failure = r.failure ?? "no ready line";
        return `Linux failed (${s.failure})`;
      }
      s.qemu.push(round(r.initAtMs));
      s.guest.push(r.uptimeAtInitMs);
      return `Linux ${round(r.initAtMs)} ms (uptime ${r.uptimeAtInitMs} ms)`;
    };

    for (let i = 0; i < runs; i++) {
      for (const smp of options.smp) {
        // Alternate who goes first, so a drift in the host's load hits both.
        const order = i % 2 === 0 ? [bootWisp, bootLinux] : [bootLinux, bootWisp];
        const said: string[] = [];
        for (const boot of order) said.push(await boot(smp));
        ctx.log(`boot: run ${i + 1}/${runs}, ${smp} vCPU: ${said.join(", ")}`);
      }
    }

    const rows: Row[] = [];
    for (const smp of options.smp) {
      const w = wisp.get(smp)!;
      const l = linux.get(smp)!;
      rows.push(
        makeRow({
          benchmark: "boot",
          id: `boot.qemu@${smp}`,
          label: "boot: QEMU start to ready line",
          unit: "ms",
          better: "lower",
          smp,
          wisp: sideFrom(w.qemu, w.failure),
          linux: sideFrom(l.qemu, l.failure),
          note: `microvm, -m ${options.memory}, Linux ${options.linuxKernel}${options.linuxKernel === "vmlinux" ? " (decompressed, PVH entry like Wisp's kernel.elf)" : " (bzImage: includes its xz decompression)"}; ready line: Wisp "wisp: booted in", Linux "linux: init started" (first line of /init).`,
        }),
        makeRow({
          benchmark: "boot",
          id: `boot.guest@${smp}`,
          label: "boot: guest's own clock",
          unit: "ms",
          better: "lower",
          smp,
          wisp: sideFrom(w.guest, w.failure),
          linux: sideFrom(l.guest, l.failure),
          note: "Wisp: first kernel instruction to the boot line (TSC). Linux: /proc/uptime when /init starts; its clock starts at timekeeping init, after early setup, and has 10 ms steps. Indicative only.",
        }),
      );
    }
    return rows;
  },
};

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
