// The ARP cache of one interface (RFC 826, RFC 1122 2.3.2): a fixed table of
// entries, each INCOMPLETE (a request is out; packets for it wait in a
// bounded pending queue) or REACHABLE (until it expires). Pending packets
// are whole frames in a fixed pool of MTU-sized slots; an entry keeps at most
// `perEntry` of them (the oldest are dropped), the pool at most PENDING_SLOTS.
import { netAlloc, netFree } from "../mem";

export const ARP_ENTRIES: u32 = 32;
export const PENDING_SLOTS: u32 = 32;

export const ARP_FREE: u32 = 0;
export const ARP_INCOMPLETE: u32 = 1;
export const ARP_REACHABLE: u32 = 2;

// Entry: ip u32 @0, state u32 @4, mac u64 @8, expires u64 @16 (REACHABLE:
// valid until; INCOMPLETE: next retransmission), retries u32 @24, first
// pending slot u16 @28 (index + 1), pending count u16 @30.
const ENTRY_BYTES: usize = 32;
// Pending slot: next u32 @0 (index + 1), length u32 @4, checksum offload u32 @8
// (start << 16 | offset, 0xffffffff none), frame at @16.
const SLOT_HEADER: usize = 16;

@final @unmanaged
export class ArpCache {
  entries: usize;
  slots: usize;
  slotBytes: u32;
  freeSlot: u32;
  pendingDropped: u64;
}

/** A cache whose pending slots hold frames of up to `frameBytes` (0: no pending queue). */
export function arpCacheCreate(frameBytes: u32): ArpCache | null {
  let c = changetype<ArpCache>(netAlloc(offsetof<ArpCache>()));
  if (changetype<usize>(c) == 0) return null;
  c.slotBytes = <u32>SLOT_HEADER + ((frameBytes + 15) & ~15);
  c.entries = netAlloc(<usize>ARP_ENTRIES * ENTRY_BYTES);
  c.slots = frameBytes != 0 ? netAlloc(<usize>PENDING_SLOTS * <usize>c.slotBytes) : 0;
  if (c.entries == 0 || (frameBytes != 0 && c.slots == 0)) {
    arpCacheDestroy(c);
    return null;
  }
  if (frameBytes != 0) {
    for (let i: u32 = 1; i <= PENDING_SLOTS; i++) store<u32>(slotAt(c, i), i < PENDING_SLOTS ? i + 1 : 0);
    c.freeSlot = 1;
  }
  return c;
}

export function arpCacheDestroy(c: ArpCache): void {
  netFree(c.entries);
  netFree(c.slots);
  netFree(changetype<usize>(c));
}

// @ts-ignore: decorator
@inline export function arpEntry(c: ArpCache, i: u32): usize {
  return c.entries + <usize>i * ENTRY_BYTES;
}
// @ts-ignore: decorator
@inline export function slotAt(c: ArpCache, slot: u32): usize {
  return c.slots + <usize>(slot - 1) * <usize>c.slotBytes;
}
// @ts-ignore: decorator
@inline export function entryIp(e: usize): u32 { return load<u32>(e); }
// @ts-ignore: decorator
@inline export function entryState(e: usize): u32 { return load<u32>(e, 4); }
// @ts-ignore: decorator
@inline export function entryMac(e: usize): u64 { return load<u64>(e, 8); }
// @ts-ignore: decorator
@inline export function entryExpires(e: usize): u64 { return load<u64>(e, 16); }
// @ts-ignore: decorator
@inline export function entryRetries(e: usize): u32 { return load<u32>(e, 24); }
// @ts-ignore: decorator
@inline export function setEntryRetries(e: usize, n: u32): void { store<u32>(e, n, 24); }
// @ts-ignore: decorator
@inline export function setEntryExpires(e: usize, t: u64): void { store<u64>(e, t, 16); }
// @ts-ignore: decorator
@inline export function slotFrame(slot: usize): usize { return slot + SLOT_HEADER; }
// @ts-ignore: decorator
@inline export function slotLength(slot: usize): u32 { return load<u32>(slot, 4); }
// @ts-ignore: decorator
@inline export function slotOffload(slot: usize): u32 { return load<u32>(slot, 8); }

/** The entry for `ip` (any state), or 0. */
export function arpFind(c: ArpCache, ip: u32): usize {
  for (let i: u32 = 0; i < ARP_ENTRIES; i++) {
    let e = arpEntry(c, i);
    if (entryState(e) != ARP_FREE && entryIp(e) == ip) return e;
  }
  return 0;
}

/** Drops the entry's pending frames. */
export function arpDropPending(c: ArpCache, e: usize): void {
  let slot = <u32>load<u16>(e, 28);
  while (slot != 0) {
    let p = slotAt(c, slot);
    let next = load<u32>(p);
    store<u32>(p, c.freeSlot);
    c.freeSlot = slot;
    c.pendingDropped++;
    slot = next;
  }
  store<u16>(e, 0, 28);
  store<u16>(e, 0, 30);
}

export function arpRemove(c: ArpCache, e: usize): void {
  arpDropPending(c, e);
  memory.fill(e, 0, ENTRY_BYTES);
}

/** A new entry for `ip`: a free one, else the REACHABLE one expiring first; 0 if all are resolving. */
export function arpAllocate(c: ArpCache, ip: u32): usize {
  let victim: usize = 0;
  for (let i: u32 = 0; i < ARP_ENTRIES; i++) {
    let e = arpEntry(c, i);
    let state = entryState(e);
    if (state == ARP_FREE) {
      victim = e;
      break;
    }
    if (state == ARP_REACHABLE && (victim == 0 || entryExpires(e) < entryExpires(victim))) victim = e;
  }
  if (victim == 0) return 0;
  arpRemove(c, victim);
  store<u32>(victim, ip);
  return victim;
}

export function arpSetReachable(e: usize, mac: u64, until: u64): void {
  store<u32>(e, ARP_REACHABLE, 4);
  store<u64>(e, mac, 8);
  store<u64>(e, until, 16);
  store<u32>(e, 0, 24);
}

export function arpSetIncomplete(e: usize, retryAt: u64): void {
  store<u32>(e, ARP_INCOMPLETE, 4);
  store<u64>(e, 0, 8);
  store<u64>(e, retryAt, 16);
  store<u32>(e, 0, 24);
}

/**
 * Queues a copy of a frame for the entry (dropping its oldest beyond
 * `perEntry` or when the pool is empty). False if it could not be kept.
 */
export function arpEnqueue(c: ArpCache, e: usize, frame: usize, len: u32, offload: u32, perEntry: u32): bool {
  if (<usize>len + SLOT_HEADER > <usize>c.slotBytes) {
    c.pendingDropped++;
    return false;
  }
  if (<u32>load<u16>(e, 30) >= perEntry || c.freeSlot == 0) {
    // Drop this entry's oldest to make room (if it has any).
    let oldest = <u32>load<u16>(e, 28);
    if (oldest == 0) {
      c.pendingDropped++;
      return false;
    }
    let p = slotAt(c, oldest);
    store<u16>(e, <u16>load<u32>(p), 28);
    store<u16>(e, load<u16>(e, 30) - 1, 30);
    store<u32>(p, c.freeSlot);
    c.freeSlot = oldest;
    c.pendingDropped++;
  }
  let slot = c.freeSlot;
  let p = slotAt(c, slot);
  c.freeSlot = load<u32>(p);
  store<u32>(p, 0);
  store<u32>(p, len, 4);
  store<u32>(p, offload, 8);
  memory.copy(p + SLOT_HEADER, frame, len);
  // Append at the tail.
  let head = <u32>load<u16>(e, 28);
  if (head == 0) store<u16>(e, <u16>slot, 28);
  else {
    let t = head;
    while (load<u32>(slotAt(c, t)) != 0) t = load<u32>(slotAt(c, t));
    store<u32>(slotAt(c, t), slot);
  }
  store<u16>(e, load<u16>(e, 30) + 1, 30);
  return true;
}

/** Detaches the entry's first pending slot: its number (0 when none). Return it with arpReleaseSlot. */
export function arpTakePending(c: ArpCache, e: usize): u32 {
  let slot = <u32>load<u16>(e, 28);
  if (slot == 0) return 0;
  store<u16>(e, <u16>load<u32>(slotAt(c, slot)), 28);
  store<u16>(e, load<u16>(e, 30) - 1, 30);
  return slot;
}

export function arpReleaseSlot(c: ArpCache, slot: u32): void {
  store<u32>(slotAt(c, slot), c.freeSlot);
  c.freeSlot = slot;
}
