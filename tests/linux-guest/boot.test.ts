// Builds the Linux baseline guest from Debian packages (first time: downloads
// about 72 MB of .debs) and boots it under TCG with the pingpong benchmark,
// once through the bzImage and once through the decompressed vmlinux's PVH
// entry on two vCPUs.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildLinuxGuest } from "../../scripts/linux-guest/build.ts";
import { readCpio } from "../../scripts/linux-guest/cpio.ts";
import { bootLinuxGuest, INIT_LINE, parseGuestInfo } from "../../scripts/linux-guest/run.ts";
import { gunzipSync } from "node:zlib";

const BOOT_TIMEOUT_MS = 110_000;

let initramfs = "";
beforeAll(() => {
  initramfs = buildLinuxGuest({ log: () => {} }).initramfs;
}, 600_000);

describe("Linux baseline guest", () => {
  it("has busybox, /init, the console node and the benchmark in its initramfs", () => {
    const records = readCpio(gunzipSync(readFileSync(initramfs)));
    const byName = new Map(records.map((r) => [r.name, r]));
    expect(byName.get("init")?.mode).toBe(0o100755);
    expect(byName.get("init")?.data.toString()).toContain("wisp.bench=");
    expect(byName.get("bin/busybox")?.mode).toBe(0o100755);
    expect(byName.get("bin/sh")?.data.toString()).toBe("/bin/busybox");
    expect(byName.get("sbin/poweroff")?.data.toString()).toBe("/bin/busybox");
    expect(byName.get("dev/console")?.mode).toBe(0o020600);
    expect(byName.get("bench/pingpong")?.data.toString()).toBe("/bin/futex_pingpong");
    expect(byName.get("bin/futex_pingpong")?.data.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    for (const dir of ["proc", "sys", "dev"]) expect((byName.get(dir)?.mode ?? 0) & 0o170000).toBe(0o040000);
  });

  it("boots the bzImage on one vCPU, runs pingpong on one CPU and powers off", async () => {
    const r = await bootLinuxGuest({ bench: "pingpong", args: ["same", "2000"], smp: 1, accel: "tcg", timeoutMs: BOOT_TIMEOUT_MS });
    expect(r.timedOut, r.output).toBe(false);
    expect(r.output).toContain(INIT_LINE);
    expect(r.output).toMatch(/^linux: 1 cpus, clocksource tsc(-early)?, uptime [\d.]+ s$/m);
    expect(r.output).toMatch(/^pingpong: 2000 round trips, \d+\.\d ns per switch \(same: cpu 0 and cpu 0\)$/m);
    expect(r.result?.value).toBeGreaterThan(0);
    expect(r.status).toBe(0);
    expect(r.qemuExitCode).toBe(0);
    expect(r.initAtMs).not.toBeNull();
    expect(r.initAtMs!).toBeLessThan(r.wallMs);
    expect(r.cmdline).toMatch(/tsc_early_khz=\d+/);
    // /init waits for Linux to leave tsc-early before it starts the benchmark.
    expect(parseGuestInfo(r.output).clocksource).toBe("tsc");
  }, 120_000);

  it("boots vmlinux through PVH on two vCPUs (MTTCG) and runs pingpong across CPUs", async () => {
    const r = await bootLinuxGuest({ bench: "pingpong", args: ["cross", "1000"], smp: 2, kernel: "vmlinux", accel: "tcg", timeoutMs: BOOT_TIMEOUT_MS });
    expect(r.timedOut, r.output).toBe(false);
    expect(r.args).toContain("tcg,thread=multi");
    expect(r.output).toMatch(/^linux: 2 cpus, /m);
    expect(r.output).toMatch(/^pingpong: 1000 round trips, \d+\.\d ns per switch \(cross: cpu 0 and cpu 1\)$/m);
    expect(r.status).toBe(0);
    expect(r.qemuExitCode).toBe(0);
  }, 120_000);

  it("reports a failing benchmark's exit status", async () => {
    const r = await bootLinuxGuest({ bench: "pingpong", args: ["cross"], smp: 1, kernel: "vmlinux", accel: "tcg", timeoutMs: BOOT_TIMEOUT_MS });
    expect(r.output).toMatch(/pingpong: error: sched_setaffinity \(partner thread, CPU 1\)/);
    expect(r.status).toBe(1);
    expect(r.result).toBeNull();
    expect(r.qemuExitCode).toBe(0);
  }, 120_000);
});
