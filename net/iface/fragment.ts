// IPv4 reassembly (RFC 791 3.2, RFC 815): at most CONF_FRAG_BUFFERS
// datagrams at once (up to MAX_SLOTS), each in a 64 KiB buffer allocated
// when its first fragment arrives and freed when it completes or times out.
// Which bytes arrived is an assembler of at most RANGES ranges. Overlaps keep
// the bytes that came first (a later fragment only fills holes);
// inconsistent lengths or too many holes drop the datagram. When every slot
// is busy, the oldest datagram makes room.
import { NetCtx } from "../ctx";
import { netAlloc, netFree } from "../mem";
import { NEVER } from "../phy/device";
import { STAT_IP_REASSEMBLED, STAT_IP_REASSEMBLY_FAILED, STAT_RX_MALFORMED, Stack, stat } from "../stack";
import { IPV4_HEADER_LEN, Ipv4Packet } from "../wire/ipv4";
import { asmAdd, asmBytes, asmClear, asmCount, asmEnd, asmFront, asmStart } from "../socket/assembler";

export const MAX_SLOTS: u32 = 16;
const RANGES: u32 = 16;
const MAX_PAYLOAD: u32 = 65515;
const BUFFER_BYTES: usize = IPV4_HEADER_LEN + MAX_PAYLOAD;

// Slot: in use u32 @0, src @4, dst @8, ident @12, protocol @16, total payload
// length (0 until the last fragment) @20, buffer @24, deadline u64 @32,
// assembler @40.
const SLOT_BYTES: usize = 40 + 4 + (<usize>RANGES << 3);

@final @unmanaged
export class Reassembly {
  slots: usize;
  /** The slot whose datagram is being delivered (fragRelease frees it), -1 none. */
  current: i32;
  inUse: u32;
}

export function fragCreate(): Reassembly | null {
  let r = changetype<Reassembly>(netAlloc(offsetof<Reassembly>()));
  if (changetype<usize>(r) == 0) return null;
  r.slots = netAlloc(<usize>MAX_SLOTS * SLOT_BYTES);
  if (r.slots == 0) {
    netFree(changetype<usize>(r));
    return null;
  }
  r.current = -1;
  return r;
}

// @ts-ignore: decorator
@inline function slotAt(r: Reassembly, i: u32): usize {
  return r.slots + <usize>i * SLOT_BYTES;
}

function slotFree(r: Reassembly, s: usize): void {
  if (load<u32>(s) == 0) return;
  netFree(load<usize>(s, 24));
  memory.fill(s, 0, SLOT_BYTES);
  r.inUse--;
}

export function fragDestroy(r: Reassembly): void {
  for (let i: u32 = 0; i < MAX_SLOTS; i++) slotFree(r, slotAt(r, i));
  netFree(r.slots);
  netFree(changetype<usize>(r));
}

function drop(stack: Stack, s: usize): void {
  slotFree(stack.frag, s);
  stat(stack, STAT_IP_REASSEMBLY_FAILED);
}

/**
 * Takes the fragment at `p` (ctx.ip parsed). When it completes its
 * datagram: the datagram (a 20-byte header, then the payload; ctx.ip's
 * payloadLen set) for the caller to deliver and then fragRelease. Else 0.
 */
export function fragInput(stack: Stack, ctx: NetCtx, p: usize, now: u64): usize {
  let r = stack.frag;
  let ip = ctx.ip;
  let limit = stack.fragBuffers < MAX_SLOTS ? stack.fragBuffers : MAX_SLOTS;
  if (limit == 0) return 0;
  let s: usize = 0;
  let free: usize = 0;
  let oldest: usize = 0;
  for (let i: u32 = 0; i < limit; i++) {
    let c = slotAt(r, i);
    if (load<u32>(c) == 0) {
      if (free == 0) free = c;
      continue;
    }
    if (load<u32>(c, 4) == ip.src && load<u32>(c, 8) == ip.dst && load<u32>(c, 12) == ip.ident &&
        load<u32>(c, 16) == ip.protocol) {
      s = c;
      break;
    }
    if (oldest == 0 || load<u64>(c, 32) < load<u64>(oldest, 32)) oldest = c;
  }
  let off = ip.fragOffset;
  let len = ip.payloadLen;
  let end = off + len;
  if (end > MAX_PAYLOAD || (ip.moreFragments && (len & 7) != 0) || (ip.moreFragments && len == 0)) {
    stat(stack, STAT_RX_MALFORMED);
    if (s != 0) drop(stack, s);
    return 0;
  }
  if (s == 0) {
    if (free == 0) {
      drop(stack, oldest);
      free = oldest;
    }
    let buf = netAlloc(BUFFER_BYTES);
    if (buf == 0) {
      stat(stack, STAT_IP_REASSEMBLY_FAILED);
      return 0;
    }
    s = free;
    store<u32>(s, 1);
    store<u32>(s, ip.src, 4);
    store<u32>(s, ip.dst, 8);
    store<u32>(s, ip.ident, 12);
    store<u32>(s, ip.protocol, 16);
    store<u32>(s, 0, 20);
    store<usize>(s, buf, 24);
    store<u64>(s, now + stack.fragTimeout, 32);
    asmClear(s + 40);
    r.inUse++;
  }
  let total = load<u32>(s, 20);
  if (!ip.moreFragments) {
    if (total != 0 && total != end) {
      drop(stack, s);
      return 0;
    }
    total = end;
    store<u32>(s, total, 20);
  }
  let ranges = s + 40;
  if (total != 0 && (end > total || (asmCount(ranges) != 0 && asmEnd(ranges, asmCount(ranges) - 1) > total))) {
    drop(stack, s);
    return 0;
  }
  let buf = load<usize>(s, 24);
  let data = Ipv4Packet.at(p).payload;
  // Copy the parts no earlier fragment covered.
  let pos = off;
  let n = asmCount(ranges);
  for (let i: u32 = 0; i < n && pos < end; i++) {
    let rs = asmStart(ranges, i);
    let re = asmEnd(ranges, i);
    if (re <= pos) continue;
    if (rs >= end) break;
    if (rs > pos) memory.copy(buf + IPV4_HEADER_LEN + pos, data + (pos - off), rs - pos);
    pos = re;
  }
  if (pos < end) memory.copy(buf + IPV4_HEADER_LEN + pos, data + (pos - off), end - pos);
  if (!asmAdd(ranges, RANGES, off, end)) {
    drop(stack, s);
    return 0;
  }
  if (off == 0) {
    memory.copy(buf, p, IPV4_HEADER_LEN);
    store<u8>(buf, 0x45);
  }
  if (total == 0 || asmFront(ranges) != total) return 0;
  if (load<u8>(buf) != 0x45) {
    // Complete but the first fragment's header was never seen: cannot happen (offset 0 is in the range).
    drop(stack, s);
    return 0;
  }
  let h = Ipv4Packet.at(buf);
  h.totalLen = IPV4_HEADER_LEN + total;
  h.setFragment(false, false, 0);
  h.fillChecksum();
  ip.payloadLen = total;
  ip.moreFragments = false;
  ip.fragOffset = 0;
  ip.headerLen = IPV4_HEADER_LEN;
  r.current = <i32>((s - r.slots) / SLOT_BYTES);
  stat(stack, STAT_IP_REASSEMBLED);
  return buf;
}

/** Frees the datagram fragInput returned. */
export function fragRelease(stack: Stack): void {
  let r = stack.frag;
  if (r.current < 0) return;
  slotFree(r, slotAt(r, <u32>r.current));
  r.current = -1;
}

export function fragTimers(stack: Stack, now: u64): u32 {
  let r = stack.frag;
  if (r.inUse == 0) return 0;
  let work: u32 = 0;
  for (let i: u32 = 0; i < MAX_SLOTS; i++) {
    let s = slotAt(r, i);
    if (load<u32>(s) != 0 && load<u64>(s, 32) <= now) {
      drop(stack, s);
      work++;
    }
  }
  return work;
}

export function fragDeadline(stack: Stack): u64 {
  let r = stack.frag;
  let t = NEVER;
  if (r.inUse == 0) return t;
  for (let i: u32 = 0; i < MAX_SLOTS; i++) {
    let s = slotAt(r, i);
    if (load<u32>(s) != 0 && load<u64>(s, 32) < t) t = load<u64>(s, 32);
  }
  return t;
}

/** Datagrams being reassembled (tests). */
export function fragInUse(stack: Stack): u32 {
  return stack.frag.inUse;
}
