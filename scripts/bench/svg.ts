// build/bench/results.svg: one horizontal bar per row, the Wisp/Linux ratio
// of medians on a log scale, drawn from the 1.0 line (the two systems even).
// Green bars favour Wisp, red ones Linux, in each row's own direction;
// rows without a ratio say why in grey. Plain SVG text, no library.
import type { Results, Row } from "./results.ts";
import { formatRatio } from "./table.ts";

// Layout, in px. Text widths are estimated (DejaVu Sans at 12 px averages
// under 7 px a character), so columns fit their longest text.
const CHAR_PX = 7;
const MARGIN = 12;
const PLOT_WIDTH = 400;
const GAP = 15;
const ROW_HEIGHT = 26;
const TOP = 78; // first row
const BAR_HEIGHT = 14;
const COLORS = { wisp: "#2e7d32", linux: "#c62828", even: "#757575", grid: "#dddddd", axis: "#333333", muted: "#777777" };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** An attribute-safe number: fixed decimals, no exponent. */
function n(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/** Decades the axis spans: at least 0.1 to 10, widened to hold every ratio. */
export function axisDecades(ratios: readonly number[]): [number, number] {
  let lo = -1;
  let hi = 1;
  for (const r of ratios) {
    if (!(r > 0) || !Number.isFinite(r)) continue;
    lo = Math.min(lo, Math.floor(Math.log10(r)));
    hi = Math.max(hi, Math.ceil(Math.log10(r)));
  }
  return [lo, hi];
}

export function rowLabel(row: Row): string {
  return row.smp === null ? row.label : `${row.label}, ${row.smp} vCPU${row.smp === 1 ? "" : "s"}`;
}

function decadeLabel(d: number): string {
  return d >= 0 ? String(10 ** d) : (10 ** d).toFixed(-d);
}

/** The text after a bar: the ratio and who wins by how much. */
export function barText(row: Row): string {
  if (row.ratio === null || row.verdict === null) return "";
  const v = row.verdict;
  const who = v.winner === "even" ? "even" : `${v.winner === "wisp" ? "Wisp" : "Linux"} ${formatRatio(v.factor)}x better`;
  return `${formatRatio(row.ratio)} · ${who}${v.overlap ? " (ranges overlap)" : ""}`;
}

/** Why a row has no bar. */
export function missingText(row: Row): string {
  const say = (system: string, side: Row["wisp"]): string =>
    side.state === "measured" ? "" : `${system} ${side.state === "not-yet" ? "not yet" : side.state === "failed" ? "FAILED" : "n/a"}: ${side.reason}`;
  return say("Wisp", row.wisp) || say("Linux", row.linux) || "no ratio";
}

const LEGEND = "bar: Wisp median / Linux median; left of 1 means Wisp's figure is smaller (better for times and sizes, worse for throughput)";

export function renderSvg(results: Pick<Results, "rows" | "date" | "git" | "accelerator" | "settings">): string {
  const rows = results.rows;
  const ratios = rows.map((r) => r.ratio).filter((r): r is number => r !== null);
  const [lo, hi] = axisDecades(ratios);
  const labelChars = Math.max(20, ...rows.map((r) => rowLabel(r).length));
  const LABEL_RIGHT = MARGIN + labelChars * CHAR_PX;
  const PLOT_LEFT = LABEL_RIGHT + GAP;
  const PLOT_RIGHT = PLOT_LEFT + PLOT_WIDTH;
  const NOTE_LEFT = PLOT_RIGHT + GAP;
  const noteChars = Math.max(0, ...rows.map((r) => barText(r).length));
  const missingRight = Math.max(0, ...rows.filter((r) => r.ratio === null).map((r) => PLOT_LEFT + 4 + missingText(r).length * CHAR_PX));
  const WIDTH = Math.ceil(Math.max(NOTE_LEFT + noteChars * CHAR_PX, missingRight, 240 + LEGEND.length * 6.2) + MARGIN);
  const x = (r: number): number => PLOT_LEFT + ((Math.log10(r) - lo) / (hi - lo)) * (PLOT_RIGHT - PLOT_LEFT);
  const bottom = TOP + rows.length * ROW_HEIGHT;
  const height = bottom + 70;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">`,
  );
  out.push(`<title>Wisp / Linux guest benchmark ratios</title>`);
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="12" y="24" font-size="16" font-weight="bold">Wisp / Linux guest: ratio of medians (log scale)</text>`);
  const commit = results.git.commit === null ? "no git" : `${results.git.commit.slice(0, 12)}${results.git.dirty ? " (dirty)" : ""}`;
  const s = results.settings;
  const runs = s.quick && s.runs === 1 ? "quick pass" : `${s.runs} run${s.runs === 1 ? "" : "s"}`;
  const subtitle = `${results.date.slice(0, 16).replace("T", " ")} UTC · ${commit} · ${results.accelerator.accelerator} · ${runs} · -m ${s.memory} · Linux ${s.linuxKernel}`;
  out.push(`<text x="12" y="44" fill="${COLORS.muted}">${escapeXml(subtitle)}</text>`);

  // Grid: one line per decade, the 1.0 line darker.
  out.push(`<g class="grid">`);
  for (let d = lo; d <= hi; d++) {
    const gx = n(x(10 ** d));
    const one = d === 0;
    out.push(`<line x1="${gx}" y1="${TOP - 8}" x2="${gx}" y2="${bottom}" stroke="${one ? COLORS.axis : COLORS.grid}" stroke-width="${one ? 2 : 1}"/>`);
    out.push(`<text x="${gx}" y="${TOP - 12}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(decadeLabel(d))}</text>`);
  }
  out.push(`</g>`);

  out.push(`<g class="rows">`);
  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const mid = y + ROW_HEIGHT / 2;
    out.push(`<g class="row" data-id="${escapeXml(row.id)}">`);
    out.push(`<text x="${LABEL_RIGHT}" y="${n(mid + 4)}" text-anchor="end">${escapeXml(rowLabel(row))}</text>`);
    if (row.ratio !== null && row.ratio > 0 && row.verdict !== null) {
      const x0 = x(1);
      const x1 = x(row.ratio);
      const color = COLORS[row.verdict.winner];
      const left = Math.min(x0, x1);
      const width = Math.max(Math.abs(x1 - x0), 1);
      out.push(
        `<rect class="bar" x="${n(left)}" y="${n(mid - BAR_HEIGHT / 2)}" width="${n(width)}" height="${BAR_HEIGHT}" fill="${color}"><title>${escapeXml(`${rowLabel(row)}: Wisp/Linux ${formatRatio(row.ratio)}`)}</title></rect>`,
      );
      out.push(`<text x="${NOTE_LEFT}" y="${n(mid + 4)}" fill="${color}">${escapeXml(barText(row))}</text>`);
    } else {
      const why = missingText(row);
      out.push(`<text class="missing" x="${PLOT_LEFT + 4}" y="${n(mid + 4)}" fill="${COLORS.muted}" font-style="italic">${escapeXml(why)}</text>`);
    }
    out.push(`</g>`);
  });
  out.push(`</g>`);

  const legendY = bottom + 28;
  out.push(`<rect x="12" y="${legendY - 10}" width="12" height="12" fill="${COLORS.wisp}"/>`);
  out.push(`<text x="30" y="${legendY}">Wisp better</text>`);
  out.push(`<rect x="120" y="${legendY - 10}" width="12" height="12" fill="${COLORS.linux}"/>`);
  out.push(`<text x="138" y="${legendY}">Linux better</text>`);
  out.push(`<text x="240" y="${legendY}" fill="${COLORS.muted}">${escapeXml(LEGEND)}</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
