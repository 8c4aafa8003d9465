// The routing table: up to MAX_ROUTES (destination, mask, gateway,
// interface) entries, longest prefix first. Connected routes come with
// interface addresses; a default route has mask 0. Packets to one of the
// stack's own addresses go through the loopback interface, as on Linux.
import { ENETUNREACH, ENOSPC } from "../errno";
import { NetCtx } from "../ctx";
import { MAX_ROUTES, Stack, stackInterface } from "../stack";
import { IP_BROADCAST, ipIsLoopback } from "../wire/bytes";
import { IF_LOOPBACK, IF_UP, Interface } from "./interface";

const ROUTE_BYTES: usize = 20;
export const ROUTE_CONNECTED: u32 = 1;

// Record: destination u32 @0, mask u32 @4, gateway u32 @8, interface @12, flags u32 @16.
// @ts-ignore: decorator
@inline function routeAt(stack: Stack, i: u32): usize {
  return stack.routes + <usize>i * ROUTE_BYTES;
}

export function routeAdd(stack: Stack, dest: u32, mask: u32, gateway: u32, iface: Interface, flags: u32): i32 {
  dest &= mask;
  for (let i: u32 = 0; i < stack.routeCount; i++) {
    let r = routeAt(stack, i);
    if (load<u32>(r) == dest && load<u32>(r, 4) == mask) {
      store<u32>(r, gateway, 8);
      store<usize>(r, changetype<usize>(iface), 12);
      store<u32>(r, flags, 16);
      return 0;
    }
  }
  if (stack.routeCount >= MAX_ROUTES) return -ENOSPC;
  let r = routeAt(stack, stack.routeCount++);
  store<u32>(r, dest);
  store<u32>(r, mask, 4);
  store<u32>(r, gateway, 8);
  store<usize>(r, changetype<usize>(iface), 12);
  store<u32>(r, flags, 16);
  return 0;
}

export function routeAddConnected(stack: Stack, iface: Interface, net: u32, mask: u32): void {
  routeAdd(stack, net, mask, 0, iface, ROUTE_CONNECTED);
}

function removeAt(stack: Stack, i: u32): void {
  let n = stack.routeCount - 1;
  if (i < n) memory.copy(routeAt(stack, i), routeAt(stack, i + 1), <usize>(n - i) * ROUTE_BYTES);
  stack.routeCount = n;
}

/** Removes the route for dest/mask: 0, or -ENETUNREACH if there is none. */
export function routeDelete(stack: Stack, dest: u32, mask: u32): i32 {
  dest &= mask;
  for (let i: u32 = 0; i < stack.routeCount; i++) {
    let r = routeAt(stack, i);
    if (load<u32>(r) == dest && load<u32>(r, 4) == mask) {
      removeAt(stack, i);
      return 0;
    }
  }
  return -ENETUNREACH;
}

/** Removes the interface's routes (only its connected ones if `connectedOnly`). */
export function routeRemoveInterface(stack: Stack, iface: Interface, connectedOnly: bool): void {
  let i: u32 = 0;
  while (i < stack.routeCount) {
    let r = routeAt(stack, i);
    if (load<usize>(r, 12) == changetype<usize>(iface) && (!connectedOnly || (load<u32>(r, 16) & ROUTE_CONNECTED) != 0)) {
      removeAt(stack, i);
    } else i++;
  }
}

function loopbackInterface(stack: Stack): usize {
  for (let i: u32 = 0; i < stack.interfaceCount; i++) {
    let iface = stackInterface(stack, i);
    if ((iface.flags & (IF_LOOPBACK | IF_UP)) == (IF_LOOPBACK | IF_UP)) return changetype<usize>(iface);
  }
  return 0;
}

/** The interface that owns `addr` (not counting loopback's 127/8), or 0. */
export function localInterface(stack: Stack, addr: u32): usize {
  for (let i: u32 = 0; i < stack.interfaceCount; i++) {
    let iface = stackInterface(stack, i);
    if (iface.addr == addr && addr != 0) return changetype<usize>(iface);
  }
  return 0;
}

/** Is `addr` one of the stack's addresses (or any 127/8 with a loopback interface)? */
export function isLocalAddress(stack: Stack, addr: u32): bool {
  if (ipIsLoopback(addr)) return loopbackInterface(stack) != 0;
  return localInterface(stack, addr) != 0;
}

/**
 * Chooses how to reach `dst`: sets ctx.routeIface, ctx.nextHop and
 * ctx.routeSrc (`src` if given, else the interface's address). 0 or
 * -ENETUNREACH.
 */
export function ipRoute(stack: Stack, ctx: NetCtx, dst: u32, src: u32): i32 {
  if (ipIsLoopback(dst) || localInterface(stack, dst) != 0) {
    let lo = loopbackInterface(stack);
    if (lo == 0) return -ENETUNREACH;
    ctx.routeIface = lo;
    ctx.nextHop = dst;
    ctx.routeSrc = src != 0 ? src : dst;
    return 0;
  }
  if (dst == IP_BROADCAST) {
    for (let i: u32 = 0; i < stack.interfaceCount; i++) {
      let iface = stackInterface(stack, i);
      if ((iface.flags & (IF_LOOPBACK | IF_UP)) != IF_UP) continue;
      if (src != 0 && iface.addr != src) continue;
      ctx.routeIface = changetype<usize>(iface);
      ctx.nextHop = dst;
      ctx.routeSrc = src != 0 ? src : iface.addr;
      return 0;
    }
    return -ENETUNREACH;
  }
  let best: usize = 0;
  let bestBits: i32 = -1;
  for (let i: u32 = 0; i < stack.routeCount; i++) {
    let r = routeAt(stack, i);
    let mask = load<u32>(r, 4);
    if ((dst & mask) != load<u32>(r)) continue;
    let iface = changetype<Interface>(load<usize>(r, 12));
    if ((iface.flags & IF_UP) == 0) continue;
    let bits = <i32>popcnt<u32>(mask);
    if (bits > bestBits) {
      best = r;
      bestBits = bits;
    }
  }
  if (best == 0) return -ENETUNREACH;
  let iface = changetype<Interface>(load<usize>(best, 12));
  let gateway = load<u32>(best, 8);
  ctx.routeIface = changetype<usize>(iface);
  ctx.nextHop = gateway != 0 ? gateway : dst;
  ctx.routeSrc = src != 0 ? src : iface.addr;
  return 0;
}
