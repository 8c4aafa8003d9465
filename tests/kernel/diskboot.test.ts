// Disk boot of the real kernel: an image built from build/kernel.elf and
// build/mbr.bin boots through SeaBIOS and our MBR loader with nothing but
// -drive, on q35 and pc; its stored command line changes without a rebuild.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage } from "../../scripts/image/buildImage.ts";
import { readImageCmdline, writeImageCmdline } from "../../scripts/image/cmdlineCli.ts";
import { runGuest } from "../../scripts/run/guest.ts";

const TIMEOUT_MS = 60_000;
let dir: string;
let image: string;

beforeAll(() => {
  for (const file of ["build/kernel.elf", "build/mbr.bin"]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run make (npm test does)`);
  }
  dir = mkdtempSync(join(tmpdir(), "wisp-diskboot-"));
  image = join(dir, "wisp.qcow2");
  buildImage({
    kernelPath: "build/kernel.elf",
    mbrPath: "build/mbr.bin",
    outPath: image,
    cmdline: "from=disk wisp.memmap",
    diskBytes: 64 << 20,
    format: "qcow2",
  });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(["q35", "pc"] as const)("disk boot on %s", (machine) => {
  it("loads the kernel with the stored command line and the BIOS memory map", async () => {
    const result = await runGuest({ image, machine, accel: "tcg", timeoutMs: TIMEOUT_MS });
    expect(result.timedOut).toBe(false);
    expect(result.output).toMatch(/wisp: command line: from=disk wisp\.memmap$/m);
    // e820 from int 15h: usable RAM from 1 MiB.
    expect(result.output).toMatch(/mem: 0x0000000000100000-0x0000000007f[0-9a-f]{5} type 1/);
    expect(result.output).toMatch(/^wisp: booted in \d+\.\d\d ms$/m);
    expect(result.status).toBe(0);
  });
});

describe("image command line", () => {
  it("changes in place and the next boot sees it", async () => {
    writeImageCmdline(image, "changed=yes wisp.test=fault");
    expect(readImageCmdline(image)).toBe("changed=yes wisp.test=fault");
    const result = await runGuest({ image, machine: "q35", accel: "tcg", timeoutMs: TIMEOUT_MS });
    expect(result.output).toMatch(/wisp: command line: changed=yes wisp\.test=fault$/m);
    expect(result.output).toContain("CPU exception 14 (#PF page fault)");
    expect(result.status).toBe(127);
    writeImageCmdline(image, "from=disk wisp.memmap");
  });
});

describe("plain QEMU, as a user would run it", () => {
  it("boots with only -drive and powers off through ACPI (QEMU exits 0)", () => {
    const r = spawnSync(
      "qemu-system-x86_64",
      ["-drive", `file=${image},format=qcow2`, "-nographic", "-accel", "tcg"],
      { encoding: "latin1", timeout: TIMEOUT_MS },
    );
    expect(r.stdout).toMatch(/wisp: booted in \d+\.\d\d ms/);
    expect(r.stdout).not.toContain("did not take effect");
    expect(r.status).toBe(0);
  });

  it("boots microvm from the kernel ELF alone and powers off through hardware-reduced ACPI", () => {
    const r = spawnSync(
      "qemu-system-x86_64",
      ["-M", "microvm", "-kernel", "build/kernel.elf", "-nographic", "-accel", "tcg"],
      { encoding: "latin1", timeout: TIMEOUT_MS },
    );
    expect(r.stdout).toMatch(/wisp: booted in \d+\.\d\d ms/);
    expect(r.status).toBe(0);
  });
});
