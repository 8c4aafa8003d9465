// Writes tests/posix/expected-pass.txt from a full run's build/posix/results.json:
// the tests that passed on the host and on Wisp, quick ones only (under
// QUICK_MS on Wisp), all areas but threads first, then threads, until the
// Wisp time adds up to BUDGET_MS (two QEMUs at a time: about half of it in
// wall time). tests/posix/posix.test.ts then checks they still pass.
//
//   tsx scripts/posix/expected.ts
import { readFileSync, writeFileSync } from "node:fs";
import type { Results } from "./run.ts";
import { AREAS, RESULTS_JSON } from "./suite.ts";

const OUTPUT = "tests/posix/expected-pass.txt";
const QUICK_MS = 5_000;
const BUDGET_MS = 200_000;

const results = JSON.parse(readFileSync(RESULTS_JSON, "utf8")) as Results;
const passing = results.tests.filter((t) => t.host?.outcome === "pass" && t.wisp?.outcome === "pass" && (t.wisp?.ms ?? Infinity) < QUICK_MS);
const order = [...AREAS.filter((a) => a !== "threads"), "threads"];
const chosen: string[] = [];
let total = 0;
for (const area of order) {
  for (const test of passing.filter((t) => t.area === area)) {
    const ms = test.wisp?.ms ?? 0;
    if (total + ms > BUDGET_MS) continue;
    total += ms;
    chosen.push(test.id);
  }
}
const header = [
  "# Open POSIX Test Suite tests Wisp passes (tests/posix/posix.test.ts checks they still do).",
  `# Written by scripts/posix/expected.ts from the full run of ${results.date}:`,
  `# ${passing.length} quick tests passed on the host and on Wisp; ${chosen.length} chosen, about ${(total / 1000).toFixed(0)} s of QEMU time.`,
];
writeFileSync(OUTPUT, [...header, ...chosen].join("\n") + "\n");
console.log(`${OUTPUT}: ${chosen.length} tests, ${(total / 1000).toFixed(0)} s of QEMU time`);
