// An --app image boots with its root archive: from the disk (the kernel
// finds the boot disk among the virtio-blk devices by its boot header,
// reads the archive's sectors and checks the CRC-32) and, for direct boot,
// as boot module 0 (-initrd). Running the program from the archive is the
// VFS's part; these tests check that the kernel holds the right bytes.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBootHeader } from "../../scripts/image/bootHeader.ts";
import { runImageCli } from "../../scripts/image/imageCli.ts";
import { runGuest } from "../../scripts/run/guest.ts";
import { captureIo, makeTempDir } from "./helpers.ts";

const TIMEOUT_MS = 60_000;
const tmp = makeTempDir("appboot");
const image = `${tmp.dir}/app.raw`;
const archive = `${tmp.dir}/app.cpio`;
afterAll(tmp.remove);

beforeAll(() => {
  for (const file of ["build/kernel.elf", "build/mbr.bin"]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run make (npm test does)`);
  }
  const io = captureIo();
  const status = runImageCli(["--out", image, "--format", "raw", "--archive-out", archive, "--app", "/bin/ls", "-l", "/"], io);
  if (status !== 0) throw new Error(io.errLines.join("\n"));
});

describe("an --app image", () => {
  it("gives the kernel its root archive from the boot disk (q35, virtio-blk), CRC-32 checked", async () => {
    const bytes = readFileSync(archive).length;
    const result = await runGuest({ image, imageFormat: "raw", machine: "q35", accel: "tcg", timeoutMs: TIMEOUT_MS });
    expect(result.timedOut).toBe(false);
    expect(result.output).toMatch(/wisp: command line: -- \/bin\/ls -l \/$/m);
    expect(result.output).toContain(`wisp: root archive: ${bytes} bytes from the boot disk (CRC-32 checked)\n`);
  });

  it("gives it as boot module 0 for direct boot (-initrd)", async () => {
    const bytes = readFileSync(archive).length;
    const result = await runGuest({
      kernel: "build/kernel.elf", machine: "microvm", accel: "tcg", cmdline: "-- /bin/ls -l /",
      extraArgs: ["-initrd", archive], timeoutMs: TIMEOUT_MS,
    });
    expect(result.timedOut).toBe(false);
    expect(result.output).toContain(`wisp: root archive: ${bytes} bytes from boot module 0\n`);
  });

  it("refuses an archive whose bytes on the disk do not match the boot header's CRC-32", async () => {
    const disk = readFileSync(image);
    const header = decodeBootHeader(disk.subarray(512, 1024));
    disk[header.archiveLba! * 512 + 1000] ^= 0xff;
    const corrupt = `${tmp.dir}/corrupt.raw`;
    writeFileSync(corrupt, disk);
    const result = await runGuest({ image: corrupt, imageFormat: "raw", machine: "q35", accel: "tcg", timeoutMs: TIMEOUT_MS });
    expect(result.output).toContain("wisp: root archive: CRC-32 or format mismatch on disk\n");
    expect(result.output).toContain("wisp: root archive: cannot be read, error 5\n");
  });
});
