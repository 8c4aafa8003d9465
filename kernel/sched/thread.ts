// Threads: a record, a kernel stack, and (for application threads) an FPU
// save area. The scheduler (scheduler.ts) decides which runs where.
import { shadowStackBase, threadTrampolineAddress } from "../../arch/x86_64/threads";
import { physToDirectMap } from "../../arch/x86_64/layout";
import { allocContiguous, allocPageZeroed, freeContiguous, freePage, PAGE_SIZE } from "../mm/physical";
import { heapAlloc, heapFree, TAG_SCHED } from "../mm/heap";
import { atomicAdd32 } from "../../arch/x86_64/atomic";
import { Timer } from "../time/timer";
import { WaitQueue, waitQueueInit } from "../sync/waitqueue";

export const THREAD_RUNNING: u32 = 1;
export const THREAD_RUNNABLE: u32 = 2;
export const THREAD_BLOCKED: u32 = 3;
export const THREAD_DEAD: u32 = 4;
/** No CPU affinity: the scheduler may run the thread anywhere. */
export const CPU_ANY: u32 = 0xffffffff;

/** Kernel stack per thread: 32 KiB. */
export const STACK_PAGES: usize = 8;

@unmanaged
export class Thread {
  /** Offsets 0, 8 and 16 are used by the switch code (loader/threads.c): keep them first. */
  savedRsp: u64;
  fpuArea: u64;
  /** AS shadow-stack pointer while not running (loader/kernel_prelude.h). */
  shadowSp: u32;
  id: u32;
  state: u32;
  onCpu: u32;
  cpu: u32;
  /** Link in a wait queue (waitqueue.ts, futex.ts). */
  next: usize;
  stackBase: usize;
  entry: usize;
  arg: usize;
  name: usize;
  waitResult: i32;
  detached: u32;
  /** Wakes a sleeping or waiting thread at its deadline. */
  timer: usize;
  /** Threads waiting in threadJoin. */
  joiners: usize;
  /** TSC ticks spent running, and when the current run began. */
  runtime: u64;
  runStart: u64;
  /** CPU the thread must run on, or CPU_ANY. */
  affinity: u32;
  /** Futex wait: key and bitset. */
  futexKey: u64;
  futexBitset: u32;
  futexBucket: u32;
  /** Application threads (kernel/app.ts): FS base (TLS) and the top of the
   * kernel stack that system calls and interrupts from application code
   * enter on (0 for kernel threads). loader/threads.c reads both at fixed
   * offsets, which kernel/app.ts checks at compile time. */
  fsBase: u64;
  entryStack: u64;
  /** kernel/app.ts's record for the thread, or 0. */
  app: usize;
  /** Link in a run queue. Not `next`: a waiter whose timeout fired is
   * runnable (queued to run) before it takes itself off its wait queue, so
   * for a while it is on both, and a waker walking the wait queue must not
   * follow it into the run queue. */
  runNext: usize;
}

const nextIdWord = memory.data(4, 4);

export function threadName(thread: Thread): string {
  return changetype<string>(thread.name);
}

/** A record for a context that already runs (boot CPU's main, an AP's idle). */
export function threadAdopt(name: string, cpu: u32): Thread | null {
  let thread = allocRecord(name);
  if (thread === null) return null;
  thread.state = THREAD_RUNNING;
  thread.onCpu = 1;
  thread.cpu = cpu;
  return thread;
}

function allocRecord(name: string): Thread | null {
  let record = heapAlloc(offsetof<Thread>(), TAG_SCHED);
  if (record == 0) return null;
  let timer = heapAlloc(offsetof<Timer>(), TAG_SCHED);
  let joiners = heapAlloc(offsetof<WaitQueue>(), TAG_SCHED);
  if (timer == 0 || joiners == 0) {
    if (timer != 0) heapFree(timer);
    if (joiners != 0) heapFree(joiners);
    heapFree(record);
    return null;
  }
  let thread = changetype<Thread>(record);
  thread.id = atomicAdd32(nextIdWord, 1) + 1;
  thread.name = changetype<usize>(name);
  thread.timer = timer;
  thread.joiners = joiners;
  thread.affinity = CPU_ANY;
  waitQueueInit(changetype<WaitQueue>(joiners));
  return thread;
}

/**
 * A new thread that will run entry(arg) once the scheduler picks it; not yet
 * runnable (scheduler.ts threadSpawn makes it so). Null when out of memory.
 */
export function threadCreate(name: string, entry: (arg: usize) => void, arg: usize): Thread | null {
  let thread = allocRecord(name);
  if (thread === null) return null;
  let stack = allocContiguous(STACK_PAGES);
  if (stack == 0) {
    threadFree(thread);
    return null;
  }
  thread.stackBase = stack;
  thread.entry = changetype<usize>(entry);
  thread.arg = arg;
  thread.state = THREAD_BLOCKED;
  // The frame switch_context pops: r15 r14 r13 r12 rbx rbp, then the return
  // address (thread_trampoline); RSP is 16-byte aligned after the return.
  let top = stack + STACK_PAGES * PAGE_SIZE;
  let frame = top - 56;
  memory.fill(frame, 0, 48);
  store<u64>(frame, threadTrampolineAddress(), 48);
  thread.savedRsp = physToDirectMap(frame);
  thread.shadowSp = shadowStackBase();
  return thread;
}

/** Bytes of one FPU save area (XSAVE for the enabled components, or 512 for FXSAVE). */
export class FpuState {
  static areaBytes: u32 = 512;
}

/**
 * Gives `thread` an FPU save area, so its SSE/AVX registers are saved and
 * restored across switches (application threads; the kernel uses no FPU).
 * The area starts in the default state (x87 and SSE control words set).
 */
export function threadEnableFpu(thread: Thread): bool {
  if (FpuState.areaBytes > <u32>PAGE_SIZE) return false;
  let area = allocPageZeroed();
  if (area == 0) return false;
  store<u16>(area, 0x037f); // FCW: all x87 exceptions masked
  store<u32>(area, 0x1f80, 24); // MXCSR: all SSE exceptions masked
  store<u64>(area, 3, 512); // XSTATE_BV: x87 and SSE state present
  thread.fpuArea = <u64>area;
  return true;
}

/** Frees a thread that no longer runs anywhere. */
export function threadFree(thread: Thread): void {
  if (thread.stackBase != 0) freeContiguous(thread.stackBase, STACK_PAGES);
  if (thread.fpuArea != 0) freePage(<usize>thread.fpuArea);
  heapFree(thread.timer);
  heapFree(thread.joiners);
  heapFree(changetype<usize>(thread));
}
