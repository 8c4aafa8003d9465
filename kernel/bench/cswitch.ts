// Context-switch benchmark (wisp.bench=cswitch): two threads ping-pong
// through wait queues (semaphores), on one CPU and across two, and print ns
// per switch (a round trip is two switches). The Linux counterpart is
// tests/programs/futex_pingpong.c.
import { rdtsc } from "../../arch/x86_64/cpu";
import { Log } from "../log";
import { Cpus } from "../sched/percpu";
import { threadJoin, threadSpawn } from "../sched/scheduler";
import { Semaphore, semaphoreDown, semaphoreInit, semaphoreUp } from "../sync/mutex";
import { Clock } from "../time/clock";

const ROUND_TRIPS: u32 = 20000;
const ping = memory.data(64, 16);
const pong = memory.data(64, 16);

function server(arg: usize): void {
  for (let i: u32 = 0; i < ROUND_TRIPS; i++) {
    semaphoreDown(changetype<Semaphore>(ping), 0);
    semaphoreUp(changetype<Semaphore>(pong));
  }
}

function client(arg: usize): void {
  for (let i: u32 = 0; i < ROUND_TRIPS; i++) {
    semaphoreUp(changetype<Semaphore>(ping));
    semaphoreDown(changetype<Semaphore>(pong), 0);
  }
}

/** One measurement; returns ns per switch, or 0 if threads could not start. */
function measure(serverCpu: u32, clientCpu: u32): u64 {
  semaphoreInit(changetype<Semaphore>(ping), 0);
  semaphoreInit(changetype<Semaphore>(pong), 0);
  let start = rdtsc();
  let a = threadSpawn("cswitch-server", server, 0, serverCpu, false);
  let b = threadSpawn("cswitch-client", client, 0, clientCpu, false);
  if (a === null || b === null) return 0;
  threadJoin(a);
  threadJoin(b);
  let nanos = Clock.ticksToNanos(rdtsc() - start);
  return nanos / (<u64>ROUND_TRIPS * 2);
}

function report(label: string, nanos: u64): void {
  Log.str("cswitch: ");
  Log.str(label);
  Log.str(" ");
  Log.dec(nanos);
  Log.str(" ns per switch (");
  Log.dec(ROUND_TRIPS);
  Log.line(" round trips)");
}

export function runContextSwitchBenchmark(): void {
  report("same-cpu", measure(0, 0));
  if (Cpus.online >= 2) report("cross-cpu", measure(0, 1));
  else Log.line("cswitch: cross-cpu skipped (one CPU online)");
}
