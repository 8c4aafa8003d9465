// Synthetic rows and results for the harness's unit tests.
import { makeRow, measured, RESULTS_SCHEMA, unmeasured, type Results, type Row } from "../../scripts/bench/results.ts";

export function bootRow(wisp: number[], linux: number[], smp = 1): Row {
  return makeRow({
    benchmark: "boot",
    id: `boot.qemu@${smp}`,
    label: "boot: QEMU start to ready line",
    unit: "ms",
    better: "lower",
    smp,
    wisp: measured(wisp),
    linux: measured(linux),
  });
}

export function notYetRow(): Row {
  return makeRow({
    benchmark: "tcp_rr",
    id: "tcp_rr",
    label: "tcp_rr: 1-byte request/response",
    unit: "transactions/s",
    better: "higher",
    smp: null,
    wisp: unmeasured("not-yet", "Wisp has no TCP stack"),
    linux: unmeasured("not-yet", "not run"),
  });
}

export function sampleResults(rows: Row[] = [bootRow([100, 120, 90], [2000, 2100, 1900]), bootRow([10], [20], 2), notYetRow()]): Results {
  return {
    schema: RESULTS_SCHEMA,
    date: "2026-11-27T12:00:00.000Z",
    durationMs: 1234,
    git: { commit: "0123456789abcdef0123456789abcdef01234567", dirty: false },
    host: { cpus: 2, loadavg: [1, 2, 3], loadavgAtStart: [3, 2, 1], kernel: "6.1", node: "v20", qemu: "QEMU emulator version 7.2" },
    accelerator: { accelerator: "tcg", reason: "requested" },
    wisp: { kernel: "build/bench/kernel.elf", bytes: 1000, sha256: "00" },
    linuxGuest: { kernelVersion: "6.1.0-test" },
    settings: { only: ["boot", "tcp_rr"], runs: 3, smp: [1, 2], accel: "tcg", net: "tap", quick: false, memory: "128M", linuxKernel: "vmlinux", wispCmdline: "", out: "build/bench" },
    rows,
    errors: [],
  };
}
