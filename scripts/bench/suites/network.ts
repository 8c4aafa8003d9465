// The network benchmarks, all from one boot of each guest, Linux and Wisp
// booted alternately on the same QEMU settings (microvm, accelerator, -m,
// -smp, the same virtio-net-device with the same MAC on the same network):
//  - boot_to_tcp_reply: QEMU start to the first reply of a TCP server in
//    the guest (the host's tcp_rr "first" probe connects every 2 ms or so;
//    timed when the harness reads its answer, as for console lines)
//  - tcp_echo: bulk TCP sent to the guest's echo server and read back at
//    the same time, tcp_echo stream client on the host; MB/s per direction
//  - tcp_rr: 1-byte request/response transactions per second over one
//    connection (netperf TCP_RR style), tcp_rr client on the host
//  - tcp_stream: bulk TCP from the host into the guest, iperf3 -c against
//    iperf3 -s in the guest (netperf TCP_STREAM style): Linux only
// Linux's servers are the network guest's (scripts/linux-guest/echoGuest.ts:
// tcp_rr server for tcp_rr and the first reply, tcp_echo for tcp_echo);
// Wisp's is its in-kernel echo service (wisp.echo, kernel/net/services.ts)
// for all three, which answers tcp_rr's byte as tcp_rr's server does.
// The network is benchNet.ts's (a tap in a namespace of our own, or user
// networking). --wisp-cmdline adds words to Wisp's command line (e.g.
// wisp.netchannels=on) so variants can be measured against the same Linux.
import { spawn } from "node:child_process";
import { buildEchoGuest, ECHO_PORT, type EchoGuest } from "../../linux-guest/echoGuest.ts";
import { GUEST_ADDRESS, GUEST_PREFIX, NET_READY_LINE } from "../../linux-guest/netGuest.ts";
import { chooseAccelerator } from "../../run/accelerator.ts";
import { qemuArgs as wispQemuArgs } from "../../run/qemu.ts";
import { createBenchNet, type BenchNet } from "../benchNet.ts";
import type { Context, Suite } from "../context.ts";
import { LINUX_FAILURE } from "../linuxBoot.ts";
import { linuxQemuCommand } from "../../linux-guest/run.ts";
import { runsFor } from "../options.ts";
import { makeRow, sideFrom, unmeasured, type BenchmarkName, type Row } from "../results.ts";

/** Why Wisp has no tcp_stream figure. */
export const WISP_NO_IPERF = "no iperf3 server on Wisp: tcp_echo is the comparable bulk figure";

interface NetBenchmark {
  name: BenchmarkName;
  label: string;
  unit: string;
  better: "lower" | "higher";
}

export const NET_BENCHMARKS: readonly NetBenchmark[] = [
  { name: "tcp_stream", label: "tcp_stream: bulk TCP into the guest", unit: "Mbit/s", better: "higher" },
  { name: "tcp_echo", label: "tcp_echo: bulk TCP echoed back, per direction", unit: "MB/s", better: "higher" },
  { name: "tcp_rr", label: "tcp_rr: 1-byte request/response", unit: "transactions/s", better: "higher" },
  { name: "boot_to_tcp_reply", label: "boot_to_tcp_reply: QEMU start to first TCP reply", unit: "ms", better: "lower" },
];

const FIRST_REPLY_TIMEOUT_MS = 90_000;
const ECHO_TIMEOUT_MS = 120_000;

// Without root there is no network namespace; that is a limit of the
// invocation (--net user works), not a failure of the benchmark.
const isRoot = (): boolean => typeof process.getuid !== "function" || process.getuid() === 0;

interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Since `origin`, when the process printed its first line / ended. */
  firstLineAtMs: number | null;
  endAtMs: number;
}

function runProcess(command: string, args: string[], origin: bigint, timeoutMs: number): Promise<Finished> {
  const since = (): number => Number(process.hrtime.bigint() - origin) / 1e6;
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let firstLineAtMs: number | null = null;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (firstLineAtMs === null && stdout.includes("\n")) firstLineAtMs = since();
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", (error) => {
      stderr += `cannot run ${command}: ${error.message}`;
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, firstLineAtMs, endAtMs: since() });
    });
  });
}

function exitText(status: number | null): string {
  return status === null ? "killed at its time limit (the guest stopped answering)" : `exit ${status}`;
}

/** "tcp_rr: 14752 transactions in 3.001 s, 4915.9 per s, 203.42 us each" */
export function parseTcpRr(output: string): number | null {
  const m = /^tcp_rr: \d+ transactions in [\d.]+ s, ([\d.]+) per s/m.exec(output);
  return m ? Number(m[1]) : null;
}

/** "tcp_echo: 8388608 bytes each way in 0.612 s, 13.71 MB/s per direction" */
export function parseTcpEcho(output: string): number | null {
  const m = /^tcp_echo: \d+ bytes each way in [\d.]+ s, ([\d.]+) MB\/s per direction/m.exec(output);
  return m ? Number(m[1]) : null;
}

/** Wisp's command line for the network benchmarks: the guest's address, the echo service, any extra words. */
export function wispNetCmdline(net: Pick<BenchNet, "gateway">, extra: string, seconds: number): string {
  const words = [`wisp.ip=${GUEST_ADDRESS}/${GUEST_PREFIX}`, `wisp.gw=${net.gateway}`, `wisp.echo=${ECHO_PORT}`, `wisp.runfor=${seconds}`];
  if (extra.length > 0) words.push(extra);
  return words.join(" ");
}

/** iperf3 -J: the receiver's bits per second, in Mbit/s. */
export function parseIperf3(json: string): number | null {
  try {
    const bps = (JSON.parse(json) as { end?: { sum_received?: { bits_per_second?: number } } }).end?.sum_received?.bits_per_second;
    return typeof bps === "number" && bps > 0 ? Math.round(bps / 1e4) / 100 : null;
  } catch {
    return null;
  }
}

export interface NetRun {
  firstReplyMs: number | null;
  rr: number | null;
  streamMbps: number | null;
  echoMBps: number | null;
  /** Why the guest gave no figures at all (no first reply), else null. */
  failure: string | null;
  /** Why one figure is missing. */
  failures: Partial<Record<BenchmarkName, string>>;
}

/** What one run does once its guest is up: the same clients for either system. */
interface Probes {
  /** Port of the first-reply probe and of tcp_rr. */
  rrPort: number;
  iperf: boolean;
}

/** Linux's QEMU arguments for one run. */
function linuxArgs(ctx: Context, net: BenchNet, guest: EchoGuest, smp: number): string[] {
  const { options } = ctx;
  return linuxQemuCommand({
    smp, memory: options.memory, accel: options.accel, kernel: options.linuxKernel, initramfs: guest.initramfs, bench: "net", extraQemuArgs: net.qemuArgs,
  }).args;
}

/** Wisp's: the same machine, accelerator, -m, -smp and NIC as Linux's (scripts/run/qemu.ts builds both). */
function wispArgs(ctx: Context, net: BenchNet, smp: number, guestSeconds: number): string[] {
  const { options } = ctx;
  return wispQemuArgs({
    kernel: ctx.wispKernel,
    machine: "microvm",
    accelerator: chooseAccelerator(options.accel).accelerator,
    memory: options.memory,
    smp,
    cmdline: wispNetCmdline(net, options.wispCmdline, guestSeconds),
    extraArgs: net.qemuArgs,
  });
}

/** Wisp's console when it ends early: a panic (kernel/panic.ts) or any exit status. */
const WISP_FAILURE = /^wisp: (panic.*|exit status \d+)$/m;

/** One boot of a guest: first reply, then RR, then the echo stream, then (Linux) iperf3; then QEMU is killed. */
export async function guestNetRun(
  system: "linux" | "wisp",
  args: string[],
  net: BenchNet,
  guest: EchoGuest,
  want: Set<BenchmarkName>,
  seconds: number,
  echoBytes: number,
  log: (line: string) => void,
): Promise<NetRun> {
  const probes: Probes = system === "linux" ? { rrPort: net.rrPort, iperf: want.has("tcp_stream") } : { rrPort: net.echoPort, iperf: false };
  const [qemuCommand, qemuArgs] = net.wrap("qemu-system-x86_64", args);
  const origin = process.hrtime.bigint();
  const qemu = spawn(qemuCommand, qemuArgs, { stdio: ["ignore", "pipe", "pipe"] });
  let console_ = "";
  let qemuStderr = "";
  let guestFailure: string | null = null;
  let exited = false;
  const closed = new Promise<void>((resolve) => qemu.on("close", () => ((exited = true), resolve())));
  qemu.on("error", (error) => (guestFailure = `cannot start QEMU: ${error.message}`));
  qemu.stdout.on("data", (c: Buffer) => {
    console_ += c.toString("latin1");
    const bad =
      system === "linux"
        ? LINUX_FAILURE.exec(console_) ?? /^net: no eth0/m.exec(console_) ?? /^linux: exit status \d+/m.exec(console_)
        : WISP_FAILURE.exec(console_);
    if (bad !== null && guestFailure === null) guestFailure = bad[0].trim();
  });
  qemu.stderr.on("data", (c: Buffer) => (qemuStderr += c.toString()));
  const result: NetRun = { firstReplyMs: null, rr: null, streamMbps: null, echoMBps: null, failure: null, failures: {} };
  try {
    const [c, a] = net.wrap(guest.tcpRr, ["first", net.host, String(probes.rrPort), String(FIRST_REPLY_TIMEOUT_MS)]);
    const first = await runProcess(c, a, origin, FIRST_REPLY_TIMEOUT_MS + 10_000);
    if (first.status !== 0 || first.firstLineAtMs === null) {
      result.failure = guestFailure ?? (exited ? `QEMU exited: ${qemuStderr.trim().split("\n")[0]}` : `no reply: ${first.stderr.trim()}`);
      return result;
    }
    result.firstReplyMs = Math.round(first.firstLineAtMs * 10) / 10;
    if (system === "linux" && !console_.includes(NET_READY_LINE)) log("network: the guest answered before its console said it was ready (console lag)");
    if (want.has("tcp_rr")) {
      const [c2, a2] = net.wrap(guest.tcpRr, ["client", net.host, String(probes.rrPort), String(seconds)]);
      const rr = await runProcess(c2, a2, origin, seconds * 1000 + 30_000);
      result.rr = parseTcpRr(rr.stdout);
      if (result.rr === null) result.failures.tcp_rr = `tcp_rr client: ${rr.stderr.trim() || exitText(rr.status)}`;
    }
    if (want.has("tcp_echo")) {
      const timeoutMs = ECHO_TIMEOUT_MS;
      const [c4, a4] = net.wrap(guest.tcpEcho, ["stream", net.host, String(net.echoPort), String(echoBytes), String(timeoutMs)]);
      const echo = await runProcess(c4, a4, origin, timeoutMs + 10_000);
      result.echoMBps = parseTcpEcho(echo.stdout);
      if (result.echoMBps === null) result.failures.tcp_echo = `tcp_echo client: ${echo.stderr.trim() || exitText(echo.status)}`;
    }
    if (probes.iperf) {
      const [c3, a3] = net.wrap("env", [`LD_LIBRARY_PATH=${guest.iperf3LibraryPath}`, guest.iperf3, "-c", net.host, "-p", String(net.iperfPort), "-t", String(seconds), "-J"]);
      const stream = await runProcess(c3, a3, origin, seconds * 1000 + 30_000);
      result.streamMbps = parseIperf3(stream.stdout);
      if (result.streamMbps === null) result.failures.tcp_stream = `iperf3: ${stream.stderr.trim() || stream.stdout.slice(0, 200) || `exit ${stream.status}`}`;
    }
    return result;
  } finally {
    if (!exited) qemu.kill("SIGKILL");
    await closed;
  }
}

interface Series {
  first: number[];
  rr: number[];
  stream: number[];
  echo: number[];
  failures: Partial<Record<BenchmarkName, string>>;
}

const emptySeries = (): Series => ({ first: [], rr: [], stream: [], echo: [], failures: {} });

function record(s: Series, r: NetRun): void {
  if (r.firstReplyMs !== null) s.first.push(r.firstReplyMs);
  if (r.rr !== null) s.rr.push(r.rr);
  if (r.streamMbps !== null) s.stream.push(r.streamMbps);
  if (r.echoMBps !== null) s.echo.push(r.echoMBps);
  for (const bench of NET_BENCHMARKS) {
    const why = r.failure ?? r.failures[bench.name];
    if (why !== undefined) s.failures[bench.name] = why;
  }
}

function summary(r: NetRun): string {
  return `first reply ${r.firstReplyMs ?? "-"} ms, ${r.rr ?? "-"} transactions/s, echo ${r.echoMBps ?? "-"} MB/s, ${r.streamMbps ?? "-"} Mbit/s${r.failure ? `; failed: ${r.failure}` : ""}${Object.values(r.failures).map((f) => `; ${f}`).join("")}`;
}

function samplesOf(s: Series, name: BenchmarkName): number[] {
  return name === "tcp_stream" ? s.stream : name === "tcp_echo" ? s.echo : name === "tcp_rr" ? s.rr : s.first;
}

export const networkSuite: Suite = {
  names: NET_BENCHMARKS.map((b) => b.name),
  title: "TCP throughput, echo, request/response and boot to the first TCP reply",
  async run(ctx: Context, selected: readonly BenchmarkName[]): Promise<Row[]> {
    const { options } = ctx;
    const want = new Set(selected);
    const benches = NET_BENCHMARKS.filter((b) => want.has(b.name));
    const runs = Math.max(...benches.map((b) => runsFor(options, b.name)));
    const seconds = options.quick ? 2 : 5;
    const echoBytes = (options.quick ? 8 : 64) << 20;
    const linux = new Map<number, Series>(options.smp.map((smp) => [smp, emptySeries()]));
    const wisp = new Map<number, Series>(options.smp.map((smp) => [smp, emptySeries()]));
    let setupFailure: string | null = null;
    let guest: EchoGuest | null = null;
    let net: BenchNet | null = null;
    // Wisp's life bound: the probes' timeouts and a margin (it is killed when done anyway).
    const wispSeconds = Math.ceil((FIRST_REPLY_TIMEOUT_MS + ECHO_TIMEOUT_MS) / 1000) + 2 * seconds + 60;
    const log = (line: string): void => ctx.log(line);
    try {
      guest = buildEchoGuest({ log: (line) => ctx.log(`network: ${line}`) });
      net = await createBenchNet(options.net);
    } catch (error) {
      setupFailure = (error as Error).message;
      ctx.log(`network: cannot set up the Linux side: ${setupFailure}`);
    }
    try {
      for (let i = 0; guest !== null && net !== null && i < runs; i++) {
        for (const smp of options.smp) {
          const l = await guestNetRun("linux", linuxArgs(ctx, net, guest, smp), net, guest, want, seconds, echoBytes, log);
          record(linux.get(smp)!, l);
          const w = await guestNetRun("wisp", wispArgs(ctx, net, smp, wispSeconds), net, guest, want, seconds, echoBytes, log);
          record(wisp.get(smp)!, w);
          ctx.log(`network: run ${i + 1}/${runs}, ${smp} vCPU (--net ${options.net}): Linux ${summary(l)}; Wisp ${summary(w)}`);
        }
      }
    } finally {
      net?.close();
    }
    const rows: Row[] = [];
    for (const bench of benches) {
      for (const smp of options.smp) {
        const l = linux.get(smp)!;
        const w = wisp.get(smp)!;
        const samples = samplesOf(l, bench.name);
        const wispSamples = samplesOf(w, bench.name);
        rows.push(
          makeRow({
            benchmark: bench.name,
            id: `${bench.name}@${smp}`,
            label: bench.label,
            unit: bench.unit,
            better: bench.better,
            smp,
            wisp:
              bench.name === "tcp_stream"
                ? unmeasured("not-yet", WISP_NO_IPERF)
                : setupFailure !== null
                  ? unmeasured(isRoot() ? "failed" : "n/a", setupFailure)
                  : sideFrom(wispSamples, wispSamples.length === runs ? null : w.failures[bench.name] ?? "missing runs"),
            linux:
              setupFailure !== null
                ? unmeasured(isRoot() ? "failed" : "n/a", setupFailure)
                : sideFrom(samples, samples.length === runs ? null : l.failures[bench.name] ?? "missing runs"),
            note:
              `--net ${options.net}${options.net === "tap" ? " (a tap in a network namespace of the harness)" : " (QEMU user networking: slirp caps throughput)"}; ` +
              `virtio-net-device on microvm, the same QEMU settings for both; ${seconds} s per RR/stream figure, ${echoBytes >> 20} MiB each way for tcp_echo; ` +
              `servers: Linux tcp_rr/tcp_echo/iperf3 in userspace, Wisp its in-kernel echo service${options.wispCmdline ? ` (Wisp with ${options.wispCmdline})` : ""}; ` +
              `Linux's first reply includes loading virtio_net and /init's wait for the tsc clocksource.`,
          }),
        );
      }
    }
    return rows;
  },
};
