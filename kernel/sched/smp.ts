// Bringing up the other CPUs: APIC ids from the ACPI MADT, a stack, IST
// stacks and an idle thread for each, INIT-SIPI-SIPI one CPU at a time, and
// each CPU's own set-up in apMain.
import { interruptsOn, rdtsc, pause } from "../../arch/x86_64/cpu";
import { atomicLoad32, atomicStore32 } from "../../arch/x86_64/atomic";
import { gdtInit, IST_AREA_BYTES } from "../../arch/x86_64/gdt";
import { idtLoad } from "../../arch/x86_64/idt";
import { Lapic } from "../../arch/x86_64/lapic";
import { apIdentityMap, apPrepare } from "../../arch/x86_64/smp";
import { flushTlbRange } from "../../arch/x86_64/tlbshootdown";
import { fpuInit } from "../../arch/x86_64/threads";
import { madtCpus } from "../acpi";
import { Log } from "../log";
import { allocContiguous, PAGE_SIZE } from "../mm/physical";
import { Cpus, MAX_CPUS, PerCpu, perCpu } from "./percpu";
import { idleLoop } from "./scheduler";
import { STACK_PAGES, threadAdopt } from "./thread";
import { Tsc } from "../time/tsc";
import { Timer } from "../time/timer";
import { heapAlloc, TAG_SCHED } from "../mm/heap";

const apicIds = memory.data(<i32>(MAX_CPUS * 4), 4);

/** Starts every CPU the MADT lists, up to `limit`; returns how many run. */
export function startApplicationProcessors(limit: u32): u32 {
  let found = madtCpus(apicIds, MAX_CPUS);
  if (found == 0) found = 1;
  Cpus.count = found;
  let bootApic = Lapic.id();
  perCpu(0).apicId = bootApic;
  let next: u32 = 1;
  if (found > 1 && limit > 1) apIdentityMap(1);
  for (let i: u32 = 0; i < found && next < limit && next < MAX_CPUS; i++) {
    let apicId = load<u32>(apicIds + <usize>i * 4);
    if (apicId == bootApic) continue;
    let stack = allocContiguous(STACK_PAGES);
    let ist = allocContiguous(<usize>(IST_AREA_BYTES / <u32>PAGE_SIZE));
    if (stack == 0 || ist == 0) {
      Log.line("smp: out of memory for CPU stacks");
      break;
    }
    let cpu = perCpu(next);
    cpu.index = next;
    cpu.apicId = apicId;
    cpu.armedDeadline = ist; // handed to apMain; reset there
    atomicStore32(changetype<usize>(cpu) + offsetof<PerCpu>("online"), 0);
    let page = apPrepare(next, stack + STACK_PAGES * PAGE_SIZE);
    let online = changetype<usize>(cpu) + offsetof<PerCpu>("online");
    Lapic.startCpu(apicId, page);
    // A second STARTUP after 10 ms if needed, then up to a second in all.
    let retry = rdtsc() + Tsc.hz / 100;
    let deadline = rdtsc() + Tsc.hz;
    let again = true;
    while (atomicLoad32(online) == 0 && rdtsc() < deadline) {
      if (again && rdtsc() > retry) {
        Lapic.startCpuAgain(apicId, page);
        again = false;
      }
      pause();
    }
    if (atomicLoad32(changetype<usize>(cpu) + offsetof<PerCpu>("online")) == 0) {
      Log.str("smp: CPU with APIC id ");
      Log.dec(apicId);
      Log.line(" did not start");
      continue;
    }
    next++;
  }
  if (found > 1 && limit > 1) {
    apIdentityMap(0);
    Cpus.online = next;
    flushTlbRange(0, 1 << 18); // the first GiB, from every CPU's TLB
  }
  return next;
}

/** Every application processor's first AS code (from loader/smp.c). */
export function apMain(index: u32): void {
  let cpu = perCpu(index);
  let ist = <usize>cpu.armedDeadline;
  cpu.armedDeadline = 0;
  gdtInit(index, ist);
  idtLoad();
  Lapic.enable(false);
  fpuInit(); // CR4 and XCR0 are per CPU
  let idle = threadAdopt("idle", index);
  let slice = heapAlloc(offsetof<Timer>(), TAG_SCHED);
  if (idle === null || slice == 0) return;
  cpu.idle = changetype<usize>(idle);
  cpu.current = changetype<usize>(idle);
  cpu.sliceTimer = slice;
  // Online: the boot CPU counts us and may now hand us threads.
  Cpus.online = index + 1 > Cpus.online ? index + 1 : Cpus.online;
  atomicStore32(changetype<usize>(cpu) + offsetof<PerCpu>("online"), 1);
  interruptsOn();
  idleLoop();
}
