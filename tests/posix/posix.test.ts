// Open POSIX Test Suite regression check: every test listed in
// tests/posix/expected-pass.txt (the tests Wisp passed when the full run,
// `npm run posix`, was last measured) must still exit with PTS_PASS on Wisp.
// The list is a fixed sample of every area (threads, mutexes, condvars,
// semaphores, clocks, timers, mmap), written by scripts/posix/expected.ts;
// a test that stops passing fails this test, by name.
// Only the listed tests are built (static, cached in build/posix/bin) and
// booted, two QEMUs at a time.
import { existsSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildSuite } from "../../scripts/posix/build.ts";
import { inParallel, KERNEL, runOnWisp, type TestRun } from "../../scripts/posix/run.ts";
import type { BuiltTest } from "../../scripts/posix/suite.ts";

// POSIX_EXPECTED names another list (to try the check itself on a test that fails).
const EXPECTED = process.env.POSIX_EXPECTED ?? "tests/posix/expected-pass.txt";
const TIMEOUT_MS = 20_000;

function expectedPasses(): string[] {
  return readFileSync(EXPECTED, "utf8").split("\n").map((line) => line.trim()).filter((line) => line.length > 0 && !line.startsWith("#"));
}

let tests: BuiltTest[] = [];

beforeAll(async () => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make`);
  const ids = expectedPasses();
  const manifest = await buildSuite({ ids, log: () => {} });
  tests = manifest.tests;
  const missing = ids.filter((id) => !tests.some((t) => t.id === id));
  if (missing.length > 0) throw new Error(`listed in ${EXPECTED} but not built: ${missing.join(", ")}`);
}, 600_000);

describe("Open POSIX Test Suite on Wisp", () => {
  it("passes every test it passed when last measured", async () => {
    const runs = await inParallel(tests, 2, (test) => runOnWisp(test, TIMEOUT_MS));
    const failed = tests
      .map((test, i): [BuiltTest, TestRun] => [test, runs[i]])
      .filter(([, run]) => run.outcome !== "pass")
      .map(([test, run]) => `${test.id}: ${run.outcome}${run.status !== null ? ` (status ${run.status})` : ""}\n${run.tail}`);
    expect(tests.length).toBeGreaterThan(0);
    expect(failed, failed.join("\n\n")).toEqual([]);
  }, 600_000);
});
