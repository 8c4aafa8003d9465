// The futex core, keyed by virtual address: WAIT, WAKE, WAIT_BITSET,
// WAKE_BITSET, REQUEUE, CMP_REQUEUE and WAKE_OP with Linux semantics. The
// syscall layer validates arguments and converts timeouts to absolute TSC
// deadlines. Waiters sleep in one of 256 hashed buckets (wait queues).
import { accessCompareExchange32, accessRead32 } from "../../arch/x86_64/access";
import { atomicStore32, interruptsRestore } from "../../arch/x86_64/atomic";
import { currentThread, schedule, SCHED_BLOCK, wakeThread } from "../sched/scheduler";
import { THREAD_BLOCKED, Thread } from "../sched/thread";
import { Timer, timerCancel, timerStart } from "../time/timer";
import {
  ETIMEDOUT, WaitQueue, waitQueueAppend, waitQueueLock, waitQueueRemove, waitQueueUnlock,
} from "./waitqueue";
import { EAGAIN, EFAULT, EINVAL, ENOSYS } from "../errno";
export { EAGAIN, EFAULT, EINVAL, ENOSYS };

export const FUTEX_BITSET_MATCH_ANY: u32 = 0xffffffff;

const BUCKETS: u32 = 256;
const BUCKET_BYTES: u32 = 16; // a WaitQueue: lock, head, tail
const buckets = memory.data(<i32>(BUCKETS * BUCKET_BYTES), 16);

function bucketIndex(key: u64): u32 {
  return <u32>(((key >> 2) * 0x9e3779b97f4a7c15) >> 56);
}

function bucket(index: u32): WaitQueue {
  return changetype<WaitQueue>(buckets + <usize>(index * BUCKET_BYTES));
}

function onFutexTimeout(threadAddress: usize): void {
  wakeThread(changetype<Thread>(threadAddress), -ETIMEDOUT);
}

/**
 * Sleeps while the u32 at `key` equals `expected`, until woken by a matching
 * wake or until TSC value `deadline` (0: none). 0 when woken, -EAGAIN if the
 * value differed, -ETIMEDOUT, -EFAULT, -EINVAL for an empty bitset.
 */
export function futexWait(key: u64, expected: u32, deadline: u64, bitset: u32): i32 {
  if (bitset == 0) return -EINVAL;
  let index = bucketIndex(key);
  let queue = bucket(index);
  let flags = waitQueueLock(queue);
  let value = accessRead32(key);
  if (value < 0) {
    waitQueueUnlock(queue, flags);
    return <i32>value;
  }
  if (<u32>value != expected) {
    waitQueueUnlock(queue, flags);
    return -EAGAIN;
  }
  let self = currentThread();
  self.futexKey = key;
  self.futexBitset = bitset;
  self.futexBucket = index;
  self.waitResult = 0;
  waitQueueAppend(queue, self);
  atomicStore32(changetype<usize>(self) + offsetof<Thread>("state"), THREAD_BLOCKED);
  waitQueueUnlock(queue, flags & ~(<u64>0x200));
  let timer = changetype<Timer>(self.timer);
  if (deadline != 0) timerStart(timer, deadline, onFutexTimeout, changetype<usize>(self));
  schedule(SCHED_BLOCK);
  if (deadline != 0) timerCancel(timer);
  let result = self.waitResult;
  if (result == -ETIMEDOUT) {
    // Requeue may have moved us to another bucket meanwhile: chase it.
    while (true) {
      let current = self.futexBucket;
      let f = waitQueueLock(bucket(current));
      if (self.futexBucket == current) {
        waitQueueRemove(bucket(current), self);
        waitQueueUnlock(bucket(current), f);
        break;
      }
      waitQueueUnlock(bucket(current), f);
    }
  }
  interruptsRestore(flags);
  return result;
}

/** Wakes up to `count` waiters on `key` whose bitset intersects `bitset`; with the bucket locked. */
function wakeLocked(queue: WaitQueue, key: u64, count: u32, bitset: u32): u32 {
  let woken: u32 = 0;
  let t = queue.head;
  while (t != 0 && woken < count) {
    let thread = changetype<Thread>(t);
    let next = thread.next;
    if (thread.futexKey == key && (thread.futexBitset & bitset) != 0) {
      waitQueueRemove(queue, thread);
      if (wakeThread(thread, 0)) woken++;
    }
    t = next;
  }
  return woken;
}

/** Wakes up to `count` waiters on `key` matching `bitset`; returns how many. */
export function futexWake(key: u64, count: u32, bitset: u32): i32 {
  if (bitset == 0) return -EINVAL;
  let queue = bucket(bucketIndex(key));
  let flags = waitQueueLock(queue);
  let woken = wakeLocked(queue, key, count, bitset);
  waitQueueUnlock(queue, flags);
  return <i32>woken;
}

/** Locks two buckets in index order (once if the same); returns the flags. */
function lockPair(a: u32, b: u32): u64 {
  let first = a < b ? a : b;
  let second = a < b ? b : a;
  let flags = waitQueueLock(bucket(first));
  if (second != first) waitQueueLock(bucket(second));
  return flags;
}

function unlockPair(a: u32, b: u32, flags: u64): void {
  let first = a < b ? a : b;
  let second = a < b ? b : a;
  if (second != first) waitQueueUnlock(bucket(second), 0);
  waitQueueUnlock(bucket(first), flags);
}

/**
 * REQUEUE / CMP_REQUEUE: wakes up to `wakeCount` waiters on `key`, moves up
 * to `requeueCount` more to `key2`. With `compare`, fails with -EAGAIN unless
 * the word at `key` equals `expected`. Returns the number woken, plus those
 * requeued for CMP_REQUEUE (as futex(2) documents).
 */
export function futexRequeue(key: u64, wakeCount: u32, key2: u64, requeueCount: u32, compare: bool, expected: u32): i32 {
  let from = bucketIndex(key);
  let to = bucketIndex(key2);
  let flags = lockPair(from, to);
  if (compare) {
    let value = accessRead32(key);
    if (value < 0 || <u32>value != expected) {
      unlockPair(from, to, flags);
      return value < 0 ? <i32>value : -EAGAIN;
    }
  }
  let source = bucket(from);
  let woken = wakeLocked(source, key, wakeCount, FUTEX_BITSET_MATCH_ANY);
  let moved: u32 = 0;
  let t = source.head;
  while (t != 0 && moved < requeueCount) {
    let thread = changetype<Thread>(t);
    let next = thread.next;
    if (thread.futexKey == key) {
      waitQueueRemove(source, thread);
      thread.futexKey = key2;
      thread.futexBucket = to;
      waitQueueAppend(bucket(to), thread);
      moved++;
    }
    t = next;
  }
  unlockPair(from, to, flags);
  return <i32>(compare ? woken + moved : woken);
}

/** Applies FUTEX_OP's operation to `old`. */
function applyOp(op: u32, old: u32, argument: u32): u32 {
  switch (op) {
    case 0: return argument; // SET
    case 1: return old + argument; // ADD
    case 2: return old | argument; // OR
    case 3: return old & ~argument; // ANDN
    default: return old ^ argument; // XOR (4)
  }
}

function compareOp(cmp: u32, old: i32, argument: i32): bool {
  switch (cmp) {
    case 0: return old == argument;
    case 1: return old != argument;
    case 2: return old < argument;
    case 3: return old <= argument;
    case 4: return old > argument;
    default: return old >= argument; // 5
  }
}

/** Sign-extends a 12-bit field. */
function signExtend12(value: u32): i32 {
  return (<i32>(value << 20)) >> 20;
}

/**
 * WAKE_OP: atomically updates the word at `key2` by the encoded operation,
 * wakes up to `count` waiters on `key`, and if the old value at `key2`
 * passes the encoded comparison, up to `count2` on `key2`. Returns the total woken.
 */
export function futexWakeOp(key: u64, count: u32, key2: u64, count2: u32, encoded: u32): i32 {
  let op = (encoded >> 28) & 7;
  let shift = (encoded >> 28) & 8;
  let cmp = (encoded >> 24) & 15;
  if (op > 4 || cmp > 5) return -ENOSYS; // Linux rejects unknown operations so
  let argument = <u32>signExtend12((encoded >> 12) & 0xfff);
  if (shift != 0) {
    if (argument > 31) return -EINVAL;
    argument = <u32>1 << argument;
  }
  let compareArgument = signExtend12(encoded & 0xfff);
  let a = bucketIndex(key);
  let b = bucketIndex(key2);
  let flags = lockPair(a, b);
  let old: i64 = 0;
  while (true) {
    old = accessRead32(key2);
    if (old < 0) break;
    let swapped = accessCompareExchange32(key2, <u32>old, applyOp(op, <u32>old, argument));
    if (swapped < 0) {
      old = swapped;
      break;
    }
    if (swapped == old) break;
  }
  if (old < 0) {
    unlockPair(a, b, flags);
    return <i32>old;
  }
  let woken = wakeLocked(bucket(a), key, count, FUTEX_BITSET_MATCH_ANY);
  if (compareOp(cmp, <i32><u32>old, compareArgument)) {
    woken += wakeLocked(bucket(b), key2, count2, FUTEX_BITSET_MATCH_ANY);
  }
  unlockPair(a, b, flags);
  return <i32>woken;
}
