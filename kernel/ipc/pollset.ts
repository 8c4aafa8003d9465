// The waiting side of poll(2) and select(2): a set of Files, each with a
// reference held and a PollHook on its head whose callback signals one
// Event (drivers/event.ts). The caller clears the event, checks every
// file's readiness, and sleeps on the event only if nothing was ready: a
// notification between the check and the sleep leaves the event set, so it
// is never lost. Hooks are removed (pollHookRemove: afterwards no callback
// runs) before the references are dropped and the set is freed.
import { Event, eventSignal, eventTake, eventWait } from "../../drivers/event";
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";
import { waitQueueInit, WaitQueue } from "../sync/waitqueue";
import { File, filePollHead, filePut } from "../vfs/file";
import { PollHook, pollHookAdd, pollHookInit, pollHookRemove } from "../vfs/poll";

@unmanaged
export class PollSet {
  // The Event fields first, so the record is also an Event.
  lock: u32;
  head: usize;
  tail: usize;
  pending: u32;
  count: u32;
  /** `count` File pointers (0: no file at that index). */
  files: usize;
  /** `count` PollHooks. */
  hooks: usize;
}

function eventOf(set: PollSet): Event {
  return changetype<Event>(changetype<usize>(set));
}

function hookAt(set: PollSet, index: u32): PollHook {
  return changetype<PollHook>(set.hooks + <usize>index * offsetof<PollHook>());
}

function onNotify(hook: PollHook, events: u32): void {
  // Runs under the hook lock; the event's own lock nests inside it.
  eventSignal(changetype<Event>(hook.context));
}

/** A set for `count` files, none attached yet; null when out of memory. */
export function pollSetCreate(count: u32): PollSet | null {
  let header = (offsetof<PollSet>() + 15) & ~<usize>15;
  let bytes = header + <usize>count * (sizeof<usize>() + offsetof<PollHook>());
  let address = heapAlloc(bytes, TAG_FS);
  if (address == 0) return null;
  memory.fill(address, 0, bytes);
  let set = changetype<PollSet>(address);
  waitQueueInit(changetype<WaitQueue>(address));
  set.pending = 0;
  set.count = count;
  set.files = address + header;
  set.hooks = set.files + <usize>count * sizeof<usize>();
  return set;
}

/** Hands `file` (with the caller's reference, which the set now owns) to index `index` and hooks it. */
export function pollSetAttach(set: PollSet, index: u32, file: File): void {
  if (index >= set.count) abort("pollSetAttach: index out of range");
  store<usize>(set.files + <usize>index * sizeof<usize>(), changetype<usize>(file));
  let hook = hookAt(set, index);
  pollHookInit(hook, onNotify, changetype<usize>(set));
  pollHookAdd(filePollHead(file), hook);
}

/** The file at `index`, or null. */
export function pollSetFile(set: PollSet, index: u32): File | null {
  if (index >= set.count) return null;
  let file = load<usize>(set.files + <usize>index * sizeof<usize>());
  return file != 0 ? changetype<File>(file) : null;
}

/** Forgets earlier notifications: call before checking readiness. */
export function pollSetArm(set: PollSet): void {
  eventTake(eventOf(set));
}

/** Sleeps until a file is notified (true) or TSC `deadline` passes (false; 0: no deadline). */
export function pollSetWait(set: PollSet, deadline: u64): bool {
  return eventWait(eventOf(set), deadline);
}

/** Unhooks every file, drops the references and frees the set. */
export function pollSetDestroy(set: PollSet): void {
  for (let i: u32 = 0; i < set.count; i++) {
    let file = load<usize>(set.files + <usize>i * sizeof<usize>());
    if (file == 0) continue;
    pollHookRemove(hookAt(set, i));
    filePut(changetype<File>(file));
  }
  heapFree(changetype<usize>(set));
}
