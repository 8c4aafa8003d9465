// cswitch: context switches through a sleeping wait, Wisp's wisp.bench=cswitch
// (two kernel threads through semaphores) against the Linux guest's
// futex_pingpong (two pthreads through a futex), booted alternately.
//  - same CPU: both threads on CPU 0, at the smallest --smp count
//  - across CPUs: CPU 0 and CPU 1, at each --smp count of 2 or more
import { bootLinuxGuest } from "../../linux-guest/run.ts";
import { runGuest } from "../../run/guest.ts";
import type { Context, Suite } from "../context.ts";
import { runsFor } from "../options.ts";
import { makeRow, qemuSaid, sideFrom, type Row } from "../results.ts";

const TIMEOUT_MS = 180_000;

export type Placement = "same" | "cross";

/** Wisp's figure: "cswitch: same-cpu <n> ns per switch" (or cross-cpu). */
export function parseWispCswitch(output: string, placement: Placement): number | null {
  const match = new RegExp(`^cswitch: ${placement}-cpu (\\d+) ns per switch`, "m").exec(output);
  return match ? Number(match[1]) : null;
}

interface Series {
  placement: Placement;
  smp: number;
  wisp: number[];
  linux: number[];
  wispFailure: string | null;
  linuxFailure: string | null;
}

/** The (placement, vCPUs) pairs measured for a --smp list. */
export function cswitchSeries(smpList: readonly number[]): Array<{ placement: Placement; smp: number }> {
  if (smpList.length === 0) return [];
  const out: Array<{ placement: Placement; smp: number }> = [{ placement: "same", smp: Math.min(...smpList) }];
  for (const smp of smpList) if (smp >= 2) out.push({ placement: "cross", smp });
  return out;
}

export const cswitchSuite: Suite = {
  names: ["cswitch"],
  title: "context switch, same CPU and across CPUs",
  async run(ctx: Context): Promise<Row[]> {
    const { options } = ctx;
    const runs = runsFor(options, "cswitch");
    const series: Series[] = cswitchSeries(options.smp).map((s) => ({ ...s, wisp: [], linux: [], wispFailure: null, linuxFailure: null }));

    const wisp = async (s: Series): Promise<string> => {
      const r = await runGuest({ kernel: ctx.wispKernel, machine: "microvm", accel: options.accel, smp: s.smp, memory: options.memory, cmdline: "wisp.bench=cswitch", timeoutMs: TIMEOUT_MS });
      const figure = parseWispCswitch(r.output, s.placement);
      if (r.status !== 0 || figure === null) {
        s.wispFailure = `${r.timedOut ? "timed out" : `exit status ${r.status}`}${figure === null ? `, no ${s.placement}-cpu figure` : ""}${qemuSaid(r.stderr)}`;
        return `Wisp failed (${s.wispFailure})`;
      }
      s.wisp.push(figure);
      return `Wisp ${figure} ns`;
    };
    const linux = async (s: Series): Promise<string> => {
      const r = await bootLinuxGuest({ bench: "pingpong", args: [s.placement], smp: s.smp, memory: options.memory, accel: options.accel, kernel: options.linuxKernel, timeoutMs: TIMEOUT_MS });
      if (r.status !== 0 || r.result === null) {
        s.linuxFailure = `${r.timedOut ? "timed out" : `exit status ${r.status}, ${r.result === null ? "no figure" : "figure printed"}`}${qemuSaid(r.stderr)}`;
        return `Linux failed (${s.linuxFailure})`;
      }
      s.linux.push(r.result.value);
      return `Linux ${r.result.value} ns`;
    };

    for (let i = 0; i < runs; i++) {
      for (const s of series) {
        const order = i % 2 === 0 ? [wisp, linux] : [linux, wisp];
        const said: string[] = [];
        for (const run of order) said.push(await run(s));
        ctx.log(`cswitch: run ${i + 1}/${runs}, ${s.placement} CPU, ${s.smp} vCPU: ${said.join(", ")}`);
      }
    }

    return series.map((s) =>
      makeRow({
        benchmark: "cswitch",
        id: `cswitch.${s.placement}@${s.smp}`,
        label: s.placement === "same" ? "cswitch: same CPU" : "cswitch: across CPUs",
        unit: "ns/switch",
        better: "lower",
        smp: s.smp,
        wisp: sideFrom(s.wisp, s.wispFailure),
        linux: sideFrom(s.linux, s.linuxFailure),
        note:
          "Wisp: kernel threads through semaphores, 20000 round trips, thread creation inside the timed span. Linux: pthreads through FUTEX_WAIT/WAKE with 200 untimed warm-up round trips. ns per switch = elapsed / (2 x round trips).",
      }),
    );
  },
};
