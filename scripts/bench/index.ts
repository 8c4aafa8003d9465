// `npm run bench`: Wisp side by side with the Linux baseline guest.
// Runs each selected benchmark on both, alternating, prints a table of
// medians (min-max) and Wisp/Linux ratios, and writes results.json,
// results.svg and results.md under --out. See docs/benchmarks.md.
//
//   npx tsx scripts/bench/index.ts [--only boot,size,...] [--runs N] [--smp 1,2] [--quick] ...
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildLinuxGuest } from "../linux-guest/build.ts";
import { chooseAccelerator } from "../run/accelerator.ts";
import type { Context, Suite } from "./context.ts";
import { parseOptions, UsageError, USAGE, type Options } from "./options.ts";
import { gitState, hostState, loadAverage, RESULTS_SCHEMA, type Results, type Row, type Settings } from "./results.ts";
import { bootSuite } from "./suites/boot.ts";
import { cswitchSuite } from "./suites/cswitch.ts";
import { networkSuite } from "./suites/network.ts";
import { ramSuite } from "./suites/ram.ts";
import { sizeSuite } from "./suites/size.ts";
import { renderSvg } from "./svg.ts";
import { formatNotes, formatTable } from "./table.ts";

export const SUITES: Suite[] = [sizeSuite, bootSuite, ramSuite, cswitchSuite, networkSuite];

export const WISP_KERNEL = "build/kernel.elf";
export const WISP_MBR = "build/mbr.bin";

export interface HarnessIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: HarnessIo = {
  out: (text) => process.stdout.write(text + "\n"),
  err: (text) => process.stderr.write(text + "\n"),
};

function settingsOf(o: Options): Settings {
  return { only: o.only, runs: o.runs, smp: o.smp, accel: o.accel, net: o.net, quick: o.quick, memory: o.memory, linuxKernel: o.linuxKernel, wispCmdline: o.wispCmdline, out: o.out };
}

/** Markdown for results.md (and the README): the table, its notes and the settings. */
export function resultsMarkdown(results: Results): string {
  const s = results.settings;
  const commit = results.git.commit === null ? "no git" : `${results.git.commit.slice(0, 12)}${results.git.dirty ? " (with uncommitted changes)" : ""}`;
  return [
    `Wisp vs the Linux guest, ${results.date.slice(0, 16).replace("T", " ")} UTC, commit ${commit}`,
    `accelerator ${results.accelerator.accelerator} (${results.accelerator.reason}); ${s.quick ? "quick pass, " : ""}${s.quick && s.runs === 1 ? "3 runs per boot and cswitch figure, 1 per network figure" : `${s.runs} run(s) per figure`}, -smp ${s.smp.join(",")}, -m ${s.memory}, Linux ${s.linuxKernel}${results.linuxGuest.kernelVersion ? ` ${results.linuxGuest.kernelVersion}` : ""}; host ${results.host.cpus} CPUs, load average ${results.host.loadavgAtStart[0]} at the start and ${results.host.loadavg[0]} at the end; took ${(results.durationMs / 1000).toFixed(0)} s`,
    "",
    formatTable(results.rows),
    "",
    formatNotes(results.rows),
  ].join("\n");
}

/** Runs the harness; returns the exit status (0 all measured, 1 something failed, 2 bad usage). */
export async function runHarness(argv: string[], io: HarnessIo = processIo): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`bench: ${error.message} (see --help)`);
    return 2;
  }
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  const started = Date.now();
  const loadAtStart = loadAverage();
  const needsWisp = options.only.some((b) => ["size", "boot", "ram", "cswitch", "tcp_echo", "tcp_rr", "boot_to_tcp_reply"].includes(b));
  if (needsWisp) {
    for (const file of [WISP_KERNEL, WISP_MBR]) {
      if (!existsSync(file)) {
        io.err(`bench: ${file} is missing: run npm run build (npm run bench does)`);
        return 1;
      }
    }
  }
  let kernelVersion: string | null = null;
  if (options.build) {
    const t = Date.now();
    const built = buildLinuxGuest({ log: () => {} });
    kernelVersion = built.kernelVersion;
    io.err(`bench: Linux baseline ${built.kernelPackage} ready (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
  const accelerator = chooseAccelerator(options.accel);
  io.err(`bench: ${options.only.join(", ")}; accelerator ${accelerator.accelerator} (${accelerator.reason}); -smp ${options.smp.join(",")}${options.quick ? "; quick pass" : ""}`);
  mkdirSync(options.out, { recursive: true });
  // Every Wisp run boots one copy of the kernel, taken now: a rebuild while
  // the harness runs (make in another terminal) cannot mix two kernels.
  let wisp: Results["wisp"] = null;
  const kernelCopy = join(options.out, "kernel.elf");
  const mbrCopy = join(options.out, "mbr.bin");
  if (needsWisp) {
    for (const [from, to] of [[WISP_KERNEL, kernelCopy], [WISP_MBR, mbrCopy]]) {
      copyFileSync(from, `${to}.tmp`);
      renameSync(`${to}.tmp`, to);
    }
    const bytes = readFileSync(kernelCopy);
    wisp = { kernel: kernelCopy, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  }
  const ctx: Context = { options, wispKernel: kernelCopy, wispMbr: mbrCopy, log: (line) => io.err(line) };
  const rows: Row[] = [];
  const errors: string[] = [];
  for (const suite of SUITES) {
    const selected = suite.names.filter((name) => options.only.includes(name));
    if (selected.length === 0) continue;
    const t = Date.now();
    try {
      rows.push(...(await suite.run(ctx, selected)));
    } catch (error) {
      const message = `${selected.join(", ")}: ${(error as Error).message}`;
      errors.push(message);
      io.err(`bench: ${message}`);
    }
    io.err(`bench: ${selected.join(", ")} took ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const results: Results = {
    schema: RESULTS_SCHEMA,
    date: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    git: gitState(),
    host: hostState(loadAtStart),
    accelerator,
    wisp,
    linuxGuest: { kernelVersion },
    settings: settingsOf(options),
    rows,
    errors,
  };
  const markdown = resultsMarkdown(results);
  writeFileSync(join(options.out, "results.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(options.out, "results.svg"), renderSvg(results));
  writeFileSync(join(options.out, "results.md"), markdown + "\n");
  io.out("");
  io.out(markdown);
  io.out("");
  io.out(`bench: wrote ${["results.json", "results.svg", "results.md"].map((f) => join(options.out, f)).join(", ")} in ${(results.durationMs / 1000).toFixed(0)} s`);
  const failed = rows.filter((r) => r.wisp.state === "failed" || r.linux.state === "failed");
  if (failed.length > 0 || errors.length > 0) {
    io.err(`bench: ${failed.length} figure(s) failed${errors.length ? `, ${errors.length} benchmark(s) stopped with an error` : ""}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  // Exit through process.exit on ^C or a kill, so that exit handlers (the
  // network namespace's removal) run.
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));
  runHarness(process.argv.slice(2)).then(
    (status) => {
      process.exitCode = status;
    },
    (error: Error) => {
      console.error(`bench: ${error.stack ?? error.message}`);
      process.exitCode = 1;
    },
  );
}
