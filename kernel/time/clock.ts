// Clocks from the TSC: monotonic time since the first kernel instruction and
// wall-clock time from the CMOS RTC read once at boot.
import { inb, outb, rdtsc } from "../../arch/x86_64/cpu";
import { Tsc } from "./tsc";

export const NANOS_PER_SECOND: u64 = 1_000_000_000;

export class Clock {
  static bootTsc: u64 = 0;
  /** Wall-clock seconds since 1970 at monotonic time rtcMonotonic. */
  static rtcEpochSeconds: u64 = 0;
  static rtcMonotonic: u64 = 0;

  static init(bootTsc: u64): void {
    Clock.bootTsc = bootTsc;
    Clock.rtcEpochSeconds = readRtcEpochSeconds();
    Clock.rtcMonotonic = Clock.monotonicNanos();
  }

  static ticksToNanos(ticks: u64): u64 {
    let hz = Tsc.hz;
    return (ticks / hz) * NANOS_PER_SECOND + (ticks % hz) * NANOS_PER_SECOND / hz;
  }

  static nanosToTicks(nanos: u64): u64 {
    let hz = Tsc.hz;
    return (nanos / NANOS_PER_SECOND) * hz + (nanos % NANOS_PER_SECOND) * hz / NANOS_PER_SECOND;
  }

  /** Nanoseconds since the first kernel instruction. */
  static monotonicNanos(): u64 {
    return Clock.ticksToNanos(rdtsc() - Clock.bootTsc);
  }

  /** The TSC value by which at least `nanos` have passed from now: rounded
   * up a tick, so a wait never ends early; saturates far in the future. */
  static deadlineIn(nanos: u64): u64 {
    let now = rdtsc();
    let ticks = Clock.nanosToTicks(nanos) + 1;
    return ticks > U64.MAX_VALUE - 1 - now ? U64.MAX_VALUE - 1 : now + ticks;
  }

  /** Nanoseconds since 1970-01-01 UTC. */
  static realtimeNanos(): u64 {
    return Clock.monotonicNanos() + Clock.realtimeOffsetNanos();
  }

  /** Realtime minus monotonic time: a constant (nothing sets or slews the
   * wall clock). Converting an absolute realtime with it reads no clock, so
   * no time can pass between two readings and make a deadline early. */
  static realtimeOffsetNanos(): u64 {
    return Clock.rtcEpochSeconds * NANOS_PER_SECOND - Clock.rtcMonotonic;
  }

  /**
   * An absolute time on the realtime clock (or, with `realtime` false, the
   * monotonic one) as monotonic time (0 if before boot). It uses the clocks'
   * constant difference and reads no clock: computing "deadline - now" from
   * two readings would end a wait early by whatever passed between them.
   */
  static monotonicAt(absolute: u64, realtime: bool): u64 {
    let offset = realtime ? Clock.realtimeOffsetNanos() : 0;
    return absolute > offset ? absolute - offset : 0;
  }

  /** The TSC value from which monotonicNanos() is at least `nanos` (a deadline
   * for an absolute monotonic time; saturates far in the future). */
  static tscAtMonotonic(nanos: u64): u64 {
    let ticks = Clock.nanosToTicks(nanos) + 1;
    return ticks > U64.MAX_VALUE - 1 - Clock.bootTsc ? U64.MAX_VALUE - 1 : Clock.bootTsc + ticks;
  }
}

function cmos(register: u32): u32 {
  outb(0x70, register);
  return inb(0x71);
}

function fromBcd(value: u32, binary: bool): u32 {
  return binary ? value : (value & 0x0f) + (value >> 4) * 10;
}

/** Days from 1970-01-01 to year-month-day (proleptic Gregorian). */
export function daysFromCivil(year: i64, month: u32, day: u32): i64 {
  let y = month <= 2 ? year - 1 : year;
  let era = (y >= 0 ? y : y - 399) / 400;
  let yearOfEra = y - era * 400;
  let m = <i64>month;
  let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + <i64>day - 1;
  let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function readRtcEpochSeconds(): u64 {
  // Wait out an update in progress (bounded), then read twice until stable.
  for (let spins = 0; spins < 100000 && (cmos(0x0a) & 0x80) != 0; spins++) {}
  let status = cmos(0x0b);
  let binary = (status & 0x04) != 0;
  let hour24 = (status & 0x02) != 0;
  let second = fromBcd(cmos(0x00), binary);
  let minute = fromBcd(cmos(0x02), binary);
  let hourRaw = cmos(0x04);
  let pm = (hourRaw & 0x80) != 0;
  let hour = fromBcd(hourRaw & 0x7f, binary);
  if (!hour24) hour = (hour % 12) + (pm ? 12 : 0);
  let day = fromBcd(cmos(0x07), binary);
  let month = fromBcd(cmos(0x08), binary);
  let year = fromBcd(cmos(0x09), binary) + 2000;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return 0;
  let days = daysFromCivil(<i64>year, month, day);
  return <u64>(days * 86400 + <i64>hour * 3600 + <i64>minute * 60 + <i64>second);
}
