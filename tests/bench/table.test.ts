import { describe, expect, it } from "vitest";
import { makeRow, measured, unmeasured } from "../../scripts/bench/results.ts";
import { formatNotes, formatNumber, formatRatio, formatSide, formatTable, formatVerdict, TABLE_HEADER } from "../../scripts/bench/table.ts";
import { bootRow, notYetRow } from "./fixtures.ts";

describe("number formatting", () => {
  it("keeps 3-4 significant digits", () => {
    expect(formatNumber(2345.67)).toBe("2346");
    expect(formatNumber(123.4)).toBe("123");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(8.666)).toBe("8.67");
    expect(formatNumber(0.01234)).toBe("0.012");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(84)).toBe("84");
  });

  it("formats ratios", () => {
    expect(formatRatio(0.0052)).toBe("0.0052");
    expect(formatRatio(0.84)).toBe("0.84");
    expect(formatRatio(1)).toBe("1.00");
    expect(formatRatio(13.44)).toBe("13.4");
    expect(formatRatio(192.4)).toBe("192");
  });
});

describe("cells", () => {
  it("gives median (min-max), a lone sample, or the reason there is none", () => {
    expect(formatSide(measured([100, 90, 120]))).toBe("100 (90-120)");
    expect(formatSide(measured([3]))).toBe("3");
    expect(formatSide(measured([5, 5]))).toBe("5 (all 2 equal)");
    expect(formatSide(unmeasured("not-yet", "Wisp has no TCP stack"))).toBe("not yet: Wisp has no TCP stack");
    expect(formatSide(unmeasured("failed", "timed out"))).toBe("FAILED: timed out");
    expect(formatSide(unmeasured("n/a", "no such figure"))).toBe("n/a: no such figure");
  });

  it("names the winner, the factor and the direction", () => {
    expect(formatVerdict(bootRow([100], [2000]))).toBe("Wisp 20.0x better (lower is better)");
    expect(formatVerdict(bootRow([300], [100]))).toBe("Linux 3.00x better (lower is better)");
    expect(formatVerdict(bootRow([100, 110], [105, 130]))).toBe("Wisp 1.12x better (lower is better; ranges overlap)");
    expect(formatVerdict(bootRow([100], [100]))).toBe("even (lower is better; ranges overlap)");
    expect(formatVerdict(notYetRow())).toBe("(higher is better)");
  });
});

describe("table", () => {
  const rows = [bootRow([100, 120, 90], [2000, 2100, 1900]), bootRow([10], [20], 2), notYetRow()];
  const table = formatTable(rows);
  const lines = table.split("\n");

  it("is a Markdown table: header, rule, one line per row, all the same width", () => {
    expect(lines).toHaveLength(2 + rows.length);
    expect(lines[0]).toMatch(/^\| benchmark +\| vCPUs \| unit +\| Wisp median \(min-max\) +\| Linux median \(min-max\) +\| Wisp\/Linux \| verdict +\|$/);
    expect(lines[1]).toMatch(/^\|(-+\|){7}$/);
    for (const line of lines) expect(line.length).toBe(lines[0].length);
    for (const line of lines) expect(line.split("|").length - 2).toBe(TABLE_HEADER.length);
  });

  it("puts the figures in their columns", () => {
    const cells = (line: string) => line.split("|").slice(1, -1).map((c) => c.trim());
    expect(cells(lines[2])).toEqual(["boot: QEMU start to ready line", "1", "ms", "100 (90-120)", "2000 (1900-2100)", "0.050", "Wisp 20.0x better (lower is better)"]);
    expect(cells(lines[3])).toEqual(["boot: QEMU start to ready line", "2", "ms", "10", "20", "0.50", "Wisp 2.00x better (lower is better)"]);
    expect(cells(lines[4])).toEqual(["tcp_rr: 1-byte request/response", "-", "transactions/s", "not yet: Wisp has no TCP stack", "not yet: not run", "-", "(higher is better)"]);
  });

  it("escapes a '|' inside a cell", () => {
    const row = makeRow({ ...bootRow([1], [2]), label: "a | b" });
    expect(formatTable([row]).split("\n")[2]).toContain("a \\| b");
  });

  it("lists each note once, after the labels it belongs to", () => {
    const a = makeRow({ ...bootRow([1], [2]), note: "same note" });
    const b = makeRow({ ...bootRow([1], [2], 2), note: "same note" });
    const c = makeRow({ ...notYetRow(), note: "other" });
    const d = makeRow({ ...notYetRow(), label: "tcp_stream", note: "other" });
    const e = makeRow({ ...notYetRow(), label: "no note" });
    expect(formatNotes([a, b, c, d, e])).toBe("- boot: QEMU start to ready line: same note\n- tcp_rr: 1-byte request/response; tcp_stream: other");
  });
});
