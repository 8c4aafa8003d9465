// `npm run bench:cswitch`: the context-switch benchmark alone, now a part of
// the harness (scripts/bench/index.ts, suites/cswitch.ts): Wisp's
// wisp.bench=cswitch against the Linux guest's futex_pingpong, alternating,
// same CPU with -smp 1 and across CPUs with -smp 2.
// Usage: tsx scripts/bench/contextSwitch.ts [--runs N] [--kernel vmlinux|vmlinuz] [other harness options]
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runHarness } from "./index.ts";

/**
 * This script's old options in the harness's terms; the rest pass through.
 * Results go to build/bench/cswitch/ unless --out says otherwise, so that a
 * full run's build/bench/results.* stay.
 */
export function contextSwitchArgs(argv: string[]): string[] {
  const args = ["--only", "cswitch", "--smp", "1,2"];
  if (!argv.some((a) => a === "--out" || a.startsWith("--out="))) args.push("--out", "build/bench/cswitch");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--kernel") args.push("--linux-kernel", argv[++i] ?? "");
    else if (argv[i].startsWith("--kernel=")) args.push(`--linux-kernel=${argv[i].slice("--kernel=".length)}`);
    else args.push(argv[i]);
  }
  return args;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runHarness(contextSwitchArgs(process.argv.slice(2))).then(
    (status) => {
      process.exitCode = status;
    },
    (error: Error) => {
      console.error(`bench: ${error.stack ?? error.message}`);
      process.exitCode = 1;
    },
  );
}
