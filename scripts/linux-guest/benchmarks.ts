// The benchmarks the Linux baseline guest can run: each is a static program
// from tests/programs/ (built into build/programs/) that /init starts as
// /bench/<name> when the kernel command line says wisp.bench=<name>.

export interface Benchmark {
  name: string;
  /** Program in build/programs/ (from tests/programs/<program>.c). */
  program: string;
  description: string;
  /** Arguments when the caller gives none. */
  defaultArgs: string[];
  /** The figure the benchmark reports, from the guest's console output. */
  parse(output: string): BenchmarkResult | null;
  unit: string;
}

export interface BenchmarkResult {
  value: number;
  /** The line the value came from. */
  line: string;
}

const PINGPONG_LINE = /^pingpong: (\d+) round trips, (\d+(?:\.\d+)?) ns per switch(?: \(([^)]*)\))?$/m;

export interface PingpongResult extends BenchmarkResult {
  roundTrips: number;
  placement: string;
}

export function parsePingpong(output: string): PingpongResult | null {
  const match = PINGPONG_LINE.exec(output.replace(/\r\n/g, "\n"));
  if (!match) return null;
  return { value: Number(match[2]), roundTrips: Number(match[1]), placement: match[3] ?? "", line: match[0] };
}

export const BENCHMARKS: Record<string, Benchmark> = {
  pingpong: {
    name: "pingpong",
    program: "futex_pingpong",
    description: "two threads hand a token through a futex word; ns per context switch",
    defaultArgs: [],
    parse: parsePingpong,
    unit: "ns per switch",
  },
};

export function findBenchmark(name: string): Benchmark {
  const bench = BENCHMARKS[name];
  if (bench === undefined) throw new Error(`unknown benchmark '${name}' (known: ${Object.keys(BENCHMARKS).join(", ")})`);
  return bench;
}
