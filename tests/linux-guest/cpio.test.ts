// The newc cpio writer behind the Linux guest's initramfs: parsed back with
// our own reader, and extracted by GNU cpio where it is installed.
import { spawnSync } from "node:child_process";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  CpioWriter, normalizePath, readCpio, S_IFCHR, S_IFBLK, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
} from "../../scripts/linux-guest/cpio.ts";

const hasCpio = spawnSync("sh", ["-c", "command -v cpio"], { stdio: "ignore" }).status === 0;

/** Bytes 0..n-1 mod 251: every file distinct, and sizes that hit every padding case. */
const pattern = (n: number, seed = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251));

function sample(): CpioWriter {
  const cpio = new CpioWriter();
  cpio.dir("dev").dir("tmp", 0o1777).dir("proc", 0o555);
  cpio.charDevice("dev/console", 5, 1, 0o600).blockDevice("dev/vda", 254, 0, 0o660);
  cpio.file("init", "#!/bin/sh\necho hi\n", 0o755);
  cpio.file("bin/busybox", pattern(4099), 0o755);
  cpio.symlink("bin/sh", "/bin/busybox");
  cpio.symlink("usr/sbin/chroot", "../../bin/busybox");
  for (let n = 0; n < 6; n++) cpio.file(`data/${"x".repeat(n + 1)}`, pattern(n, n), 0o640);
  cpio.file("etc/empty", new Uint8Array(0));
  return cpio;
}

describe("CpioWriter and readCpio", () => {
  it("round-trips types, modes, device numbers, symlink targets and contents", () => {
    const records = readCpio(sample().toBuffer());
    const byName = new Map(records.map((r) => [r.name, r]));
    const get = (name: string) => {
      const record = byName.get(name);
      if (record === undefined) throw new Error(`${name} is not in the archive`);
      return record;
    };

    expect(get("tmp").mode).toBe(S_IFDIR | 0o1777);
    expect(get("proc").mode).toBe(S_IFDIR | 0o555);
    expect(get("tmp").nlink).toBe(2);
    expect(get("dev/console").mode).toBe(S_IFCHR | 0o600);
    expect([get("dev/console").rdevMajor, get("dev/console").rdevMinor]).toEqual([5, 1]);
    expect(get("dev/vda").mode).toBe(S_IFBLK | 0o660);
    expect([get("dev/vda").rdevMajor, get("dev/vda").rdevMinor]).toEqual([254, 0]);
    expect(get("init").mode).toBe(S_IFREG | 0o755);
    expect(get("init").data.toString()).toBe("#!/bin/sh\necho hi\n");
    expect(get("bin/busybox").data.equals(pattern(4099))).toBe(true);
    expect(get("bin/sh").mode).toBe(S_IFLNK | 0o777);
    expect(get("bin/sh").data.toString()).toBe("/bin/busybox");
    expect(get("usr/sbin/chroot").data.toString()).toBe("../../bin/busybox");
    for (let n = 0; n < 6; n++) {
      const record = get(`data/${"x".repeat(n + 1)}`);
      expect(record.mode).toBe(S_IFREG | 0o640);
      expect(record.data.equals(pattern(n, n))).toBe(true);
    }
    expect(get("etc/empty").data.length).toBe(0);
    // Owned by root, one mtime, unique inode numbers.
    expect(records.every((r) => r.uid === 0 && r.gid === 0 && r.mtime === 0)).toBe(true);
    expect(new Set(records.map((r) => r.ino)).size).toBe(records.length);
  });

  it("adds missing parents, each before its first child", () => {
    const records = readCpio(sample().toBuffer());
    const names = records.map((r) => r.name);
    for (const dir of ["bin", "usr", "usr/sbin", "data", "etc"]) {
      const record = records.find((r) => r.name === dir);
      expect(record, dir).toBeDefined();
      expect(record!.mode).toBe(S_IFDIR | 0o755);
    }
    names.forEach((name, i) => {
      const slash = name.lastIndexOf("/");
      if (slash > 0) expect(names.indexOf(name.slice(0, slash)), name).toBeLessThan(i);
    });
  });

  it("lays out 4-byte aligned headers and ends with the trailer", () => {
    const archive = sample().toBuffer();
    expect(archive.length % 4).toBe(0);
    expect(archive.toString("ascii", 0, 6)).toBe("070701");
    const trailer = archive.lastIndexOf("TRAILER!!!");
    expect(trailer).toBeGreaterThan(0);
    expect(archive.toString("ascii", trailer - 110, trailer - 104)).toBe("070701");
    // Every header starts at a multiple of 4.
    let at = archive.indexOf("070701");
    while (at >= 0) {
      expect(at % 4).toBe(0);
      at = archive.indexOf("070701", at + 1);
    }
  });

  it("is deterministic", () => {
    expect(sample().toBuffer().equals(sample().toBuffer())).toBe(true);
  });

  it("reads archives concatenated with zero padding, as the kernel does", () => {
    const a = new CpioWriter().file("a", "1").toBuffer();
    const b = new CpioWriter().file("b", "2").toBuffer();
    const records = readCpio(Buffer.concat([a, Buffer.alloc(512), b]));
    expect(records.map((r) => [r.name, r.data.toString()])).toEqual([["a", "1"], ["b", "2"]]);
  });

  it("rejects duplicates, '..', bad modes, files over directories and corrupt archives", () => {
    expect(() => new CpioWriter().file("a", "x").file("a", "y")).toThrow(/duplicate entry a/);
    expect(() => new CpioWriter().file("a/../b", "x")).toThrow(/'\.\.'/);
    expect(() => new CpioWriter().file("a", "x", 0o10755)).toThrow(/permission bits/);
    expect(() => new CpioWriter().file("a", "x").file("a/b", "y")).toThrow(/not a directory/);
    expect(() => new CpioWriter().file("", "x")).toThrow(/empty path/);
    expect(() => new CpioWriter().symlink("l", "")).toThrow(/empty symlink target/);
    const good = new CpioWriter().file("a", "xyz").toBuffer();
    expect(() => readCpio(Buffer.concat([Buffer.from("070707"), good.subarray(6)]))).toThrow(/bad magic/);
    expect(() => readCpio(good.subarray(0, 100))).toThrow(/truncated/);
    // Header and name of "a" end at 112; its 3 bytes of data do not fit in 113.
    expect(() => readCpio(good.subarray(0, 113))).toThrow(/runs past the end/);
  });

  it("normalizes paths", () => {
    expect(normalizePath("/usr//bin/./x/")).toBe("usr/bin/x");
    expect(new CpioWriter().dir("/a/").has("a")).toBe(true);
  });

  it("keeps file types apart under S_IFMT", () => {
    for (const type of [S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR, S_IFBLK]) expect(type & ~S_IFMT).toBe(0);
  });
});

describe.skipIf(!hasCpio)("extraction by GNU cpio", () => {
  let dir = "";
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("cpio -idm recreates files, modes and symlinks", () => {
    dir = mkdtempSync(join(tmpdir(), "wisp-cpio-"));
    // Device nodes need root to create: leave them out here (readCpio checks them).
    const cpio = new CpioWriter();
    cpio.dir("tmp", 0o1777).file("init", "#!/bin/sh\n", 0o755).file("bin/busybox", pattern(4099), 0o755);
    cpio.symlink("bin/sh", "busybox").file("etc/secret", "s", 0o600).file("etc/empty", "");
    for (let n = 0; n < 6; n++) cpio.file(`data/${"x".repeat(n + 1)}`, pattern(n, n), 0o644);
    writeFileSync(join(dir, "archive.cpio"), cpio.toBuffer());
    const root = join(dir, "root");
    const result = spawnSync("sh", ["-c", `mkdir root && cd root && cpio -idmv --quiet < ../archive.cpio`], { cwd: dir, encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);

    const mode = (path: string) => lstatSync(join(root, path)).mode;
    expect(mode("tmp")).toBe(S_IFDIR | 0o1777);
    expect(mode("init")).toBe(S_IFREG | 0o755);
    expect(mode("etc/secret")).toBe(S_IFREG | 0o600);
    expect(mode("bin/sh") & S_IFMT).toBe(S_IFLNK);
    expect(readlinkSync(join(root, "bin/sh"))).toBe("busybox");
    expect(readFileSync(join(root, "bin/busybox")).equals(pattern(4099))).toBe(true);
    expect(readFileSync(join(root, "etc/empty")).length).toBe(0);
    for (let n = 0; n < 6; n++) expect(readFileSync(join(root, `data/${"x".repeat(n + 1)}`)).equals(pattern(n, n))).toBe(true);
    // -m keeps the archive's mtime (0).
    expect(lstatSync(join(root, "init")).mtimeMs).toBe(0);
  });
});
