import { describe, expect, it } from "vitest";
import { median, ratio, summarize, verdict } from "../../scripts/bench/stats.ts";

describe("median, min, max", () => {
  it("takes the middle sample of an odd count, unsorted input", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it("averages the two middle samples of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  it("does not reorder its input", () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it("refuses no samples and non-finite ones", () => {
    expect(() => median([])).toThrow(/no samples/);
    expect(() => median([1, Number.NaN])).toThrow(/finite/);
    expect(() => median([Infinity])).toThrow(/finite/);
  });

  it("summarizes median, min, max and count", () => {
    expect(summarize([30, 10, 20, 50])).toEqual({ median: 25, min: 10, max: 50, count: 4 });
    expect(summarize([-2, -8])).toEqual({ median: -5, min: -8, max: -2, count: 2 });
  });

  it("handles large sample counts (no spread-argument limits)", () => {
    const many = Array.from({ length: 200_001 }, (_, i) => i);
    expect(summarize(many)).toEqual({ median: 100_000, min: 0, max: 200_000, count: 200_001 });
  });
});

describe("Wisp/Linux ratio", () => {
  it("is Wisp's median over Linux's", () => {
    expect(ratio(50, 200)).toBe(0.25);
    expect(ratio(300, 100)).toBe(3);
  });

  it("is null when a side is missing or Linux's median is 0", () => {
    expect(ratio(null, 1)).toBeNull();
    expect(ratio(1, null)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
  });

  it("reads a ratio in the benchmark's direction", () => {
    expect(verdict(0.25, "lower")).toEqual({ winner: "wisp", factor: 4, overlap: false });
    expect(verdict(0.25, "higher")).toEqual({ winner: "linux", factor: 4, overlap: false });
    expect(verdict(2, "lower")).toEqual({ winner: "linux", factor: 2, overlap: false });
    expect(verdict(2, "higher")).toEqual({ winner: "wisp", factor: 2, overlap: false });
    expect(verdict(1.004, "lower").winner).toBe("even");
    expect(verdict(1 / 1.004, "higher").winner).toBe("even");
    expect(verdict(1.01, "lower").winner).toBe("linux");
  });

  it("says when the min-max ranges overlap", () => {
    const a = summarize([10, 12, 14]);
    expect(verdict(0.9, "lower", a, summarize([13, 15, 20])).overlap).toBe(true);
    expect(verdict(0.5, "lower", a, summarize([15, 20, 30])).overlap).toBe(false);
    expect(verdict(0.5, "lower", a, summarize([14])).overlap).toBe(true);
  });

  it("refuses ratios that are not positive and finite", () => {
    expect(() => verdict(0, "lower")).toThrow();
    expect(() => verdict(-1, "lower")).toThrow();
    expect(() => verdict(Infinity, "lower")).toThrow();
  });
});
