// An interface: a device with a MAC, an IPv4 address and netmask, an ARP
// cache with pending packets, and optionally a DHCP client. It consumes
// received frames (Ethernet, then ARP or IPv4) and sends IPv4 packets as
// frames, resolving next hops through ARP.
import { ENOBUFS } from "../errno";
import { NetCtx } from "../ctx";
import { netAlloc, netFree } from "../mem";
import { DEV_NOARP, Device, NEVER, NO_CHECKSUM_OFFLOAD, deviceTransmit } from "../phy/device";
import { STAT_ARP_REPLIES, STAT_ARP_REQUESTS, STAT_RX_DROPPED, STAT_RX_FRAMES, STAT_RX_MALFORMED,
  STAT_TX_DROPPED, STAT_TX_FRAMES, Stack, stat } from "../stack";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpPacket } from "../wire/arp";
import { IP_BROADCAST, MAC_BROADCAST, MAC_NONE, ipIsMulticast, macIsMulticast } from "../wire/bytes";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HEADER_LEN, ETH_MAX_FRAME, EthernetFrame, ethernetEmit } from "../wire/ethernet";
import {
  ARP_ENTRIES, ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE, ArpCache, arpAllocate, arpCacheCreate, arpCacheDestroy,
  arpEnqueue, arpEntry, arpFind, arpReleaseSlot, arpRemove, arpSetIncomplete, arpSetReachable, arpTakePending,
  entryExpires, entryMac, entryRetries, entryState, setEntryExpires, setEntryRetries, slotAt, slotFrame, slotLength,
  slotOffload,
} from "./arpcache";
import { ipv4Input } from "./ipv4";
import { DhcpClient, dhcpDeadline, dhcpDestroy, dhcpTimers } from "./dhcp";
import { routeAddConnected, routeRemoveInterface } from "./route";

export const IF_LOOPBACK: u32 = 1;
/** The interface answers and resolves nothing (set for DEV_NOARP devices). */
export const IF_NOARP: u32 = 2;
export const IF_UP: u32 = 4;

/** Offload word for "the frame is complete": see ifaceOutput. */
export const OFFLOAD_NONE: u32 = 0xffffffff;

@final @unmanaged
export class Interface {
  stack: Stack;
  dev: Device;
  index: u32;
  flags: u32;
  mac: u64;
  addr: u32;
  mask: u32;
  gateway: u32;
  dns0: u32;
  dns1: u32;
  mtu: u32;
  arp: ArpCache;
  dhcp: usize;
  rxBuf: usize;
  rxBufSize: u32;
  /** ARP requests and replies are built here (the context's buffer may hold a frame in flight). */
  arpBuf: usize;
}

export function ifaceCreate(stack: Stack, dev: Device, flags: u32, index: u32): Interface | null {
  let iface = changetype<Interface>(netAlloc(offsetof<Interface>()));
  if (changetype<usize>(iface) == 0) return null;
  iface.stack = stack;
  iface.dev = dev;
  iface.index = index;
  iface.flags = flags | IF_UP | ((dev.caps & DEV_NOARP) != 0 ? IF_NOARP : 0);
  iface.mac = dev.mac;
  iface.mtu = dev.mtu;
  let frameBytes = dev.mtu + ETH_HEADER_LEN;
  if (frameBytes > ETH_MAX_FRAME) frameBytes = ETH_MAX_FRAME;
  iface.rxBufSize = frameBytes;
  iface.rxBuf = dev.receiveFn != 0 ? netAlloc(frameBytes) : 0;
  iface.arpBuf = netAlloc(64);
  // No pending queue where nothing is ever resolved (loopback).
  let arp = arpCacheCreate((dev.caps & DEV_NOARP) != 0 ? 0 : frameBytes);
  if ((dev.receiveFn != 0 && iface.rxBuf == 0) || iface.arpBuf == 0 || arp == null) {
    if (arp != null) arpCacheDestroy(arp);
    netFree(iface.rxBuf);
    netFree(iface.arpBuf);
    netFree(changetype<usize>(iface));
    return null;
  }
  iface.arp = arp;
  return iface;
}

export function ifaceDestroy(iface: Interface): void {
  if (iface.dhcp != 0) dhcpDestroy(changetype<DhcpClient>(iface.dhcp));
  arpCacheDestroy(iface.arp);
  netFree(iface.rxBuf);
  netFree(iface.arpBuf);
  netFree(changetype<usize>(iface));
}

/** Sets address and prefix (0.0.0.0/0 unconfigures); adds the connected route. */
export function ifaceSetAddress(iface: Interface, addr: u32, mask: u32): void {
  routeRemoveInterface(iface.stack, iface, true);
  iface.addr = addr;
  iface.mask = mask;
  if (addr != 0) routeAddConnected(iface.stack, iface, addr & mask, mask);
}

/** Is `addr` this interface's address or its (subnet or limited) broadcast? */
export function ifaceAccepts(iface: Interface, addr: u32): bool {
  if (addr == IP_BROADCAST) return true;
  if (iface.addr == 0) return false;
  if (addr == iface.addr) return true;
  return iface.mask != 0xffffffff && addr == (iface.addr | ~iface.mask);
}

export function ifaceIsBroadcast(iface: Interface, addr: u32): bool {
  return addr == IP_BROADCAST || (iface.addr != 0 && iface.mask < 0xfffffffe && addr == (iface.addr | ~iface.mask));
}

// ---- input ----

export function ifaceInput(iface: Interface, ctx: NetCtx, frame: usize, len: u32, flags: u32, now: u64): void {
  let stack = iface.stack;
  stat(stack, STAT_RX_FRAMES);
  if (EthernetFrame.check(frame, len) < 0) {
    stat(stack, STAT_RX_MALFORMED);
    return;
  }
  let eth = EthernetFrame.at(frame);
  if ((iface.flags & IF_NOARP) == 0) {
    let dst = eth.dst;
    if (dst != iface.mac && dst != MAC_BROADCAST) {
      stat(stack, STAT_RX_DROPPED);
      return;
    }
  }
  let type = eth.ethertype;
  if (type == ETHERTYPE_IPV4) {
    ctx.iface = changetype<usize>(iface);
    ipv4Input(iface, ctx, eth.payload, len - ETH_HEADER_LEN, flags, now);
  } else if (type == ETHERTYPE_ARP && (iface.flags & IF_NOARP) == 0) {
    arpInput(iface, ctx, eth.payload, len - ETH_HEADER_LEN, now);
  } else {
    stat(stack, STAT_RX_DROPPED);
  }
}

function arpInput(iface: Interface, ctx: NetCtx, p: usize, len: u32, now: u64): void {
  let stack = iface.stack;
  let repr = ctx.arp;
  if (ArpPacket.check(p, len) < 0 || repr.parse(ArpPacket.at(p)) < 0) {
    stat(stack, STAT_RX_MALFORMED);
    return;
  }
  let sender = repr.senderMac;
  if (macIsMulticast(sender) || sender == MAC_NONE || sender == iface.mac) {
    stat(stack, STAT_RX_DROPPED);
    return;
  }
  let cache = iface.arp;
  let merged = false;
  // RFC 826: update a sender we already know; add it if the packet is for us.
  if (repr.senderIp != 0) {
    let e = arpFind(cache, repr.senderIp);
    if (e != 0) {
      resolved(iface, e, sender, now);
      merged = true;
    }
  }
  if (iface.addr == 0 || repr.targetIp != iface.addr) return;
  if (!merged && repr.senderIp != 0 && !ipIsMulticast(repr.senderIp) && repr.senderIp != IP_BROADCAST) {
    let e = arpAllocate(cache, repr.senderIp);
    if (e != 0) arpSetReachable(e, sender, now + stack.arpReachable);
  }
  if (repr.op == ARP_REQUEST) {
    arpSend(iface, ARP_REPLY, sender, sender, repr.senderIp, now);
    stat(stack, STAT_ARP_REPLIES);
  }
}

/** The entry now maps to `mac`: mark it reachable and send what waited for it. */
function resolved(iface: Interface, e: usize, mac: u64, now: u64): void {
  let cache = iface.arp;
  arpSetReachable(e, mac, now + iface.stack.arpReachable);
  while (true) {
    let slot = arpTakePending(cache, e);
    if (slot == 0) break;
    let p = slotAt(cache, slot);
    let frame = slotFrame(p);
    EthernetFrame.at(frame).dst = mac;
    let off = slotOffload(p);
    transmit(iface, frame, slotLength(p), off, now);
    arpReleaseSlot(cache, slot);
  }
}

function arpSend(iface: Interface, op: u32, ethDst: u64, targetMac: u64, targetIp: u32, now: u64): void {
  let f = iface.arpBuf;
  memory.fill(f, 0, 60);
  ethernetEmit(f, ethDst, iface.mac, ETHERTYPE_ARP);
  let a = ArpPacket.at(f + ETH_HEADER_LEN);
  a.setHeader(op);
  a.senderMac = iface.mac;
  a.senderIp = iface.addr;
  a.targetMac = targetMac;
  a.targetIp = targetIp;
  // Padded to Ethernet's 60-byte minimum.
  transmit(iface, f, 60, OFFLOAD_NONE, now);
}

function arpRequest(iface: Interface, ip: u32, now: u64): void {
  arpSend(iface, ARP_REQUEST, MAC_BROADCAST, MAC_NONE, ip, now);
  stat(iface.stack, STAT_ARP_REQUESTS);
}

// ---- output ----

function transmit(iface: Interface, frame: usize, len: u32, offload: u32, now: u64): i32 {
  let start = offload == OFFLOAD_NONE ? NO_CHECKSUM_OFFLOAD : offload >> 16;
  let r = deviceTransmit(iface.dev, frame, len, start, offload & 0xffff, now);
  stat(iface.stack, r < 0 ? STAT_TX_DROPPED : STAT_TX_FRAMES);
  return r;
}

/**
 * Sends the IPv4 packet in `frame` (after 14 bytes left for the Ethernet
 * header) to `nextHop`. `offload` is OFFLOAD_NONE or checksum start << 16 |
 * offset (from the frame start) for the device to finish. Waits in the ARP
 * queue if the next hop is not resolved. 0, or -errno if dropped.
 */
export function ifaceOutput(iface: Interface, frame: usize, len: u32, nextHop: u32, offload: u32, now: u64): i32 {
  let dst: u64;
  if ((iface.flags & IF_NOARP) != 0) dst = MAC_NONE;
  else if (ifaceIsBroadcast(iface, nextHop)) dst = MAC_BROADCAST;
  else if (ipIsMulticast(nextHop)) {
    // 01:00:5e, then the low 23 bits of the group in network order.
    dst = 0x5e0001 | (<u64>((nextHop >> 16) & 0x7f) << 24) | (<u64>((nextHop >> 8) & 0xff) << 32) |
      (<u64>(nextHop & 0xff) << 40);
  } else {
    let cache = iface.arp;
    let stack = iface.stack;
    let e = arpFind(cache, nextHop);
    if (e != 0 && entryState(e) == ARP_REACHABLE && entryExpires(e) > now) dst = entryMac(e);
    else {
      let request = false;
      if (e == 0) {
        e = arpAllocate(cache, nextHop);
        if (e == 0) {
          stat(stack, STAT_TX_DROPPED);
          return -ENOBUFS;
        }
        arpSetIncomplete(e, now + stack.arpRetry);
        request = true;
      } else if (entryState(e) == ARP_REACHABLE) {
        // Expired: resolve again, holding packets meanwhile.
        arpSetIncomplete(e, now + stack.arpRetry);
        request = true;
      }
      ethernetEmit(frame, MAC_NONE, iface.mac, ETHERTYPE_IPV4);
      if (!arpEnqueue(cache, e, frame, len, offload, stack.arpPendingPerEntry)) stat(stack, STAT_TX_DROPPED);
      if (request) arpRequest(iface, nextHop, now);
      return 0;
    }
  }
  ethernetEmit(frame, dst, iface.mac, ETHERTYPE_IPV4);
  return transmit(iface, frame, len, offload, now);
}

/** The MAC `ip` resolves to on this interface, or MAC_NONE (tests, diagnostics). */
export function ifaceArpLookup(iface: Interface, ip: u32, now: u64): u64 {
  let e = arpFind(iface.arp, ip);
  if (e == 0 || entryState(e) != ARP_REACHABLE || entryExpires(e) <= now) return MAC_NONE;
  return entryMac(e);
}

// ---- timers ----

export function ifaceTimers(iface: Interface, ctx: NetCtx, now: u64): u32 {
  let work: u32 = 0;
  if ((iface.flags & IF_NOARP) == 0) {
    let cache = iface.arp;
    let stack = iface.stack;
    for (let i: u32 = 0; i < ARP_ENTRIES; i++) {
      let e = arpEntry(cache, i);
      let state = entryState(e);
      if (state == ARP_FREE || entryExpires(e) > now) continue;
      work++;
      if (state == ARP_REACHABLE) {
        arpRemove(cache, e);
      } else if (state == ARP_INCOMPLETE) {
        let n = entryRetries(e) + 1;
        if (n >= stack.arpRetries) {
          arpRemove(cache, e);
        } else {
          setEntryRetries(e, n);
          setEntryExpires(e, now + stack.arpRetry);
          arpRequest(iface, load<u32>(e), now);
        }
      }
    }
  }
  if (iface.dhcp != 0) work += dhcpTimers(iface, ctx, now);
  return work;
}

export function ifaceDeadline(iface: Interface): u64 {
  let t = NEVER;
  if ((iface.flags & IF_NOARP) == 0) {
    let cache = iface.arp;
    for (let i: u32 = 0; i < ARP_ENTRIES; i++) {
      let e = arpEntry(cache, i);
      if (entryState(e) != ARP_FREE && entryExpires(e) < t) t = entryExpires(e);
    }
  }
  if (iface.dhcp != 0) {
    let d = dhcpDeadline(changetype<DhcpClient>(iface.dhcp));
    if (d < t) t = d;
  }
  return t;
}
