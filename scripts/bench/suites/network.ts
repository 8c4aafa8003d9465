// The network benchmarks, all three from one boot of the Linux guest:
//  - boot_to_tcp_reply: QEMU start to the first reply of a TCP server in
//    the guest (the host's tcp_rr "first" probe connects every 2 ms or so;
//    timed when the harness reads its answer, as for console lines)
//  - tcp_rr: 1-byte request/response transactions per second over one
//    connection (netperf TCP_RR style), tcp_rr client on the host
//  - tcp_stream: bulk TCP from the host into the guest, iperf3 -c against
//    iperf3 -s in the guest (netperf TCP_STREAM style)
// The guest is scripts/linux-guest/netGuest.ts's (virtio-net on microvm),
// the network benchNet.ts's (a tap in a namespace of our own, or user
// networking). Wisp has no network driver or TCP stack yet: its side says
// so, and there is no ratio.
import { spawn } from "node:child_process";
import { buildNetGuest, NET_READY_LINE, type NetGuest } from "../../linux-guest/netGuest.ts";
import { createBenchNet, type BenchNet } from "../benchNet.ts";
import type { Context, Suite } from "../context.ts";
import { LINUX_FAILURE } from "../linuxBoot.ts";
import { linuxQemuCommand } from "../../linux-guest/run.ts";
import { runsFor } from "../options.ts";
import { makeRow, sideFrom, unmeasured, type BenchmarkName, type Row } from "../results.ts";

export const WISP_NO_TCP = "Wisp has no TCP stack";

interface NetBenchmark {
  name: BenchmarkName;
  label: string;
  unit: string;
  better: "lower" | "higher";
}

export const NET_BENCHMARKS: readonly NetBenchmark[] = [
  { name: "tcp_stream", label: "tcp_stream: bulk TCP into the guest", unit: "Mbit/s", better: "higher" },
  { name: "tcp_rr", label: "tcp_rr: 1-byte request/response", unit: "transactions/s", better: "higher" },
  { name: "boot_to_tcp_reply", label: "boot_to_tcp_reply: QEMU start to first TCP reply", unit: "ms", better: "lower" },
];

const FIRST_REPLY_TIMEOUT_MS = 90_000;

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

/** "tcp_rr: 14752 transactions in 3.001 s, 4915.9 per s, 203.42 us each" */
export function parseTcpRr(output: string): number | null {
  const m = /^tcp_rr: \d+ transactions in [\d.]+ s, ([\d.]+) per s/m.exec(output);
  return m ? Number(m[1]) : null;
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
  failure: string | null;
}

/** One boot of the network guest: first reply, then RR, then the stream; then QEMU is killed. */
export async function linuxNetRun(
  ctx: Context,
  net: BenchNet,
  guest: NetGuest,
  smp: number,
  want: Set<BenchmarkName>,
  seconds: number,
): Promise<NetRun> {
  const { options } = ctx;
  const { args } = linuxQemuCommand({
    smp, memory: options.memory, accel: options.accel, kernel: options.linuxKernel, initramfs: guest.initramfs, bench: "net", extraQemuArgs: net.qemuArgs,
  });
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
    const bad = LINUX_FAILURE.exec(console_) ?? /^net: no eth0/m.exec(console_) ?? /^linux: exit status \d+/m.exec(console_);
    if (bad !== null && guestFailure === null) guestFailure = bad[0].trim();
  });
  qemu.stderr.on("data", (c: Buffer) => (qemuStderr += c.toString()));
  const result: NetRun = { firstReplyMs: null, rr: null, streamMbps: null, failure: null };
  try {
    const [c, a] = net.wrap(guest.tcpRr, ["first", net.host, String(net.rrPort), String(FIRST_REPLY_TIMEOUT_MS)]);
    const first = await runProcess(c, a, origin, FIRST_REPLY_TIMEOUT_MS + 10_000);
    if (first.status !== 0 || first.firstLineAtMs === null) {
      result.failure = guestFailure ?? (exited ? `QEMU exited: ${qemuStderr.trim().split("\n")[0]}` : `no reply: ${first.stderr.trim()}`);
      return result;
    }
    result.firstReplyMs = Math.round(first.firstLineAtMs * 10) / 10;
    if (!console_.includes(NET_READY_LINE)) ctx.log("network: the guest answered before its console said it was ready (console lag)");
    if (want.has("tcp_rr")) {
      const [c2, a2] = net.wrap(guest.tcpRr, ["client", net.host, String(net.rrPort), String(seconds)]);
      const rr = await runProcess(c2, a2, origin, seconds * 1000 + 30_000);
      result.rr = parseTcpRr(rr.stdout);
      if (result.rr === null) result.failure = `tcp_rr client: ${rr.stderr.trim() || `exit ${rr.status}`}`;
    }
    if (want.has("tcp_stream")) {
      const [c3, a3] = net.wrap("env", [`LD_LIBRARY_PATH=${guest.iperf3LibraryPath}`, guest.iperf3, "-c", net.host, "-p", String(net.iperfPort), "-t", String(seconds), "-J"]);
      const stream = await runProcess(c3, a3, origin, seconds * 1000 + 30_000);
      result.streamMbps = parseIperf3(stream.stdout);
      if (result.streamMbps === null) result.failure = `iperf3: ${stream.stderr.trim() || stream.stdout.slice(0, 200) || `exit ${stream.status}`}`;
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
  failure: string | null;
}

export const networkSuite: Suite = {
  names: NET_BENCHMARKS.map((b) => b.name),
  title: "TCP throughput, request/response and boot to the first TCP reply",
  async run(ctx: Context, selected: readonly BenchmarkName[]): Promise<Row[]> {
    const { options } = ctx;
    const want = new Set(selected);
    const benches = NET_BENCHMARKS.filter((b) => want.has(b.name));
    const runs = Math.max(...benches.map((b) => runsFor(options, b.name)));
    const seconds = options.quick ? 2 : 5;
    const series = new Map<number, Series>(options.smp.map((smp) => [smp, { first: [], rr: [], stream: [], failure: null }]));
    let setupFailure: string | null = null;
    let guest: NetGuest | null = null;
    let net: BenchNet | null = null;
    try {
      guest = buildNetGuest({ log: (line) => ctx.log(`network: ${line}`) });
      net = await createBenchNet(options.net);
    } catch (error) {
      setupFailure = (error as Error).message;
      ctx.log(`network: cannot set up the Linux side: ${setupFailure}`);
    }
    try {
      for (let i = 0; guest !== null && net !== null && i < runs; i++) {
        for (const smp of options.smp) {
          const s = series.get(smp)!;
          const r = await linuxNetRun(ctx, net, guest, smp, want, seconds);
          if (r.firstReplyMs !== null) s.first.push(r.firstReplyMs);
          if (r.rr !== null) s.rr.push(r.rr);
          if (r.streamMbps !== null) s.stream.push(r.streamMbps);
          if (r.failure !== null) s.failure = r.failure;
          ctx.log(
            `network: run ${i + 1}/${runs}, ${smp} vCPU, Linux (--net ${options.net}): first reply ${r.firstReplyMs ?? "-"} ms, ` +
              `${r.rr ?? "-"} transactions/s, ${r.streamMbps ?? "-"} Mbit/s${r.failure ? `; failed: ${r.failure}` : ""}; Wisp: not yet (${WISP_NO_TCP})`,
          );
        }
      }
    } finally {
      net?.close();
    }
    const rows: Row[] = [];
    for (const bench of benches) {
      for (const smp of options.smp) {
        const s = series.get(smp)!;
        const samples = bench.name === "tcp_stream" ? s.stream : bench.name === "tcp_rr" ? s.rr : s.first;
        rows.push(
          makeRow({
            benchmark: bench.name,
            id: `${bench.name}@${smp}`,
            label: bench.label,
            unit: bench.unit,
            better: bench.better,
            smp,
            wisp: unmeasured("not-yet", WISP_NO_TCP),
            linux:
              setupFailure !== null
                ? unmeasured(isRoot() ? "failed" : "n/a", setupFailure)
                : sideFrom(samples, samples.length === runs ? null : s.failure ?? "missing runs"),
            note:
              `Linux only until Wisp has virtio-net and TCP. --net ${options.net}${options.net === "tap" ? " (a tap in a network namespace of the harness)" : " (QEMU user networking: slirp caps throughput)"}; ` +
              `virtio-net-device on microvm; ${seconds} s per throughput/RR figure; first reply includes loading virtio_net and /init's wait for the tsc clocksource.`,
          }),
        );
      }
    }
    return rows;
  },
};
