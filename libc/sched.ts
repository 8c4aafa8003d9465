// Scheduling policies: the scheduler (kernel/sched) has one round-robin
// class without priorities, which is what SCHED_OTHER promises, so every
// thread is SCHED_OTHER with static priority 0. The priority ranges answer as
// Linux's do; asking for a real-time (or batch, idle, deadline) policy is
// refused with EPERM, as for a process without the privilege, since nothing
// here could honor it.
import { APP_PID, appThreadExists } from "../kernel/app";
import { copyIn, putU32, scratchWords } from "./uaccess";
import { EFAULT, EINVAL, EPERM, ESRCH } from "./errno";

const SCHED_OTHER: i32 = 0;
const SCHED_FIFO: i32 = 1;
const SCHED_RR: i32 = 2;
const SCHED_BATCH: i32 = 3;
const SCHED_IDLE: i32 = 5;
const SCHED_DEADLINE: i32 = 6;
/** A flag or'ed into the policy of sched_setscheduler. */
const SCHED_RESET_ON_FORK: i32 = 0x40000000;

function knownPolicy(policy: i32): bool {
  return policy == SCHED_OTHER || policy == SCHED_FIFO || policy == SCHED_RR || policy == SCHED_BATCH ||
    policy == SCHED_IDLE || policy == SCHED_DEADLINE;
}

/** 0, or -EINVAL / -ESRCH for a pid that is not one of the process's threads. */
function checkPid(pid: u64): i64 {
  let id = <i32>pid;
  if (id < 0) return -EINVAL;
  if (id == 0 || <u32>id == APP_PID || appThreadExists(<u32>id)) return 0;
  return -ESRCH;
}

export function sysSchedGetPriorityMax(policy: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let p = <i32>policy;
  if (!knownPolicy(p)) return -EINVAL;
  return p == SCHED_FIFO || p == SCHED_RR ? 99 : 0;
}

export function sysSchedGetPriorityMin(policy: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let p = <i32>policy;
  if (!knownPolicy(p)) return -EINVAL;
  return p == SCHED_FIFO || p == SCHED_RR ? 1 : 0;
}

export function sysSchedGetscheduler(pid: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let checked = checkPid(pid);
  return checked < 0 ? checked : <i64>SCHED_OTHER;
}

export function sysSchedGetparam(pid: u64, param: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (param == 0) return -EINVAL;
  let checked = checkPid(pid);
  if (checked < 0) return checked;
  // struct sched_param { int sched_priority; }: 0 under SCHED_OTHER.
  return putU32(param, 0) < 0 ? -EFAULT : 0;
}

/** Reads struct sched_param's priority into the scratch words: 0, or -EINVAL / -EFAULT. */
function readParam(param: u64): i64 {
  if (param == 0) return -EINVAL;
  return copyIn(scratchWords(), param, 4) < 0 ? -EFAULT : 0;
}

export function sysSchedSetscheduler(pid: u64, policy: u64, param: u64, a3: u64, a4: u64, a5: u64): i64 {
  let p = <i32>policy & ~SCHED_RESET_ON_FORK;
  if (<i32>policy < 0 || !knownPolicy(p)) return -EINVAL;
  let read = readParam(param);
  if (read < 0) return read;
  let priority = load<i32>(scratchWords());
  let checked = checkPid(pid);
  if (checked < 0) return checked;
  if (p == SCHED_FIFO || p == SCHED_RR) {
    if (priority < 1 || priority > 99) return -EINVAL;
    return -EPERM;
  }
  if (priority != 0) return -EINVAL;
  return p == SCHED_OTHER ? 0 : -EPERM;
}

export function sysSchedSetparam(pid: u64, param: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let read = readParam(param);
  if (read < 0) return read;
  let priority = load<i32>(scratchWords());
  let checked = checkPid(pid);
  if (checked < 0) return checked;
  // Under SCHED_OTHER the only valid priority is 0.
  return priority == 0 ? 0 : -EINVAL;
}
