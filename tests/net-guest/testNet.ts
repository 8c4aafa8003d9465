// What the network acceptance tests share: a network namespace of the test
// run's own with a tap device (host end 10.0.2.2/24, the guest 10.0.2.15),
// a Wisp guest whose NIC is either that tap or QEMU's dgram backend behind
// tests/net-guest/impair.c (loss, delay and reordering in both directions:
// this host's kernel has no sch_netem), and the client (echoClient.ts) run
// inside the namespace. Everything a test creates is named after the test
// run and removed by close(), also when the process exits early.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { deviceArgs } from "../../scripts/run/devices.ts";
import { qemuArgs } from "../../scripts/run/qemu.ts";
import { type RunningQemu, startQemu } from "../../scripts/run/qemuProcess.ts";

export const KERNEL = "build/kernel.elf";
export const GUEST = "10.0.2.15";
export const HOST = "10.0.2.2";
const IMPAIR_SOURCE = "tests/net-guest/impair.c";
const IMPAIR = "build/test-net/impair";
const CLIENT = "tests/net-guest/echoClient.ts";
/** UDP ports of the impairment relay and QEMU, on the namespace's own loopback. */
const RELAY_PORT = 40001;
const QEMU_DGRAM_PORT = 40002;

function have(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** Root, ip, curl and gcc: what these tests need (they are skipped otherwise). */
export const tapTestsUsable = process.getuid?.() === 0 && have("ip") && have("curl") && have("gcc") && have("ping");

export interface Impairment {
  lossPercent: number;
  delayUs: number;
  reorderPercent: number;
  seed: number;
}

export interface Proc {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class TestNet {
  readonly name: string;
  private processes: ChildProcess[] = [];
  private closed = false;
  private readonly onExit = (): void => this.close();

  constructor(tag: string) {
    this.name = `wisp-na-${tag}-${process.pid}`;
    execFileSync("ip", ["netns", "add", this.name], { stdio: "pipe" });
    process.on("exit", this.onExit);
    try {
      this.ip(["link", "set", "lo", "up"]);
      this.ip(["tuntap", "add", "dev", "tap0", "mode", "tap"]);
      this.ip(["addr", "add", `${HOST}/24`, "dev", "tap0"]);
      this.ip(["link", "set", "tap0", "up"]);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  private ip(args: string[]): void {
    execFileSync("ip", ["-n", this.name, ...args], { stdio: "pipe" });
  }

  /** A long-running process inside the namespace, killed by close(). */
  start(command: string, args: string[]): ChildProcess {
    return this.track(spawn("ip", this.exec(command, args), { stdio: ["ignore", "pipe", "pipe"] }));
  }

  /** `ip` arguments that run `command` inside the namespace. */
  exec(command: string, args: string[] = []): string[] {
    return ["netns", "exec", this.name, command, ...args];
  }

  /** Makes close() kill `child` (started inside the namespace). */
  track(child: ChildProcess): ChildProcess {
    this.processes.push(child);
    return child;
  }

  /** Runs a command inside the namespace to its end (or the timeout). */
  run(command: string, args: string[], timeoutMs: number, onStderr?: (text: string) => void): Promise<Proc> {
    return new Promise((resolve) => {
      const child = this.start(command, args);
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr!.on("data", (c: Buffer) => {
        stderr += c.toString();
        onStderr?.(c.toString());
      });
      child.on("close", (status) => {
        clearTimeout(timer);
        this.processes = this.processes.filter((p) => p !== child);
        resolve({ status, stdout, stderr });
      });
    });
  }

  /** The JSON line echoClient.ts prints for `args`; its progress lines go to the console with `label`. */
  async client<T>(args: string[], timeoutMs: number, label?: string): Promise<T> {
    const progress = label === undefined ? undefined : (text: string) => console.log(`${label}: ${text.trim()}`);
    const r = await this.run(process.execPath, ["--import", "tsx", CLIENT, ...args], timeoutMs, progress);
    const line = r.stdout.trim().split("\n").pop() ?? "";
    if (r.status !== 0 || !line.startsWith("{")) throw new Error(`echoClient ${args.join(" ")}: exit ${r.status}: ${r.stderr.trim()}`);
    return JSON.parse(line) as T;
  }

  /** The guest's GET /stats (kernel/net/services.ts) as numbers by key ("sockets", "heap net", ...). */
  async stats(): Promise<Map<string, number>> {
    const r = await this.run("curl", ["-sS", "-m", "10", `http://${GUEST}/stats`], 15_000);
    if (r.status !== 0) throw new Error(`curl /stats: ${r.stderr.trim()}`);
    const values = new Map<string, number>();
    for (const line of r.stdout.split("\n")) {
      const m = /^(.+) (\d+)$/.exec(line);
      if (m) values.set(m[1], Number(m[2]));
    }
    return values;
  }

  /**
   * Waits (bounded) until the guest answers ping (ARP resolved both ways);
   * otherwise throws with what the namespace and the guest show.
   */
  async waitForPing(guest: WispGuest, attempts = 15): Promise<void> {
    let last: Proc | null = null;
    for (let i = 0; i < attempts; i++) {
      last = await this.run("ping", ["-c", "1", "-W", "2", GUEST], 5000);
      if (last.status === 0) return;
    }
    const link = await this.run("ip", ["-s", "link", "show", "tap0"], 5000);
    const neighbours = await this.run("ip", ["neigh"], 5000);
    throw new Error(`the guest did not answer ${attempts} pings; last: ${last?.stdout}${last?.stderr}\n` +
      `tap0: ${link.stdout}\nneighbours: ${neighbours.stdout}\nguest console (QEMU ${guest.qemu.process.exitCode === null ? "running" : `exited ${guest.qemu.process.exitCode}`}):\n${guest.output().slice(-3000)}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.removeListener("exit", this.onExit);
    for (const p of this.processes) if (p.exitCode === null) p.kill("SIGKILL");
    spawnSync("ip", ["netns", "del", this.name], { stdio: "ignore" });
  }
}

/** build/test-net/impair from impair.c when it is missing or older. */
export function buildImpair(): string {
  const stale = !existsSync(IMPAIR) || statSync(IMPAIR).mtimeMs < statSync(IMPAIR_SOURCE).mtimeMs;
  if (stale) {
    mkdirSync("build/test-net", { recursive: true });
    execFileSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", IMPAIR, IMPAIR_SOURCE], { stdio: "pipe" });
  }
  return IMPAIR;
}

export interface WispGuest {
  qemu: RunningQemu;
  /** The serial console so far. */
  output(): string;
  /** The relay's counters line (after it is stopped); "" without a relay. */
  stopRelay(): Promise<string>;
}

export interface BootOptions {
  /** The dgram backend behind the impairment relay instead of the tap. */
  impairment?: Impairment;
  /** vCPUs (default 1). */
  smp?: number;
}

/**
 * Boots Wisp in `net` with a static address and `services` (more command
 * line words) for `seconds` (wisp.runfor); the NIC is the tap, or the
 * dgram backend behind the relay when an impairment is given. Resolves
 * when the guest says its stack runs.
 */
export async function bootWisp(net: TestNet, services: string, seconds: number, options: BootOptions = {}): Promise<WispGuest> {
  const { impairment, smp = 1 } = options;
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  let relay: ChildProcess | null = null;
  let relayOutput = "";
  let nic: string[];
  if (impairment === undefined) {
    nic = deviceArgs("microvm", { network: "tap", tapInterface: "tap0", rng: true });
  } else {
    const { lossPercent, delayUs, reorderPercent, seed } = impairment;
    relay = net.start(buildImpair(), ["tap0", String(RELAY_PORT), String(QEMU_DGRAM_PORT), String(lossPercent), String(delayUs), String(reorderPercent), String(seed)]);
    relay.stdout!.on("data", (c: Buffer) => (relayOutput += c.toString()));
    relay.stderr!.on("data", (c: Buffer) => (relayOutput += c.toString()));
    const deadline = Date.now() + 10_000;
    while (!relayOutput.includes("relaying")) {
      if (Date.now() > deadline || relay.exitCode !== null) throw new Error(`the impairment relay did not start: ${relayOutput}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    nic = [
      // The same virtio-net device as the tap's; only the backend differs.
      ...deviceArgs("microvm", { rng: true }),
      "-netdev",
      `dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=${QEMU_DGRAM_PORT},remote.type=inet,remote.host=127.0.0.1,remote.port=${RELAY_PORT}`,
      "-device", "virtio-net-device,netdev=net0",
    ];
  }
  const args = qemuArgs({
    kernel: KERNEL,
    machine: "microvm",
    accelerator: "tcg",
    memory: "256M",
    smp,
    cmdline: `wisp.ip=${GUEST}/24 wisp.gw=${HOST} ${services} wisp.runfor=${seconds}`,
    // WISP_GDB_PORT: a gdbstub inside the namespace, to inspect a hung guest.
    extraArgs: process.env.WISP_GDB_PORT ? [...nic, "-gdb", `tcp:127.0.0.1:${process.env.WISP_GDB_PORT}`] : nic,
  });
  const qemu = startQemu(args, ["ip", ...net.exec("qemu-system-x86_64")]);
  net.track(qemu.process);
  await qemu.waitFor("net: running", 60_000);
  return {
    qemu,
    output: () => qemu.output(),
    stopRelay: async () => {
      if (relay === null) return "";
      if (relay.exitCode === null) {
        const done = new Promise((r) => relay!.once("close", r));
        relay.kill("SIGTERM");
        await done;
      }
      return relayOutput.split("\n").find((l) => l.startsWith("impair: to-guest")) ?? "";
    },
  };
}
