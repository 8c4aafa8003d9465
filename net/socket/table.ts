// The socket table and lookups: allocation of ids, the TCP 4-tuple hash,
// listener and datagram-socket lookup, bind conflicts and ephemeral ports.
import { EADDRINUSE, EAGAIN, EMFILE, ENOMEM } from "../errno";
import { netAlloc, netFree } from "../mem";
import { Stack, stackSocketAt } from "../stack";
import { siphash2 } from "../random";
import { asmClear } from "./assembler";
import {
  SF_BOUND, SF_HASHED, SF_REUSEADDR, SF_REUSEPORT, SOCK_STREAM, Socket, TCP_CLOSED, TCP_LISTEN, TCP_TIME_WAIT,
  oooRanges, scoreboard, socketBytes, socketFreeRx, socketFreeTx,
} from "./socket";

export const EPHEMERAL_LOW: u32 = 32768;
export const EPHEMERAL_HIGH: u32 = 60999;

/** A new socket of `type` with the next free id; null if the table is full or memory is out (see socketAllocError). */
export function socketAlloc(stack: Stack, type: u32): Socket | null {
  if (stack.socketCount >= stack.maxSockets) return null;
  let p = netAlloc(socketBytes());
  if (p == 0) return null;
  let s = changetype<Socket>(p);
  let id = stack.socketHint;
  while (stackSocketAt(stack, id) != 0) {
    id++;
    if (id >= stack.maxSockets) id = 0;
  }
  store<usize>(stack.sockets + (<usize>id << 2), p);
  stack.socketHint = id + 1 >= stack.maxSockets ? 0 : id + 1;
  stack.socketCount++;
  s.stack = changetype<usize>(stack);
  s.id = <i32>id;
  s.type = type;
  s.state = TCP_CLOSED;
  asmClear(oooRanges(s));
  asmClear(scoreboard(s));
  return s;
}

/** The error socketAlloc's null means. */
export function socketAllocError(stack: Stack): i32 {
  return stack.socketCount >= stack.maxSockets ? -EMFILE : -ENOMEM;
}

/** Frees the socket and its buffers; it must be out of the hash and every queue. */
export function socketRelease(stack: Stack, s: Socket): void {
  if ((s.flags & SF_HASHED) != 0) tcpUnhash(stack, s);
  socketFreeRx(s);
  socketFreeTx(s);
  store<usize>(stack.sockets + (<usize>s.id << 2), 0);
  stack.socketCount--;
  netFree(changetype<usize>(s));
}

export function socketById(stack: Stack, id: i32): Socket | null {
  if (id < 0 || <u32>id >= stack.maxSockets) return null;
  let p = stackSocketAt(stack, <u32>id);
  return p == 0 ? null : changetype<Socket>(p);
}

// ---- TCP 4-tuple hash ----

function tupleHash(stack: Stack, laddr: u32, lport: u32, raddr: u32, rport: u32): u32 {
  let h = siphash2(stack.secret0, stack.secret1, (<u64>laddr << 32) | <u64>raddr, (<u64>lport << 16) | <u64>rport);
  return <u32>h & stack.tcpHashMask;
}

/** Keyed hash of a 4-tuple (REUSEPORT choice, ISNs). */
export function flowHash(stack: Stack, laddr: u32, lport: u32, raddr: u32, rport: u32): u64 {
  return siphash2(stack.secret0 ^ 0x5a5a, stack.secret1, (<u64>laddr << 32) | <u64>raddr,
    (<u64>lport << 16) | <u64>rport);
}

export function tcpHash(stack: Stack, s: Socket): void {
  if ((s.flags & SF_HASHED) != 0) return;
  let b = stack.tcpHash + (<usize>tupleHash(stack, s.localAddr, s.localPort, s.remoteAddr, s.remotePort) << 2);
  s.hashNext = load<usize>(b);
  store<usize>(b, changetype<usize>(s));
  s.flags |= SF_HASHED;
}

export function tcpUnhash(stack: Stack, s: Socket): void {
  if ((s.flags & SF_HASHED) == 0) return;
  let b = stack.tcpHash + (<usize>tupleHash(stack, s.localAddr, s.localPort, s.remoteAddr, s.remotePort) << 2);
  let p = load<usize>(b);
  let prev: usize = 0;
  while (p != 0 && p != changetype<usize>(s)) {
    prev = p;
    p = changetype<Socket>(p).hashNext;
  }
  if (p != 0) {
    if (prev == 0) store<usize>(b, s.hashNext);
    else changetype<Socket>(prev).hashNext = s.hashNext;
  }
  s.hashNext = 0;
  s.flags &= ~SF_HASHED;
}

/** The connection (any state but LISTEN) for a 4-tuple seen from our side, or 0. */
export function tcpLookup(stack: Stack, laddr: u32, lport: u32, raddr: u32, rport: u32): usize {
  let p = load<usize>(stack.tcpHash + (<usize>tupleHash(stack, laddr, lport, raddr, rport) << 2));
  while (p != 0) {
    let s = changetype<Socket>(p);
    if (s.localPort == lport && s.remotePort == rport && s.localAddr == laddr && s.remoteAddr == raddr) return p;
    p = s.hashNext;
  }
  return 0;
}

/**
 * The listener for (laddr, lport): an exact address beats the wildcard;
 * among SO_REUSEPORT listeners the flow hash picks one. 0 if none.
 */
export function tcpFindListener(stack: Stack, laddr: u32, lport: u32, raddr: u32, rport: u32): usize {
  let exactCount: u32 = 0;
  let anyCount: u32 = 0;
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = stackSocketAt(stack, id);
    if (p == 0) continue;
    let s = changetype<Socket>(p);
    if (s.type != SOCK_STREAM || s.state != TCP_LISTEN || s.localPort != lport) continue;
    if (s.localAddr == laddr) exactCount++;
    else if (s.localAddr == 0) anyCount++;
  }
  let want = exactCount != 0 ? laddr : 0;
  let count = exactCount != 0 ? exactCount : anyCount;
  if (count == 0) return 0;
  let pick = count == 1 ? 0 : <u32>(flowHash(stack, laddr, lport, raddr, rport) % <u64>count);
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = stackSocketAt(stack, id);
    if (p == 0) continue;
    let s = changetype<Socket>(p);
    if (s.type != SOCK_STREAM || s.state != TCP_LISTEN || s.localPort != lport || s.localAddr != want) continue;
    if (pick == 0) return p;
    pick--;
  }
  return 0;
}

// ---- ports ----

/**
 * Would binding `s` to (addr, port) clash with another socket of its type?
 * Linux rules: SO_REUSEPORT on both shares a port; SO_REUSEADDR on the new
 * socket passes sockets that are not listening (TIME_WAIT, connections),
 * and for UDP SO_REUSEADDR on both shares it.
 */
export function bindConflict(stack: Stack, s: Socket, addr: u32, port: u32): bool {
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = stackSocketAt(stack, id);
    if (p == 0 || p == changetype<usize>(s)) continue;
    let o = changetype<Socket>(p);
    if (o.type != s.type || (o.flags & SF_BOUND) == 0 || o.localPort != port) continue;
    if (o.localAddr != addr && o.localAddr != 0 && addr != 0) continue;
    if ((s.flags & SF_REUSEPORT) != 0 && (o.flags & SF_REUSEPORT) != 0) continue;
    if (s.type == SOCK_STREAM) {
      if ((s.flags & SF_REUSEADDR) != 0 && o.state != TCP_LISTEN) continue;
      if (o.state == TCP_TIME_WAIT && (s.flags & SF_REUSEADDR) != 0) continue;
    } else if ((s.flags & SF_REUSEADDR) != 0 && (o.flags & SF_REUSEADDR) != 0) continue;
    return true;
  }
  return false;
}

/** Is `port` bound by any socket of `type`? */
function portUsed(stack: Stack, type: u32, port: u32): bool {
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = stackSocketAt(stack, id);
    if (p == 0) continue;
    let o = changetype<Socket>(p);
    if (o.type == type && (o.flags & SF_BOUND) != 0 && o.localPort == port) return true;
  }
  return false;
}

/**
 * An ephemeral port for `s` (RFC 6056 algorithm 3: a keyed hash of the
 * destination picks where the search starts, a counter moves it on). 0 if
 * every port is taken.
 */
export function ephemeralPort(stack: Stack, s: Socket, raddr: u32, rport: u32): u32 {
  let range = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
  let offset = <u32>(flowHash(stack, s.localAddr, 0, raddr, rport) % <u64>range);
  for (let i: u32 = 0; i < range; i++) {
    let port = EPHEMERAL_LOW + (offset + stack.ephemeralNext + i) % range;
    if (!portUsed(stack, s.type, port)) {
      stack.ephemeralNext += i + 1;
      return port;
    }
  }
  return 0;
}

/** Binds to (addr, port), choosing an ephemeral port for 0. 0 or -EADDRINUSE / -EAGAIN. */
export function socketBindPort(stack: Stack, s: Socket, addr: u32, port: u32, raddr: u32, rport: u32): i32 {
  if (port == 0) {
    s.localAddr = addr;
    port = ephemeralPort(stack, s, raddr, rport);
    if (port == 0) return -EAGAIN;
  } else if (bindConflict(stack, s, addr, port)) return -EADDRINUSE;
  s.localAddr = addr;
  s.localPort = port;
  s.flags |= SF_BOUND;
  return 0;
}
