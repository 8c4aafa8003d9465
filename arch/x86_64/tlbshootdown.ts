// TLB shootdown: after changing page-table entries that other CPUs may have
// cached, flush the range here and on every other online CPU (IPI), and wait
// until all have done it. Callers must not hold a spinlock another CPU may be
// spinning on with interrupts off; a CPU waiting to send its own shootdown
// serves incoming ones meanwhile, so two senders cannot deadlock.
import { atomicAdd32, atomicLoad32, atomicStore32 } from "./atomic";
import { flushTlbAll, invalidatePage, pause, rdtsc } from "./cpu";
import { Lapic, VECTOR_TLB_SHOOTDOWN } from "./lapic";
import { Cpus, perCpu, thisCpu } from "../../kernel/sched/percpu";
import { spinTryLock, spinUnlock } from "../../kernel/sync/spinlock";
import { Tsc } from "../../kernel/time/tsc";
import { panic } from "../../kernel/panic";

/** Above this many pages a full flush is cheaper than invlpg per page. */
const MAX_SINGLE_PAGE_FLUSHES: u64 = 32;

const lock = memory.data(4, 4);
const request = memory.data(32, 8); // start u64, pages u64, generation u32, acks u32
const REQUEST_START: usize = 0;
const REQUEST_PAGES: usize = 8;
const REQUEST_GENERATION: usize = 16;
const REQUEST_ACKS: usize = 20;

/** Flushes [start, start + pages * 4096) from this CPU's TLB. */
export function flushTlbLocal(start: u64, pages: u64): void {
  if (pages > MAX_SINGLE_PAGE_FLUSHES) {
    flushTlbAll();
    return;
  }
  for (let i: u64 = 0; i < pages; i++) invalidatePage(start + (i << 12));
}

/** Carries out a pending request on this CPU, once. */
function serve(): void {
  let cpu = thisCpu();
  let generation = atomicLoad32(request + REQUEST_GENERATION);
  if (generation == cpu.tlbGeneration) return;
  flushTlbLocal(load<u64>(request + REQUEST_START), load<u64>(request + REQUEST_PAGES));
  cpu.tlbGeneration = generation;
  atomicAdd32(request + REQUEST_ACKS, 1);
}

export function tlbShootdownInterrupt(): void {
  serve();
}

/** Flushes the range on every online CPU and returns when all have. */
export function flushTlbRange(start: u64, pages: u64): void {
  let others = Cpus.online - 1;
  if (others == 0) {
    flushTlbLocal(start, pages);
    return;
  }
  let token: u64 = 0;
  while ((token = spinTryLock(lock)) == 0) {
    serve();
    pause();
  }
  // From here interrupts are off: the local flush and `self` are the same CPU.
  flushTlbLocal(start, pages);
  let self = thisCpu();
  store<u64>(request + REQUEST_START, start);
  store<u64>(request + REQUEST_PAGES, pages);
  atomicStore32(request + REQUEST_ACKS, 0);
  let generation = atomicLoad32(request + REQUEST_GENERATION) + 1;
  atomicStore32(request + REQUEST_GENERATION, generation);
  self.tlbGeneration = generation; // done locally above
  for (let i: u32 = 0; i < Cpus.online; i++) {
    if (i != self.index) Lapic.sendIpi(perCpu(i).apicId, VECTOR_TLB_SHOOTDOWN);
  }
  let deadline = rdtsc() + Tsc.hz;
  while (atomicLoad32(request + REQUEST_ACKS) < others) {
    if (rdtsc() > deadline) panic("TLB shootdown: another CPU did not respond within a second");
    pause();
  }
  spinUnlock(lock, token & ~(<u64>1 << 63));
}
