import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDiskFile } from "../../scripts/image/diskFile.js";
import { ImageError } from "../../scripts/image/errors.js";
import { Qcow2File, writeQcow2 } from "../../scripts/image/qcow2.js";
import { readSparse, type SparseDisk } from "../../scripts/image/sparse.js";
import { pattern } from "./elfBuilder.js";
import { makeTempDir, qemuImg } from "./helpers.js";

const MiB = 2 ** 20;

/** Compares a raw file with the disk it should hold, 1 MiB at a time. */
function expectRawEquals(path: string, disk: SparseDisk): void {
  expect(statSync(path).size).toBe(disk.size);
  const fd = openSync(path, "r");
  try {
    const got = new Uint8Array(MiB);
    const want = new Uint8Array(MiB);
    for (let off = 0; off < disk.size; off += MiB) {
      const n = Math.min(MiB, disk.size - off);
      readSync(fd, got, 0, n, off);
      readSparse(disk, off, want);
      if (Buffer.compare(got.subarray(0, n), want.subarray(0, n)) !== 0) {
        throw new Error(`raw image differs from the intended bytes in the MiB at ${off}`);
      }
    }
  } finally {
    closeSync(fd);
  }
}

function checkWithQemu(path: string, disk: SparseDisk, dir: string): void {
  const check = qemuImg(["check", path]);
  expect(check.stderr).toBe("");
  expect(check.stdout).toContain("No errors were found on the image.");
  expect(check.status).toBe(0);
  const raw = join(dir, "converted.raw");
  const conv = qemuImg(["convert", "-f", "qcow2", "-O", "raw", path, raw]);
  expect(conv.status, conv.stderr).toBe(0);
  expectRawEquals(raw, disk);
}

function sampleDisk(size: number): SparseDisk {
  return {
    size,
    extents: [
      { offset: 0, data: pattern(512, 1) },
      { offset: 512, data: pattern(512, 2) },
      { offset: MiB - 100, data: pattern(70_000, 3) }, // crosses cluster boundaries
      { offset: 5 * MiB, data: new Uint8Array(3 * 65536) }, // all zero: no clusters
      { offset: size - 4096, data: pattern(4096, 4) }, // the last bytes of the disk
    ],
  };
}

describe("qcow2 writer", () => {
  const tmp = makeTempDir("qcow2");
  afterAll(tmp.remove);

  it("writes a v3 image with 64 KiB clusters that qemu-img accepts and reads back exactly", () => {
    const disk = sampleDisk(64 * MiB);
    const path = join(tmp.dir, "a.qcow2");
    const r = writeQcow2(path, disk);
    expect(r.clusterSize).toBe(65536);
    // 1 + 2 + 1 + 1 data clusters; header, refcount table/block, L1, one L2.
    expect(r.dataClusters).toBe(5);
    expect(r.hostClusters).toBe(10);
    expect(statSync(path).size).toBe(10 * 65536);
    const info = JSON.parse(qemuImg(["info", "--output=json", path]).stdout) as {
      format: string;
      "virtual-size": number;
      "cluster-size": number;
      "format-specific": { data: { compat: string; "refcount-bits": number } };
    };
    expect(info.format).toBe("qcow2");
    expect(info["virtual-size"]).toBe(64 * MiB);
    expect(info["cluster-size"]).toBe(65536);
    expect(info["format-specific"].data.compat).toBe("1.1");
    expect(info["format-specific"].data["refcount-bits"]).toBe(16);
    checkWithQemu(path, disk, tmp.dir);
  });

  it("handles many L2 tables and refcount blocks (4 KiB and 512-byte clusters)", () => {
    for (const [bits, size] of [[12, 24 * MiB + 4096], [9, 3 * MiB]] as const) {
      const disk: SparseDisk = {
        size,
        extents: [
          { offset: 0, data: pattern(size / 3, 9) },
          { offset: Math.floor(size / 2) + 7, data: pattern(size / 4, 10) },
          { offset: size - 1, data: new Uint8Array([0xee]) },
        ],
      };
      const path = join(tmp.dir, `b${bits}.qcow2`);
      const r = writeQcow2(path, disk, { clusterBits: bits });
      expect(r.l2Tables).toBeGreaterThan(2);
      expect(r.refcountBlocks).toBeGreaterThan(1);
      checkWithQemu(path, disk, tmp.dir);
    }
  });

  it("writes multi-L1 images (1.5 GiB virtual) with data far apart", () => {
    const size = 1536 * MiB;
    const disk: SparseDisk = {
      size,
      extents: [
        { offset: 0, data: pattern(1000, 5) },
        { offset: 700 * MiB, data: pattern(200_000, 6) },
        { offset: size - 65536, data: pattern(65536, 7) },
      ],
    };
    const path = join(tmp.dir, "c.qcow2");
    const r = writeQcow2(path, disk);
    expect(r.l2Tables).toBe(3);
    checkWithQemu(path, disk, tmp.dir);
  });

  it("writes an all-zero disk with no data cluster", () => {
    const disk: SparseDisk = { size: 8 * MiB, extents: [] };
    const path = join(tmp.dir, "z.qcow2");
    expect(writeQcow2(path, disk).dataClusters).toBe(0);
    checkWithQemu(path, disk, tmp.dir);
  });
});

describe("qcow2 locator", () => {
  const tmp = makeTempDir("qcow2loc");
  afterAll(tmp.remove);

  it("reads guest bytes and patches allocated clusters in place", () => {
    const disk = sampleDisk(64 * MiB);
    const path = join(tmp.dir, "p.qcow2");
    writeQcow2(path, disk);
    const d = openDiskFile(path, true);
    try {
      expect(d.format).toBe("qcow2");
      expect(d.size).toBe(64 * MiB);
      const want = new Uint8Array(200_000);
      expect(d.read(MiB - 50_000, 200_000)).toEqual(readSparse(disk, MiB - 50_000, want));
      expect(d.read(10 * MiB, 16).every((b) => b === 0)).toBe(true);
      d.write(512, pattern(512, 77));
      // Across a cluster boundary, inside allocated clusters.
      d.write(MiB - 10, pattern(40, 78));
      expect(() => d.write(10 * MiB, new Uint8Array(1))).toThrow(/not allocated/);
    } finally {
      d.close();
    }
    disk.extents.push({ offset: 512, data: pattern(512, 77) }, { offset: MiB - 10, data: pattern(40, 78) });
    checkWithQemu(path, disk, tmp.dir);
  });

  it("reads images written by qemu-img itself (v2 and v3)", () => {
    const disk = sampleDisk(16 * MiB);
    const raw = join(tmp.dir, "src.raw");
    writeFileSync(raw, readSparse(disk, 0, new Uint8Array(disk.size)));
    for (const compat of ["0.10", "1.1"]) {
      const q = join(tmp.dir, `qemu-${compat}.qcow2`);
      expect(qemuImg(["convert", "-f", "raw", "-O", "qcow2", "-o", `compat=${compat},cluster_size=4096`, raw, q]).status).toBe(0);
      const d = openDiskFile(q, true);
      try {
        expect(d.read(0, 1024)).toEqual(readSparse(disk, 0, new Uint8Array(1024)));
        d.write(0, pattern(512, 99));
        expect(d.read(0, 512)).toEqual(pattern(512, 99));
      } finally {
        d.close();
      }
      expect(qemuImg(["check", q]).status).toBe(0);
    }
  });

  it("refuses compressed, encrypted, shared, zero-flagged and unknown-feature images", () => {
    const disk = sampleDisk(16 * MiB);
    const ours = join(tmp.dir, "ours.qcow2");
    writeQcow2(ours, disk);
    const refuse = (path: string, message: RegExp, op: (d: ReturnType<typeof openDiskFile>) => void): void => {
      let caught: unknown;
      try {
        const d = openDiskFile(path, true);
        try {
          op(d);
        } finally {
          d.close();
        }
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ImageError);
      expect((caught as Error).message).toMatch(message);
    };

    const compressed = join(tmp.dir, "comp.qcow2");
    expect(qemuImg(["convert", "-c", "-O", "qcow2", ours, compressed]).status).toBe(0);
    refuse(compressed, /compressed/, (d) => d.read(0, 512));

    // crypt_method 1 (AES) and 2 (LUKS). Real LUKS images need a PBKDF
    // benchmark that qemu-img fails on a busy machine, so the header is forged.
    for (const method of [1, 2]) {
      const encrypted = join(tmp.dir, `enc${method}.qcow2`);
      writeQcow2(encrypted, disk);
      const buf = readFileSync(encrypted);
      new DataView(buf.buffer, buf.byteOffset).setUint32(32, method);
      writeFileSync(encrypted, buf);
      refuse(encrypted, new RegExp(`encrypted \\(method ${method}\\)`), () => undefined);
    }

    const snap = join(tmp.dir, "snap.qcow2");
    writeQcow2(snap, disk);
    expect(qemuImg(["snapshot", "-c", "s1", snap]).status).toBe(0);
    refuse(snap, /shared/, (d) => d.write(512, new Uint8Array(512)));

    const zeroed = join(tmp.dir, "zero.qcow2");
    writeQcow2(zeroed, disk);
    // qemu-io ships with qemu-img (Debian qemu-utils).
    const qio = spawnSync("qemu-io", ["-f", "qcow2", "-c", "write -z 0 65536", zeroed], { encoding: "utf8", timeout: 60_000 });
    expect(qio.status, qio.stderr).toBe(0);
    refuse(zeroed, /not allocated/, (d) => {
      expect(d.read(0, 512).every((b) => b === 0)).toBe(true);
      d.write(0, new Uint8Array(512));
    });

    for (const [bit, name] of [[0, "dirty"], [1, "corrupt"], [9, "unknown bit 9"]] as const) {
      const p = join(tmp.dir, `feat${bit}.qcow2`);
      writeQcow2(p, disk);
      const buf = readFileSync(p);
      new DataView(buf.buffer, buf.byteOffset).setBigUint64(72, 1n << BigInt(bit));
      writeFileSync(p, buf);
      refuse(p, new RegExp(`incompatible features \\(${name}\\)`), () => undefined);
    }

    const v4 = join(tmp.dir, "v4.qcow2");
    writeQcow2(v4, disk);
    const b4 = readFileSync(v4);
    b4[7] = 4;
    writeFileSync(v4, b4);
    refuse(v4, /version 4 is not supported/, () => undefined);
  });

  it("maps offsets to host clusters with the COPIED flag", () => {
    const disk = sampleDisk(16 * MiB);
    const path = join(tmp.dir, "m.qcow2");
    writeQcow2(path, disk);
    const fd = openSync(path, "r");
    try {
      const q = new Qcow2File(fd);
      expect(q.map(0)).toMatchObject({ kind: "data", copied: true });
      expect(q.map(10 * MiB)).toEqual({ kind: "unallocated" });
      expect(() => q.map(16 * MiB)).toThrow(/outside/);
    } finally {
      closeSync(fd);
    }
  });
});
