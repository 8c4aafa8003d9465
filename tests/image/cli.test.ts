import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBootHeader } from "../../scripts/image/bootHeader.js";
import { parseArgs, parseSize } from "../../scripts/image/cliArgs.js";
import { runCmdlineCli } from "../../scripts/image/cmdlineCli.js";
import { runImageCli } from "../../scripts/image/imageCli.js";
import { decodePartitionTable } from "../../scripts/image/mbrPartition.js";
import { makeElf, note, noteSegment, pattern, pvhNote, simpleKernel } from "./elfBuilder.js";
import { buildMbr, captureIo, makeTempDir, qemuImg, runScript } from "./helpers.js";

describe("argument parsing", () => {
  it("parses flags, = values, switches, positionals and --", () => {
    const specs = [{ name: "out", takesValue: true }, { name: "help", takesValue: false }];
    expect(parseArgs(["--out", "a", "x", "--", "--help", "-v"], specs)).toEqual({
      flags: new Map([["out", "a"]]),
      positionals: ["x", "--help", "-v"],
    });
    expect(parseArgs(["--out=b=c", "--help"], specs).flags).toEqual(new Map([["out", "b=c"], ["help", ""]]));
    expect(() => parseArgs(["--nope"], specs)).toThrow(/unknown option --nope/);
    expect(() => parseArgs(["-o"], specs)).toThrow(/unknown option -o/);
    expect(() => parseArgs(["--out"], specs)).toThrow(/--out needs a value/);
    expect(() => parseArgs(["--out", "a", "--out=b"], specs)).toThrow(/given twice/);
    expect(() => parseArgs(["--help=1"], specs)).toThrow(/takes no value/);
  });

  it("parses sizes with binary units", () => {
    expect(parseSize("64M")).toBe(64 * 2 ** 20);
    expect(parseSize("1G")).toBe(2 ** 30);
    expect(parseSize("512k")).toBe(512 * 1024);
    expect(parseSize("2MiB")).toBe(2 * 2 ** 20);
    expect(parseSize("1048576")).toBe(2 ** 20);
    for (const bad of ["", "M", "1.5M", "-1M", "0", "12X"]) expect(() => parseSize(bad)).toThrow(/bad size/);
  });
});

describe("scripts/image.ts and scripts/cmdline.ts", () => {
  const tmp = makeTempDir("cli");
  let mbr = "";
  let kernel = "";
  const p = (name: string): string => join(tmp.dir, name);
  beforeAll(() => {
    mbr = buildMbr(tmp.dir);
    kernel = p("kernel.elf");
    writeFileSync(kernel, simpleKernel(100_000, 0x100040));
  });
  afterAll(tmp.remove);

  const image = (...args: string[]): ReturnType<typeof captureIo> & { status: number } => {
    const io = captureIo();
    const defaults = [
      ...(args.includes("--kernel") ? [] : ["--kernel", kernel]),
      ...(args.includes("--mbr") ? [] : ["--mbr", mbr]),
    ];
    const status = runImageCli([...defaults, ...args], io);
    return { ...io, status };
  };
  const cmdline = (...args: string[]): ReturnType<typeof captureIo> & { status: number } => {
    const io = captureIo();
    const status = runCmdlineCli(args, io);
    return { ...io, status };
  };

  it("builds a qcow2 image and prints one summary line", () => {
    const r = image("--out", p("a.qcow2"), "--cmdline", "console=ttyS0 x=1", "--size", "32M");
    expect(r.status).toBe(0);
    expect(r.errLines).toEqual([]);
    expect(r.outLines).toHaveLength(1);
    expect(r.outLines[0]).toMatch(/^image: .*a\.qcow2 \(qcow2, [\d.]+ KiB file, 32 MiB disk\): kernel 100000 bytes at 0x100000, entry 0x100040, data partition at LBA 4096;/);
    expect(r.outLines[0]).toContain('cmdline "console=ttyS0 x=1"');
    expect(qemuImg(["check", p("a.qcow2")]).status).toBe(0);
  });

  it("writes the same bytes as raw and as qcow2, with the documented layout", () => {
    expect(image("--out", p("b.qcow2"), "--cmdline", "same").status).toBe(0);
    expect(image("--out", p("b.raw"), "--cmdline", "same", "--format=raw").status).toBe(0);
    expect(statSync(p("b.raw")).size).toBe(64 * 2 ** 20);
    expect(qemuImg(["convert", "-O", "raw", p("b.qcow2"), p("b-conv.raw")]).status).toBe(0);
    const raw = readFileSync(p("b.raw"));
    expect(Buffer.compare(readFileSync(p("b-conv.raw")), raw)).toBe(0);

    const header = decodeBootHeader(raw.subarray(512, 1024));
    expect(header).toMatchObject({ kernelLba: 2048, kernelBytes: 100_000, kernelSectors: 196, loadAddr: 0x100000, entryAddr: 0x100040, cmdline: "same" });
    const elfBlob = pattern(100_000, 7);
    expect(Buffer.compare(raw.subarray(2048 * 512, 2048 * 512 + 100_000), elfBlob)).toBe(0);
    const [data, ...rest] = decodePartitionTable(raw.subarray(0, 512));
    expect(data).toEqual({ bootable: false, type: 0xda, firstLba: 4096, sectors: 64 * 2048 - 4096 });
    expect(rest).toEqual([null, null, null]);
    expect(raw.subarray(1024, 2048 * 512).every((b) => b === 0)).toBe(true);
  });

  it("shows and rewrites the command line of qcow2 and raw images", () => {
    for (const name of ["c.qcow2", "c.raw"]) {
      expect(image("--out", p(name), "--cmdline", "first", "--format", name.endsWith("raw") ? "raw" : "qcow2").status).toBe(0);
      expect(cmdline(p(name)).outLines).toEqual(["first"]);
      const set = cmdline(p(name), "second one");
      expect(set.status).toBe(0);
      expect(set.outLines).toEqual([`cmdline: ${p(name)}: set to "second one"`]);
      expect(cmdline(p(name)).outLines).toEqual(["second one"]);
      expect(cmdline("--", p(name), "-starts-with-dash").status).toBe(0);
      expect(cmdline(p(name)).outLines).toEqual(["-starts-with-dash"]);
      expect(cmdline(p(name), "").status).toBe(0);
      expect(cmdline(p(name)).outLines).toEqual([""]);
    }
    expect(qemuImg(["check", p("c.qcow2")]).status).toBe(0);
  });

  const noNote = (): string => {
    const f = p("nonote.elf");
    writeFileSync(f, makeElf({ segments: [{ paddr: 0x100000, data: pattern(64, 1) }, noteSegment([note("GNU", 3, new Uint8Array(4))])] }));
    return f;
  };
  const tooBig = (): string => {
    const f = p("big.elf");
    writeFileSync(f, makeElf({ segments: [{ paddr: 0x100000, data: pattern(64, 1) }, { paddr: 0x100000 + 300 * 2 ** 20, data: pattern(64, 2) }, noteSegment([pvhNote(0x100000)])] }));
    return f;
  };
  const imageErrors: [string, () => string[], RegExp][] = [
    ["an unknown flag", () => ["--bogus"], /unknown option --bogus/],
    ["a flag without value", () => ["--cmdline"], /--cmdline needs a value/],
    ["a stray argument", () => ["extra"], /unexpected argument "extra"/],
    ["a bad format", () => ["--format", "vmdk"], /--format must be qcow2 or raw/],
    ["a bad size", () => ["--size", "lots"], /bad size "lots"/],
    ["an odd size", () => ["--size", "10000000"], /not a multiple of 512/],
    ["an image too small for the kernel", () => ["--size", "1M"], /kernel too big for the image/],
    ["a missing kernel", () => ["--kernel", p("missing.elf")], /kernel .*missing\.elf not found/],
    ["a missing MBR", () => ["--mbr", p("missing.bin")], /MBR loader .*missing\.bin not found/],
    ["a non-ELF kernel", () => ["--kernel", mbr], /mbr\.bin: not an ELF file/],
    ["a kernel without PVH note", () => ["--kernel", noNote()], /nonote\.elf: kernel has no PVH entry note/],
    ["a kernel too big", () => ["--kernel", tooBig()], /big\.elf: kernel too big/],
    ["a bad MBR", () => ["--mbr", kernel], /kernel\.elf: MBR code is \d+ bytes, not 512/],
    ["a too long command line", () => ["--cmdline", "y".repeat(400)], /command line is 400 bytes/],
  ];
  for (const [what, args, message] of imageErrors) {
    it(`image: reports ${what} in one line with status 2`, () => {
      const r = image("--out", p("err.qcow2"), ...args());
      expect(r.status).toBe(2);
      expect(r.outLines).toEqual([]);
      expect(r.errLines).toHaveLength(1);
      expect(r.errLines[0]).toMatch(/^image: error: /);
      expect(r.errLines[0]).toMatch(message);
    });
  }

  it("image: --help prints usage and exits 0", () => {
    const r = image("--help");
    expect(r.status).toBe(0);
    expect(r.outLines.join("\n")).toMatch(/usage: npx tsx scripts\/image\.ts/);
  });

  it("cmdline: reports errors in one line with status 2 and leaves the image alone", () => {
    expect(image("--out", p("d.qcow2"), "--cmdline", "keep me").status).toBe(0);
    const zero = p("zero.raw");
    writeFileSync(zero, new Uint8Array(4096));
    const cases: [string[], RegExp][] = [
      [[], /missing IMAGE/],
      [[p("d.qcow2"), "a", "b"], /too many arguments/],
      [[p("nope.qcow2")], /image .*nope\.qcow2 not found/],
      [[zero], /no Wisp boot header .*read as a raw image/],
      [[zero, "x"], /no Wisp boot header/],
      [[p("d.qcow2"), "z".repeat(384)], /384 bytes; the boot header holds at most 383/],
      [[p("d.qcow2"), "tab\there"], /control character 0x09/],
      [["--frob", p("d.qcow2")], /unknown option --frob/],
    ];
    for (const [args, message] of cases) {
      const r = cmdline(...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.errLines).toHaveLength(1);
      expect(r.errLines[0]).toMatch(/^cmdline: error: /);
      expect(r.errLines[0]).toMatch(message);
    }
    expect(cmdline(p("d.qcow2")).outLines).toEqual(["keep me"]);
    expect(readFileSync(zero).every((b) => b === 0)).toBe(true);
  });

  it("cmdline: refuses a compressed qcow2", () => {
    expect(image("--out", p("e.qcow2")).status).toBe(0);
    expect(qemuImg(["convert", "-c", "-O", "qcow2", p("e.qcow2"), p("e-comp.qcow2")]).status).toBe(0);
    const r = cmdline(p("e-comp.qcow2"), "new");
    expect(r.status).toBe(2);
    expect(r.errLines[0]).toMatch(/compressed/);
  });

  it("runs as real processes: exit status 2 and one stderr line on errors", () => {
    const bad = runScript("scripts/image.ts", ["--kernel", p("missing.elf"), "--mbr", mbr]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/^image: error: kernel .*missing\.elf not found/);

    const ok = runScript("scripts/image.ts", ["--kernel", kernel, "--mbr", mbr, "--out", p("f.qcow2"), "--cmdline", "a b"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split("\n")).toHaveLength(1);

    const set = runScript("scripts/cmdline.ts", [p("f.qcow2"), "c d"]);
    expect(set.status, set.stderr).toBe(0);
    const show = runScript("scripts/cmdline.ts", [p("f.qcow2")]);
    expect(show.stdout).toBe("c d\n");

    const usage = runScript("scripts/cmdline.ts", []);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^cmdline: error: missing IMAGE/);
  });
});
