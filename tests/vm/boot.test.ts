// The virtual-memory self-tests in the booted kernel (wisp.test=vm) on 1, 2
// and 4 vCPUs under TCG, and a deliberate touch of a stack guard page
// (wisp.test=guardpage), which must end in the segmentation fault report and
// the SIGSEGV exit status, not in a panic. Needs build/kernel.elf with the
// self-tests wired in kernel/main.ts and the page-fault hook in kernel/trap.ts.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { runGuest } from "../../scripts/run/guest.ts";

const KERNEL = "build/kernel.elf";

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
});

describe.each([1, 2, 4])("vm self-tests with %i vCPUs", (smp) => {
  it("pass every check", async () => {
    const result = await runGuest({
      kernel: KERNEL,
      machine: "microvm",
      accel: "tcg",
      smp,
      cmdline: "wisp.test=vm",
      timeoutMs: 120_000,
    });
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toContain(`${smp} of ${smp} CPUs online`);
    const lines = result.output.split("\n").filter((line) => line.startsWith("vm-selftest: "));
    expect(lines.filter((line) => line.endsWith(": FAIL"))).toEqual([]);
    expect(lines.length, result.output).toBeGreaterThan(50);
    expect(result.output).toMatch(/vm-selftest: \d+ passed, 0 failed/);
    expect(result.status).toBe(0);
  }, 150_000);
});

describe("stack guard page", () => {
  it("a touch is reported as a segmentation fault and ends the program", async () => {
    const result = await runGuest({
      kernel: KERNEL,
      machine: "microvm",
      accel: "tcg",
      cmdline: "wisp.test=guardpage",
      timeoutMs: 120_000,
    });
    expect(result.output).toMatch(/vm-selftest: touching the stack guard page at 0x[0-9a-f]{16}\n/);
    expect(result.output).toMatch(/wisp: segmentation fault at 0x[0-9a-f]{16} \(stack guard page\) rip 0x[0-9a-f]{16}\n/);
    expect(result.output).not.toContain("panic");
    expect(result.output).not.toContain("FAIL");
    expect(result.status).toBe(11);
  }, 150_000);
});
