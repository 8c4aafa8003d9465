// The in-kernel self-tests (kernel/mm/selftest.ts) run in Node against the
// simulated MMU: every check passes, and the guard-page touch ends in the
// segmentation fault report rather than a crash.
import { describe, expect, it } from "vitest";
import { Segfault, Vm } from "./harness.ts";

describe("kernel/mm/selftest", () => {
  it("passes every check and gives back every page", async () => {
    const vm = await Vm.create();
    const before = vm.usedFrames();
    const ok = vm.exports.vmSelfTest();
    const lines = vm.console.split("\n").filter((line) => line.startsWith("vm-selftest:"));
    const failures = lines.filter((line) => line.endsWith("FAIL"));
    expect(failures).toEqual([]);
    expect(ok).toBe(1);
    expect(lines.at(-1)).toMatch(/^vm-selftest: \d+ passed, 0 failed$/);
    expect(lines.length).toBeGreaterThan(40);
    expect(vm.usedFrames()).toBe(before);
    expect(vm.tableCount()).toBe(0);
  });

  it("reports a guard page touch as a segmentation fault", async () => {
    const vm = await Vm.create();
    let fault: unknown;
    try {
      vm.exports.vmGuardPageTouch();
    } catch (error) {
      fault = error;
    }
    expect(fault).toBeInstanceOf(Segfault);
    const address = (fault as Segfault).address;
    expect(vm.console).toContain(
      `wisp: segmentation fault at 0x${address.toString(16).padStart(16, "0")} (stack guard page) rip 0x00000000deadbeef\n`,
    );
    expect(vm.console).not.toContain("FAIL");
  });
});
