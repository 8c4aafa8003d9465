// Readiness notification: every open file has a PollHead, a list of hooks
// that poll/select waiters and epoll instances hang on it. When a file's
// readiness may have changed, its owner calls pollNotify with the events that
// changed; each hook's callback runs with the hook lock held (it must not
// sleep or add or remove hooks). POLL_FREE tells hooks the file is going
// away: pollNotify unlinks them itself before calling them.
//
// One lock guards every hook list: a hook's owner may remove it while the
// file is being released (pollHookRemove then finds it already unlinked and
// never touches the freed head), and once pollHookRemove returns no callback
// for that hook is running.
import { spinLock, spinUnlock } from "../sync/spinlock";

// poll(2) event bits (asm-generic/poll.h); epoll uses the same values.
export const POLLIN: u32 = 0x001;
export const POLLPRI: u32 = 0x002;
export const POLLOUT: u32 = 0x004;
export const POLLERR: u32 = 0x008;
export const POLLHUP: u32 = 0x010;
export const POLLNVAL: u32 = 0x020;
export const POLLRDNORM: u32 = 0x040;
export const POLLRDBAND: u32 = 0x080;
export const POLLWRNORM: u32 = 0x100;
export const POLLWRBAND: u32 = 0x200;
export const POLLRDHUP: u32 = 0x2000;
/** Not a poll(2) bit: the file is being released (Linux's POLLFREE). */
export const POLL_FREE: u32 = 0x4000;

/** Called when the hooked file's readiness may have changed. */
export type PollCallback = (hook: PollHook, events: u32) => void;

@unmanaged
export class PollHead {
  first: usize;
}

const hookLock = memory.data(4, 4);

@unmanaged
export class PollHook {
  next: usize;
  previous: usize;
  /** The head this hook is on, 0 when on none. */
  head: usize;
  /** A PollCallback. */
  callback: usize;
  /** For the hook's owner (a waiter, an epoll item). */
  context: usize;
}

export function pollHeadInit(head: PollHead): void {
  head.first = 0;
}

export function pollHookInit(hook: PollHook, callback: PollCallback, context: usize): void {
  hook.next = 0;
  hook.previous = 0;
  hook.head = 0;
  hook.callback = changetype<usize>(callback);
  hook.context = context;
}

/** Hangs `hook` (on no head) on `head`. */
export function pollHookAdd(head: PollHead, hook: PollHook): void {
  let flags = spinLock(hookLock);
  hook.previous = 0;
  hook.next = head.first;
  if (head.first != 0) changetype<PollHook>(head.first).previous = changetype<usize>(hook);
  head.first = changetype<usize>(hook);
  hook.head = changetype<usize>(head);
  spinUnlock(hookLock, flags);
}

function unlinkLocked(head: PollHead, hook: PollHook): void {
  if (hook.previous != 0) changetype<PollHook>(hook.previous).next = hook.next;
  else head.first = hook.next;
  if (hook.next != 0) changetype<PollHook>(hook.next).previous = hook.previous;
  hook.next = 0;
  hook.previous = 0;
  hook.head = 0;
}

/** Takes `hook` off its head, if it is on one. Safe against a concurrent POLL_FREE; afterwards its callback is not running. */
export function pollHookRemove(hook: PollHook): void {
  let flags = spinLock(hookLock);
  if (hook.head != 0) unlinkLocked(changetype<PollHead>(hook.head), hook);
  spinUnlock(hookLock, flags);
}

/** Tells every hook on `head` that `events` may have changed. */
export function pollNotify(head: PollHead, events: u32): void {
  // Unlocked peek: a hook added concurrently is followed by its owner
  // checking readiness itself.
  if (head.first == 0) return;
  let flags = spinLock(hookLock);
  notifyLocked(head, events);
  spinUnlock(hookLock, flags);
}

/**
 * pollNotify for a callback, which already runs under the hook lock (an
 * epoll instance telling the pollers of its own file that an item became
 * ready). Not for POLL_FREE.
 */
export function pollNotifyLocked(head: PollHead, events: u32): void {
  notifyLocked(head, events & ~POLL_FREE);
}

function notifyLocked(head: PollHead, events: u32): void {
  let hook = head.first;
  while (hook != 0) {
    let next = changetype<PollHook>(hook).next;
    if ((events & POLL_FREE) != 0) unlinkLocked(head, changetype<PollHook>(hook));
    changetype<PollCallback>(changetype<PollHook>(hook).callback)(changetype<PollHook>(hook), events);
    hook = next;
  }
}
