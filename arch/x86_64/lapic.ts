// The local APIC (xAPIC, memory-mapped): enable, end of interrupt, IPIs and
// the timer, in TSC-deadline mode when the CPU has it and one-shot mode
// (calibrated against the TSC) otherwise. The legacy 8259 PICs are remapped
// away from the exception vectors and masked: Wisp uses the APICs only.
import { cpuid, inb, outb, pause, rdtsc, readMsr, writeMsr } from "./cpu";

const MSR_APIC_BASE: u32 = 0x1b;
const MSR_TSC_DEADLINE: u32 = 0x6e0;
const APIC_BASE_ENABLE: u64 = 1 << 11;

const REG_ID: u32 = 0x20;
const REG_TPR: u32 = 0x80;
const REG_EOI: u32 = 0xb0;
const REG_SPURIOUS: u32 = 0xf0;
const REG_ERROR_STATUS: u32 = 0x280;
const REG_ICR_LOW: u32 = 0x300;
const REG_ICR_HIGH: u32 = 0x310;
const REG_LVT_TIMER: u32 = 0x320;
const REG_LVT_LINT0: u32 = 0x350;
const REG_LVT_LINT1: u32 = 0x360;
const REG_LVT_ERROR: u32 = 0x370;
const REG_TIMER_INITIAL: u32 = 0x380;
const REG_TIMER_CURRENT: u32 = 0x390;
const REG_TIMER_DIVIDE: u32 = 0x3e0;

const LVT_MASKED: u32 = 1 << 16;
const TIMER_MODE_TSC_DEADLINE: u32 = 2 << 17;
const ICR_DELIVERY_PENDING: u32 = 1 << 12;

export const VECTOR_TIMER: u32 = 0x20;
/** The masked 8259 PICs are parked here: anything from them is spurious. */
export const LEGACY_PIC_BASE: u32 = 0xe0;
export const VECTOR_RESCHEDULE: u32 = 0xf0;
export const VECTOR_TLB_SHOOTDOWN: u32 = 0xf1;
export const VECTOR_CALL_FUNCTION: u32 = 0xf2;
export const VECTOR_APIC_ERROR: u32 = 0xfe;
export const VECTOR_SPURIOUS: u32 = 0xff;

const cpuidOut = memory.data(16, 16);

export class Lapic {
  /** Physical address of the register page (the same on every CPU). */
  static base: usize = 0xfee00000;
  static tscDeadline: bool = false;
  /** APIC timer ticks per second at divide-by-16, for one-shot mode. */
  static timerHz: u64 = 0;

  @inline static read(register: u32): u32 {
    return load<u32>(Lapic.base + register);
  }

  @inline static write(register: u32, value: u32): void {
    store<u32>(Lapic.base + register, value);
  }

  static id(): u32 {
    return Lapic.read(REG_ID) >> 24;
  }

  /** Enables this CPU's local APIC; the boot CPU also calibrates its timer. */
  static enable(isBootCpu: bool): void {
    let msr = readMsr(MSR_APIC_BASE);
    writeMsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
    if (isBootCpu) {
      Lapic.base = <usize>(msr & 0xfffff000);
      cpuid(1, 0, cpuidOut);
      Lapic.tscDeadline = (load<u32>(cpuidOut, 8) & (1 << 24)) != 0;
    }
    Lapic.write(REG_TPR, 0);
    Lapic.write(REG_LVT_LINT0, LVT_MASKED);
    Lapic.write(REG_LVT_LINT1, LVT_MASKED);
    Lapic.write(REG_LVT_ERROR, VECTOR_APIC_ERROR);
    Lapic.write(REG_ERROR_STATUS, 0);
    Lapic.write(REG_SPURIOUS, 0x100 | VECTOR_SPURIOUS);
    Lapic.write(REG_TIMER_DIVIDE, 0x3); // divide by 16
    Lapic.write(REG_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
  }

  static endOfInterrupt(): void {
    Lapic.write(REG_EOI, 0);
  }

  /** Measures the one-shot timer's rate against the TSC over 0.5 ms: a
   * deadline that fires a little early is re-armed, so this need not be exact. */
  static calibrateTimer(tscHz: u64): void {
    Lapic.write(REG_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
    Lapic.write(REG_TIMER_INITIAL, 0xffffffff);
    let start = rdtsc();
    let end = start + tscHz / 2000;
    while (rdtsc() < end) pause();
    let elapsedTsc = rdtsc() - start;
    let counted = <u64>(0xffffffff - Lapic.read(REG_TIMER_CURRENT));
    Lapic.write(REG_TIMER_INITIAL, 0);
    Lapic.timerHz = elapsedTsc == 0 ? 0 : counted * tscHz / elapsedTsc;
  }

  /** Interrupt at TSC value `deadline` (one shot; a deadline in the past fires at once). */
  static armTimer(deadline: u64, tscHz: u64): void {
    if (Lapic.tscDeadline) {
      Lapic.write(REG_LVT_TIMER, TIMER_MODE_TSC_DEADLINE | VECTOR_TIMER);
      writeMsr(MSR_TSC_DEADLINE, deadline);
      return;
    }
    let now = rdtsc();
    let ticks: u64 = 1;
    if (deadline > now && Lapic.timerHz != 0) {
      let delta = deadline - now;
      // delta * timerHz overflows only for deadlines hours away: clamp.
      ticks = delta >= tscHz * 60 ? 0xffffffff : delta * Lapic.timerHz / tscHz;
      if (ticks == 0) ticks = 1;
      if (ticks > 0xffffffff) ticks = 0xffffffff;
    }
    Lapic.write(REG_LVT_TIMER, VECTOR_TIMER);
    Lapic.write(REG_TIMER_INITIAL, <u32>ticks);
  }

  static disarmTimer(): void {
    if (Lapic.tscDeadline) writeMsr(MSR_TSC_DEADLINE, 0);
    Lapic.write(REG_TIMER_INITIAL, 0);
    Lapic.write(REG_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
  }

  static waitForIcrIdle(): void {
    for (let spins = 0; spins < 1_000_000; spins++) {
      if ((Lapic.read(REG_ICR_LOW) & ICR_DELIVERY_PENDING) == 0) return;
      pause();
    }
  }

  /** Sends fixed interrupt `vector` to the CPU with APIC id `apicId`. */
  static sendIpi(apicId: u32, vector: u32): void {
    Lapic.waitForIcrIdle();
    Lapic.write(REG_ICR_HIGH, apicId << 24);
    Lapic.write(REG_ICR_LOW, vector);
  }

  /** INIT, then STARTUP at `trampolinePage` (physical, page aligned, below
   * 1 MiB). Like Linux on current CPUs, no 10 ms INIT delay; the caller
   * sends a second STARTUP (startCpuAgain) if the CPU does not report in. */
  static startCpu(apicId: u32, trampolinePage: usize): void {
    Lapic.write(REG_ERROR_STATUS, 0);
    Lapic.waitForIcrIdle();
    Lapic.write(REG_ICR_HIGH, apicId << 24);
    Lapic.write(REG_ICR_LOW, 0x4500); // INIT, level assert
    Lapic.waitForIcrIdle();
    Lapic.startCpuAgain(apicId, trampolinePage);
  }

  static startCpuAgain(apicId: u32, trampolinePage: usize): void {
    Lapic.write(REG_ICR_HIGH, apicId << 24);
    Lapic.write(REG_ICR_LOW, 0x4600 | <u32>(trampolinePage >> 12)); // STARTUP
    Lapic.waitForIcrIdle();
  }
}

/** Remaps the 8259 PICs to LEGACY_PIC_BASE (away from the exceptions and the
 * APIC timer) and masks every line. */
export function disableLegacyPic(): void {
  outb(0x20, 0x11);
  outb(0xa0, 0x11);
  outb(0x21, LEGACY_PIC_BASE);
  outb(0xa1, LEGACY_PIC_BASE + 8);
  outb(0x21, 0x04);
  outb(0xa1, 0x02);
  outb(0x21, 0x01);
  outb(0xa1, 0x01);
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
  inb(0x21); // settle
}
