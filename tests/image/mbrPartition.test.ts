import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import {
  DATA_PARTITION_TYPE,
  assembleMbr,
  checkMbrCode,
  decodePartitionTable,
  encodePartitionEntry,
  lbaToChs,
} from "../../scripts/image/mbrPartition.js";
import { buildMbr, makeTempDir } from "./helpers.js";

describe("MBR sector and partition table", () => {
  const tmp = makeTempDir("mbr");
  afterAll(tmp.remove);

  it("encodes CHS with 255 heads and 63 sectors, FE FF FF past cylinder 1023", () => {
    expect(lbaToChs(0)).toEqual([0, 1, 0]);
    expect(lbaToChs(2048)).toEqual([32, 33, 0]);
    expect(lbaToChs(255 * 63 * 300 + 64)).toEqual([1, 2 | ((300 >> 2) & 0xc0), 300 & 0xff]);
    expect(lbaToChs(255 * 63 * 1024 - 1)).toEqual([254, 63 | 0xc0, 0xff]);
    expect(lbaToChs(255 * 63 * 1024)).toEqual([0xfe, 0xff, 0xff]);
  });

  it("encodes a partition entry", () => {
    const e = encodePartitionEntry({ bootable: false, type: DATA_PARTITION_TYPE, firstLba: 6144, sectors: 124928 });
    expect([...e]).toEqual([0x00, ...lbaToChs(6144), 0xda, ...lbaToChs(6144 + 124928 - 1), 0x00, 0x18, 0, 0, 0x00, 0xe8, 0x01, 0x00]);
    expect(() => encodePartitionEntry({ bootable: false, type: 0xda, firstLba: 2 ** 32 - 1, sectors: 2 })).toThrow(/does not fit/);
  });

  it("builds mbr.bin with mk/mbr.mk: 512 bytes, 55 AA, code below byte 440", () => {
    const code = readFileSync(buildMbr(tmp.dir));
    expect(code.length).toBe(512);
    expect(() => checkMbrCode(code)).not.toThrow();
  });

  it("assembles code, disk signature and partitions, keeping the code bytes", () => {
    const code = readFileSync(buildMbr(tmp.dir));
    const parts = [
      { bootable: false, type: DATA_PARTITION_TYPE, firstLba: 6144, sectors: 124928 },
      { bootable: true, type: 0x83, firstLba: 131072, sectors: 1000 },
    ];
    const mbr = assembleMbr(code, 0x12345678, parts);
    expect(mbr.subarray(0, 440)).toEqual(new Uint8Array(code.subarray(0, 440)));
    expect(new DataView(mbr.buffer).getUint32(440, true)).toBe(0x12345678);
    expect([mbr[510], mbr[511]]).toEqual([0x55, 0xaa]);
    expect(decodePartitionTable(mbr)).toEqual([...parts, null, null]);
  });

  it("refuses loader code of the wrong size, without 55 AA, or spilling into the table", () => {
    expect(() => checkMbrCode(new Uint8Array(511))).toThrow(/511 bytes/);
    expect(() => checkMbrCode(new Uint8Array(512))).toThrow(/55 AA/);
    const spill = new Uint8Array(512);
    spill[510] = 0x55;
    spill[511] = 0xaa;
    spill[450] = 1;
    expect(() => checkMbrCode(spill)).toThrow(/uses byte 450/);
  });
});
