// `npm run bench:cswitch`: the context-switch benchmark on Wisp (wisp.bench=cswitch,
// two threads through wait queues) and on the Linux baseline guest
// (tests/programs/futex_pingpong.c, two pthreads through a futex), alternating
// run by run on identical QEMU settings; prints medians and Wisp/Linux ratios.
// Usage: tsx scripts/bench/contextSwitch.ts [--runs N] [--kernel vmlinux|vmlinuz]
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { bootLinuxGuest, median, type KernelFormat } from "../linux-guest/run.ts";
import { runGuest } from "../run/guest.ts";

interface Series {
  wisp: number[];
  linux: number[];
}

function wispFigure(output: string, label: "same-cpu" | "cross-cpu"): number {
  const match = new RegExp(`cswitch: ${label} (\\d+) ns per switch`).exec(output);
  if (!match) throw new Error(`Wisp printed no ${label} figure:\n${output}`);
  return Number(match[1]);
}

function row(name: string, s: Series): string {
  const w = median(s.wisp);
  const l = median(s.linux);
  const range = (v: number[]) => `${Math.min(...v)}-${Math.max(...v)}`;
  return `| ${name} | ${w} (${range(s.wisp)}) | ${l} (${range(s.linux)}) | ${(w / l).toFixed(2)} |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "5" }, kernel: { type: "string", default: "vmlinux" } },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs wants a whole number, not '${values.runs}'`);
  if (values.kernel !== "vmlinux" && values.kernel !== "vmlinuz") throw new Error("--kernel wants vmlinux or vmlinuz");
  if (!existsSync("build/kernel.elf")) throw new Error("build/kernel.elf is missing: run npm run build");
  const same: Series = { wisp: [], linux: [] };
  const cross: Series = { wisp: [], linux: [] };
  for (let i = 0; i < runs; i++) {
    for (const smp of [1, 2]) {
      const wisp = await runGuest({ kernel: "build/kernel.elf", machine: "microvm", accel: "tcg", smp, memory: "128M", cmdline: "wisp.bench=cswitch", timeoutMs: 180_000 });
      if (wisp.status !== 0) throw new Error(`Wisp run failed (status ${wisp.status}):\n${wisp.output}`);
      const placement = smp === 1 ? "same" : "cross";
      const linux = await bootLinuxGuest({ bench: "pingpong", args: [placement], smp, memory: "128M", accel: "tcg", kernel: values.kernel as KernelFormat, timeoutMs: 180_000 });
      if (linux.result === null) throw new Error(`Linux run printed no figure:\n${linux.output}`);
      (smp === 1 ? same : cross).wisp.push(wispFigure(wisp.output, smp === 1 ? "same-cpu" : "cross-cpu"));
      (smp === 1 ? same : cross).linux.push(linux.result.value);
      process.stderr.write(`run ${i + 1}/${runs}, ${smp} vCPU: Wisp ${(smp === 1 ? same : cross).wisp.at(-1)} ns, Linux ${linux.result.value} ns\n`);
    }
  }
  console.log(`context switch, ns per switch, ${runs} alternating runs each, TCG, microvm, 128 MiB: median (min-max)`);
  console.log("| placement | Wisp (wait queue) | Linux guest (futex) | Wisp/Linux |");
  console.log("|---|---|---|---|");
  console.log(row("same CPU (-smp 1)", same));
  console.log(row("across CPUs (-smp 2, MTTCG)", cross));
}

main().catch((error: Error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
