// The results as a Markdown table: readable in a terminal and in CI's log,
// and pasteable into the README as is.
import type { Row, Side } from "./results.ts";

/** A figure with as many decimals as its size deserves (3-4 significant digits). */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100 || Number.isInteger(value)) return Math.round(value).toString();
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return "0";
  return value.toPrecision(2);
}

export function formatRatio(r: number): string {
  if (r >= 100) return r.toFixed(0);
  if (r >= 10) return r.toFixed(1);
  if (r >= 0.1) return r.toFixed(2);
  return r.toPrecision(2);
}

/** "median (min-max)", just the median for one sample, or the reason a side has no figure. */
export function formatSide(side: Side): string {
  if (side.state !== "measured") {
    const label = side.state === "n/a" ? "n/a" : side.state === "not-yet" ? "not yet" : "FAILED";
    return `${label}: ${side.reason}`;
  }
  const m = formatNumber(side.median);
  if (side.samples.length === 1 || side.min === side.max) return side.samples.length === 1 ? m : `${m} (all ${side.samples.length} equal)`;
  return `${m} (${formatNumber(side.min)}-${formatNumber(side.max)})`;
}

/** Who wins and by how much, in the row's direction: "Wisp 19.6x better (lower is better)". */
export function formatVerdict(row: Row): string {
  if (row.ratio === null || row.verdict === null) return `(${row.better} is better)`;
  const v = row.verdict;
  const who = v.winner === "even" ? "even" : `${v.winner === "wisp" ? "Wisp" : "Linux"} ${formatRatio(v.factor)}x better`;
  return `${who} (${row.better} is better${v.overlap ? "; ranges overlap" : ""})`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export const TABLE_HEADER = ["benchmark", "vCPUs", "unit", "Wisp median (min-max)", "Linux median (min-max)", "Wisp/Linux", "verdict"];

export function tableCells(row: Row): string[] {
  return [
    row.label,
    row.smp === null ? "-" : String(row.smp),
    row.unit,
    formatSide(row.wisp),
    formatSide(row.linux),
    row.ratio === null ? "-" : formatRatio(row.ratio),
    formatVerdict(row),
  ];
}

/** A Markdown table with columns padded to line up in a fixed-width font. */
export function formatTable(rows: readonly Row[]): string {
  const lines = [TABLE_HEADER, ...rows.map(tableCells)].map((cells) => cells.map(escapeCell));
  const widths = TABLE_HEADER.map((_, i) => Math.max(...lines.map((cells) => cells[i].length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [render(lines[0]), rule, ...lines.slice(1).map(render)].join("\n");
}

/** The rows' notes as a list in table order: each note once, after every label it belongs to. */
export function formatNotes(rows: readonly Row[]): string {
  const labelsByNote = new Map<string, string[]>();
  for (const row of rows) {
    if (row.note === undefined) continue;
    const labels = labelsByNote.get(row.note) ?? [];
    if (!labels.includes(row.label)) labels.push(row.label);
    labelsByNote.set(row.note, labels);
  }
  return [...labelsByNote].map(([note, labels]) => `- ${labels.join("; ")}: ${note}`).join("\n");
}
