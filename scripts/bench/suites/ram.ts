// ram: the smallest -m (whole MiB) with which each guest still boots to its
// ready line, found by bisection in (0, 256] MiB, one bisection per vCPU count.
//  - Wisp passes when it prints its boot line and exits with status 0.
//  - Linux passes when /init runs and has read /proc (its second line). Its
//    probes add earlyprintk=ttyS0, so that a panic before the console exists
//    is seen and the probe ends at once instead of at the timeout.
import { runGuest } from "../../run/guest.ts";
import { bisectSmallest, type BisectResult } from "../bisect.ts";
import type { Context, Suite } from "../context.ts";
import { bootLinuxToReady } from "../linuxBoot.ts";
import { makeRow, measured, qemuSaid, unmeasured, type Row, type Side } from "../results.ts";

export const RAM_HIGH_MIB = 256;
// Wisp boots in about 0.1 s under TCG; with too little RAM it hangs silently.
const WISP_TIMEOUT_MS = 5_000;
const LINUX_TIMEOUT_MS = 60_000;

function side(result: BisectResult, system: string): Side {
  if (result.smallest === null) return unmeasured("failed", `${system} did not boot even with ${RAM_HIGH_MIB} MiB`);
  return measured([result.smallest]);
}

function probesText(result: BisectResult): string {
  return result.probes.map((p) => `${p.value}${p.ok ? "+" : "-"}`).join(" ");
}

export const ramSuite: Suite = {
  names: ["ram"],
  title: "smallest -m that still boots",
  async run(ctx: Context): Promise<Row[]> {
    const { options } = ctx;
    const rows: Row[] = [];
    for (const smp of options.smp) {
      const wisp = await bisectSmallest(0, RAM_HIGH_MIB, 1, async (mib) => {
        const r = await runGuest({ kernel: ctx.wispKernel, machine: "microvm", accel: options.accel, smp, memory: `${mib}M`, timeoutMs: WISP_TIMEOUT_MS });
        const ok = r.status === 0 && r.bootLineAtMs !== null;
        return ok ? { ok } : { ok, why: r.timedOut ? "timeout" : `status ${r.status}${r.bootLineAtMs === null ? ", no boot line" : ""}${qemuSaid(r.stderr)}` };
      });
      ctx.log(`ram: Wisp, ${smp} vCPU: ${wisp.smallest ?? "none"} MiB (probes ${probesText(wisp)})`);
      const linux = await bisectSmallest(0, RAM_HIGH_MIB, 1, async (mib) => {
        const r = await bootLinuxToReady({
          smp, memory: `${mib}M`, accel: options.accel, kernel: options.linuxKernel, timeoutMs: LINUX_TIMEOUT_MS, extraCmdline: ["earlyprintk=ttyS0"],
        });
        return r.ready ? { ok: true } : { ok: false, why: r.failure ?? "not ready" };
      });
      ctx.log(`ram: Linux, ${smp} vCPU: ${linux.smallest ?? "none"} MiB (probes ${probesText(linux)})`);
      rows.push(
        makeRow({
          benchmark: "ram",
          id: `ram@${smp}`,
          label: "ram: smallest -m that boots",
          unit: "MiB",
          better: "lower",
          smp,
          wisp: side(wisp, "Wisp"),
          linux: side(linux, "Linux"),
          note: `bisection in (0, ${RAM_HIGH_MIB}] MiB, 1 MiB steps, one probe per size. Wisp: boot line and exit status 0. Linux ${options.linuxKernel}: /init running (read /proc); its initramfs is unpacked into that RAM. Wisp's figure is the kernel alone (no application yet).`,
          detail: { wisp: wisp.probes, linux: linux.probes },
        }),
      );
    }
    return rows;
  },
};
