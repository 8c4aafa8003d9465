// Writes tests/posix/expected-pass.txt from a full run's build/posix/results.json:
// the tests that passed on the host and on Wisp, quick ones only (under
// QUICK_MS on Wisp), from every area, until the Wisp time adds up to
// BUDGET_MS (two QEMUs at a time: about half of it in wall time). tests/posix/posix.test.ts then checks they still pass.
//
//   tsx scripts/posix/expected.ts
import { readFileSync, writeFileSync } from "node:fs";
import type { Results } from "./run.ts";
import { AREAS, MANIFEST, RESULTS_JSON } from "./suite.ts";

const OUTPUT = "tests/posix/expected-pass.txt";
const QUICK_MS = 5_000;
const BUDGET_MS = 160_000;

const results = JSON.parse(readFileSync(RESULTS_JSON, "utf8")) as Results;
// Tests that send or wait for signals (cancellation included) can pass on
// Wisp only by chance while signals are not delivered: never in the list.
// Nor tests whose exit races a thread's unwinding (suite.ts, exitRacesUnwind).
const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as { tests: { id: string; usesSignals: boolean; exitRacesUnwind?: boolean }[] };
const signalTests = new Set(manifest.tests.filter((t) => t.usesSignals || t.exitRacesUnwind === true).map((t) => t.id));
const passing = results.tests.filter(
  (t) => t.host?.outcome === "pass" && t.wisp?.outcome === "pass" && (t.wisp?.ms ?? Infinity) < QUICK_MS && !signalTests.has(t.id),
);
// Each area gets a share of the budget in proportion to its passing tests,
// spent on its quickest tests first; the list keeps the suite's order.
const chosenSet = new Set<string>();
let total = 0;
for (const area of AREAS) {
  const inArea = passing.filter((t) => t.area === area).sort((a, b) => (a.wisp?.ms ?? 0) - (b.wisp?.ms ?? 0));
  const share = (BUDGET_MS * inArea.length) / Math.max(1, passing.length);
  let spent = 0;
  for (const test of inArea) {
    const ms = test.wisp?.ms ?? 0;
    if (spent + ms > share) break;
    spent += ms;
    chosenSet.add(test.id);
  }
  total += spent;
}
const chosen = passing.filter((t) => chosenSet.has(t.id)).map((t) => t.id);
const header = [
  "# Open POSIX Test Suite tests Wisp passes (tests/posix/posix.test.ts checks they still do).",
  `# Written by scripts/posix/expected.ts from the full run of ${results.date}:`,
  `# ${passing.length} quick tests passed on the host and on Wisp; ${chosen.length} chosen, about ${(total / 1000).toFixed(0)} s of QEMU time.`,
];
writeFileSync(OUTPUT, [...header, ...chosen].join("\n") + "\n");
console.log(`${OUTPUT}: ${chosen.length} tests, ${(total / 1000).toFixed(0)} s of QEMU time`);
