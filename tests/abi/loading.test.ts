// Loading a program: the initial stack and auxiliary vector as Linux lays
// them out (tests/programs/abi/auxv.c) and the vDSO named by AT_SYSINFO_EHDR
// (tests/programs/abi/vdso.c parses it and calls its functions), for static
// and static-PIE executables.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram, checkLines, KERNEL, runProgram, type Linking } from "./programs.ts";

const LINKINGS: Linking[] = ["static", "static-pie"];

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  for (const linking of LINKINGS) {
    buildProgram("auxv", linking);
    buildProgram("vdso", linking);
  }
}, 120_000);

async function expectAllChecksPass(name: string, linking: Linking, args: string[], smp = 1): Promise<void> {
  const result = await runProgram({ name, linking, args, smp });
  expect(result.timedOut, result.output).toBe(false);
  const { ok, failed } = checkLines(result.output);
  expect(failed).toEqual([]);
  expect(ok.length).toBeGreaterThan(20);
  expect(result.output).toMatch(new RegExp(`^${name}: ${ok.length} checks, 0 failed$`, "m"));
  expect(result.status).toBe(0);
}

describe.each(LINKINGS)("loading (gcc -%s)", (linking) => {
  it("lays out argc, argv, envp and every AT_* entry as Linux does", async () => {
    await expectAllChecksPass("auxv", linking, ["one", "two"]);
  });

  it("maps a vDSO whose functions agree with the system calls", async () => {
    await expectAllChecksPass("vdso", linking, []);
  });
});

it("the vDSO's clocks make no system call (only vdso.c's own syscall() calls and the bad clock's fallback show in wisp.strace)", async () => {
  const result = await runProgram({ name: "vdso", options: "wisp.strace" });
  expect(result.status, result.output).toBe(0);
  const calls = (name: string): number => result.output.split("\n").filter((line) => line.startsWith(`strace: [1] ${name}(`)).length;
  // vdso.c: 4 clocks x 2 syscalls around each vDSO call, 1 for "now", 1 for the bad clock's fallback.
  expect(calls("clock_gettime")).toBe(10);
  expect(calls("gettimeofday")).toBe(0);
  // The one syscall(SYS_time); __vdso_time and glibc's time() do not enter the kernel.
  expect(calls("time")).toBe(1);
});

it("the vDSO's getcpu agrees with getcpu(2) on two CPUs", async () => {
  await expectAllChecksPass("vdso", "static", [], 2);
});
