// The Linux guest build's pieces that need no download: module dependency
// resolution from .modinfo, the bzImage payload locator, apt output parsing,
// the kernel command line and the benchmark line parser.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parsePingpong } from "../../scripts/linux-guest/benchmarks.ts";
import { bzImagePayload, guestPaths, parseKernelDependency, parsePolicy } from "../../scripts/linux-guest/build.ts";
import { canonicalModuleName, readModinfo, resolveModules } from "../../scripts/linux-guest/modules.ts";
import { BASE_CMDLINE, linuxCmdline, median, parseGuestInfo } from "../../scripts/linux-guest/run.ts";

/** A minimal ELF64 relocatable object with a .modinfo section (and .shstrtab). */
function fakeModule(modinfo: string[]): Buffer {
  const info = Buffer.from(modinfo.map((entry) => entry + "\0").join(""), "latin1");
  const shstrtab = Buffer.from("\0.modinfo\0.shstrtab\0", "latin1");
  const infoOffset = 64;
  const strOffset = infoOffset + info.length;
  const shoff = Math.ceil((strOffset + shstrtab.length) / 8) * 8;
  const elf = Buffer.alloc(shoff + 3 * 64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2; // ELFCLASS64
  elf[5] = 1; // little-endian
  elf[6] = 1;
  elf.writeUInt16LE(1, 0x10); // ET_REL
  elf.writeUInt16LE(62, 0x12); // x86-64
  elf.writeBigUInt64LE(BigInt(shoff), 0x28);
  elf.writeUInt16LE(64, 0x34);
  elf.writeUInt16LE(64, 0x3a);
  elf.writeUInt16LE(3, 0x3c);
  elf.writeUInt16LE(2, 0x3e);
  info.copy(elf, infoOffset);
  shstrtab.copy(elf, strOffset);
  const section = (i: number, name: number, type: number, offset: number, size: number) => {
    const at = shoff + i * 64;
    elf.writeUInt32LE(name, at);
    elf.writeUInt32LE(type, at + 4);
    elf.writeBigUInt64LE(BigInt(offset), at + 0x18);
    elf.writeBigUInt64LE(BigInt(size), at + 0x20);
  };
  section(1, 1, 1 /* PROGBITS */, infoOffset, info.length);
  section(2, 10, 3 /* STRTAB */, strOffset, shstrtab.length);
  return elf;
}

describe("kernel modules", () => {
  let dir = "";
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function moduleTree(modules: Record<string, string[]>, builtin: string[] = []): string {
    dir = mkdtempSync(join(tmpdir(), "wisp-modules-"));
    for (const [path, modinfo] of Object.entries(modules)) {
      mkdirSync(join(dir, path, ".."), { recursive: true });
      writeFileSync(join(dir, path), fakeModule(modinfo));
    }
    writeFileSync(join(dir, "modules.builtin"), builtin.map((name) => `kernel/drivers/${name}.ko\n`).join(""));
    return dir;
  }

  it("reads .modinfo entries", () => {
    const info = readModinfo(fakeModule(["license=GPL", "depends=a,b", "alias=x", "alias=y"]));
    expect(info.get("depends")).toEqual(["a,b"]);
    expect(info.get("alias")).toEqual(["x", "y"]);
    expect(() => readModinfo(Buffer.from("not an elf at all, but long enough to have a header of sixty-four bytes"))).toThrow(/not an ELF/);
  });

  it("orders dependencies first, skips built-ins, folds '-' to '_'", () => {
    const root = moduleTree(
      {
        "kernel/drivers/net/virtio_net.ko": ["depends=net_failover,virtio-core"],
        "kernel/drivers/net/net_failover.ko": ["depends=failover"],
        "kernel/net/core/failover.ko": ["depends="],
        "kernel/drivers/other.ko": ["depends=failover"],
      },
      ["virtio_core"],
    );
    const modules = resolveModules(root, ["virtio-net", "other"]);
    expect(modules.map((m) => m.name)).toEqual(["failover", "net_failover", "virtio_net", "other"]);
    expect(modules[2].relativePath).toBe("kernel/drivers/net/virtio_net.ko");
    expect(modules[2].depends).toEqual(["net_failover", "virtio_core"]);
    expect(resolveModules(root, [])).toEqual([]);
    expect(canonicalModuleName("virtio-mmio.ko.xz")).toBe("virtio_mmio");
  });

  it("reports unknown modules with the chain that needed them, and cycles", () => {
    const root = moduleTree({
      "kernel/a.ko": ["depends=b"],
      "kernel/b.ko": ["depends=missing"],
      "kernel/c.ko": ["depends=d"],
      "kernel/d.ko": ["depends=c"],
    });
    expect(() => resolveModules(root, ["a"])).toThrow(/'missing' not found .*needed by a -> b/);
    expect(() => resolveModules(root, ["c"])).toThrow(/cycle: c -> d -> c/);
  });

  // The real package, when a build has extracted it: virtio_net's chain.
  const pkg = guestPaths().pkg;
  const kernelDir = existsSync(pkg) ? readdirSync(pkg).find((name) => name.startsWith("linux-image-")) : undefined;
  const extracted = kernelDir !== undefined && existsSync(join(pkg, kernelDir, ".extracted"));
  it.skipIf(!extracted)("resolves virtio_net in the extracted Debian kernel", () => {
    const versions = readdirSync(join(pkg, kernelDir!, "lib/modules"));
    const modules = resolveModules(join(pkg, kernelDir!, "lib/modules", versions[0]), ["virtio_net"]);
    const names = modules.map((m) => m.name);
    expect(names[names.length - 1]).toBe("virtio_net");
    expect(names).toContain("net_failover");
    expect(names.indexOf("failover")).toBeLessThan(names.indexOf("net_failover"));
  });
});

describe("bzImage payload", () => {
  function fakeBzImage(setupSects: number, payloadOffset: number, payload: Buffer): Buffer {
    const start = (setupSects + 1) * 512 + payloadOffset;
    const image = Buffer.alloc(start + payload.length + 16);
    image[0x1f1] = setupSects;
    image.write("HdrS", 0x202, "latin1");
    image.writeUInt16LE(0x20f, 0x206);
    image.writeUInt32LE(payloadOffset, 0x248);
    image.writeUInt32LE(payload.length, 0x24c);
    payload.copy(image, start);
    return image;
  }

  it("finds the compressed kernel from setup_sects and payload_offset", () => {
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
    expect(bzImagePayload(fakeBzImage(27, 0x3a5, xz))).toEqual({ format: "xz", offset: 28 * 512 + 0x3a5, length: 9 });
    expect(bzImagePayload(fakeBzImage(4, 16, Buffer.from([0x1f, 0x8b, 8, 0]))).format).toBe("gzip");
    expect(bzImagePayload(fakeBzImage(4, 16, Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).format).toBe("zstd");
    expect(() => bzImagePayload(Buffer.alloc(4096))).toThrow(/not a bzImage/);
  });
});

describe("apt output", () => {
  it("names the versioned kernel package behind linux-image-amd64", () => {
    const output = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
    expect(parseKernelDependency(output)).toBe("linux-image-6.1.0-56-amd64");
    expect(parseKernelDependency("linux-image-amd64\n")).toBeNull();
  });

  it("reads candidate versions from apt-cache policy", () => {
    const output = [
      "linux-image-6.1.0-56-amd64:", "  Installed: (none)", "  Candidate: 6.1.192-2", "  Version table:", "     6.1.192-2 500",
      "busybox-static:", "  Installed: (none)", "  Candidate: 1:1.35.0-4+deb12u1+b1",
      "gone:", "  Installed: (none)", "  Candidate: (none)", "",
    ].join("\n");
    expect(parsePolicy(output)).toEqual(
      new Map([["linux-image-6.1.0-56-amd64", "6.1.192-2"], ["busybox-static", "1:1.35.0-4+deb12u1+b1"], ["gone", null]]),
    );
  });
});

describe("kernel command line", () => {
  it("passes the benchmark, its arguments after --, and the TSC rate under TCG only", () => {
    const tcg = linuxCmdline({ bench: "pingpong", args: ["same", "1000"] }, "tcg", 2096027);
    expect(tcg).toBe(`${BASE_CMDLINE.join(" ")} tsc_early_khz=2096027 wisp.bench=pingpong -- same 1000`);
    const kvm = linuxCmdline({ bench: "pingpong", verbose: true }, "kvm", 2096027);
    expect(kvm).not.toContain("tsc_early_khz");
    expect(kvm.split(" ")).not.toContain("quiet");
    expect(kvm.endsWith("wisp.bench=pingpong")).toBe(true);
    expect(() => linuxCmdline({ bench: "pingpong", args: ["a b"] }, "tcg", null)).toThrow(/spaces/);
  });

  it("reads what /init reports before the benchmark", () => {
    const output = "linux: init started\nlinux: 2 cpus, clocksource tsc-early, uptime 1.31 s\nlinux: clocksource tsc, uptime 1.62 s\n";
    expect(parseGuestInfo(output)).toEqual({ cpus: 2, clocksource: "tsc", uptimeAtInitS: 1.31 });
    expect(parseGuestInfo("linux: 1 cpus, clocksource kvm-clock, uptime 0.20 s\n").clocksource).toBe("kvm-clock");
    expect(parseGuestInfo("")).toEqual({ cpus: null, clocksource: null, uptimeAtInitS: null });
  });

  it("takes medians", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("pingpong line", () => {
  it("parses the figure and the placement", () => {
    const output = "linux: init started\r\npingpong: 20000 round trips, 9609.3 ns per switch (same: cpu 0 and cpu 0)\r\nlinux: exit status 0\r\n";
    expect(parsePingpong(output)).toEqual({
      value: 9609.3,
      roundTrips: 20000,
      placement: "same: cpu 0 and cpu 0",
      line: "pingpong: 20000 round trips, 9609.3 ns per switch (same: cpu 0 and cpu 0)",
    });
    expect(parsePingpong("pingpong: error: FUTEX_WAIT: Bad address")).toBeNull();
  });
});
