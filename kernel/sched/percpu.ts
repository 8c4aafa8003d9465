// Per-CPU kernel state, one record per CPU, indexed by the CPU index that
// gs:0 holds (arch/x86_64/atomic.ts cpuIndex).
import { cpuIndex } from "../../arch/x86_64/atomic";

export const MAX_CPUS: u32 = 64;
const PER_CPU_BYTES: u32 = 256;

@unmanaged
export class PerCpu {
  index: u32;
  apicId: u32;
  online: u32;
  needResched: u32;
  /** Threads (kernel/sched/thread.ts records). */
  current: usize;
  idle: usize;
  /** The thread switched away from, until the switch completes. */
  previous: usize;
  runLock: u32;
  runCount: u32;
  runHead: usize;
  runTail: usize;
  timerLock: u32;
  timerHead: usize;
  armedDeadline: u64;
  sliceEnd: u64;
  contextSwitches: u64;
  interrupts: u64;
  idleTicks: u64;
  idleSince: u64;
  /** Timer that ends the current thread's slice while others wait. */
  sliceTimer: usize;
  /** Last TLB shootdown request this CPU carried out. */
  tlbGeneration: u32;
}

const perCpuArea = memory.data(<i32>(MAX_CPUS * PER_CPU_BYTES), 64);

export function perCpu(index: u32): PerCpu {
  return changetype<PerCpu>(perCpuArea + <usize>(index * PER_CPU_BYTES));
}

export function thisCpu(): PerCpu {
  return perCpu(cpuIndex());
}

export class Cpus {
  /** CPUs found in the ACPI MADT (1 without one). */
  static count: u32 = 1;
  /** CPUs running the scheduler. */
  static online: u32 = 1;
}

/** Compile-time check that the record fits its slot. */
export function perCpuLayoutOk(): bool {
  return offsetof<PerCpu>() <= PER_CPU_BYTES;
}
