// `npm run bench:boot`: boots the kernel several times per boot path and prints
// medians (min-max) of the in-guest boot line and of the whole QEMU process.
// Wisp alone, every boot path (PVH and disk, microvm/q35/pc); the comparison
// with a Linux guest is `npm run bench -- --only boot` (scripts/bench/index.ts).
// Usage: tsx scripts/bench/bootTime.ts [--runs N] [--accel auto|kvm|tcg]
import { parseArgs } from "node:util";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage } from "../image/buildImage.ts";
import type { AcceleratorChoice } from "../run/accelerator.ts";
import { runGuest, type RunOptions } from "../run/guest.ts";
import { summarize } from "./stats.ts";

function describe(values: number[], digits: number): string {
  const s = summarize(values);
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "5" }, accel: { type: "string", default: "auto" } },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs wants a whole number, not '${values.runs}'`);
  if (!["auto", "kvm", "tcg"].includes(values.accel)) throw new Error(`--accel wants auto, kvm or tcg`);
  for (const file of ["build/kernel.elf", "build/mbr.bin"]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build`);
  }
  const dir = mkdtempSync(join(tmpdir(), "wisp-bench-"));
  try {
    const image = join(dir, "wisp.qcow2");
    buildImage({ kernelPath: "build/kernel.elf", mbrPath: "build/mbr.bin", outPath: image, cmdline: "", diskBytes: 64 << 20, format: "qcow2" });
    const paths: Array<[string, RunOptions]> = [
      ["PVH, microvm", { kernel: "build/kernel.elf", machine: "microvm" }],
      ["PVH, q35", { kernel: "build/kernel.elf", machine: "q35" }],
      ["disk (MBR), q35", { image, machine: "q35" }],
      ["disk (MBR), pc", { image, machine: "pc" }],
    ];
    console.log(`boot time, ${runs} runs each: median (min-max)`);
    console.log("| boot path | in-guest boot line (ms) | QEMU process start to exit (ms) |");
    console.log("|---|---|---|");
    let accelerator = "";
    for (const [name, options] of paths) {
      const guest: number[] = [];
      const wall: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await runGuest({ ...options, accel: values.accel as AcceleratorChoice, timeoutMs: 60_000 });
        if (r.status !== 0 || r.guestBootMs === null) throw new Error(`${name}: boot failed (status ${r.status})\n${r.output}`);
        guest.push(r.guestBootMs);
        wall.push(r.wallMs);
        accelerator = `${r.accelerator.accelerator} (${r.accelerator.reason})`;
      }
      console.log(`| ${name} | ${describe(guest, 2)} | ${describe(wall, 0)} |`);
    }
    console.log(`accelerator: ${accelerator}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
