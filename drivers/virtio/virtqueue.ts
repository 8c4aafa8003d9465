// Split virtqueues (virtio 1.2, 2.7): descriptor free list, indirect
// descriptor tables (one preallocated table per ring slot, so a request of
// up to INDIRECT_MAX segments takes one ring descriptor), event-index
// notification and interrupt suppression, and a polling mode.
//
// Locking: every function here except vqCreate expects the caller to hold
// the queue's lock (vqLock/vqUnlock), which is a spinlock with interrupts
// off, so interrupt handlers and threads can share a queue.
//
// Memory ordering: the device runs concurrently (another host thread). The
// avail index is published with a release store after the descriptors and
// the ring entry; a full fence separates it from reading avail_event; the
// used index is read with an acquire load before the used entries.
import { atomicLoad32, atomicStore32, memoryFence } from "../../arch/x86_64/atomic";
import { heapAlloc, heapFree, TAG_DRIVERS } from "../../kernel/mm/heap";
import { spinLock, spinUnlock } from "../../kernel/sync/spinlock";
import {
  availEventAddress, availRingBytes, descFlags, descNext, descTableBytes, DESC_BYTES, ringDistance, setDescNext,
  usedEventAddress, usedRingBytes, vringNeedEvent, VRING_AVAIL_F_NO_INTERRUPT, VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT, VRING_USED_F_NO_NOTIFY, writeDesc,
} from "./ring";
import { ENOSPC, EINVAL } from "../../kernel/errno";
export { ENOSPC, EINVAL };

/** Segments a request may have and still go through one indirect descriptor. */
export const INDIRECT_MAX: u32 = 8;
/** A request segment as vqAdd reads it: address u64, length u32, flags u32 (SEG_WRITE). */
export const SEGMENT_BYTES: usize = 16;
/** The device writes this segment (it must come after every segment it reads). */
export const SEG_WRITE: u32 = 2;


@unmanaged
export class Virtqueue {
  lock: u32;
  index: u32;
  size: u32;
  freeHead: u32;
  freeCount: u32;
  /** Used entries consumed so far (u16 counter). */
  lastUsed: u32;
  /** Our copy of avail->idx (u16 counter) and avail->flags. */
  availIdx: u32;
  availFlags: u32;
  /** avail->idx at the last notification decision. */
  kickedIdx: u32;
  /** avail->idx at the last notification (event-index mode). */
  notifiedIdx: u32;
  desc: usize;
  avail: usize;
  used: usize;
  /** Token per head descriptor; 0 marks a free head. */
  tokens: usize;
  /** INDIRECT_MAX descriptors per ring slot, or 0 without VIRTIO_F_INDIRECT_DESC. */
  indirect: usize;
  eventIdx: u32;
  interruptsOff: u32;
  /** The owning VirtioDevice, and where and how wide a notification is written. */
  device: usize;
  notifyAddress: usize;
  notifyWidth: u32;
  /** Called from the interrupt handler with callbackArg. */
  callback: usize;
  callbackArg: usize;
  vector: u32;
  /** Bytes the device wrote into the buffer vqGetUsed returned last. */
  lastLength: u32;
  notifications: u64;
  interrupts: u64;
}

export function vqLock(vq: Virtqueue): u64 {
  return spinLock(changetype<usize>(vq) + offsetof<Virtqueue>("lock"));
}

export function vqUnlock(vq: Virtqueue, flags: u64): void {
  spinUnlock(changetype<usize>(vq) + offsetof<Virtqueue>("lock"), flags);
}

/** A queue of `size` entries (a power of two) with its rings; null when out of memory. */
export function vqCreate(index: u32, size: u32, indirect: bool, eventIdx: bool): Virtqueue | null {
  let record = heapAlloc(offsetof<Virtqueue>(), TAG_DRIVERS);
  if (record == 0) return null;
  let vq = changetype<Virtqueue>(record);
  let ringBytes = descTableBytes(size) + availRingBytes(size) + usedRingBytes(size);
  let rings = heapAlloc(ringBytes, TAG_DRIVERS);
  let tokens = heapAlloc(<usize>size * 4, TAG_DRIVERS);
  let tables: usize = indirect ? heapAlloc(<usize>size * <usize>INDIRECT_MAX * DESC_BYTES, TAG_DRIVERS) : 0;
  if (rings == 0 || tokens == 0 || (indirect && tables == 0)) {
    heapFree(rings);
    heapFree(tokens);
    heapFree(tables);
    heapFree(record);
    return null;
  }
  vq.index = index;
  vq.size = size;
  vq.desc = rings;
  vq.avail = rings + descTableBytes(size);
  vq.used = vq.avail + availRingBytes(size);
  vq.tokens = tokens;
  vq.indirect = tables;
  vq.eventIdx = eventIdx ? 1 : 0;
  for (let i: u32 = 0; i < size; i++) setDescNext(vq.desc, i, i + 1);
  vq.freeHead = 0;
  vq.freeCount = size;
  return vq;
}

/** Publishes avail->flags and avail->idx in one release store (both are ours). */
function publishAvail(vq: Virtqueue): void {
  atomicStore32(vq.avail, (vq.availFlags & 0xffff) | ((vq.availIdx & 0xffff) << 16));
}

function usedIdx(vq: Virtqueue): u32 {
  return atomicLoad32(vq.used) >>> 16;
}

/** Descriptors the next vqAdd of `count` segments needs. */
export function vqDescriptorsNeeded(vq: Virtqueue, count: u32): u32 {
  return vq.indirect != 0 && count > 1 && count <= INDIRECT_MAX ? 1 : count;
}

/**
 * Makes a request of `count` segments (at `segments`, SEGMENT_BYTES each,
 * device-readable ones first) available under `token` (non-zero).
 * Returns 0, or -ENOSPC when the ring is full. Does not notify: vqKick.
 */
export function vqAdd(vq: Virtqueue, segments: usize, count: u32, token: usize): i32 {
  if (count == 0 || token == 0) return -EINVAL;
  let needed = vqDescriptorsNeeded(vq, count);
  if (needed > vq.freeCount) return -ENOSPC;
  let head = vq.freeHead;
  if (needed == 1 && count > 1) {
    let table = vq.indirect + <usize>head * <usize>INDIRECT_MAX * DESC_BYTES;
    for (let i: u32 = 0; i < count; i++) {
      let segment = segments + <usize>i * SEGMENT_BYTES;
      let flags = load<u32>(segment, 12) & SEG_WRITE;
      if (i + 1 < count) flags |= VRING_DESC_F_NEXT;
      writeDesc(table, i, load<u64>(segment), load<u32>(segment, 8), flags, i + 1);
    }
    vq.freeHead = descNext(vq.desc, head);
    writeDesc(vq.desc, head, <u64>table, count * <u32>DESC_BYTES, VRING_DESC_F_INDIRECT, 0);
    vq.freeCount--;
  } else {
    let index = head;
    for (let i: u32 = 0; i < count; i++) {
      let segment = segments + <usize>i * SEGMENT_BYTES;
      let flags = load<u32>(segment, 12) & SEG_WRITE;
      let next = descNext(vq.desc, index);
      if (i + 1 < count) flags |= VRING_DESC_F_NEXT;
      writeDesc(vq.desc, index, load<u64>(segment), load<u32>(segment, 8), flags, next);
      index = next;
    }
    // The chain's last descriptor keeps its free-list link in `next`: the
    // device ignores it without F_NEXT, and vqGetUsed relinks it.
    vq.freeHead = index;
    vq.freeCount -= count;
  }
  store<u32>(vq.tokens + <usize>head * 4, <u32>token);
  let slot = vq.availIdx & (vq.size - 1);
  store<u16>(vq.avail + 4 + <usize>slot * 2, <u16>head);
  vq.availIdx = (vq.availIdx + 1) & 0xffff;
  publishAvail(vq);
  return 0;
}

/**
 * Does the device want a notification? With event indices: has it asked for
 * one (avail_event) at an entry it has not consumed and that no notification
 * since covered, not only at entries added since the last call. The device's
 * "ring empty: set avail_event, fence, look again" and our "publish
 * avail->idx, fence, read avail_event" only work if both fences are real,
 * and QEMU 7.2's TCG drops the guest's fences with one vCPU (CF_PARALLEL
 * unset; later QEMU keeps them): both sides can read the other's old value
 * and the device sleeps with entries waiting. Judging only the new entries
 * never kicked it again (the transmit ring stalled for good: the network
 * freeze under load); this way the next call does.
 */
export function vqNeedsNotify(vq: Virtqueue): bool {
  memoryFence(); // our avail->idx store before reading the device's fields
  let old = vq.kickedIdx;
  let now = vq.availIdx;
  vq.kickedIdx = now;
  if (vq.eventIdx != 0) {
    let event = atomicLoad32(availEventAddress(vq.used, vq.size)) & 0xffff;
    // Entries a request at `from` or later is about: neither consumed nor
    // covered by our last notification (after which the device saw them).
    let from = vq.notifiedIdx;
    let consumed = usedIdx(vq);
    if (ringDistance(consumed, now) < ringDistance(from, now)) from = consumed;
    if (!vringNeedEvent(event, now, from)) return false;
    vq.notifiedIdx = now;
    return true;
  }
  if (old == now) return false;
  return (atomicLoad32(vq.used) & VRING_USED_F_NO_NOTIFY) == 0;
}

/** Notifies the device (the transport's doorbell) when it wants to be told. */
export function vqKick(vq: Virtqueue): void {
  if (!vqNeedsNotify(vq)) return;
  vq.notifications++;
  memoryFence();
  if (vq.notifyWidth == 4) store<u32>(vq.notifyAddress, vq.index);
  else store<u16>(vq.notifyAddress, <u16>vq.index);
  memoryFence();
}

/** Is a used entry waiting? */
export function vqHasUsed(vq: Virtqueue): bool {
  return usedIdx(vq) != vq.lastUsed;
}

/**
 * The token of the next completed request (its descriptors freed), or 0 when
 * none is waiting; vq.lastLength is what the device wrote.
 */
export function vqGetUsed(vq: Virtqueue): usize {
  if (usedIdx(vq) == vq.lastUsed) return 0;
  let slot = vq.lastUsed & (vq.size - 1);
  let element = vq.used + 4 + <usize>slot * 8;
  let head = load<u32>(element);
  vq.lastLength = load<u32>(element, 4);
  vq.lastUsed = (vq.lastUsed + 1) & 0xffff;
  if (head >= vq.size) return 0; // a broken device: skip the entry
  let token = <usize>load<u32>(vq.tokens + <usize>head * 4);
  store<u32>(vq.tokens + <usize>head * 4, 0);
  // Free the chain: its descriptors go back in front of the free list.
  let last = head;
  let count: u32 = 1;
  if ((descFlags(vq.desc, head) & VRING_DESC_F_INDIRECT) == 0) {
    while ((descFlags(vq.desc, last) & VRING_DESC_F_NEXT) != 0 && count < vq.size) {
      last = descNext(vq.desc, last);
      count++;
    }
  }
  setDescNext(vq.desc, last, vq.freeHead);
  vq.freeHead = head;
  vq.freeCount += count;
  if (vq.eventIdx != 0) {
    // Ask for an interrupt at the next completion, or (polling) none soon.
    let event = vq.interruptsOff != 0 ? vq.lastUsed + 0x8000 : vq.lastUsed;
    store<u16>(usedEventAddress(vq.avail, vq.size), <u16>event);
    memoryFence();
  }
  return token;
}

/** Asks for interrupts again; true if completions are already waiting (poll them). */
export function vqEnableInterrupts(vq: Virtqueue): bool {
  vq.interruptsOff = 0;
  vq.availFlags &= ~VRING_AVAIL_F_NO_INTERRUPT;
  if (vq.eventIdx != 0) store<u16>(usedEventAddress(vq.avail, vq.size), <u16>vq.lastUsed);
  publishAvail(vq);
  memoryFence();
  return usedIdx(vq) != vq.lastUsed;
}

/** Asks the device not to interrupt (a hint: handlers must tolerate interrupts anyway). */
export function vqDisableInterrupts(vq: Virtqueue): void {
  vq.interruptsOff = 1;
  vq.availFlags |= VRING_AVAIL_F_NO_INTERRUPT;
  if (vq.eventIdx != 0) store<u16>(usedEventAddress(vq.avail, vq.size), <u16>(vq.lastUsed + 0x8000));
  publishAvail(vq);
}

/** Requests the device has not completed yet. */
export function vqInFlight(vq: Virtqueue): u32 {
  return ringDistance(vq.lastUsed, vq.availIdx);
}
