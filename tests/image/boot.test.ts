/**
 * Boots the PVH fixture kernel (tests/fixtures/pvh-fixture/) from images
 * built by scripts/image.ts, through our MBR loader on SeaBIOS, under TCG.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFixture } from "../fixtures/pvh-fixture/build.js";
import { HEADER_FIELDS } from "../../scripts/image/bootHeader.js";
import { bootQemu, buildMbr, makeTempDir, runScript, type BootResult } from "./helpers.js";
import { openDiskFile } from "../../scripts/image/diskFile.js";

/** isa-debug-exit status when the fixture's checks all passed: (0x10 << 1) | 1. */
const FIXTURE_OK = 33;

/**
 * With -nographic SeaBIOS also prints on COM1 (its "sercon"), and the tail of
 * its "Booting from Hard Disk..." line can land after the fixture's first
 * characters, so lines are matched at their end.
 */
function expectLine(output: string, line: string): void {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  expect(output, output).toMatch(new RegExp(`${escaped}$`, "m"));
}

function expectFixtureOk(r: BootResult, cmdline: string): void {
  expect(r.timedOut, r.output).toBe(false);
  expectLine(r.output, "fixture: magic ok");
  expectLine(r.output, "fixture: cpu state ok");
  expectLine(r.output, `fixture: cmdline=${cmdline}`);
  expectLine(r.output, "fixture: payload ok");
  const e820 = /fixture: e820 entries=(\d+) usable-kib=(\d+)$/m.exec(r.output);
  expect(e820, r.output).not.toBeNull();
  const [entries, usableKib] = [Number(e820?.[1]), Number(e820?.[2])];
  expect(entries).toBeGreaterThanOrEqual(3);
  // -m 128: nearly all of it is usable RAM.
  expect(usableKib).toBeGreaterThan(120 * 1024);
  expect(usableKib).toBeLessThanOrEqual(128 * 1024);
  expect(r.status, r.output).toBe(FIXTURE_OK);
}

describe("disk boot through the MBR loader", () => {
  const tmp = makeTempDir("boot");
  const p = (name: string): string => join(tmp.dir, name);
  let mbr = "";
  let kernel = "";
  const firstCmdline = "console=ttyS0 wisp.test=boot-1 answer=42";

  const buildImage = (out: string, cmdline: string, format = "qcow2"): void => {
    const r = runScript("scripts/image.ts", ["--kernel", kernel, "--mbr", mbr, "--out", out, "--cmdline", cmdline, "--format", format]);
    expect(r.status, r.stderr).toBe(0);
  };

  beforeAll(() => {
    mbr = buildMbr(tmp.dir);
    kernel = buildFixture(tmp.dir).elfPath;
    buildImage(p("wisp.qcow2"), firstCmdline);
  });
  afterAll(tmp.remove);

  it("boots the qcow2 on -M pc", async () => {
    expectFixtureOk(await bootQemu({ machine: "pc", image: p("wisp.qcow2"), format: "qcow2" }), firstCmdline);
  });

  it("boots the qcow2 on -M q35 with -nographic", async () => {
    expectFixtureOk(await bootQemu({ machine: "q35", image: p("wisp.qcow2"), format: "qcow2", nographic: true }), firstCmdline);
  });

  it("boots the new command line after scripts/cmdline.ts rewrites it", async () => {
    const next = "changed by cmdline.ts: x=1 y=two " + "z".repeat(300);
    const r = runScript("scripts/cmdline.ts", [p("wisp.qcow2"), next]);
    expect(r.status, r.stderr).toBe(0);
    expectFixtureOk(await bootQemu({ machine: "pc", image: p("wisp.qcow2"), format: "qcow2" }), next);
  });

  it("boots a raw image on -M q35", async () => {
    buildImage(p("wisp.raw"), "raw image", "raw");
    expectFixtureOk(await bootQemu({ machine: "q35", image: p("wisp.raw"), format: "raw" }), "raw image");
  });

  it("boots an empty command line", async () => {
    buildImage(p("empty.qcow2"), "");
    expectFixtureOk(await bootQemu({ machine: "pc", image: p("empty.qcow2"), format: "qcow2" }), "");
  });

  it("says so on the serial port when the boot header is missing", async () => {
    buildImage(p("bad.raw"), "x", "raw");
    const d = openDiskFile(p("bad.raw"), true);
    d.write(512 + HEADER_FIELDS.magic, new TextEncoder().encode("XISP"));
    d.close();
    const r = await bootQemu({ machine: "pc", image: p("bad.raw"), format: "raw", stopWhen: /wisp: no boot header/, timeoutMs: 30_000 });
    expect(r.output).toContain("wisp: no boot header");
    expect(r.timedOut).toBe(false);
  });

  it("says so when the kernel cannot be read", async () => {
    buildImage(p("short.raw"), "x", "raw");
    const d = openDiskFile(p("short.raw"), true);
    const lba = new Uint8Array(8);
    new DataView(lba.buffer).setUint32(0, 0x7fffff00, true); // far past the end of the disk
    d.write(512 + HEADER_FIELDS.kernelLba, lba);
    d.close();
    const r = await bootQemu({ machine: "pc", image: p("short.raw"), format: "raw", stopWhen: /wisp: disk error/, timeoutMs: 30_000 });
    expect(r.output).toContain("wisp: disk error");
  });
});

