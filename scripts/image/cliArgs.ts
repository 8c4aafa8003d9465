/** A small, strict command-line parser shared by scripts/image.ts and scripts/cmdline.ts. */
import { UsageError } from "./errors.js";

export interface FlagSpec {
  /** Without the leading dashes, e.g. "kernel". */
  name: string;
  /** false for switches such as --help. */
  takesValue: boolean;
}

export interface ParsedArgs {
  flags: Map<string, string>;
  positionals: string[];
}

/**
 * Accepts `--name value`, `--name=value`, switches, positionals, and `--` to
 * end flags. Unknown flags, missing values and repeated flags are errors.
 */
export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (flags.has(name)) throw new UsageError(`--${name} given twice`);
    if (!spec.takesValue) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, "");
    } else if (eq >= 0) {
      flags.set(name, arg.slice(eq + 1));
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      flags.set(name, argv[++i]);
    }
  }
  return { flags, positionals };
}

const UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "64M", "1G", "1048576", "512K" (binary units; an optional trailing "iB"/"B"). */
export function parseSize(text: string): number {
  const m = /^(\d+)([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`bad size "${text}" (want N, NK, NM, NG or NT)`);
  const bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`bad size "${text}"`);
  return bytes;
}
