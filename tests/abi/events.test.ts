// Pipes, eventfd, poll/select, epoll and timerfd (tests/programs/abi/pipe.c
// and events.c), each built static and static-PIE and booted on one and two
// vCPUs: every check must print "ok" and the program exit 0; then once more
// with the loops that would run out of memory if files leaked.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram, checkLines, KERNEL, runProgram, type Linking } from "./programs.ts";

const PROGRAMS = ["pipe", "events"];
const LINKINGS: Linking[] = ["static", "static-pie"];
const CPUS = [1, 2];

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  for (const name of PROGRAMS) for (const linking of LINKINGS) buildProgram(name, linking);
}, 300_000);

async function expectAllChecksPass(name: string, linking: Linking, smp: number, args: string[] = []) {
  const result = await runProgram({ name, linking, smp, args, timeoutMs: 120_000 });
  expect(result.timedOut, result.output).toBe(false);
  const { ok, failed } = checkLines(result.output);
  expect(failed).toEqual([]);
  expect(ok.length).toBeGreaterThan(30);
  expect(result.output).toMatch(new RegExp(`^${name}: ${ok.length} checks, 0 failed$`, "m"));
  expect(result.output).not.toContain("not implemented");
  expect(result.output).toContain("wisp: application exited with status 0\n");
  expect(result.status).toBe(0);
  return ok;
}

describe.each(LINKINGS)("event and IPC files (gcc -%s)", (linking) => {
  describe.each(CPUS)("on %i vCPU(s)", (smp) => {
    it.each(PROGRAMS)("%s: every check passes", async (name) => {
      await expectAllChecksPass(name, linking, smp);
    }, 150_000);
  });
});

describe("released files give their memory back", () => {
  // Thousands of 64 KiB pipes (alone, and registered in epolls with eventfds
  // and armed timerfds) opened and closed: more than the VM's 256 MiB if any leaked.
  it.each(PROGRAMS)("%s leaks", async (name) => {
    const ok = await expectAllChecksPass(name, "static", 2, ["leaks"]);
    expect(ok.some((line) => / (5000|6000) .* opened and closed/.test(line))).toBe(true);
  }, 150_000);
});
