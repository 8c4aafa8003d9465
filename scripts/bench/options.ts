// Command-line options of `npm run bench` (scripts/bench/index.ts).
import { parseArgs } from "node:util";
import { BENCHMARK_NAMES, type BenchmarkName, type Settings } from "./results.ts";

export const USAGE = `usage: npm run bench -- [options]     (or: npx tsx scripts/bench/index.ts [options])

Runs each benchmark on Wisp and on the Linux baseline guest in alternation and
prints a table of medians (min-max) and Wisp/Linux ratios; writes
<out>/results.json, <out>/results.svg and <out>/results.md.

  --only LIST      benchmarks, comma-separated (default: all):
                   ${BENCHMARK_NAMES.join(", ")}
                   ("net" stands for the last four)
  --runs N         runs per figure (default 5; --quick: 3 for boot and cswitch, 1 otherwise)
  --smp LIST       vCPU counts, each its own series (default 1,2)
  --accel A        auto, kvm or tcg (default auto: TCG unless /dev/kvm is real)
  --net N          tap or user: network backend of the network benchmarks (default tap)
  --memory SIZE    guest RAM for boot and cswitch, e.g. 128M (default 128M)
  --linux-kernel K vmlinux (PVH entry like Wisp, default) or vmlinuz (bzImage)
  --wisp-cmdline W more words for Wisp's command line in the network benchmarks,
                   e.g. --wisp-cmdline wisp.netchannels=on (default: none)
  --quick          the CI pass: fewer runs, 2 s network figures
  --out DIR        where results go (default build/bench)
  --no-build       do not build or check the Linux baseline first
  --help           this text`;

/** A bad command line: reported in one line with exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface Options extends Settings {
  build: boolean;
  help: boolean;
  /** --runs was given explicitly (it then overrides --quick's per-benchmark counts). */
  runsGiven: boolean;
}

const NET_GROUP: BenchmarkName[] = ["tcp_stream", "tcp_echo", "tcp_rr", "boot_to_tcp_reply"];

function list(text: string, flag: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s.length === 0)) throw new UsageError(`${flag} wants a comma-separated list without empty items, not '${text}'`);
  return items;
}

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} wants a whole number, not '${text}'`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${flag} wants a number from ${min} to ${max}, not ${value}`);
  return value;
}

function oneOf<T extends string>(text: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`${flag} wants ${allowed.join(" or ")}, not '${text}'`);
  return text as T;
}

export function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        only: { type: "string" },
        runs: { type: "string" },
        smp: { type: "string", default: "1,2" },
        accel: { type: "string", default: "auto" },
        net: { type: "string", default: "tap" },
        memory: { type: "string", default: "128M" },
        "linux-kernel": { type: "string", default: "vmlinux" },
        "wisp-cmdline": { type: "string", default: "" },
        quick: { type: "boolean", default: false },
        out: { type: "string", default: "build/bench" },
        "no-build": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    // parseArgs's messages name the flag; keep their first line.
    const message = (error as Error).message;
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message);
    if (ambiguous) throw new UsageError(`${ambiguous[1]} needs a value (write ${ambiguous[1]}=VALUE for one that starts with '-')`);
    throw new UsageError(message.split("\n")[0].replace(/\. To specify .*$/, ""));
  }
  const v = parsed.values;
  let only: BenchmarkName[] = [...BENCHMARK_NAMES];
  if (v.only !== undefined) {
    const wanted = new Set<BenchmarkName>();
    for (const name of list(v.only, "--only")) {
      if (name === "all") BENCHMARK_NAMES.forEach((b) => wanted.add(b));
      else if (name === "net") NET_GROUP.forEach((b) => wanted.add(b));
      else wanted.add(oneOf(name, "--only", BENCHMARK_NAMES));
    }
    only = BENCHMARK_NAMES.filter((b) => wanted.has(b));
  }
  const smp = [...new Set(list(v.smp, "--smp").map((s) => wholeNumber(s, "--smp", 1, 64)))].sort((a, b) => a - b);
  if (v.out.length === 0) throw new UsageError("--out wants a directory");
  if (!/^[1-9]\d*[MG]$/.test(v.memory)) throw new UsageError(`--memory wants a size such as 128M or 1G, not '${v.memory}'`);
  return {
    only,
    runs: v.runs === undefined ? (v.quick ? 1 : 5) : wholeNumber(v.runs, "--runs", 1, 1000),
    runsGiven: v.runs !== undefined,
    smp,
    accel: oneOf(v.accel, "--accel", ["auto", "kvm", "tcg"] as const),
    net: oneOf(v.net, "--net", ["tap", "user"] as const),
    memory: v.memory,
    linuxKernel: oneOf(v["linux-kernel"], "--linux-kernel", ["vmlinux", "vmlinuz"] as const),
    wispCmdline: v["wisp-cmdline"].trim(),
    quick: v.quick,
    out: v.out,
    build: !v["no-build"],
    help: v.help,
  };
}

/**
 * Runs of one benchmark: --runs when given, else 5, or with --quick 3 for
 * the cheap comparisons (a median of 3 drops one outlier: Wisp's cross-CPU
 * figure is bimodal) and 1 for the network benchmarks (Linux only so far).
 */
export function runsFor(options: Pick<Options, "runs" | "runsGiven" | "quick">, benchmark: BenchmarkName): number {
  if (options.runsGiven || !options.quick) return options.runs;
  return benchmark === "boot" || benchmark === "cswitch" ? 3 : 1;
}
