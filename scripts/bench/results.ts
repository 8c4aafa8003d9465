// The harness's results: one row per figure (a benchmark at one vCPU count),
// each with Wisp's and Linux's raw samples, and the file build/bench/results.json.
import { spawnSync } from "node:child_process";
import { cpus, loadavg, release } from "node:os";
import { ratio, summarize, verdict, type Better, type Verdict } from "./stats.ts";

export const RESULTS_SCHEMA = "wisp-bench/1";

/** Every benchmark the harness knows, in the order it runs them. */
export const BENCHMARK_NAMES = ["size", "boot", "ram", "cswitch", "tcp_stream", "tcp_echo", "tcp_rr", "boot_to_tcp_reply"] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export interface Measured {
  state: "measured";
  samples: number[];
  median: number;
  min: number;
  max: number;
}

export interface Unmeasured {
  /** not-yet: the system cannot run it yet; failed: it should have and did not; n/a: no such figure. */
  state: "not-yet" | "failed" | "n/a";
  reason: string;
  samples: number[];
}

export type Side = Measured | Unmeasured;

export interface Row {
  benchmark: BenchmarkName;
  /** Unique within a run, e.g. "boot.qemu@2". */
  id: string;
  /** What the row measures, for the table and the chart. */
  label: string;
  unit: string;
  better: Better;
  /** vCPUs, or null when the figure does not depend on them (sizes). */
  smp: number | null;
  wisp: Side;
  linux: Side;
  /** Wisp's median over Linux's, when both were measured. */
  ratio: number | null;
  verdict: Verdict | null;
  /** Caveats that belong next to the figure. */
  note?: string;
  /** Anything else worth keeping (bisection probes, file sizes, ...). */
  detail?: Record<string, unknown>;
}

/** The first line QEMU wrote to stderr, as ": <line>", or "" (for failure reasons). */
export function qemuSaid(stderr: string): string {
  const line = stderr.trim().split("\n")[0] ?? "";
  return line.length > 0 ? `: ${line.replace(/^qemu-system-x86_64: /, "")}` : "";
}

export function measured(samples: number[]): Measured {
  const s = summarize(samples);
  return { state: "measured", samples: [...samples], median: s.median, min: s.min, max: s.max };
}

export function unmeasured(state: Unmeasured["state"], reason: string, samples: number[] = []): Unmeasured {
  return { state, reason, samples: [...samples] };
}

/** A side from samples collected so far: measured when there are any, else failed with `reason`. */
export function sideFrom(samples: number[], failure: string | null): Side {
  if (failure !== null) return unmeasured("failed", failure, samples);
  if (samples.length === 0) return unmeasured("failed", "no samples");
  return measured(samples);
}

export interface RowInput {
  benchmark: BenchmarkName;
  id: string;
  label: string;
  unit: string;
  better: Better;
  smp: number | null;
  wisp: Side;
  linux: Side;
  note?: string;
  detail?: Record<string, unknown>;
}

export function makeRow(input: RowInput): Row {
  const w = input.wisp.state === "measured" ? input.wisp : null;
  const l = input.linux.state === "measured" ? input.linux : null;
  const r = ratio(w?.median ?? null, l?.median ?? null);
  const v = r !== null && r > 0 && w && l ? verdict(r, input.better, { ...w, count: w.samples.length }, { ...l, count: l.samples.length }) : null;
  const row: Row = { ...input, ratio: r, verdict: v };
  if (input.note === undefined) delete row.note;
  if (input.detail === undefined) delete row.detail;
  return row;
}

export interface Settings {
  only: BenchmarkName[];
  runs: number;
  smp: number[];
  accel: "auto" | "kvm" | "tcg";
  net: "tap" | "user";
  quick: boolean;
  memory: string;
  linuxKernel: "vmlinux" | "vmlinuz";
  /** More words for Wisp's kernel command line in the network benchmarks (e.g. wisp.netchannels=on). */
  wispCmdline: string;
  out: string;
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  date: string;
  durationMs: number;
  git: { commit: string | null; dirty: boolean | null };
  /** loadavg at the end of the run, loadavgAtStart at its start (1, 5 and 15 minutes). */
  host: { cpus: number; loadavg: number[]; loadavgAtStart: number[]; kernel: string; node: string; qemu: string | null };
  accelerator: { accelerator: string; reason: string };
  /** The kernel every Wisp run booted: a copy of build/kernel.elf taken at the start. */
  wisp: { kernel: string; bytes: number; sha256: string } | null;
  linuxGuest: { kernelVersion: string | null };
  settings: Settings;
  rows: Row[];
  /** Benchmarks that failed outright (an exception, not a bad figure). */
  errors: string[];
}

function firstLine(command: string, args: string[]): string | null {
  const r = spawnSync(command, args, { encoding: "utf8" });
  if (r.status !== 0 || typeof r.stdout !== "string") return null;
  const line = r.stdout.split("\n")[0].trim();
  return line.length > 0 ? line : null;
}

export function gitState(): Results["git"] {
  const commit = firstLine("git", ["rev-parse", "HEAD"]);
  if (commit === null) return { commit: null, dirty: null };
  const status = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" });
  return { commit, dirty: status.status === 0 ? status.stdout.trim().length > 0 : null };
}

export function loadAverage(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

export function hostState(loadavgAtStart: number[]): Results["host"] {
  return {
    cpus: cpus().length,
    loadavg: loadAverage(),
    loadavgAtStart,
    kernel: release(),
    node: process.version,
    qemu: firstLine("qemu-system-x86_64", ["--version"]),
  };
}

/**
 * Checks that `value` has the shape of Results (what a reader of
 * results.json may rely on); returns the problems found, empty when none.
 */
export function checkResultsShape(value: unknown): string[] {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const isNumbers = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));
  if (!isObject(value)) return ["not an object"];
  if (value.schema !== RESULTS_SCHEMA) problems.push(`schema is not ${RESULTS_SCHEMA}`);
  if (typeof value.date !== "string" || Number.isNaN(Date.parse(value.date))) problems.push("date is not an ISO date");
  if (typeof value.durationMs !== "number") problems.push("durationMs is not a number");
  if (!isObject(value.git) || !("commit" in value.git)) problems.push("git.commit missing");
  if (!isObject(value.host) || typeof value.host.cpus !== "number") problems.push("host.cpus missing");
  if (!isObject(value.accelerator) || typeof value.accelerator.accelerator !== "string") problems.push("accelerator missing");
  if (!isObject(value.settings)) problems.push("settings missing");
  else {
    const s = value.settings;
    if (!Array.isArray(s.only)) problems.push("settings.only is not a list");
    if (typeof s.runs !== "number") problems.push("settings.runs is not a number");
    if (!isNumbers(s.smp)) problems.push("settings.smp is not a list of numbers");
    for (const key of ["accel", "net", "memory", "linuxKernel"]) if (typeof s[key] !== "string") problems.push(`settings.${key} is not a string`);
  }
  if (!Array.isArray(value.errors)) problems.push("errors is not a list");
  if (!Array.isArray(value.rows)) return [...problems, "rows is not a list"];
  const ids = new Set<string>();
  value.rows.forEach((row: unknown, i: number) => {
    const at = `rows[${i}]`;
    if (!isObject(row)) {
      problems.push(`${at} is not an object`);
      return;
    }
    if (!(BENCHMARK_NAMES as readonly string[]).includes(String(row.benchmark))) problems.push(`${at}.benchmark is unknown`);
    if (typeof row.id !== "string" || ids.has(row.id)) problems.push(`${at}.id is missing or repeated`);
    ids.add(String(row.id));
    for (const key of ["label", "unit"]) if (typeof row[key] !== "string") problems.push(`${at}.${key} is not a string`);
    if (row.better !== "lower" && row.better !== "higher") problems.push(`${at}.better is not lower or higher`);
    if (row.smp !== null && typeof row.smp !== "number") problems.push(`${at}.smp is not a number or null`);
    for (const side of ["wisp", "linux"]) {
      const s = row[side];
      if (!isObject(s)) {
        problems.push(`${at}.${side} is not an object`);
        continue;
      }
      if (!isNumbers(s.samples)) problems.push(`${at}.${side}.samples is not a list of numbers`);
      if (s.state === "measured") {
        for (const key of ["median", "min", "max"]) if (typeof s[key] !== "number") problems.push(`${at}.${side}.${key} is not a number`);
        if (Array.isArray(s.samples) && s.samples.length === 0) problems.push(`${at}.${side} is measured without samples`);
      } else if (["not-yet", "failed", "n/a"].includes(String(s.state))) {
        if (typeof s.reason !== "string" || s.reason.length === 0) problems.push(`${at}.${side} gives no reason`);
      } else problems.push(`${at}.${side}.state is unknown`);
    }
    const bothMeasured = isObject(row.wisp) && row.wisp.state === "measured" && isObject(row.linux) && row.linux.state === "measured";
    if (bothMeasured ? typeof row.ratio !== "number" : row.ratio !== null) problems.push(`${at}.ratio does not match the sides`);
  });
  return problems;
}
