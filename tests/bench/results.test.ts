import { describe, expect, it } from "vitest";
import { bisectSmallest } from "../../scripts/bench/bisect.ts";
import { checkResultsShape, makeRow, measured, qemuSaid, sideFrom, unmeasured } from "../../scripts/bench/results.ts";
import { cswitchSeries, parseWispCswitch } from "../../scripts/bench/suites/cswitch.ts";
import { bootRow, notYetRow, sampleResults } from "./fixtures.ts";

describe("rows", () => {
  it("carries raw samples, their summary, the ratio and the verdict", () => {
    const row = bootRow([120, 100, 90], [2000, 1900, 2100]);
    expect(row.wisp).toEqual({ state: "measured", samples: [120, 100, 90], median: 100, min: 90, max: 120 });
    expect(row.ratio).toBeCloseTo(0.05);
    expect(row.verdict).toEqual({ winner: "wisp", factor: expect.closeTo(20, 6), overlap: false });
  });

  it("has no ratio when a side was not measured", () => {
    const row = notYetRow();
    expect(row.ratio).toBeNull();
    expect(row.verdict).toBeNull();
  });

  it("marks a side failed when a run failed, keeping the samples it did get", () => {
    expect(sideFrom([1, 2], null)).toEqual(measured([1, 2]));
    expect(sideFrom([1, 2], "run 3 timed out")).toEqual({ state: "failed", reason: "run 3 timed out", samples: [1, 2] });
    expect(sideFrom([], null)).toEqual(unmeasured("failed", "no samples"));
  });

  it("quotes QEMU's first complaint in failure reasons", () => {
    expect(qemuSaid("qemu-system-x86_64: Could not access KVM kernel module: No such file or directory\nqemu-system-x86_64: failed to initialize kvm\n")).toBe(
      ": Could not access KVM kernel module: No such file or directory",
    );
    expect(qemuSaid("")).toBe("");
  });
});

describe("results.json shape", () => {
  it("accepts what the harness writes, after a JSON round trip", () => {
    const results = JSON.parse(JSON.stringify(sampleResults()));
    expect(checkResultsShape(results)).toEqual([]);
  });

  it("names what is wrong", () => {
    const results = JSON.parse(JSON.stringify(sampleResults()));
    results.schema = "other";
    results.rows[0].wisp.samples = ["1"];
    results.rows[1].id = results.rows[0].id;
    results.rows[2].wisp.reason = "";
    results.rows[2].ratio = 1;
    delete results.settings.runs;
    expect(checkResultsShape(results)).toEqual([
      "schema is not wisp-bench/1",
      "settings.runs is not a number",
      "rows[0].wisp.samples is not a list of numbers",
      "rows[1].id is missing or repeated",
      "rows[2].wisp gives no reason",
      "rows[2].ratio does not match the sides",
    ]);
    expect(checkResultsShape([])).toEqual(["not an object"]);
  });

  it("requires a ratio when both sides were measured", () => {
    const results = JSON.parse(JSON.stringify(sampleResults([makeRow({ ...bootRow([1], [2]) })])));
    results.rows[0].ratio = null;
    expect(checkResultsShape(results)).toEqual(["rows[0].ratio does not match the sides"]);
  });
});

describe("bisection for the smallest RAM", () => {
  const threshold = (t: number) => async (v: number) => ({ ok: v >= t });

  it("finds the edge in about log2(range) probes, probing the top first", async () => {
    const r = await bisectSmallest(0, 256, 1, threshold(84));
    expect(r.smallest).toBe(84);
    expect(r.atLowBound).toBe(false);
    expect(r.probes[0]).toEqual({ value: 256, ok: true });
    expect(r.probes.length).toBeLessThanOrEqual(9);
    // 83 fails, 84 passes: both were probed.
    expect(r.probes).toContainEqual({ value: 83, ok: false });
    expect(r.probes).toContainEqual({ value: 84, ok: true });
  });

  it("returns null when even the top fails, and says when it hit the bottom", async () => {
    expect((await bisectSmallest(0, 256, 1, threshold(1000))).smallest).toBeNull();
    const low = await bisectSmallest(0, 256, 1, threshold(0));
    expect(low).toMatchObject({ smallest: 1, atLowBound: true });
  });

  it("works in steps and keeps the probes' reasons", async () => {
    const r = await bisectSmallest(0, 64, 4, async (v) => (v >= 18 ? { ok: true } : { ok: false, why: "panic" }));
    expect(r.smallest).toBe(20);
    expect(r.probes.filter((p) => !p.ok).every((p) => p.why === "panic")).toBe(true);
    await expect(bisectSmallest(0, 10, 4, threshold(1))).rejects.toThrow(/bad bisection range/);
  });
});

describe("cswitch", () => {
  it("measures the same CPU at the smallest count and across CPUs at each count of 2 or more", () => {
    expect(cswitchSeries([1, 2])).toEqual([{ placement: "same", smp: 1 }, { placement: "cross", smp: 2 }]);
    expect(cswitchSeries([1])).toEqual([{ placement: "same", smp: 1 }]);
    expect(cswitchSeries([2, 4])).toEqual([{ placement: "same", smp: 2 }, { placement: "cross", smp: 2 }, { placement: "cross", smp: 4 }]);
  });

  it("reads Wisp's figures", () => {
    const out = "wisp: booted in 9.1 ms\ncswitch: same-cpu 6457 ns per switch (20000 round trips)\ncswitch: cross-cpu 26884 ns per switch (20000 round trips)\n";
    expect(parseWispCswitch(out, "same")).toBe(6457);
    expect(parseWispCswitch(out, "cross")).toBe(26884);
    expect(parseWispCswitch("cswitch: cross-cpu skipped (one CPU online)\n", "cross")).toBeNull();
  });
});
