// futex(2) over the kernel's futex core (kernel/sync/futex.ts): argument
// checks, operation decoding and timeouts. There is one address space, so
// private and shared futexes are the same (FUTEX_PRIVATE_FLAG is accepted
// and changes nothing). The priority-inheritance operations are not
// implemented (-ENOSYS, noted once).
import {
  FUTEX_BITSET_MATCH_ANY, futexRequeue, futexWait, futexWake, futexWakeOp,
} from "../kernel/sync/futex";
import { Clock, NANOS_PER_SECOND } from "../kernel/time/clock";
import { copyIn, scratchWords } from "./uaccess";
import { EFAULT, EINVAL, ENOSYS } from "./errno";
import { NOTE_FUTEX_OP, noteOnce } from "./log";

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;

/**
 * The TSC deadline for a futex timeout at application address `timeout`
 * (NULL: none, 0 returned), relative (FUTEX_WAIT, against CLOCK_MONOTONIC)
 * or absolute (FUTEX_WAIT_BITSET, against MONOTONIC or REALTIME). Past
 * deadlines become "now". -EFAULT or -EINVAL for a bad timespec.
 */
function deadlineFor(timeout: u64, absolute: bool, realtime: bool): i64 {
  if (timeout == 0) return 0;
  let words = scratchWords();
  if (copyIn(words, timeout, 16) < 0) return -EFAULT;
  let seconds = load<i64>(words);
  let nanos = load<i64>(words, 8);
  if (seconds < 0 || nanos < 0 || nanos >= <i64>NANOS_PER_SECOND) return -EINVAL;
  if (seconds >= <i64>(I64.MAX_VALUE / <i64>NANOS_PER_SECOND) - 1) return <i64>(U64.MAX_VALUE - 1);
  let total = <u64>seconds * NANOS_PER_SECOND + <u64>nanos;
  return <i64>(absolute ? Clock.tscAtMonotonic(Clock.monotonicAt(total, realtime)) : Clock.deadlineIn(total));
}

export function sysFutex(address: u64, operation: u64, value: u64, timeout: u64, address2: u64, value3: u64): i64 {
  let op = <u32>operation;
  let command = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  let realtime = (op & FUTEX_CLOCK_REALTIME) != 0;
  if (realtime && command != FUTEX_WAIT && command != FUTEX_WAIT_BITSET) return -ENOSYS;
  // Futex words are aligned u32s (get_futex_key).
  if ((address & 3) != 0) return -EINVAL;
  let count = <i32>value;
  // The second count of REQUEUE, CMP_REQUEUE and WAKE_OP travels in the timeout argument.
  let count2 = <i32>timeout;
  switch (command) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      let bitset = command == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : <u32>value3;
      if (bitset == 0) return -EINVAL;
      let deadline = deadlineFor(timeout, command == FUTEX_WAIT_BITSET, realtime);
      if (deadline < 0) return deadline;
      return <i64>futexWait(address, <u32>value, <u64>deadline, bitset);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      let bitset = command == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : <u32>value3;
      if (bitset == 0) return -EINVAL;
      // Linux wakes one waiter even for a count of 0 or less (as for WAKE_OP).
      return <i64>futexWake(address, count <= 0 ? 1 : <u32>count, bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      if (count < 0 || count2 < 0) return -EINVAL;
      if ((address2 & 3) != 0) return -EINVAL;
      return <i64>futexRequeue(address, <u32>count, address2, <u32>count2, command == FUTEX_CMP_REQUEUE, <u32>value3);
    }
    case FUTEX_WAKE_OP: {
      if ((address2 & 3) != 0) return -EINVAL;
      return <i64>futexWakeOp(address, count <= 0 ? 1 : <u32>count, address2, count2 <= 0 ? 1 : <u32>count2, <u32>value3);
    }
  }
  noteOnce(NOTE_FUTEX_OP, "futex: the priority-inheritance operations are not implemented (-ENOSYS)");
  return -ENOSYS;
}
