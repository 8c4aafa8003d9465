// A test cable between two devices: what one end transmits the other
// receives after the link's latency (plus serialization at an optional rate),
// in delivery-time order. Each direction queues at most `slots` frames of up
// to the MTU; beyond that frames are dropped, like a full switch port. With a
// fault injector in front, frames may arrive late and out of order. Time is
// the caller's: a frame is receivable once `now` reaches its delivery time.
import { EAGAIN } from "../errno";
import { netAlloc, netFree } from "../mem";
import { NEVER, Device, deviceInit } from "./device";
import { ETH_HEADER_LEN } from "../wire/ethernet";

const META_BYTES: usize = 24; // at u64, len u32, flags u32, next u32, prev u32 (index + 1, 0 none)

@final @unmanaged
class TimedQueue {
  data: usize;
  meta: usize;
  slotSize: u32;
  slotCount: u32;
  freeHead: u32;
  head: u32;
  tail: u32;
  count: u32;
  /** Bytes per second (0: no limit) and when the transmitter is free again. */
  rate: u64;
  busyUntil: u64;
  latency: u64;
  dropped: u64;
}

// @ts-ignore: decorator
@inline function metaOf(q: TimedQueue, slot: u32): usize {
  return q.meta + <usize>(slot - 1) * META_BYTES;
}

function queueCreate(slots: u32, slotSize: u32, latency: u64, rate: u64): TimedQueue | null {
  let q = changetype<TimedQueue>(netAlloc(offsetof<TimedQueue>()));
  if (changetype<usize>(q) == 0) return null;
  q.data = netAlloc(<usize>slots * <usize>slotSize);
  q.meta = netAlloc(<usize>slots * META_BYTES);
  if (q.data == 0 || q.meta == 0) {
    netFree(q.data);
    netFree(q.meta);
    netFree(changetype<usize>(q));
    return null;
  }
  q.slotSize = slotSize;
  q.slotCount = slots;
  q.latency = latency;
  q.rate = rate;
  for (let i: u32 = 1; i <= slots; i++) store<u32>(metaOf(q, i), i < slots ? i + 1 : 0, 16);
  q.freeHead = 1;
  return q;
}

function queueDestroy(q: TimedQueue): void {
  netFree(q.data);
  netFree(q.meta);
  netFree(changetype<usize>(q));
}

function queuePush(q: TimedQueue, frame: usize, len: u32, now: u64): bool {
  let slot = q.freeHead;
  if (slot == 0 || len > q.slotSize) {
    q.dropped++;
    return false;
  }
  let m = metaOf(q, slot);
  q.freeHead = load<u32>(m, 16);
  let at = now;
  if (q.rate != 0) {
    let start = at > q.busyUntil ? at : q.busyUntil;
    q.busyUntil = start + <u64>len * 1000000000 / q.rate;
    at = q.busyUntil;
  }
  at += q.latency;
  memory.copy(q.data + <usize>(slot - 1) * <usize>q.slotSize, frame, len);
  store<u64>(m, at);
  store<u32>(m, len, 8);
  store<u32>(m, 0, 12);
  // Insert by delivery time, after frames due at the same time (FIFO among equals).
  let after = q.tail;
  while (after != 0 && load<u64>(metaOf(q, after)) > at) after = load<u32>(metaOf(q, after), 20);
  let before = after == 0 ? q.head : load<u32>(metaOf(q, after), 16);
  store<u32>(m, before, 16);
  store<u32>(m, after, 20);
  if (after == 0) q.head = slot;
  else store<u32>(metaOf(q, after), slot, 16);
  if (before == 0) q.tail = slot;
  else store<u32>(metaOf(q, before), slot, 20);
  q.count++;
  return true;
}

function queueNext(q: TimedQueue): u64 {
  return q.head == 0 ? NEVER : load<u64>(metaOf(q, q.head));
}

function queuePop(q: TimedQueue, out: usize, cap: u32, now: u64): u32 {
  let slot = q.head;
  if (slot == 0) return 0;
  let m = metaOf(q, slot);
  if (load<u64>(m) > now) return 0;
  let len = load<u32>(m, 8);
  let n = len < cap ? len : cap;
  memory.copy(out, q.data + <usize>(slot - 1) * <usize>q.slotSize, n);
  q.head = load<u32>(m, 16);
  if (q.head == 0) q.tail = 0;
  else store<u32>(metaOf(q, q.head), 0, 20);
  store<u32>(m, q.freeHead, 16);
  q.freeHead = slot;
  q.count--;
  return n;
}

@final @unmanaged
class LinkEnd {
  out: TimedQueue;
  into: TimedQueue;
}

@final @unmanaged
export class Link {
  a: Device;
  b: Device;
  ab: TimedQueue;
  ba: TimedQueue;
  endA: LinkEnd;
  endB: LinkEnd;
}

function linkTransmit(state: usize, frame: usize, len: u32, csumStart: u32, csumOffset: u32, now: u64): i32 {
  return queuePush(changetype<LinkEnd>(state).out, frame, len, now) ? 0 : -EAGAIN;
}

function linkReceive(state: usize, buf: usize, cap: u32, now: u64, flagsOut: usize): i32 {
  store<u32>(flagsOut, 0);
  return <i32>queuePop(changetype<LinkEnd>(state).into, buf, cap, now);
}

function linkDeadline(state: usize): u64 {
  return queueNext(changetype<LinkEnd>(state).into);
}

/**
 * A link between devices with MACs macA and macB: IP MTU `mtu`, `slots`
 * frames queued per direction, one-way `latency` ns and `rate` bytes/s (0:
 * unlimited). Neither end offloads checksums. Null when out of memory.
 */
export function linkCreate(mtu: u32, macA: u64, macB: u64, slots: u32, latency: u64, rate: u64): Link | null {
  let link = changetype<Link>(netAlloc(offsetof<Link>()));
  if (changetype<usize>(link) == 0) return null;
  let slotSize = mtu + ETH_HEADER_LEN;
  let ab = queueCreate(slots, slotSize, latency, rate);
  let ba = queueCreate(slots, slotSize, latency, rate);
  let a = changetype<Device>(netAlloc(offsetof<Device>()));
  let b = changetype<Device>(netAlloc(offsetof<Device>()));
  let endA = changetype<LinkEnd>(netAlloc(offsetof<LinkEnd>()));
  let endB = changetype<LinkEnd>(netAlloc(offsetof<LinkEnd>()));
  link.ab = changetype<TimedQueue>(changetype<usize>(ab));
  link.ba = changetype<TimedQueue>(changetype<usize>(ba));
  link.a = a;
  link.b = b;
  link.endA = endA;
  link.endB = endB;
  if (ab == null || ba == null || changetype<usize>(a) == 0 || changetype<usize>(b) == 0 ||
      changetype<usize>(endA) == 0 || changetype<usize>(endB) == 0) {
    linkDestroy(link);
    return null;
  }
  endA.out = link.ab;
  endA.into = link.ba;
  endB.out = link.ba;
  endB.into = link.ab;
  deviceInit(a, mtu, 0, macA, changetype<usize>(endA), changetype<usize>(linkTransmit),
    changetype<usize>(linkReceive), changetype<usize>(linkDeadline));
  deviceInit(b, mtu, 0, macB, changetype<usize>(endB), changetype<usize>(linkTransmit),
    changetype<usize>(linkReceive), changetype<usize>(linkDeadline));
  return link;
}

export function linkDestroy(link: Link): void {
  if (changetype<usize>(link.ab) != 0) queueDestroy(link.ab);
  if (changetype<usize>(link.ba) != 0) queueDestroy(link.ba);
  netFree(changetype<usize>(link.a));
  netFree(changetype<usize>(link.b));
  netFree(changetype<usize>(link.endA));
  netFree(changetype<usize>(link.endB));
  netFree(changetype<usize>(link));
}

/** Frames dropped because a direction's queue was full (a to b, b to a). */
export function linkDropped(link: Link, fromA: bool): u64 {
  return fromA ? link.ab.dropped : link.ba.dropped;
}

export function linkQueued(link: Link): u32 {
  return link.ab.count + link.ba.count;
}
