// The C check programs of tests/programs/abi/ (memory, clocks, threads,
// futexes, errors), each built static and static-PIE and booted as the
// application: every check must print "ok" and the program exit 0. Then a
// system call fuzzer with hostile arguments.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram, checkLines, KERNEL, runProgram, type Linking } from "./programs.ts";

const PROGRAMS = ["memory", "clock", "pthread", "futex", "errors"];
const LINKINGS: Linking[] = ["static", "static-pie"];

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  for (const name of PROGRAMS) for (const linking of LINKINGS) buildProgram(name, linking);
  buildProgram("fuzz", "static");
}, 300_000);

async function expectAllChecksPass(name: string, linking: Linking, smp: number) {
  const result = await runProgram({ name, linking, smp });
  expect(result.timedOut, result.output).toBe(false);
  const { ok, failed } = checkLines(result.output);
  expect(failed).toEqual([]);
  expect(ok.length).toBeGreaterThan(5);
  expect(result.output).toMatch(new RegExp(`^${name}: ${ok.length} checks, 0 failed$`, "m"));
  expect(result.output).toContain("wisp: application exited with status 0\n");
  expect(result.status).toBe(0);
  return result;
}

describe.each(LINKINGS)("check programs (gcc -%s)", (linking) => {
  it.each(PROGRAMS)("%s: every check passes on one CPU", async (name) => {
    await expectAllChecksPass(name, linking, 1);
  });
});

describe("on two CPUs", () => {
  it.each(["pthread", "futex"])("%s: every check passes", async (name) => {
    await expectAllChecksPass(name, "static", 2);
  });
});

describe("errors", () => {
  it("names each unimplemented system call once and carries on", async () => {
    const result = await expectAllChecksPass("errors", "static", 1);
    const notes = result.output.split("\n").filter((line) => line.startsWith("wisp: syscall "));
    expect(notes).toEqual([
      "wisp: syscall unknown (999) not implemented",
      "wisp: syscall acct (163) not implemented",
      "wisp: syscall unknown (400) not implemented",
      "wisp: syscall unknown (100000) not implemented",
    ]);
    expect(result.output).toContain("the kernel survived every bad call");
  });
});

describe("hostile arguments", () => {
  it.each(["1", "2"])("every system call with bad arguments leaves the kernel running (seed %s)", async (seed) => {
    const result = await runProgram({ name: "fuzz", args: [seed], smp: 2 });
    expect(result.timedOut, result.output).toBe(false);
    expect(checkLines(result.output).failed).toEqual([]);
    expect(result.output).toContain("fuzz: 3 checks, 0 failed");
    expect(result.output).not.toContain("panic");
    expect(result.status).toBe(0);
  });
});
