// The core kernel's in-guest self-tests (wisp.test=core) on 1, 2 and 4 vCPUs
// under multi-threaded TCG: allocators, timers, preemption, sleeping locks,
// 100 threads in mutex/condvar ping-pong, futexes.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { runGuest } from "../../scripts/run/guest.ts";

const KERNEL = "build/kernel.elf";

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
});

describe.each([1, 2, 4])("core self-tests with %i vCPUs", (smp) => {
  it("pass every check with every CPU online", async () => {
    const result = await runGuest({
      kernel: KERNEL,
      machine: "microvm",
      accel: "tcg",
      smp,
      memory: "256M",
      cmdline: "wisp.test=core",
      timeoutMs: 120_000,
    });
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toContain(`${smp} of ${smp} CPUs online`);
    expect(result.output).toContain(`selftest: core, ${smp} CPUs online`);
    const failures = result.output.split("\n").filter((line) => line.includes(": FAIL"));
    expect(failures, result.output).toEqual([]);
    // Every suite reported, so a crash part-way cannot pass.
    for (const suite of ["memory", "timers", "sched", "sync", "futex"]) {
      expect(result.output).toContain(`selftest: ${suite}: `);
    }
    expect(result.output).toMatch(/selftest: done, \d+ checks ok, 0 failed/);
    expect(result.status).toBe(0);
  }, 150_000);
});

describe("context-switch benchmark", () => {
  it("prints ns per switch on one CPU and across two", async () => {
    const result = await runGuest({
      kernel: KERNEL,
      machine: "microvm",
      accel: "tcg",
      smp: 2,
      cmdline: "wisp.bench=cswitch",
      timeoutMs: 120_000,
    });
    expect(result.output).toMatch(/cswitch: same-cpu \d+ ns per switch \(20000 round trips\)/);
    expect(result.output).toMatch(/cswitch: cross-cpu \d+ ns per switch \(20000 round trips\)/);
    expect(result.status).toBe(0);
  }, 150_000);
});
