// Statistics for the benchmark harness: medians, ranges and the Wisp/Linux
// ratio with which side it favours. Only robust figures: on a shared, noisy
// host the median and the min-max range say more than a mean and a deviation.

export type Better = "lower" | "higher";

export interface Summary {
  median: number;
  min: number;
  max: number;
  count: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no samples");
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`not a finite sample: ${v}`);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const m = median(values);
  let min = values[0];
  let max = values[0];
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { median: m, min, max, count: values.length };
}

/** Wisp's median over Linux's; null when either is missing or Linux's is 0. */
export function ratio(wisp: number | null, linux: number | null): number | null {
  if (wisp === null || linux === null || linux === 0) return null;
  return wisp / linux;
}

export interface Verdict {
  /** Which system the ratio favours ("even" within half a percent). */
  winner: "wisp" | "linux" | "even";
  /** How many times better the winner is (>= 1). */
  factor: number;
  /** The two min-max ranges overlap: the difference may be noise. */
  overlap: boolean;
}

/**
 * Reads a Wisp/Linux ratio in the benchmark's direction: for "lower is
 * better" a ratio of 0.25 is Wisp 4x better, for "higher" it is Linux 4x better.
 */
export function verdict(r: number, better: Better, wisp?: Summary, linux?: Summary): Verdict {
  if (!(r > 0) || !Number.isFinite(r)) throw new Error(`ratio must be positive and finite, not ${r}`);
  const advantage = better === "lower" ? 1 / r : r; // > 1: Wisp better
  const overlap = wisp !== undefined && linux !== undefined && wisp.min <= linux.max && linux.min <= wisp.max;
  if (Math.abs(Math.log(advantage)) < Math.log(1.005)) return { winner: "even", factor: 1, overlap };
  return advantage > 1 ? { winner: "wisp", factor: advantage, overlap } : { winner: "linux", factor: 1 / advantage, overlap };
}
