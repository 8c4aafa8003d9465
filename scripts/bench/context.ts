// What every benchmark suite gets from the harness.
import type { Options } from "./options.ts";
import type { BenchmarkName, Row } from "./results.ts";

export interface Context {
  options: Options;
  /** Wisp's kernel ELF (build/kernel.elf). */
  wispKernel: string;
  /** Wisp's MBR loader (build/mbr.bin), for the disk image the size benchmark builds. */
  wispMbr: string;
  /** Progress for the person watching (stderr); the table goes to stdout. */
  log(line: string): void;
}

export interface Suite {
  /** The benchmarks it measures (the network suite measures three from one boot). */
  names: BenchmarkName[];
  /** One line for the docs. */
  title: string;
  /** Runs the benchmarks of `names` that are in `selected`. */
  run(ctx: Context, selected: readonly BenchmarkName[]): Promise<Row[]>;
}
