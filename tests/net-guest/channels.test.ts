// Net channels on and off (wisp.netchannels): echo throughput through the
// in-kernel TCP echo service (kernel/net/services.ts, which processes its
// connections' channels in its own thread), over QEMU user networking with
// a host forward on 127.0.0.1 and, when root with `ip` is available, over a
// tap in a network namespace this test creates. Each setting boots its own
// guest and moves SIZE bytes RUNS times (sha256 checked); the medians are
// printed (WISP_CHANNEL_RUNS, WISP_CHANNEL_BYTES and WISP_CHANNEL_SMP, 2
// vCPUs by default, change them). The guest's summary (wisp.runfor) shows the channels were used.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { deviceArgs } from "../../scripts/run/devices.ts";
import { qemuArgs } from "../../scripts/run/qemu.ts";
import { echo, freeTcpPort, median, sha256 } from "./netClients.ts";

const KERNEL = "build/kernel.elf";
const RUNS = Number(process.env.WISP_CHANNEL_RUNS ?? 3);
const SIZE = Number(process.env.WISP_CHANNEL_BYTES ?? 16 << 20);
const SMP = Number(process.env.WISP_CHANNEL_SMP ?? 2);
const GUEST_SECONDS = 30;
const run = promisify(execFile);

interface Guest {
  process: ChildProcess;
  output: () => string;
}

function boot(cmdline: string, network: Parameters<typeof deviceArgs>[1], wrapper = "qemu-system-x86_64"): Guest {
  const args = qemuArgs({
    kernel: KERNEL, machine: "microvm", accelerator: "tcg", memory: "256M", smp: SMP, cmdline,
    extraArgs: deviceArgs("microvm", network),
  });
  const child = spawn(wrapper, args, { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  return { process: child, output: () => text };
}

async function waitFor(guest: Guest, text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!guest.output().includes(text)) {
    if (Date.now() > deadline || guest.process.exitCode !== null) {
      throw new Error(`no "${text}" from the guest:\n${guest.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitExit(guest: Guest, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (guest.process.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (guest.process.exitCode === null) guest.process.kill("SIGKILL");
}

const figures: string[] = [];
const guests: Guest[] = [];

afterAll(() => {
  for (const g of guests) if (g.process.exitCode === null) g.process.kill("SIGKILL");
  if (figures.length > 0) console.log(`echo throughput, ${SMP} vCPU, ${SIZE >> 20} MiB each way, median of ${RUNS}:\n${figures.join("\n")}`);
});

describe("net channels on and off: in-kernel echo over hostfwd", () => {
  for (const mode of ["on", "off"]) {
    it(`wisp.netchannels=${mode}: intact, and its throughput`, async () => {
      if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make`);
      const port = await freeTcpPort();
      const guest = boot(`wisp.netchannels=${mode} wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.2 wisp.echo=7 wisp.runfor=${GUEST_SECONDS}`,
        { network: "user", rng: true, hostForwards: [{ protocol: "tcp", hostPort: port, guestPort: 7 }] });
      guests.push(guest);
      await waitFor(guest, "net: running", 30_000);
      expect(guest.output()).toContain(`net: net channels ${mode}`);
      const rates: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const data = randomBytes(SIZE);
        const { back, ms } = await echo(port, data, 120_000);
        expect(sha256(back)).toBe(sha256(data));
        rates.push(SIZE / 1e6 / (ms / 1000));
      }
      figures.push(`  hostfwd, channels ${mode}: ${median(rates).toFixed(2)} MB/s (runs ${rates.map((r) => r.toFixed(2)).join(", ")})`);
      // Channels on: wait for the summary (wisp.runfor) that shows them used; off: nothing to wait for.
      if (mode === "off") guest.process.kill("SIGKILL");
      else await waitExit(guest, (GUEST_SECONDS + 15) * 1000);
      const summary = /net: channels queued (\d+), processed (\d+), ring full (\d+)/.exec(guest.output());
      if (summary !== null) figures.push(`    ${summary[0]}`);
      if (mode === "on") {
        expect(summary, guest.output()).not.toBeNull();
        expect(Number(summary![1])).toBeGreaterThan(1000);
        expect(Number(summary![2])).toBe(Number(summary![1]));
      } else {
        expect(summary).toBeNull();
      }
    }, (GUEST_SECONDS + 90) * 1000);
  }
});

const tapUsable = process.getuid?.() === 0 && (() => {
  try {
    execFileSync("sh", ["-c", "command -v ip"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

// The client, run inside the namespace: SIZE random bytes to host:port, the echo back; prints ms and whether it matched.
const CLIENT = `
const net = require("node:net");
const crypto = require("node:crypto");
const [host, port, size] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const data = crypto.randomBytes(size);
const chunks = [];
const start = process.hrtime.bigint();
const s = net.connect(port, host, () => s.end(data));
s.setNoDelay(true);
s.setTimeout(120000, () => s.destroy(new Error("timeout")));
s.on("data", (c) => chunks.push(c));
s.on("error", (e) => { console.log(JSON.stringify({ error: String(e) })); process.exit(1); });
s.on("close", () => {
  const back = Buffer.concat(chunks);
  const same = crypto.createHash("sha256").update(back).digest("hex") === crypto.createHash("sha256").update(data).digest("hex");
  console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - start) / 1e6, same }));
});
`;

describe.skipIf(!tapUsable)("net channels on and off: in-kernel echo over a tap in a test namespace", () => {
  const namespace = `wisp-ch-${process.pid}`;
  let created = false;
  afterAll(() => {
    if (created) execFileSync("ip", ["netns", "del", namespace], { stdio: "pipe" });
  });

  for (const mode of ["on", "off"]) {
    it(`wisp.netchannels=${mode}: intact, and its throughput`, async () => {
      const inNs = (args: string[]) => execFileSync("ip", ["netns", "exec", namespace, ...args], { stdio: "pipe" });
      if (!created) {
        execFileSync("ip", ["netns", "add", namespace], { stdio: "pipe" });
        created = true;
        inNs(["ip", "link", "set", "lo", "up"]);
        inNs(["ip", "tuntap", "add", "dev", "tap0", "mode", "tap"]);
        inNs(["ip", "addr", "add", "10.0.2.2/24", "dev", "tap0"]);
        inNs(["ip", "link", "set", "tap0", "up"]);
      }
      mkdirSync("build/test-net", { recursive: true });
      const wrapper = `build/test-net/qemu-${namespace}.sh`;
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${namespace} qemu-system-x86_64 "$@"\n`);
      chmodSync(wrapper, 0o755);
      const client = `build/test-net/echo-client-${namespace}.cjs`;
      writeFileSync(client, CLIENT);
      const guest = boot(`wisp.netchannels=${mode} wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.2 wisp.echo=7 wisp.runfor=${GUEST_SECONDS}`,
        { network: "tap", tapInterface: "tap0", rng: true }, wrapper);
      guests.push(guest);
      await waitFor(guest, "net: running", 30_000);
      const rates: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const { stdout } = await run("ip", ["netns", "exec", namespace, process.execPath, client, "10.0.2.15", "7", String(SIZE)],
          { timeout: 150_000 });
        const result = JSON.parse(stdout.trim()) as { ms?: number; same?: boolean; error?: string };
        expect(result.error, guest.output()).toBeUndefined();
        expect(result.same).toBe(true);
        rates.push(SIZE / 1e6 / (result.ms! / 1000));
      }
      figures.push(`  tap, channels ${mode}: ${median(rates).toFixed(2)} MB/s (runs ${rates.map((r) => r.toFixed(2)).join(", ")})`);
      if (mode === "off") guest.process.kill("SIGKILL");
      else await waitExit(guest, (GUEST_SECONDS + 15) * 1000);
      const summary = /net: channels queued (\d+), processed (\d+), ring full (\d+)/.exec(guest.output());
      if (summary !== null) figures.push(`    ${summary[0]}`);
      if (mode === "on") expect(summary, guest.output()).not.toBeNull();
      // The tap stays for the next guest once this one is gone.
    }, (GUEST_SECONDS + 120) * 1000);
  }
});
