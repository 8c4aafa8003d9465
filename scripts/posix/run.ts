// Runs the built Open POSIX Test Suite tests (scripts/posix/build.ts) on the
// host and on Wisp (build/kernel.elf under QEMU TCG, the test binary as the
// initrd and `-- /<name>` on the command line), classifies each run by the
// suite's exit codes, prints a table per area and writes
// build/posix/results.{json,md}, with the system calls Wisp reported missing.
//
//   tsx scripts/posix/run.ts [--area NAME]... [--tests FILE] [--jobs N]
//                            [--timeout SECONDS] [--no-host] [--no-wisp]
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { runGuest } from "../run/guest.ts";
import { buildSuite } from "./build.ts";
import {
  AREAS, guestName, MANIFEST, PTS_FAIL, PTS_PASS, PTS_UNRESOLVED, PTS_UNSUPPORTED, PTS_UNTESTED, RESULTS_JSON, RESULTS_MD,
  type Area, type BuiltTest, type Manifest,
} from "./suite.ts";

export const KERNEL = "build/kernel.elf";

export type Outcome =
  | "pass" | "fail" | "unresolved" | "unsupported" | "untested"
  /** Another exit status. */
  | "exit"
  /** Killed by a signal (host) or ended without an exit status (Wisp). */
  | "crash"
  | "timeout"
  /** The Wisp kernel panicked. */
  | "panic";

export interface TestRun {
  outcome: Outcome;
  status: number | null;
  ms: number;
  /** Wisp only: "name (nr)" of each system call the kernel said is not implemented. */
  missing: string[];
  /** The last lines of the output, for a quick look at failures. */
  tail: string;
}

export function outcomeOfStatus(status: number): Outcome {
  switch (status) {
    case PTS_PASS: return "pass";
    case PTS_FAIL: return "fail";
    case PTS_UNRESOLVED: return "unresolved";
    case PTS_UNSUPPORTED: return "unsupported";
    case PTS_UNTESTED: return "untested";
    default: return "exit";
  }
}

function tail(output: string, lines = 6): string {
  return output.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs a test binary on the host, killing its process group after the timeout. */
export function runOnHost(test: BuiltTest, timeoutMs: number): Promise<TestRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(test.binary, [], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try { process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
      }
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      const outcome: Outcome = timedOut ? "timeout" : code !== null ? outcomeOfStatus(code) : "crash";
      resolve({ outcome, status: code ?? null, ms, missing: [], tail: tail(output) + (signal ? `\n[${signal}]` : "") });
    });
  });
}

const MISSING_SYSCALL = /wisp: syscall (\S+) \(([0-9]+)\) not implemented/g;

/** The system calls a Wisp run's console says are not implemented, as "name (nr)". */
export function missingSyscalls(output: string): string[] {
  return [...new Set([...output.matchAll(MISSING_SYSCALL)].map((m) => `${m[1]} (${m[2]})`))];
}

/** Boots Wisp with the test as its application. */
export async function runOnWisp(test: BuiltTest, timeoutMs: number, kernel = KERNEL): Promise<TestRun> {
  const run = await runGuest({
    kernel,
    machine: "microvm",
    accel: "tcg",
    smp: 1,
    memory: "256M",
    cmdline: `-- /${guestName(test.id)}`,
    extraArgs: ["-initrd", test.binary],
    timeoutMs,
  });
  let outcome: Outcome;
  if (run.output.includes("wisp: panic")) outcome = "panic";
  else if (run.timedOut) outcome = "timeout";
  else if (run.status === null) outcome = "crash";
  else outcome = outcomeOfStatus(run.status);
  return { outcome, status: run.status, ms: run.wallMs, missing: missingSyscalls(run.output), tail: tail(run.output, 8) };
}

/** Runs `work` over the items with at most `jobs` at a time, in order of the items. */
export async function inParallel<T, R>(items: T[], jobs: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return results;
}

export interface TestResult {
  id: string;
  area: Area;
  usesSignals: boolean;
  host: TestRun | null;
  wisp: TestRun | null;
}

export interface Results {
  date: string;
  kernel: string;
  timeoutSeconds: number;
  wallSeconds: number;
  tests: TestResult[];
  excluded: number;
  /** "name (nr)" -> the number of tests whose run reported it missing. */
  missingSyscalls: Record<string, number>;
}

interface Counts { pass: number; fail: number; other: number; timeout: number; panic: number }

function count(runs: (TestRun | null)[]): Counts {
  const counts: Counts = { pass: 0, fail: 0, other: 0, timeout: 0, panic: 0 };
  for (const run of runs) {
    if (run === null) continue;
    if (run.outcome === "pass") counts.pass++;
    else if (run.outcome === "fail") counts.fail++;
    else if (run.outcome === "timeout") counts.timeout++;
    else if (run.outcome === "panic") counts.panic++;
    else counts.other++;
  }
  return counts;
}

/** The per-area table, as Markdown (readable in a terminal as well). */
export function summaryTable(results: Results): string {
  const rows = [
    "| area | tests | host pass | host fail | host other | Wisp pass | Wisp fail | Wisp other | Wisp timeout | Wisp panic |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const row = (label: string, tests: TestResult[]): string => {
    const host = count(tests.map((t) => t.host));
    const wisp = count(tests.map((t) => t.wisp));
    const hostOther = host.other + host.timeout + host.panic;
    return `| ${label} | ${tests.length} | ${host.pass} | ${host.fail} | ${hostOther} | ${wisp.pass} | ${wisp.fail} | ${wisp.other} | ${wisp.timeout} | ${wisp.panic} |`;
  };
  for (const area of AREAS) {
    const tests = results.tests.filter((t) => t.area === area);
    if (tests.length > 0) rows.push(row(area, tests));
  }
  rows.push(row("**all**", results.tests));
  return rows.join("\n");
}

function resultsMarkdown(results: Results): string {
  const missing = Object.entries(results.missingSyscalls).sort((a, b) => b[1] - a[1]);
  const differing = results.tests.filter((t) => t.host?.outcome === "pass" && t.wisp !== null && t.wisp.outcome !== "pass");
  return [
    "# Open POSIX Test Suite on the host and on Wisp",
    "",
    `${results.date}; kernel ${results.kernel}; per-test timeout ${results.timeoutSeconds} s; ` +
      `${results.tests.length} tests run, ${results.excluded} left out (exclusions.md); wall time ${results.wallSeconds.toFixed(0)} s.`,
    "",
    "other: unresolved (2), unsupported (4), untested (5), another exit status, or a crash. " +
      "Host timeouts count as other.",
    "",
    summaryTable(results),
    "",
    "## System calls Wisp reported as not implemented (number of tests)",
    "",
    ...(missing.length === 0 ? ["none"] : missing.map(([name, n]) => `- ${name}: ${n}`)),
    "",
    "## Passing on the host, not on Wisp",
    "",
    "| test | area | signals | Wisp outcome | missing system calls |",
    "|---|---|---|---|---|",
    ...differing.map((t) =>
      `| ${t.id} | ${t.area} | ${t.usesSignals ? "yes" : ""} | ${t.wisp?.outcome}${t.wisp?.status !== null ? ` (${t.wisp?.status})` : ""} | ${t.wisp?.missing.join(", ")} |`),
    "",
  ].join("\n");
}

export interface RunOptions {
  areas?: Area[];
  /** Only these test ids. */
  ids?: string[];
  jobs?: number;
  timeoutSeconds?: number;
  host?: boolean;
  wisp?: boolean;
  log?: (line: string) => void;
}

export async function runSuite(manifest: Manifest, options: RunOptions = {}): Promise<Results> {
  const log = options.log ?? console.log;
  const timeoutMs = (options.timeoutSeconds ?? 20) * 1000;
  const jobs = options.jobs ?? 2;
  const selected = manifest.tests.filter((t) =>
    (options.areas === undefined || options.areas.includes(t.area)) && (options.ids === undefined || options.ids.includes(t.id)));
  const started = performance.now();
  const results: TestResult[] = selected.map((t) => ({ id: t.id, area: t.area, usesSignals: t.usesSignals, host: null, wisp: null }));
  // The host runs mostly wait (sleeps, timeouts): they go alongside the QEMUs.
  const hostRuns = options.host === false ? Promise.resolve() : (async () => {
    log(`posix: running ${selected.length} tests on the host`);
    await inParallel(selected, jobs, async (test, i) => { results[i].host = await runOnHost(test, timeoutMs); });
    log("posix: host runs done");
  })();
  const wispRuns = options.wisp === false ? Promise.resolve() : (async () => {
    log(`posix: running ${selected.length} tests on Wisp (${jobs} QEMUs at a time)`);
    let done = 0;
    await inParallel(selected, jobs, async (test, i) => {
      results[i].wisp = await runOnWisp(test, timeoutMs);
      if (++done % 25 === 0) log(`posix: ${done}/${selected.length} on Wisp`);
    });
  })();
  await Promise.all([hostRuns, wispRuns]);
  const missing: Record<string, number> = {};
  for (const result of results) for (const name of result.wisp?.missing ?? []) missing[name] = (missing[name] ?? 0) + 1;
  return {
    date: new Date().toISOString(),
    kernel: KERNEL,
    timeoutSeconds: timeoutMs / 1000,
    wallSeconds: (performance.now() - started) / 1000,
    tests: results,
    excluded: manifest.excluded.filter((e) => options.areas === undefined || options.areas.includes(e.area)).length,
    missingSyscalls: missing,
  };
}

async function main(argv: string[]): Promise<void> {
  const values = (flag: string): string[] => argv.flatMap((arg, i) => (arg === flag && i + 1 < argv.length ? [argv[i + 1]] : []));
  const areas = values("--area");
  for (const area of areas) if (!AREAS.includes(area as Area)) throw new Error(`posix: unknown area ${area} (${AREAS.join(", ")})`);
  const testsFile = values("--tests")[0];
  const ids = testsFile === undefined ? undefined
    : readFileSync(testsFile, "utf8").split("\n").map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith("#"));
  if (!existsSync(KERNEL)) throw new Error(`posix: ${KERNEL} is missing: run make first`);
  const manifest = await buildSuite({ jobs: 2, ids });
  const results = await runSuite(manifest, {
    areas: areas.length > 0 ? (areas as Area[]) : undefined,
    ids,
    jobs: Number(values("--jobs")[0] ?? 2),
    timeoutSeconds: Number(values("--timeout")[0] ?? 20),
    host: !argv.includes("--no-host"),
    wisp: !argv.includes("--no-wisp"),
  });
  writeFileSync(RESULTS_JSON, JSON.stringify(results, null, 2) + "\n");
  const markdown = resultsMarkdown(results);
  writeFileSync(RESULTS_MD, markdown);
  console.log("\n" + summaryTable(results));
  const missing = Object.entries(results.missingSyscalls).sort((a, b) => b[1] - a[1]);
  if (missing.length > 0) console.log("\nmissing system calls (tests): " + missing.map(([n, c]) => `${n} ${c}`).join(", "));
  console.log(`\nposix: ${results.wallSeconds.toFixed(0)} s; ${RESULTS_MD}, ${RESULTS_JSON}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
