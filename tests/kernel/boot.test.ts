// Boots the real kernel (build/kernel.elf) in QEMU under TCG through the PVH
// entry and checks what it prints and how it exits.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { runGuest, type RunResult } from "../../scripts/run/guest.ts";
import type { Machine } from "../../scripts/run/qemu.ts";

const KERNEL = "build/kernel.elf";
const TIMEOUT_MS = 60_000;

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
});

function boot(machine: Machine, cmdline: string): Promise<RunResult> {
  return runGuest({ kernel: KERNEL, machine, accel: "tcg", cmdline, timeoutMs: TIMEOUT_MS });
}

describe.each<Machine>(["microvm", "q35"])("PVH boot on %s", (machine) => {
  it("prints the boot line and powers off with status 0", async () => {
    const result = await boot(machine, "hello=world wisp.memmap");
    expect(result.timedOut).toBe(false);
    expect(result.output).toContain("wisp: command line: hello=world wisp.memmap");
    expect(result.output).toMatch(/^wisp: booted in \d+\.\d\d ms$/m);
    expect(result.guestBootMs).toBeGreaterThan(0);
    expect(result.guestBootMs).toBeLessThan(5000);
    // The memory map from the loader: usable RAM at 1 MiB covering most of 128 MiB.
    expect(result.output).toMatch(/mem: 0x0000000000100000-0x0000000007f[0-9a-f]{5} type 1/);
    expect(result.output).toMatch(/wisp: tsc \d+ kHz from (pit|cpuid|hypervisor)/);
    expect(result.output).toContain("wisp: exit status 0");
    expect(result.status).toBe(0);
  });
});

describe("machines without ACPI", () => {
  it("boots microvm with acpi=off: no MADT, one CPU, halt-free exit through isa-debug-exit", async () => {
    const result = await runGuest({ kernel: KERNEL, machine: "microvm", accel: "tcg", extraArgs: ["-M", "acpi=off"], timeoutMs: TIMEOUT_MS });
    expect(result.output).toMatch(/^wisp: booted in \d+\.\d\d ms$/m);
    expect(result.output).toContain("1 of 1 CPUs online");
    expect(result.status).toBe(0);
  });
});

describe("failure reports", () => {
  it("reports a page fault with vector, error, RIP, CR2, registers and a named backtrace", async () => {
    const result = await boot("microvm", "wisp.test=fault");
    expect(result.output).toContain("wisp: panic: CPU exception 14 (#PF page fault) error 0x0000");
    expect(result.output).toMatch(/rip 0xffffffff8[0-9a-f]{7} kernel\/main\/kmain\+0x[0-9a-f]+/);
    // The AS null pointer is physical 0 at the base of the direct map.
    expect(result.output).toContain("cr2 0xffff800000000000");
    expect(result.output).toContain("page fault: page not present, read");
    expect(result.output).toMatch(/rax 0x[0-9a-f]{16} rbx 0x[0-9a-f]{16}/);
    expect(result.output).toMatch(/backtrace:\n  #0 0xffffffff8[0-9a-f]{7} kernel\/main\/kmain\+0x[0-9a-f]+\n  #1 0x[0-9a-f]{16} wisp_start64\+/);
    expect(result.status).toBe(127);
  });

  it("runs a double fault on its own stack and reports it", async () => {
    const result = await boot("microvm", "wisp.test=doublefault");
    expect(result.output).toContain("wisp: panic: CPU exception 8 (#DF double fault)");
    expect(result.output).toContain("backtrace:");
    expect(result.status).toBe(127);
  });

  it("decodes AssemblyScript aborts with message and file:line", async () => {
    const result = await boot("microvm", "wisp.test=abort");
    expect(result.output).toMatch(/wisp: panic: abort: selftest assertion at kernel\/selftest\/failures\.ts:\d+:\d+/);
    expect(result.output).toMatch(/#0 0x[0-9a-f]{16} kernel\//);
    expect(result.status).toBe(127);
  });

  it("turns wasm traps into panics", async () => {
    const result = await boot("microvm", "wisp.test=divide");
    expect(result.output).toContain("wisp: panic: wasm trap: integer divide by zero");
    expect(result.output).toContain("wasm_rt_trap");
    expect(result.status).toBe(127);
  });

  it("names unknown self-tests instead of failing", async () => {
    const result = await boot("microvm", "wisp.test=nonsense");
    expect(result.output).toContain("selftest: unknown test");
    expect(result.status).toBe(0);
  });
});
