// Resources and scheduling: resource limits (kept per process with Linux's
// defaults and checks, enforced only where the kernel has the resource:
// RLIMIT_STACK is the main stack's growth limit already), CPU affinity,
// yielding, getcpu, sysinfo, getrusage.
import { cpuIndex } from "../arch/x86_64/atomic";
import { APP_PID, appProcessTicks, appThreadExists, appThreadTicks, currentApp } from "../kernel/app";
import { Cpus } from "../kernel/sched/percpu";
import { currentThread, setAffinity, yieldCpu } from "../kernel/sched/scheduler";
import { CPU_ANY } from "../kernel/sched/thread";
import { freePageCount, PAGE_SIZE, totalPageCount } from "../kernel/mm/physical";
import { spinLock, spinUnlock } from "../kernel/sync/spinlock";
import { Clock, NANOS_PER_SECOND } from "../kernel/time/clock";
import { copyIn, copyOut, putU32, scratchBuffer, scratchWords } from "./uaccess";
import { EFAULT, EINVAL, EPERM, ESRCH } from "./errno";

const RLIMIT_COUNT: u32 = 16;
const RLIM_INFINITY: u64 = U64.MAX_VALUE;
const RLIMIT_CORE: u32 = 4;
const RLIMIT_STACK: u32 = 3;
const RLIMIT_NPROC: u32 = 6;
const RLIMIT_NOFILE: u32 = 7;
const RLIMIT_MEMLOCK: u32 = 8;
const RLIMIT_SIGPENDING: u32 = 11;
const RLIMIT_MSGQUEUE: u32 = 12;
const RLIMIT_NICE: u32 = 13;
const RLIMIT_RTPRIO: u32 = 14;

// Soft and hard limit per resource.
const limits = memory.data(<i32>(RLIMIT_COUNT * 16), 8);
const limitsLock = memory.data(4, 4);
let limitsReady = false;

/** Linux's defaults (include/asm-generic/resource.h, as a root process inherits them). */
function initLimits(): void {
  if (limitsReady) return;
  for (let i: u32 = 0; i < RLIMIT_COUNT; i++) setLimit(i, RLIM_INFINITY, RLIM_INFINITY);
  setLimit(RLIMIT_CORE, 0, RLIM_INFINITY);
  setLimit(RLIMIT_STACK, 8 << 20, RLIM_INFINITY);
  setLimit(RLIMIT_NOFILE, 1024, 4096);
  setLimit(RLIMIT_MEMLOCK, 8 << 20, 8 << 20);
  setLimit(RLIMIT_MSGQUEUE, 819200, 819200);
  setLimit(RLIMIT_NICE, 0, 0);
  setLimit(RLIMIT_RTPRIO, 0, 0);
  let tasks = <u64>(totalPageCount() / 4); // Linux: max_threads / 2, of order "pages / 8"
  setLimit(RLIMIT_NPROC, tasks, tasks);
  setLimit(RLIMIT_SIGPENDING, tasks, tasks);
  limitsReady = true;
}

function setLimit(resource: u32, soft: u64, hard: u64): void {
  store<u64>(limits + <usize>resource * 16, soft);
  store<u64>(limits + <usize>resource * 16, hard, 8);
}

export function sysPrlimit64(pid: u64, resource: u64, limit: u64, old: u64, a4: u64, a5: u64): i64 {
  if (<u32>pid != 0 && <u32>pid != APP_PID && !appThreadExists(<u32>pid)) return -ESRCH;
  if (resource >= <u64>RLIMIT_COUNT) return -EINVAL;
  let r = <u32>resource;
  let buffer = scratchWords();
  if (limit != 0) {
    if (copyIn(buffer + 16, limit, 16) < 0) return -EFAULT;
    let soft = load<u64>(buffer, 16);
    let hard = load<u64>(buffer, 24);
    if (soft > hard) return -EINVAL;
    // Root may raise the hard limit, except the descriptors' past fs.nr_open.
    if (r == RLIMIT_NOFILE && hard > 1048576) return -EPERM;
  }
  let flags = spinLock(limitsLock);
  initLimits();
  memory.copy(buffer, limits + <usize>r * 16, 16);
  if (limit != 0) memory.copy(limits + <usize>r * 16, buffer + 16, 16);
  spinUnlock(limitsLock, flags);
  if (old != 0 && copyOut(old, buffer, 16) < 0) return -EFAULT;
  return 0;
}

export function sysGetrlimit(resource: u64, limit: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return sysPrlimit64(0, resource, 0, limit, 0, 0);
}

export function sysSetrlimit(resource: u64, limit: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (limit == 0) return -EFAULT;
  return sysPrlimit64(0, resource, limit, 0, 0, 0);
}

export function sysSchedYield(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  yieldCpu();
  return 0;
}

/** Bytes of the kernel's CPU mask: one bit per possible CPU, in whole longs. */
function cpuMaskBytes(): u64 {
  return ((<u64>Cpus.count + 63) / 64) * 8;
}

/** sched_getaffinity: every online CPU (threads are not pinned unless they
 * asked). Returns the bytes written, as the system call does. */
export function sysSchedGetaffinity(tid: u64, size: u64, mask: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<u32>tid != 0 && !appThreadExists(<u32>tid)) return -ESRCH;
  let bytes = cpuMaskBytes();
  if ((size & 7) != 0 || size < bytes) return -EINVAL;
  let buffer = scratchBuffer();
  memory.fill(buffer, 0, <usize>bytes);
  let affinity = <u32>tid == 0 || <u32>tid == currentApp().tid ? currentThread().affinity : CPU_ANY;
  for (let cpu: u32 = 0; cpu < Cpus.online; cpu++) {
    if (affinity != CPU_ANY && cpu != affinity) continue;
    let at = buffer + <usize>(cpu >> 3);
    store<u8>(at, load<u8>(at) | <u8>(<u32>1 << (cpu & 7)));
  }
  return copyOut(mask, buffer, <usize>bytes) < 0 ? -EFAULT : <i64>bytes;
}

/**
 * sched_setaffinity for the calling thread: a mask of exactly one online CPU
 * pins it there, a mask with more unpins it (the scheduler knows one CPU or
 * all). Other threads' affinity is accepted and not applied.
 */
export function sysSchedSetaffinity(tid: u64, size: u64, mask: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<u32>tid != 0 && !appThreadExists(<u32>tid)) return -ESRCH;
  let buffer = scratchBuffer();
  let bytes = size < 512 ? size : 512;
  memory.fill(buffer, 0, 512);
  if (copyIn(buffer, mask, <usize>bytes) < 0) return -EFAULT;
  let chosen: u32 = CPU_ANY;
  let count: u32 = 0;
  for (let cpu: u32 = 0; cpu < Cpus.online && (cpu >> 3) < <u32>bytes; cpu++) {
    if ((load<u8>(buffer + <usize>(cpu >> 3)) & (1 << (cpu & 7))) != 0) {
      if (count == 0) chosen = cpu;
      count++;
    }
  }
  if (count == 0) return -EINVAL;
  if (<u32>tid == 0 || <u32>tid == currentApp().tid) setAffinity(count == 1 ? chosen : CPU_ANY);
  return 0;
}

/** getcpu(cpu, node, cache): the CPU this runs on, node 0. */
export function sysGetcpu(cpu: u64, node: u64, cache: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (cpu != 0 && putU32(cpu, cpuIndex()) < 0) return -EFAULT;
  if (node != 0 && putU32(node, 0) < 0) return -EFAULT;
  return 0;
}

/** struct sysinfo (112 bytes on x86-64), with mem_unit 1. */
export function sysSysinfo(info: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let buffer = scratchBuffer();
  memory.fill(buffer, 0, 112);
  store<u64>(buffer, Clock.monotonicNanos() / NANOS_PER_SECOND); // uptime
  store<u64>(buffer, <u64>totalPageCount() * <u64>PAGE_SIZE, 32); // totalram
  store<u64>(buffer, <u64>freePageCount() * <u64>PAGE_SIZE, 40); // freeram
  store<u16>(buffer, 1, 80); // procs
  store<u32>(buffer, 1, 104); // mem_unit
  return copyOut(info, buffer, 112) < 0 ? -EFAULT : 0;
}

const RUSAGE_SELF: i32 = 0;
const RUSAGE_CHILDREN: i32 = -1;
const RUSAGE_THREAD: i32 = 1;

/** getrusage: CPU time as user time; the counters stay 0. */
export function sysGetrusage(who: u64, usage: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let which = <i32>who;
  let nanos: u64 = 0;
  if (which == RUSAGE_SELF) nanos = Clock.ticksToNanos(appProcessTicks());
  else if (which == RUSAGE_THREAD) nanos = Clock.ticksToNanos(<u64>appThreadTicks(0));
  else if (which != RUSAGE_CHILDREN) return -EINVAL;
  let buffer = scratchBuffer();
  memory.fill(buffer, 0, 144);
  store<u64>(buffer, nanos / NANOS_PER_SECOND);
  store<u64>(buffer, (nanos % NANOS_PER_SECOND) / 1000, 8);
  return copyOut(usage, buffer, 144) < 0 ? -EFAULT : 0;
}

/** RLIMIT_NOFILE's soft limit: descriptors must be below it. */
export function descriptorLimit(): u32 {
  initLimits();
  let soft = load<u64>(limits + <usize>RLIMIT_NOFILE * 16);
  return soft > <u64>U32.MAX_VALUE ? U32.MAX_VALUE : <u32>soft;
}
