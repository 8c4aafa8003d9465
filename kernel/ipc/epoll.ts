// epoll instances. An instance keeps its items (one per (File, fd) pair
// registered with epoll_ctl) on a list, and the items that may be ready on a
// ready list that their PollHook callbacks fill. epoll_wait takes items off
// the ready list, asks each file for its readiness, reports the ready ones
// and puts level-triggered ones back (edge-triggered ones come back only
// through their callback; EPOLLONESHOT ones are disabled until EPOLL_CTL_MOD).
//
// Locking and lifetimes
// ---------------------
// Locks: the global hook lock (kernel/vfs/poll.ts) and each instance's own
// spinlock (the lock of its wait queue, where epoll_wait sleeps). The order
// is hook lock -> epoll lock: callbacks run under the hook lock and take the
// epoll lock; nothing here takes the hook lock (pollHookAdd/Remove) while
// holding the epoll lock, and nothing calls a file's poll operation with the
// epoll lock held either (a file type may notify under its own lock, which
// would make epoll lock -> type lock -> hook lock -> epoll lock a cycle).
//
// An item is freed when its reference count reaches 0. The registration
// holds one reference (`registered` = 1: on the instance's item list, hook
// on the file's head); epoll_wait holds one for each item it is examining
// with the lock dropped. The registration ends exactly once, decided under
// the epoll lock by whoever clears `registered`:
//  - epoll_ctl DEL clears it, unlinks the item, drops the lock, removes the
//    hook (pollHookRemove: once it returns no callback for it is running or
//    will run), then drops the reference. DEL holds a reference to the target
//    file (fdGet), so the file cannot be released meanwhile.
//  - The file's release (POLL_FREE): pollNotify has already unlinked the
//    hook and holds the hook lock; the callback clears `registered`, unlinks
//    the item and drops the reference, freeing it if it was the last
//    (pollNotify does not touch a hook after its callback returns).
//  - The instance's release (its File's last reference: no epoll_ctl or
//    epoll_wait can be running) takes items off one by one like DEL; a
//    concurrent POLL_FREE callback finds `registered` clear and does nothing,
//    and pollHookRemove waits for it to finish. The instance is freed after
//    the last item, when no callback can reach it.
// So the registration reference is dropped only once the hook is off the
// head, and a callback always finds its item (and the instance) alive.
//
// Files are not referenced by items (as on Linux: closing the last
// descriptor releases the file and the item goes away). To examine an
// item's file, epoll_wait takes a reference only if the count is not
// already 0 (fileTryGet under the epoll lock: the file's memory stays
// valid while the lock is held, because its release must pass the POLL_FREE
// callback, which takes the same lock); a file whose count is 0 is being
// released and is skipped. The references are dropped after the epoll lock
// is released (the last one may run the POLL_FREE callback, which takes it).
//
// The instance's own File can be polled (POLLIN while the ready list is not
// empty): callbacks tell its pollers with pollNotifyLocked, as they already
// hold the hook lock. An epoll instance cannot be added to another one
// (-EINVAL; Linux allows nesting and checks for cycles with ELOOP): that
// keeps every callback chain to one epoll lock.
import { atomicCompareExchange32, atomicLoad32 } from "../../arch/x86_64/atomic";
import { EEXIST, EINVAL, ENOENT, ENOMEM, EPERM, ETIMEDOUT } from "../errno";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import { spinLock, spinUnlock } from "../sync/spinlock";
import {
  WaitQueue, waitQueueInit, waitQueueLockAddress, waitQueueSleepLocked, waitQueueWakeLocked,
} from "../sync/waitqueue";
import {
  File, FilePoll, FileRelease, FileStat, fileCreate, fileHas, fileIsType, fileNotify, filePoll, filePollHead, filePut,
  OP_POLL, O_RDWR,
} from "../vfs/file";
import {
  POLL_FREE, POLLIN, POLLRDNORM, PollHook, pollHookAdd, pollHookInit, pollHookRemove, pollNotifyLocked,
} from "../vfs/poll";
import { ANON_INODE_DEV, ANON_INODE_INO, ipcStat } from "./inode";

export const EPOLL_CTL_ADD: u32 = 1;
export const EPOLL_CTL_DEL: u32 = 2;
export const EPOLL_CTL_MOD: u32 = 3;
export const EPOLLIN: u32 = 0x001;
export const EPOLLOUT: u32 = 0x004;
export const EPOLLERR: u32 = 0x008;
export const EPOLLHUP: u32 = 0x010;
export const EPOLLRDHUP: u32 = 0x2000;
export const EPOLLEXCLUSIVE: u32 = 1 << 28;
export const EPOLLWAKEUP: u32 = 1 << 29;
export const EPOLLONESHOT: u32 = 1 << 30;
export const EPOLLET: u32 = 1 << 31;
/** Flags that are not events (Linux's EP_PRIVATE_BITS). */
const PRIVATE_BITS: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/** What EPOLLEXCLUSIVE may be combined with. */
const EXCLUSIVE_OK: u32 = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/** Bytes of struct epoll_event on x86-64 (packed: u32 events, u64 data). */
export const EPOLL_EVENT_BYTES: usize = 12;
/** Items examined per trip with the lock dropped. */
const BATCH: u32 = 32;
/** Bytes epollWait needs as work space besides the output. */
export const EPOLL_WORK_BYTES: usize = <usize>BATCH * (2 * sizeof<usize>() + 4);

@unmanaged
class Epoll {
  // The WaitQueue fields first, so the record is also a WaitQueue: its lock
  // guards everything below, epoll_wait sleeps on it.
  lock: u32;
  head: usize;
  tail: usize;
  /** Registered items (doubly linked through itemNext/itemPrevious). */
  items: usize;
  readyFirst: usize;
  readyLast: usize;
  readyCount: u32;
  /** The instance's own File, for its pollers. */
  file: usize;
}

@unmanaged
class EpollItem {
  // A PollHook first (next, previous, head, callback, context).
  hookNext: usize;
  hookPrevious: usize;
  hookHead: usize;
  hookCallback: usize;
  hookContext: usize;
  epoll: usize;
  file: usize;
  fd: u32;
  /** Requested events with EPOLLERR|EPOLLHUP and the flag bits; only flag bits once a ONESHOT item fired. */
  events: u32;
  data: u64;
  refs: u32;
  registered: u32;
  ready: u32;
  itemNext: usize;
  itemPrevious: usize;
  readyNext: usize;
  readyPrevious: usize;
}

function lockOf(epoll: Epoll): usize {
  return changetype<usize>(epoll);
}

function queue(epoll: Epoll): WaitQueue {
  return changetype<WaitQueue>(changetype<usize>(epoll));
}

function hookOf(item: EpollItem): PollHook {
  return changetype<PollHook>(changetype<usize>(item));
}

/** A reference to `file` unless its count already reached 0 (it is being released). */
function fileTryGet(file: File): bool {
  let refs = changetype<usize>(file) + offsetof<File>("refs");
  while (true) {
    let old = atomicLoad32(refs);
    if (old == 0) return false;
    if (atomicCompareExchange32(refs, old, old + 1) == old) return true;
  }
  return false;
}

/** May the item report anything (a fired ONESHOT item may not)? */
function enabled(item: EpollItem): bool {
  return (item.events & ~PRIVATE_BITS) != 0;
}

function readyAppendLocked(epoll: Epoll, item: EpollItem): void {
  item.ready = 1;
  item.readyNext = 0;
  item.readyPrevious = epoll.readyLast;
  if (epoll.readyLast != 0) changetype<EpollItem>(epoll.readyLast).readyNext = changetype<usize>(item);
  else epoll.readyFirst = changetype<usize>(item);
  epoll.readyLast = changetype<usize>(item);
  epoll.readyCount++;
}

function readyRemoveLocked(epoll: Epoll, item: EpollItem): void {
  if (item.ready == 0) return;
  if (item.readyPrevious != 0) changetype<EpollItem>(item.readyPrevious).readyNext = item.readyNext;
  else epoll.readyFirst = item.readyNext;
  if (item.readyNext != 0) changetype<EpollItem>(item.readyNext).readyPrevious = item.readyPrevious;
  else epoll.readyLast = item.readyPrevious;
  item.readyNext = 0;
  item.readyPrevious = 0;
  item.ready = 0;
  epoll.readyCount--;
}

/** Ends the registration: off both lists. The caller then owns its reference. */
function unregisterLocked(epoll: Epoll, item: EpollItem): void {
  item.registered = 0;
  readyRemoveLocked(epoll, item);
  if (item.itemPrevious != 0) changetype<EpollItem>(item.itemPrevious).itemNext = item.itemNext;
  else epoll.items = item.itemNext;
  if (item.itemNext != 0) changetype<EpollItem>(item.itemNext).itemPrevious = item.itemPrevious;
  item.itemNext = 0;
  item.itemPrevious = 0;
}

/** Drops a reference with the lock held, freeing the item on the last. */
function itemPutLocked(item: EpollItem): void {
  item.refs--;
  if (item.refs == 0) heapFree(changetype<usize>(item));
}

function findLocked(epoll: Epoll, file: File, fd: u32): EpollItem | null {
  let item = epoll.items;
  while (item != 0) {
    let it = changetype<EpollItem>(item);
    if (it.file == changetype<usize>(file) && it.fd == fd) return it;
    item = it.itemNext;
  }
  return null;
}

/** Queues a ready, enabled item and wakes epoll_wait; true if it was queued now. */
function markReadyLocked(epoll: Epoll, item: EpollItem): bool {
  if (item.ready != 0) return false;
  readyAppendLocked(epoll, item);
  waitQueueWakeLocked(queue(epoll), U32.MAX_VALUE, 0);
  return true;
}

function onItemNotify(hook: PollHook, events: u32): void {
  let item = changetype<EpollItem>(hook.context);
  let epoll = changetype<Epoll>(item.epoll);
  let flags = spinLock(lockOf(epoll));
  if ((events & POLL_FREE) != 0) {
    if (item.registered != 0) {
      unregisterLocked(epoll, item);
      itemPutLocked(item);
    }
    spinUnlock(lockOf(epoll), flags);
    return;
  }
  let queued = false;
  if (item.registered != 0 && enabled(item) && (events & item.events) != 0) queued = markReadyLocked(epoll, item);
  let own = epoll.file;
  spinUnlock(lockOf(epoll), flags);
  // The instance's File outlives this: its release must remove this
  // registered item's hook, which waits for the hook lock held here.
  if (queued && own != 0) pollNotifyLocked(filePollHead(changetype<File>(own)), POLLIN | POLLRDNORM);
}

function epollOf(file: File): Epoll {
  return changetype<Epoll>(file.node);
}

function epollPoll(file: File): u32 {
  let epoll = epollOf(file);
  if (epoll.readyFirst == 0) return 0;
  // Ask the queued items themselves (a level-triggered item stays queued
  // after it was reported, and may have been drained since).
  let work = heapAlloc(EPOLL_WORK_BYTES, TAG_FS);
  if (work == 0) return POLLIN | POLLRDNORM;
  let ready = harvest(epoll, 0, 1, work, true);
  heapFree(work);
  return ready != 0 ? POLLIN | POLLRDNORM : 0;
}

function epollStat(file: File, st: usize): i64 {
  ipcStat(st, ANON_INODE_DEV, ANON_INODE_INO, 0o600, 4096);
  return 0;
}

function epollRelease(file: File): void {
  let epoll = epollOf(file);
  while (true) {
    let flags = spinLock(lockOf(epoll));
    let address = epoll.items;
    if (address == 0) {
      epoll.file = 0;
      spinUnlock(lockOf(epoll), flags);
      break;
    }
    let item = changetype<EpollItem>(address);
    unregisterLocked(epoll, item);
    spinUnlock(lockOf(epoll), flags);
    pollHookRemove(hookOf(item));
    flags = spinLock(lockOf(epoll));
    itemPutLocked(item);
    spinUnlock(lockOf(epoll), flags);
  }
  heapFree(changetype<usize>(epoll));
}

export const EPOLL_OPS: StaticArray<usize> = [
  0, // read: -EINVAL
  0, // write: -EINVAL
  changetype<usize>(<FilePoll>epollPoll),
  0, // ioctl: -ENOTTY
  changetype<usize>(<FileStat>epollStat),
  0, // seek: -ESPIPE
  0, // readdir
  0, // truncate
  changetype<usize>(<FileRelease>epollRelease),
];

export function fileIsEpoll(file: File): bool {
  return fileIsType(file, EPOLL_OPS);
}

/** A new epoll instance's File, or null when out of memory. */
export function epollOpen(): File | null {
  let epoll = changetype<Epoll>(heapAlloc(offsetof<Epoll>(), TAG_FS));
  if (changetype<usize>(epoll) == 0) return null;
  waitQueueInit(queue(epoll));
  epoll.items = 0;
  epoll.readyFirst = 0;
  epoll.readyLast = 0;
  epoll.readyCount = 0;
  let file = fileCreate(EPOLL_OPS, O_RDWR, changetype<usize>(epoll), 0);
  if (file === null) {
    heapFree(changetype<usize>(epoll));
    return null;
  }
  epoll.file = changetype<usize>(file);
  return file;
}

/**
 * After ADD or MOD: asks the file itself (no lock held) and queues the item
 * found under (file, fd) if it is ready. A change after the check reaches
 * the callback, as the item is registered by now.
 */
function checkReady(epollFile: File, file: File, fd: u32): void {
  let epoll = epollOf(epollFile);
  let events = filePoll(file);
  let flags = spinLock(lockOf(epoll));
  let item = findLocked(epoll, file, fd);
  let queued = false;
  if (item !== null && enabled(item) && (events & item.events) != 0) queued = markReadyLocked(epoll, item);
  spinUnlock(lockOf(epoll), flags);
  if (queued) fileNotify(epollFile, POLLIN | POLLRDNORM);
}

/**
 * epoll_ctl on instance `epollFile` for `file` open as `fd` (the caller holds
 * references to both). 0 or -errno.
 */
export function epollCtl(epollFile: File, op: u32, fd: u32, file: File, events: u32, data: u64): i32 {
  // The checks in Linux's order.
  if (!fileHas(file, OP_POLL)) return -EPERM;
  if (op != EPOLL_CTL_DEL && (events & EPOLLEXCLUSIVE) != 0) {
    if (op == EPOLL_CTL_MOD || (events & ~EXCLUSIVE_OK) != 0) return -EINVAL;
  }
  if (!fileIsEpoll(epollFile) || epollFile === file) return -EINVAL;
  // Nested epoll is refused (see the top of the file).
  if (fileIsEpoll(file)) return -EINVAL;
  if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL) return -EINVAL;
  let epoll = epollOf(epollFile);
  let wanted = events | EPOLLERR | EPOLLHUP;
  if (op == EPOLL_CTL_ADD) {
    let item = changetype<EpollItem>(heapAlloc(offsetof<EpollItem>(), TAG_FS));
    if (changetype<usize>(item) == 0) return -ENOMEM;
    pollHookInit(hookOf(item), onItemNotify, changetype<usize>(item));
    item.epoll = changetype<usize>(epoll);
    item.file = changetype<usize>(file);
    item.fd = fd;
    item.events = wanted;
    item.data = data;
    item.refs = 1;
    item.registered = 0;
    item.ready = 0;
    item.itemNext = 0;
    item.itemPrevious = 0;
    item.readyNext = 0;
    item.readyPrevious = 0;
    // The hook goes on before the item is on the list: once on the list, a
    // DEL may remove the hook, so it must already be there. Until then the
    // callback ignores the item (registered = 0) and checkReady catches up.
    pollHookAdd(filePollHead(file), hookOf(item));
    let flags = spinLock(lockOf(epoll));
    if (findLocked(epoll, file, fd) !== null) {
      spinUnlock(lockOf(epoll), flags);
      pollHookRemove(hookOf(item));
      heapFree(changetype<usize>(item));
      return -EEXIST;
    }
    item.itemNext = epoll.items;
    if (epoll.items != 0) changetype<EpollItem>(epoll.items).itemPrevious = changetype<usize>(item);
    epoll.items = changetype<usize>(item);
    item.registered = 1;
    spinUnlock(lockOf(epoll), flags);
    checkReady(epollFile, file, fd);
    return 0;
  }
  let flags = spinLock(lockOf(epoll));
  let item = findLocked(epoll, file, fd);
  if (item === null) {
    spinUnlock(lockOf(epoll), flags);
    return -ENOENT;
  }
  if (op == EPOLL_CTL_MOD) {
    if ((item.events & EPOLLEXCLUSIVE) != 0) {
      spinUnlock(lockOf(epoll), flags);
      return -EINVAL;
    }
    item.events = wanted;
    item.data = data;
    spinUnlock(lockOf(epoll), flags);
    checkReady(epollFile, file, fd);
    return 0;
  }
  unregisterLocked(epoll, item);
  spinUnlock(lockOf(epoll), flags);
  pollHookRemove(hookOf(item));
  flags = spinLock(lockOf(epoll));
  itemPutLocked(item);
  spinUnlock(lockOf(epoll), flags);
  return 0;
}

/**
 * One pass over the ready list as it stands: writes up to `max` struct
 * epoll_event records to AS buffer `out`; returns how many. `work` holds
 * 2 * BATCH words and BATCH u32s. With `peek` (poll on the instance) it
 * writes nothing and only re-queues the items found ready, as they were.
 */
function harvest(epoll: Epoll, out: usize, max: u32, work: usize, peek: bool): u32 {
  let items = work;
  let files = work + <usize>BATCH * sizeof<usize>();
  let masks = files + <usize>BATCH * sizeof<usize>();
  let produced: u32 = 0;
  let flags = spinLock(lockOf(epoll));
  let budget = epoll.readyCount;
  while (produced < max && budget > 0) {
    let taken: u32 = 0;
    while (taken < BATCH && produced + taken < max && budget > 0 && epoll.readyFirst != 0) {
      let item = changetype<EpollItem>(epoll.readyFirst);
      readyRemoveLocked(epoll, item);
      budget--;
      // Its file is being released: the POLL_FREE callback is on its way.
      if (!fileTryGet(changetype<File>(item.file))) continue;
      item.refs++;
      store<usize>(items + <usize>taken * sizeof<usize>(), changetype<usize>(item));
      store<usize>(files + <usize>taken * sizeof<usize>(), item.file);
      taken++;
    }
    if (taken == 0) break;
    spinUnlock(lockOf(epoll), flags);
    for (let i: u32 = 0; i < taken; i++) {
      let file = changetype<File>(load<usize>(files + <usize>i * sizeof<usize>()));
      store<u32>(masks + <usize>i * 4, filePoll(file));
    }
    flags = spinLock(lockOf(epoll));
    for (let i: u32 = 0; i < taken; i++) {
      let item = changetype<EpollItem>(load<usize>(items + <usize>i * sizeof<usize>()));
      let events = load<u32>(masks + <usize>i * 4) & item.events & ~PRIVATE_BITS;
      if (item.registered != 0 && enabled(item) && events != 0 && peek) {
        produced++;
        if (item.ready == 0) readyAppendLocked(epoll, item);
      } else if (item.registered != 0 && enabled(item) && events != 0) {
        let record = out + <usize>produced * EPOLL_EVENT_BYTES;
        store<u32>(record, events);
        store<u64>(record + 4, item.data);
        produced++;
        if ((item.events & EPOLLONESHOT) != 0) item.events &= PRIVATE_BITS;
        else if ((item.events & EPOLLET) == 0 && item.ready == 0) readyAppendLocked(epoll, item);
      }
      itemPutLocked(item);
    }
    spinUnlock(lockOf(epoll), flags);
    // Outside the lock: a last reference runs the POLL_FREE callback.
    for (let i: u32 = 0; i < taken; i++) filePut(changetype<File>(load<usize>(files + <usize>i * sizeof<usize>())));
    flags = spinLock(lockOf(epoll));
  }
  spinUnlock(lockOf(epoll), flags);
  return produced;
}


/**
 * epoll_wait on `epollFile` (an epoll File the caller holds): up to `max`
 * events into AS buffer `out` (EPOLL_EVENT_BYTES each), waiting until one is
 * ready or TSC `deadline` passes (0: no deadline; `block` false: no wait).
 * The number of events.
 */
export function epollWait(epollFile: File, out: usize, max: u32, work: usize, block: bool, deadline: u64): u32 {
  let epoll = epollOf(epollFile);
  let timedOut = false;
  while (true) {
    let produced = harvest(epoll, out, max, work, false);
    if (produced != 0 || !block || timedOut) return produced;
    let flags = spinLock(waitQueueLockAddress(queue(epoll)));
    if (epoll.readyFirst != 0) {
      spinUnlock(waitQueueLockAddress(queue(epoll)), flags);
      continue;
    }
    if (waitQueueSleepLocked(queue(epoll), flags, deadline) == -ETIMEDOUT) timedOut = true;
  }
  return 0;
}
