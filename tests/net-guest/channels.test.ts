// Net channels on and off (wisp.netchannels): echo throughput through the
// in-kernel TCP echo service (kernel/net/services.ts, which processes its
// connections' channels in its own thread), over QEMU user networking with
// a host forward on 127.0.0.1 and, when root with `ip` is available, over a
// tap in a network namespace this test creates (testNet.ts). Each setting
// boots its own guest and moves SIZE bytes RUNS times (sha256 checked); the
// medians are printed (WISP_CHANNEL_RUNS, WISP_CHANNEL_BYTES and
// WISP_CHANNEL_SMP, 2 vCPUs by default, change them). The guest's summary
// (wisp.runfor) shows the channels were used.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { deviceArgs } from "../../scripts/run/devices.ts";
import { qemuArgs } from "../../scripts/run/qemu.ts";
import { type RunningQemu, startQemu } from "../../scripts/run/qemuProcess.ts";
import type { StreamResult } from "./echoClient.ts";
import { echo, freeTcpPort, median, sha256 } from "./netClients.ts";
import { bootWisp, GUEST, tapTestsUsable, TestNet } from "./testNet.ts";

const KERNEL = "build/kernel.elf";
const RUNS = Number(process.env.WISP_CHANNEL_RUNS ?? 3);
const SIZE = Number(process.env.WISP_CHANNEL_BYTES ?? 16 << 20);
const SMP = Number(process.env.WISP_CHANNEL_SMP ?? 2);
const GUEST_SECONDS = 30;
const SUMMARY = /net: channels queued (\d+), processed (\d+), ring full (\d+)/;

const figures: string[] = [];
const guests: RunningQemu[] = [];

afterAll(() => {
  for (const g of guests) g.kill();
  if (figures.length > 0) console.log(`echo throughput, ${SMP} vCPU, ${SIZE >> 20} MiB each way, median of ${RUNS}:\n${figures.join("\n")}`);
});

/** Channels on: waits for the guest's summary (wisp.runfor) and checks the channels were used; off: none printed. */
async function checkSummary(guest: RunningQemu, mode: string, label: string): Promise<void> {
  if (mode === "off") guest.kill();
  else await guest.waitExit((GUEST_SECONDS + 15) * 1000);
  const summary = SUMMARY.exec(guest.output());
  if (summary !== null) figures.push(`    ${label}: ${summary[0]}`);
  if (mode === "on") {
    expect(summary, guest.output()).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThan(1000);
    expect(Number(summary![2])).toBe(Number(summary![1]));
  } else {
    expect(summary).toBeNull();
  }
}

describe("net channels on and off: in-kernel echo over hostfwd", () => {
  for (const mode of ["on", "off"]) {
    it(`wisp.netchannels=${mode}: intact, and its throughput`, async () => {
      if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make`);
      const port = await freeTcpPort();
      const guest = startQemu(qemuArgs({
        kernel: KERNEL, machine: "microvm", accelerator: "tcg", memory: "256M", smp: SMP,
        cmdline: `wisp.netchannels=${mode} wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.2 wisp.echo=7 wisp.runfor=${GUEST_SECONDS}`,
        extraArgs: deviceArgs("microvm", { network: "user", rng: true, hostForwards: [{ protocol: "tcp", hostPort: port, guestPort: 7 }] }),
      }));
      guests.push(guest);
      await guest.waitFor("net: running", 30_000);
      expect(guest.output()).toContain(`net: net channels ${mode}`);
      const rates: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const data = randomBytes(SIZE);
        const { back, ms } = await echo(port, data, 120_000);
        expect(sha256(back)).toBe(sha256(data));
        rates.push(SIZE / 1e6 / (ms / 1000));
      }
      figures.push(`  hostfwd, channels ${mode}: ${median(rates).toFixed(2)} MB/s (runs ${rates.map((r) => r.toFixed(2)).join(", ")})`);
      await checkSummary(guest, mode, "hostfwd");
    }, (GUEST_SECONDS + 90) * 1000);
  }
});

describe.skipIf(!tapTestsUsable)("net channels on and off: in-kernel echo over a tap in a test namespace", () => {
  for (const mode of ["on", "off"]) {
    it(`wisp.netchannels=${mode}: intact, and its throughput`, async () => {
      const net = new TestNet(`ch-${mode}`);
      try {
        const guest = await bootWisp(net, `wisp.netchannels=${mode} wisp.echo=7`, GUEST_SECONDS, { smp: SMP });
        await net.waitForPing(guest);
        const rates: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const r = await net.client<StreamResult>(["stream", GUEST, "7", String(SIZE), "120000"], 150_000);
          expect(r.error, guest.output()).toBeNull();
          expect(r.received).toBe(SIZE);
          expect(r.receivedSha256).toBe(r.sentSha256);
          rates.push(SIZE / 1e6 / (r.ms / 1000));
        }
        figures.push(`  tap, channels ${mode}: ${median(rates).toFixed(2)} MB/s (runs ${rates.map((r) => r.toFixed(2)).join(", ")})`);
        await checkSummary(guest.qemu, mode, "tap");
      } finally {
        net.close();
      }
    }, (GUEST_SECONDS + 120) * 1000);
  }
});
