// How an application starts and ends when it cannot run normally: a fault
// ends the VM with the segmentation-fault report (status 11), abort() with
// SIGABRT's (status 6), a missing or
// unusable executable with status 126 and the reason; `wisp.strace` traces
// system calls.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram, KERNEL, runProgram } from "./programs.ts";

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  buildProgram("segv", "static");
  buildProgram("ud", "static");
  buildProgram("divide", "static");
  buildProgram("abort", "static");
  buildProgram("hello", "static");
}, 120_000);

describe("application start and end", () => {
  it("reports an application's segmentation fault and ends with status 11", async () => {
    const result = await runProgram({ name: "segv" });
    expect(result.output).toContain("about to fault\n");
    expect(result.output).toMatch(/wisp: segmentation fault at 0x0000000000000008 \(address not mapped\) rip 0x0000000000[0-9a-f]{6}\n/);
    expect(result.output).not.toContain("still here");
    expect(result.output).not.toContain("panic");
    expect(result.status).toBe(11);
  });

  it("ends the application with status 11 when it writes to an unmapped kernel-half address", async () => {
    const result = await runProgram({ name: "segv", args: ["kernel"] });
    expect(result.output).toMatch(/wisp: segmentation fault at 0xfffffffffffff6c0 \([^)]*\) rip 0x0000000000[0-9a-f]{6}\n/);
    expect(result.output).not.toContain("still here");
    expect(result.output).not.toContain("panic");
    expect(result.status).toBe(11);
  });

  it("ends the application with SIGILL on an invalid instruction, without a kernel panic", async () => {
    const result = await runProgram({ name: "ud" });
    expect(result.output).toContain("about to execute ud2\n");
    expect(result.output).toMatch(/wisp: application fault: #UD invalid opcode at rip 0x0000000000[0-9a-f]{6}\n/);
    expect(result.output).toContain("wisp: application killed by signal 4 (SIGILL)\n");
    expect(result.output).not.toContain("still here");
    expect(result.output).not.toContain("panic");
    expect(result.status).toBe(4);
  });

  it("ends the application with SIGFPE on a division by zero", async () => {
    const result = await runProgram({ name: "divide" });
    expect(result.output).toContain("about to divide by zero\n");
    expect(result.output).toMatch(/wisp: application fault: #DE divide error at rip 0x0000000000[0-9a-f]{6}\n/);
    expect(result.output).toContain("wisp: application killed by signal 8 (SIGFPE)\n");
    expect(result.output).not.toContain("panic");
    expect(result.status).toBe(8);
  });

  it("ends the application with SIGABRT's default action on abort()", async () => {
    const result = await runProgram({ name: "abort" });
    expect(result.output).toContain("aborting\nwisp: application killed by signal 6 (SIGABRT)\n");
    expect(result.status).toBe(6);
  });

  it("says so when there is no executable: not found, status 127 as a shell's", async () => {
    const result = await runProgram({ name: "hello", initrd: null });
    expect(result.output).toContain("wisp: cannot run /hello: not found (boot with -initrd FILE)\n");
    expect(result.status).toBe(127);
  });

  it("refuses a file that is not an ELF executable", async () => {
    const result = await runProgram({ name: "hello", initrd: "tests/programs/abi/check.h" });
    expect(result.output).toContain("wisp: cannot run /hello: not an ELF64 x86-64 executable\n");
    expect(result.status).toBe(126);
  });

  it("says so when a dynamically linked executable's interpreter cannot be read", async () => {
    const dynamic = buildProgram("hello", "dynamic");
    const result = await runProgram({ name: "hello", initrd: dynamic });
    expect(result.output).toContain("wisp: cannot run /hello: its interpreter (PT_INTERP) cannot be read\n");
    expect(result.status).toBe(126);
  });

  it("traces system calls with wisp.strace", async () => {
    const result = await runProgram({ name: "hello", options: "wisp.strace" });
    expect(result.output).toMatch(/^strace: \[1\] arch_prctl\(0x1002, 0x[0-9a-f]+, /m);
    expect(result.output).toMatch(/^strace: \[1\] rseq = -38$/m);
    expect(result.output).toMatch(/^strace: \[1\] exit_group\(0x3, /m);
    expect(result.status).toBe(3);
  });
});
