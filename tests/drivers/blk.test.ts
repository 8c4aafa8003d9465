// virtio-blk end to end: the guest (wisp.test=blk) writes a seeded xorshift32
// pattern across a raw 64 MiB data disk with 8 requests in flight, flushes,
// reads it back and verifies it; after power-off the host hashes the image
// and compares it with the same pattern generated here. On microvm
// (virtio-mmio) and q35 (virtio-pci with MSI-X), plus pc with INTx.
// wisp.bench=blk prints the sequential MB/s.
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceArgs } from "../../scripts/run/devices.ts";
import { runGuest } from "../../scripts/run/guest.ts";
import type { Machine } from "../../scripts/run/qemu.ts";
import { KERNEL, pattern, sha256 } from "./harness.ts";

const DISK_BYTES = 64 << 20;
let dir = "";
let expected = "";

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "wisp-blk-"));
  expected = sha256(pattern(DISK_BYTES));
});

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function emptyDisk(name: string): string {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  ftruncateSync(fd, DISK_BYTES);
  closeSync(fd);
  return path;
}

function failures(output: string): string[] {
  return output.split("\n").filter((line) => line.includes(": FAIL"));
}

const cases: Array<[Machine, string, RegExp]> = [
  ["microvm", "", /virtio-blk0: 1 queue of \d+, GSI \d+/],
  ["q35", "", /virtio-blk0: 1 queue of \d+, MSI-X vectors/],
  ["pc", "wisp.nomsix", /virtio-blk0: 1 queue of \d+, INTx GSI \d+/],
];

describe.each(cases)("virtio-blk on %s %s", (machine, extra, interrupts) => {
  it("writes the pattern across 64 MiB, reads it back, and the image holds it", async () => {
    const disk = emptyDisk(`${machine}.img`);
    const result = await runGuest({
      kernel: KERNEL,
      machine,
      accel: "tcg",
      memory: "256M",
      cmdline: `wisp.test=blk ${extra}`.trim(),
      extraArgs: deviceArgs(machine, { dataDisk: disk }),
      timeoutMs: 100_000,
    });
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toMatch(/virtio-blk0 \(.*\): features .*VERSION_1/);
    expect(result.output).toMatch(interrupts);
    expect(result.output).toContain("virtio-blk0: 131072 sectors (64 MiB)");
    expect(failures(result.output)).toEqual([]);
    expect(result.output).toContain("selftest: blk: pattern read back and verified: ok");
    expect(result.output).toMatch(/selftest: done, \d+ checks ok, 0 failed/);
    expect(result.status, result.output).toBe(0);
    expect(sha256(readFileSync(disk))).toBe(expected);
  }, 120_000);
});

describe("virtio-blk benchmark", () => {
  it("prints sequential write and read MB/s with interrupts and polling", async () => {
    const disk = emptyDisk("bench.img");
    const result = await runGuest({
      kernel: KERNEL,
      machine: "microvm",
      accel: "tcg",
      memory: "256M",
      cmdline: "wisp.bench=blk",
      extraArgs: deviceArgs("microvm", { dataDisk: disk }),
      timeoutMs: 100_000,
    });
    expect(result.timedOut, result.output).toBe(false);
    for (const mode of ["interrupts", "polling"]) {
      for (const depth of [1, 8]) {
        expect(result.output).toMatch(new RegExp(
          `blkbench: ${mode}, 1 MiB requests, ${depth} in flight: write [0-9.]+ MB/s .*, read [0-9.]+ MB/s .*\\)\\n`));
      }
      expect(result.output).toMatch(new RegExp(`blkbench: ${mode}, 4 KiB reads one at a time: \\d+ ns each\\n`));
    }
    expect(result.output).not.toContain("(errors)");
    expect(result.status).toBe(0);
  }, 120_000);
});
