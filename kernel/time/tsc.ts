// TSC frequency: from CPUID when the CPU or hypervisor states it (leaf 0x15
// crystal ratio, the hypervisor timing leaf 0x40000010, leaf 0x16), else
// measured against the PIT. Boot measures while it works: it marks (TSC, PIT
// count) pairs between its early stages and derives the rate from them when
// the consistency checks pass, so calibration costs almost no waiting; if
// they fail it falls back to dedicated windows, keeping the median and
// rejecting windows that disagree, so a busy host cannot skew it. Never
// hangs: every wait is bounded by a TSC deadline.
import { cpuid, inb, outb, rdtsc } from "../../arch/x86_64/cpu";

const PIT_HZ: u64 = 1193182;
const PIT_WINDOW_TICKS: u32 = 1193; // about 1 ms
const PIT_WINDOWS: i32 = 7;
const MIN_PLAUSIBLE_HZ: u64 = 100_000_000;
const MAX_PLAUSIBLE_HZ: u64 = 20_000_000_000;
/** Used when every method fails; the log says so. */
const FALLBACK_HZ: u64 = 2_000_000_000;

const cpuidOut = memory.data(16, 16);
const samples = memory.data(8 * PIT_WINDOWS, 8);
const MARKS_MAX: i32 = 16;
const markTsc = memory.data(8 * MARKS_MAX, 8);
const markPit = memory.data(4 * MARKS_MAX, 4);
/** PIT ticks the overlapped measurement must span (about 2 ms). */
const OVERLAP_MIN_TICKS: u32 = 2386;
/** Intervals shorter than this (about 0.25 ms) are too coarse to check. */
const INTERVAL_MIN_TICKS: u32 = 300;

export const SOURCE_CPUID_15: u32 = 1;
export const SOURCE_HYPERVISOR: u32 = 2;
export const SOURCE_CPUID_16: u32 = 3;
export const SOURCE_PIT: u32 = 4;
export const SOURCE_FALLBACK: u32 = 5;

export class Tsc {
  static hz: u64 = FALLBACK_HZ;
  static source: u32 = SOURCE_FALLBACK;

  static calibrate(): void {
    let hz = fromCpuid();
    if (hz == 0) hz = fromPit();
    if (hz == 0) {
      Tsc.hz = FALLBACK_HZ;
      Tsc.source = SOURCE_FALLBACK;
    } else {
      Tsc.hz = hz;
    }
  }

  static marks: i32 = -1;

  /** Starts an overlapped measurement (unless CPUID states the rate): call
   * mark() between boot stages and finishOverlapped() before using hz. */
  static startOverlapped(): void {
    let hz = fromCpuid();
    if (hz != 0) {
      Tsc.hz = hz;
      Tsc.marks = -1;
      return;
    }
    pitStart();
    Tsc.marks = 0;
    Tsc.mark();
  }

  static mark(): void {
    if (Tsc.marks < 0 || Tsc.marks >= MARKS_MAX) return;
    store<u32>(markPit + <usize>Tsc.marks * 4, pitCount());
    store<u64>(markTsc + <usize>Tsc.marks * 8, rdtsc());
    Tsc.marks++;
  }

  /** Ends the overlapped measurement; falls back to calibrate() if it is inconsistent. */
  static finishOverlapped(): void {
    if (Tsc.marks < 0) return; // CPUID gave the rate
    // Span at least OVERLAP_MIN_TICKS in all; wait out what boot did not.
    let deadline = rdtsc() + (MAX_PLAUSIBLE_HZ / 500) * 50;
    while (overlapTicks() + ((load<u32>(markPit + <usize>(Tsc.marks - 1) * 4) - pitCount()) & 0xffff) < OVERLAP_MIN_TICKS) {
      if (rdtsc() > deadline) break;
    }
    if (Tsc.marks == MARKS_MAX) Tsc.marks--; // reuse the last slot for the final mark
    Tsc.mark();
    let hz = overlapRate();
    Tsc.marks = -1;
    if (hz != 0) {
      Tsc.hz = hz;
      Tsc.source = SOURCE_PIT;
    } else {
      Tsc.calibrate();
    }
  }

  static sourceName(): string {
    switch (Tsc.source) {
      case SOURCE_CPUID_15: return "cpuid-0x15";
      case SOURCE_HYPERVISOR: return "hypervisor-leaf";
      case SOURCE_CPUID_16: return "cpuid-0x16";
      case SOURCE_PIT: return "pit";
      default: return "fallback (uncalibrated)";
    }
  }

  /** TSC ticks to microseconds, exact for any realistic uptime. */
  static toMicros(ticks: u64): u64 {
    // Split to avoid overflowing ticks * 1e6 after about 5 hours at 1 GHz.
    let seconds = ticks / Tsc.hz;
    let rest = ticks % Tsc.hz;
    return seconds * 1_000_000 + rest * 1_000_000 / Tsc.hz;
  }
}

function cpuidRegs(leaf: u32): void {
  cpuid(leaf, 0, cpuidOut);
}

function plausible(hz: u64): bool {
  return hz >= MIN_PLAUSIBLE_HZ && hz <= MAX_PLAUSIBLE_HZ;
}

function fromCpuid(): u64 {
  cpuidRegs(0);
  let maxLeaf = load<u32>(cpuidOut);
  if (maxLeaf >= 0x15) {
    cpuidRegs(0x15);
    let denominator = load<u32>(cpuidOut);
    let numerator = load<u32>(cpuidOut, 4);
    let crystal = load<u32>(cpuidOut, 8);
    if (denominator != 0 && numerator != 0 && crystal != 0) {
      let hz = <u64>crystal * <u64>numerator / <u64>denominator;
      if (plausible(hz)) {
        Tsc.source = SOURCE_CPUID_15;
        return hz;
      }
    }
  }
  // Hypervisor present (CPUID.1:ECX bit 31) with the timing leaf (kHz).
  cpuidRegs(1);
  if (load<u32>(cpuidOut, 8) & (1 << 31)) {
    cpuidRegs(0x40000000);
    if (load<u32>(cpuidOut) >= 0x40000010) {
      cpuidRegs(0x40000010);
      let hz = <u64>load<u32>(cpuidOut) * 1000;
      if (plausible(hz)) {
        Tsc.source = SOURCE_HYPERVISOR;
        return hz;
      }
    }
  }
  if (maxLeaf >= 0x16) {
    cpuidRegs(0x16);
    let hz = <u64>(load<u32>(cpuidOut) & 0xffff) * 1_000_000;
    if (plausible(hz)) {
      Tsc.source = SOURCE_CPUID_16;
      return hz;
    }
  }
  return 0;
}

/** Reads PIT channel 0's current count (latched, so both bytes match). */
function pitCount(): u32 {
  outb(0x43, 0x00); // latch channel 0
  let low = inb(0x40);
  let high = inb(0x40);
  return (high << 8) | low;
}

/** TSC ticks while PIT channel 0 counts down PIT_WINDOW_TICKS, or 0.
 * Channel 0 free-runs (mode 2, period 65536) and is read by latching, which
 * works on every QEMU machine: microvm has no port 0x61 for channel 2's gate. */
function pitWindow(): u64 {
  let first = pitCount();
  let start = rdtsc();
  // Bound the wait: 2 ms at up to 20 GHz, times 50 for a slow emulator.
  let deadline = start + (MAX_PLAUSIBLE_HZ / 500) * 50;
  while (true) {
    let elapsed = (first - pitCount()) & 0xffff;
    let now = rdtsc();
    if (elapsed >= PIT_WINDOW_TICKS) {
      // Scale to the ticks actually elapsed, which may overshoot the window.
      return (now - start) * <u64>PIT_WINDOW_TICKS / <u64>elapsed;
    }
    if (now > deadline) return 0;
  }
  return 0;
}

/** PIT ticks between the first and last marks. */
function overlapTicks(): u32 {
  let total: u32 = 0;
  for (let i = 1; i < Tsc.marks; i++) {
    total += (load<u32>(markPit + <usize>(i - 1) * 4) - load<u32>(markPit + <usize>i * 4)) & 0xffff;
  }
  return total;
}

/**
 * The TSC rate over all marks, or 0 unless it is consistent: the intervals
 * long enough to judge must agree with it within 1% at their median (a read
 * delayed by the host skews two neighbouring intervals, a PIT wrap in an
 * interval over 55 ms skews one; either shows).
 */
function overlapRate(): u64 {
  let pitTotal = overlapTicks();
  if (pitTotal < INTERVAL_MIN_TICKS) return 0;
  let tscTotal = load<u64>(markTsc + <usize>(Tsc.marks - 1) * 8) - load<u64>(markTsc);
  let overall = tscTotal * PIT_HZ / <u64>pitTotal;
  if (!plausible(overall)) return 0;
  let counted = 0;
  for (let i = 1; i < Tsc.marks && counted < PIT_WINDOWS; i++) {
    let pit = (load<u32>(markPit + <usize>(i - 1) * 4) - load<u32>(markPit + <usize>i * 4)) & 0xffff;
    if (pit < INTERVAL_MIN_TICKS) continue;
    let tsc = load<u64>(markTsc + <usize>i * 8) - load<u64>(markTsc + <usize>(i - 1) * 8);
    store<u64>(samples + <usize>counted * 8, tsc * PIT_HZ / <u64>pit);
    counted++;
  }
  if (counted == 0) return 0;
  sortSamples(counted);
  let median = load<u64>(samples + <usize>(counted / 2) * 8);
  let diff = median > overall ? median - overall : overall - median;
  return diff * 100 <= overall ? overall : 0;
}

function pitStart(): void {
  outb(0x43, 0x34); // channel 0, lobyte/hibyte, mode 2 (rate generator)
  outb(0x40, 0); // reload 0 = 65536: a 55 ms period, longer than any window
  outb(0x40, 0);
}

function fromPit(): u64 {
  pitStart();
  // Measure until three windows agree within 1% of their median (a window
  // stretched by a descheduled host thread then cannot move the result),
  // giving up after PIT_WINDOWS windows.
  let valid = 0;
  for (let i = 0; i < PIT_WINDOWS; i++) {
    let ticks = pitWindow();
    if (ticks == 0) continue;
    store<u64>(samples + <usize>valid * 8, ticks * PIT_HZ / <u64>PIT_WINDOW_TICKS);
    valid++;
    if (valid < 3) continue;
    sortSamples(valid);
    for (let j = 0; j + 2 < valid; j++) {
      let low = load<u64>(samples + <usize>j * 8);
      let median = load<u64>(samples + <usize>(j + 1) * 8);
      let high = load<u64>(samples + <usize>(j + 2) * 8);
      if ((high - low) * 100 <= median && plausible(median)) {
        Tsc.source = SOURCE_PIT;
        return median;
      }
    }
  }
  return 0;
}

function sortSamples(count: i32): void {
  for (let i = 1; i < count; i++) {
    let value = load<u64>(samples + <usize>i * 8);
    let j = i - 1;
    while (j >= 0 && load<u64>(samples + <usize>j * 8) > value) {
      store<u64>(samples + <usize>(j + 1) * 8, load<u64>(samples + <usize>j * 8));
      j--;
    }
    store<u64>(samples + <usize>(j + 1) * 8, value);
  }
}
