import { describe, expect, it } from "vitest";
import {
  BOOT_HEADER_MAGIC,
  CMDLINE_MAX_BYTES,
  CMDLINE_OFFSET,
  HEADER_FIELDS,
  SECTOR_SIZE,
  decodeBootHeader,
  encodeBootHeader,
  encodeCmdline,
  writeCmdline,
  type BootHeader,
} from "../../scripts/image/bootHeader.js";

const sample: BootHeader = {
  kernelLba: 2048,
  kernelSectors: 3225,
  kernelBytes: 3225 * 512 - 100,
  kernelCrc32: 0xdeadbeef,
  loadAddr: 0x100000,
  entryAddr: 0x100040,
  cmdline: "console=ttyS0 wisp.app=/bin/memcached",
  archiveLba: 6144,
  archiveBytes: 3_000_001,
  archiveCrc32: 0x12345678,
};

describe("boot header", () => {
  it("round-trips and puts fields where the MBR reads them", () => {
    const s = encodeBootHeader(sample);
    expect(s.length).toBe(SECTOR_SIZE);
    expect(decodeBootHeader(s)).toEqual(sample);
    const dv = new DataView(s.buffer);
    expect(new TextDecoder().decode(s.subarray(0, 8))).toBe(BOOT_HEADER_MAGIC);
    expect(dv.getUint16(HEADER_FIELDS.version, true)).toBe(1);
    expect(dv.getUint32(HEADER_FIELDS.kernelLba, true)).toBe(2048);
    expect(dv.getUint32(HEADER_FIELDS.kernelLba + 4, true)).toBe(0);
    expect(dv.getUint32(HEADER_FIELDS.kernelSectors, true)).toBe(3225);
    expect(dv.getUint32(HEADER_FIELDS.loadAddr, true)).toBe(0x100000);
    expect(dv.getUint32(HEADER_FIELDS.entryAddr, true)).toBe(0x100040);
    expect(new TextDecoder().decode(s.subarray(CMDLINE_OFFSET, CMDLINE_OFFSET + sample.cmdline.length))).toBe(sample.cmdline);
    expect(s[CMDLINE_OFFSET + sample.cmdline.length]).toBe(0);
    expect(dv.getUint32(HEADER_FIELDS.archiveLba, true)).toBe(6144);
    expect(dv.getUint32(HEADER_FIELDS.archiveBytes, true)).toBe(3_000_001);
    expect(dv.getUint32(HEADER_FIELDS.archiveCrc32, true)).toBe(0x12345678);
    // Without an archive the fields are zero, as in images from before them.
    const plain = decodeBootHeader(encodeBootHeader({ ...sample, archiveLba: undefined, archiveBytes: undefined, archiveCrc32: undefined }));
    expect([plain.archiveLba, plain.archiveBytes, plain.archiveCrc32]).toEqual([0, 0, 0]);
  });

  it("holds exactly CMDLINE_MAX_BYTES bytes of command line, counted in UTF-8", () => {
    expect(CMDLINE_MAX_BYTES).toBe(383);
    const max = "x".repeat(CMDLINE_MAX_BYTES);
    expect(decodeBootHeader(encodeBootHeader({ ...sample, cmdline: max })).cmdline).toBe(max);
    expect(() => encodeCmdline(max + "y")).toThrow(/384 bytes; the boot header holds at most 383/);
    expect(() => encodeCmdline("é".repeat(192))).toThrow(/384 bytes/);
    expect(decodeBootHeader(encodeBootHeader({ ...sample, cmdline: "héllo wörld" })).cmdline).toBe("héllo wörld");
  });

  it("refuses control characters", () => {
    expect(() => encodeCmdline("a\0b")).toThrow(/control character 0x00/);
    expect(() => encodeCmdline("a\nb")).toThrow(/control character 0x0a/);
  });

  it("rewrites the command line in place, clearing the old tail", () => {
    const s = encodeBootHeader(sample);
    writeCmdline(s, "short");
    expect(decodeBootHeader(s)).toEqual({ ...sample, cmdline: "short" });
    expect(s.subarray(CMDLINE_OFFSET + 5).every((b) => b === 0)).toBe(true);
    writeCmdline(s, "");
    expect(decodeBootHeader(s).cmdline).toBe("");
  });

  it("refuses a sector without the magic, another version, or no NUL", () => {
    expect(() => decodeBootHeader(new Uint8Array(512))).toThrow(/no Wisp boot header/);
    const v2 = encodeBootHeader(sample);
    v2[HEADER_FIELDS.version] = 2;
    expect(() => decodeBootHeader(v2)).toThrow(/version 2 is not supported/);
    const full = encodeBootHeader(sample);
    full.fill(0x41, CMDLINE_OFFSET);
    expect(() => decodeBootHeader(full)).toThrow(/not NUL-terminated/);
    expect(() => writeCmdline(new Uint8Array(512), "x")).toThrow(/no Wisp boot header/);
  });

  it("refuses addresses the 32-bit loader cannot use", () => {
    expect(() => encodeBootHeader({ ...sample, entryAddr: 2 ** 32 })).toThrow(/entry address/);
  });
});
