// The socket-level API the kernel's syscall layer wraps (phase 2): every
// call takes the stack, a socket id and, where time matters, `now`; it
// never blocks. Results are 0, a byte count or an id, or -errno: -EAGAIN
// when the call would block (the kernel then waits for the readiness bit
// sockPoll reports, woken by the socket's wake callback), -EINPROGRESS from
// a TCP connect. Option names and values follow Linux.
import {
  EADDRNOTAVAIL, EAGAIN, EALREADY, EBADF, EDESTADDRREQ, EINVAL, EISCONN, EMSGSIZE, ENOMEM, ENOPROTOOPT,
  ENETUNREACH, ENOTCONN, EOPNOTSUPP, EPIPE,
} from "../errno";
import { Stack, stackSocketAt } from "../stack";
import { isLocalAddress, ipRoute } from "../iface/route";
import { ringPop, ringReadAt } from "./ring";
import {
  POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, SF_BOUND, SF_CHILD, SF_CONNECTED, SF_FIN_QUEUED, SF_IN_ACCEPT_QUEUE,
  SF_KEEPALIVE, SF_LINGER, SF_NODELAY, SF_REUSEADDR, SF_REUSEPORT, SF_RX_FIN, SF_SHUT_RD, SF_SHUT_WR,
  SF_WAS_CONNECTED, SOCK_DGRAM, SOCK_ICMP, SOCK_STREAM, Socket, TCP_CLOSED, TCP_CLOSE_WAIT, TCP_ESTABLISHED,
  TCP_CLOSING, TCP_FIN_WAIT_1, TCP_LAST_ACK, TCP_LISTEN, TCP_SYN_RECEIVED, TCP_SYN_SENT, rxRing, socketAllocRx,
  socketWake,
} from "./socket";
import { socketAlloc, socketAllocError, socketById, socketBindPort, socketRelease } from "./table";
import {
  tcpClose, tcpConnect, tcpDiscard, tcpListen, tcpOutput, tcpReceived, tcpSendData, tcpShutdownWrite, tcpSmss,
} from "./tcp";
import { UDP_MAX_PAYLOAD, datagramNextLength, datagramRecv, datagramSend } from "./udp";

export const SHUT_RD: u32 = 0;
export const SHUT_WR: u32 = 1;
export const SHUT_RDWR: u32 = 2;

export const MSG_PEEK: u32 = 0x2;

export const SOL_SOCKET: u32 = 1;
export const SO_REUSEADDR: u32 = 2;
export const SO_TYPE: u32 = 3;
export const SO_ERROR: u32 = 4;
export const SO_SNDBUF: u32 = 7;
export const SO_RCVBUF: u32 = 8;
export const SO_KEEPALIVE: u32 = 9;
export const SO_LINGER: u32 = 13;
export const SO_REUSEPORT: u32 = 15;
export const IPPROTO_TCP: u32 = 6;
export const TCP_NODELAY: u32 = 1;
export const TCP_MAXSEG: u32 = 2;
export const TCP_KEEPIDLE: u32 = 4;
export const TCP_KEEPINTVL: u32 = 5;
export const TCP_KEEPCNT: u32 = 6;

/** Largest listen backlog (Linux's somaxconn). */
export const SOMAXCONN: u32 = 4096;
const S: u64 = 1000000000;

// @ts-ignore: decorator
@inline function get(stack: Stack, id: i32): Socket | null {
  return socketById(stack, id);
}

/** A new socket (SOCK_STREAM, SOCK_DGRAM, SOCK_ICMP): its id, or -errno. */
export function sockOpen(stack: Stack, type: u32): i32 {
  if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_ICMP) return -EINVAL;
  let s = socketAlloc(stack, type);
  if (s == null) return socketAllocError(stack);
  s.rcvBufSize = type == SOCK_STREAM ? stack.defaultRcvBuf : stack.udpRcvBuf;
  s.sndBufSize = stack.defaultSndBuf;
  if (type != SOCK_STREAM && !socketAllocRx(s, s.rcvBufSize)) {
    socketRelease(stack, s);
    return -ENOMEM;
  }
  return s.id;
}

export function sockBind(stack: Stack, id: i32, addr: u32, port: u32): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  if ((s.flags & SF_BOUND) != 0) return -EINVAL;
  if (addr != 0 && !isLocalAddress(stack, addr)) return -EADDRNOTAVAIL;
  if (port > 65535) return -EINVAL;
  return socketBindPort(stack, s, addr, port, 0, 0);
}

export function sockListen(stack: Stack, id: i32, backlog: i32): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  if (s.type != SOCK_STREAM) return -EOPNOTSUPP;
  if (s.state != TCP_CLOSED && s.state != TCP_LISTEN) return -EINVAL;
  if ((s.flags & SF_BOUND) == 0) {
    let r = socketBindPort(stack, s, 0, 0, 0, 0);
    if (r < 0) return r;
  }
  let b: u32 = backlog < 1 ? 1 : <u32>backlog;
  tcpListen(stack, s, b > SOMAXCONN ? SOMAXCONN : b);
  return 0;
}

/** The next established connection: its id (peer address and port stored at `peerOut` if not 0), or -EAGAIN. */
export function sockAccept(stack: Stack, id: i32, peerOut: usize): i32 {
  let l = get(stack, id);
  if (l == null) return -EBADF;
  if (l.type != SOCK_STREAM || l.state != TCP_LISTEN) return -EINVAL;
  if (l.acceptHead == 0) return -EAGAIN;
  let c = changetype<Socket>(l.acceptHead);
  l.acceptHead = c.acceptNext;
  if (l.acceptHead == 0) l.acceptTail = 0;
  l.acceptCount--;
  c.acceptNext = 0;
  c.parent = 0;
  c.flags &= ~(SF_CHILD | SF_IN_ACCEPT_QUEUE);
  if (peerOut != 0) {
    store<u32>(peerOut, c.remoteAddr);
    store<u32>(peerOut, c.remotePort, 4);
  }
  return c.id;
}

export function sockConnect(stack: Stack, id: i32, addr: u32, port: u32, now: u64): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  if (port == 0 || port > 65535 || addr == 0) return -EINVAL;
  stack.now = now;
  if (s.type != SOCK_STREAM) {
    if (ipRoute(stack, stack.ctx, addr, s.localAddr) < 0) return -ENETUNREACH;
    if ((s.flags & SF_BOUND) == 0) {
      let r = socketBindPort(stack, s, 0, 0, addr, port);
      if (r < 0) return r;
    }
    s.remoteAddr = addr;
    s.remotePort = port;
    s.flags |= SF_CONNECTED;
    return 0;
  }
  let state = s.state;
  if (state == TCP_SYN_SENT || state == TCP_SYN_RECEIVED) return -EALREADY;
  if (state == TCP_LISTEN) return -EINVAL;
  if (state != TCP_CLOSED) return -EISCONN;
  if ((s.flags & SF_WAS_CONNECTED) != 0) return -EISCONN;
  if (s.error != 0) {
    let e = s.error;
    s.error = 0;
    return -e;
  }
  return tcpConnect(stack, stack.ctx, s, addr, port, now);
}

/** Sends on a connected socket: bytes queued, or -errno (-EAGAIN when the buffer is full). */
export function sockSend(stack: Stack, id: i32, buf: usize, len: u32, now: u64): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  stack.now = now;
  if (s.type != SOCK_STREAM) {
    if ((s.flags & SF_CONNECTED) == 0) return -EDESTADDRREQ;
    return sockSendTo(stack, id, buf, len, s.remoteAddr, s.remotePort, now);
  }
  if (s.error != 0) {
    let e = s.error;
    s.error = 0;
    return -e;
  }
  let state = s.state;
  if (state == TCP_SYN_SENT || state == TCP_SYN_RECEIVED) return -EAGAIN;
  if ((s.flags & (SF_SHUT_WR | SF_FIN_QUEUED)) != 0) return -EPIPE;
  if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT) {
    return (s.flags & SF_WAS_CONNECTED) != 0 ? -EPIPE : -ENOTCONN;
  }
  if (len == 0) return 0;
  let n = tcpSendData(stack, stack.ctx, s, buf, len, now);
  return n == 0 ? -EAGAIN : <i32>n;
}

/** Datagram sockets: sends to (addr, port); the datagram's length or -errno. */
export function sockSendTo(stack: Stack, id: i32, buf: usize, len: u32, addr: u32, port: u32, now: u64): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  stack.now = now;
  if (s.type == SOCK_STREAM) return sockSend(stack, id, buf, len, now);
  if (s.error != 0) {
    let e = s.error;
    s.error = 0;
    return -e;
  }
  if (addr == 0) return -EDESTADDRREQ;
  if (s.type == SOCK_DGRAM && (port == 0 || port > 65535)) return -EINVAL;
  if (len > UDP_MAX_PAYLOAD) return -EMSGSIZE;
  if ((s.flags & SF_BOUND) == 0) {
    let r = socketBindPort(stack, s, 0, 0, addr, port);
    if (r < 0) return r;
  }
  return datagramSend(stack, stack.ctx, s, buf, len, addr, port, now);
}

/**
 * Receives up to `len` bytes. TCP: bytes read, 0 at end of stream, -EAGAIN
 * when nothing is there yet. Datagrams: the datagram's length (longer than
 * `len` when truncated). MSG_PEEK leaves the data queued.
 */
export function sockRecv(stack: Stack, id: i32, buf: usize, len: u32, flags: u32, now: u64): i32 {
  return sockRecvFrom(stack, id, buf, len, flags, 0, now);
}

export function sockRecvFrom(stack: Stack, id: i32, buf: usize, len: u32, flags: u32, fromOut: usize, now: u64): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  stack.now = now;
  let peek = (flags & MSG_PEEK) != 0;
  if (s.type != SOCK_STREAM) {
    if (s.rxDatagrams != 0) return datagramRecv(s, buf, len, fromOut, peek);
    if (s.error != 0) {
      let e = s.error;
      s.error = 0;
      return -e;
    }
    return (s.flags & SF_SHUT_RD) != 0 ? 0 : -EAGAIN;
  }
  let state = s.state;
  if (state == TCP_LISTEN) return -ENOTCONN;
  if (s.rxLen != 0 && (s.flags & SF_SHUT_RD) == 0) {
    if (fromOut != 0) {
      store<u32>(fromOut, s.remoteAddr);
      store<u32>(fromOut, s.remotePort, 4);
    }
    let n: u32;
    if (peek) {
      n = len < s.rxLen ? len : s.rxLen;
      ringReadAt(rxRing(s), 0, buf, n);
    } else {
      n = ringPop(rxRing(s), buf, len);
      tcpReceived(stack, stack.ctx, s, now);
    }
    return <i32>n;
  }
  if (s.error != 0) {
    let e = s.error;
    s.error = 0;
    return -e;
  }
  if ((s.flags & (SF_RX_FIN | SF_SHUT_RD)) != 0) return 0;
  if (state == TCP_CLOSED) return (s.flags & SF_WAS_CONNECTED) != 0 ? 0 : -ENOTCONN;
  return -EAGAIN;
}

export function sockShutdown(stack: Stack, id: i32, how: u32, now: u64): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  if (how > SHUT_RDWR) return -EINVAL;
  stack.now = now;
  if (s.type != SOCK_STREAM) {
    if ((s.flags & SF_CONNECTED) == 0) return -ENOTCONN;
    if (how != SHUT_WR) s.flags |= SF_SHUT_RD;
    if (how != SHUT_RD) s.flags |= SF_SHUT_WR;
    socketWake(s, POLLIN);
    return 0;
  }
  let state = s.state;
  if (state == TCP_LISTEN || state == TCP_CLOSED || state == TCP_SYN_SENT) {
    return (s.flags & SF_WAS_CONNECTED) != 0 && state == TCP_CLOSED ? 0 : -ENOTCONN;
  }
  if (how != SHUT_WR) {
    s.flags |= SF_SHUT_RD;
    socketWake(s, POLLIN);
  }
  if (how != SHUT_RD) tcpShutdownWrite(stack, stack.ctx, s, now);
  return 0;
}

/** The application's close: the id is invalid afterwards. */
export function sockClose(stack: Stack, id: i32, now: u64): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  if ((s.flags & SF_CHILD) != 0) return -EBADF; // not accepted yet: not the application's
  stack.now = now;
  if (s.type == SOCK_STREAM) tcpClose(stack, stack.ctx, s, now);
  else socketRelease(stack, s);
  return 0;
}

/** Sets an option; value is an int (SO_LINGER: seconds, or -1 for off). 0 or -errno. */
export function sockSetOption(stack: Stack, id: i32, level: u32, name: u32, value: i32): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  let on = value != 0;
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEADDR: s.flags = on ? s.flags | SF_REUSEADDR : s.flags & ~SF_REUSEADDR; return 0;
      case SO_REUSEPORT: s.flags = on ? s.flags | SF_REUSEPORT : s.flags & ~SF_REUSEPORT; return 0;
      case SO_KEEPALIVE: {
        s.flags = on ? s.flags | SF_KEEPALIVE : s.flags & ~SF_KEEPALIVE;
        if (s.type == SOCK_STREAM) {
          if (on && s.state >= TCP_ESTABLISHED && s.keepaliveAt == 0) {
            let idle = s.keepIdle != 0 ? s.keepIdle : stack.keepIdle;
            s.keepaliveAt = stack.now + idle;
          } else if (!on) s.keepaliveAt = 0;
        }
        return 0;
      }
      case SO_RCVBUF:
      case SO_SNDBUF: {
        if (value < 0) return -EINVAL;
        let v = <u32>value;
        if (v < 256) v = 256;
        if (v > stack.maxBuf) v = stack.maxBuf;
        if (name == SO_RCVBUF) s.rcvBufSize = v;
        else s.sndBufSize = v;
        return 0;
      }
      case SO_LINGER: {
        if (value < 0) s.flags &= ~SF_LINGER;
        else {
          s.flags |= SF_LINGER;
          s.lingerSeconds = <u32>value;
        }
        return 0;
      }
    }
    return -ENOPROTOOPT;
  }
  if (level == IPPROTO_TCP) {
    if (s.type != SOCK_STREAM) return -EOPNOTSUPP;
    switch (name) {
      case TCP_NODELAY: {
        s.flags = on ? s.flags | SF_NODELAY : s.flags & ~SF_NODELAY;
        if (on && s.state >= TCP_ESTABLISHED) tcpOutput(stack, stack.ctx, s, stack.now);
        return 0;
      }
      case TCP_KEEPIDLE: if (value < 1) return -EINVAL; s.keepIdle = <u64>value * S; return 0;
      case TCP_KEEPINTVL: if (value < 1) return -EINVAL; s.keepIntvl = <u64>value * S; return 0;
      case TCP_KEEPCNT: if (value < 1) return -EINVAL; s.keepCnt = <u32>value; return 0;
    }
    return -ENOPROTOOPT;
  }
  return -ENOPROTOOPT;
}

/** An option's value (>= 0), or -errno. SO_ERROR reads and clears the pending error. */
export function sockGetOption(stack: Stack, id: i32, level: u32, name: u32): i64 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEADDR: return (s.flags & SF_REUSEADDR) != 0 ? 1 : 0;
      case SO_REUSEPORT: return (s.flags & SF_REUSEPORT) != 0 ? 1 : 0;
      case SO_KEEPALIVE: return (s.flags & SF_KEEPALIVE) != 0 ? 1 : 0;
      case SO_TYPE: return s.type == SOCK_STREAM ? 1 : 2;
      case SO_RCVBUF: return s.rcvBufSize;
      case SO_SNDBUF: return s.sndBufSize;
      case SO_LINGER: return (s.flags & SF_LINGER) != 0 ? <i64>s.lingerSeconds : -1;
      case SO_ERROR: {
        let e = s.error;
        s.error = 0;
        return e;
      }
    }
    return -ENOPROTOOPT;
  }
  if (level == IPPROTO_TCP && s.type == SOCK_STREAM) {
    switch (name) {
      case TCP_NODELAY: return (s.flags & SF_NODELAY) != 0 ? 1 : 0;
      case TCP_MAXSEG: return s.mss != 0 ? tcpSmss(s) : 536;
      case TCP_KEEPIDLE: return <i64>((s.keepIdle != 0 ? s.keepIdle : stack.keepIdle) / S);
      case TCP_KEEPINTVL: return <i64>((s.keepIntvl != 0 ? s.keepIntvl : stack.keepIntvl) / S);
      case TCP_KEEPCNT: return s.keepCnt != 0 ? s.keepCnt : stack.keepCnt;
    }
  }
  return -ENOPROTOOPT;
}

/** Readiness: POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDHUP as Linux reports them. */
export function sockPoll(stack: Stack, id: i32): u32 {
  let s = get(stack, id);
  if (s == null) return POLLERR | POLLHUP;
  let mask: u32 = 0;
  if (s.error != 0) mask |= POLLERR;
  if (s.type != SOCK_STREAM) {
    if (s.rxDatagrams != 0 || (s.flags & SF_SHUT_RD) != 0) mask |= POLLIN;
    mask |= POLLOUT;
    return mask;
  }
  let state = s.state;
  if (state == TCP_LISTEN) return s.acceptHead != 0 ? mask | POLLIN : mask;
  let shutBoth = (s.flags & (SF_SHUT_WR | SF_SHUT_RD)) == (SF_SHUT_WR | SF_SHUT_RD);
  if (state == TCP_CLOSED || shutBoth || ((s.flags & SF_RX_FIN) != 0 && (s.flags & SF_SHUT_WR) != 0)) mask |= POLLHUP;
  if ((s.flags & (SF_RX_FIN | SF_SHUT_RD)) != 0) mask |= POLLIN | POLLRDHUP;
  if (s.rxLen != 0) mask |= POLLIN;
  if (state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT) {
    let free = s.txCap - s.txLen;
    if ((s.flags & SF_SHUT_WR) == 0 && free != 0 && free >= (s.txLen >> 1)) mask |= POLLOUT;
  } else if (state == TCP_CLOSED) {
    mask |= POLLOUT;
    if ((s.flags & SF_WAS_CONNECTED) != 0 || s.error != 0) mask |= POLLIN;
  }
  return mask;
}

/** Sets the wake callback ((arg, id, events) => void, 0 for none). */
export function sockSetWake(stack: Stack, id: i32, fn: usize, arg: usize): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  s.wakeFn = fn;
  s.wakeArg = arg;
  return 0;
}

/** Stores local address and port at `out` (two u32). */
export function sockLocalName(stack: Stack, id: i32, out: usize): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  store<u32>(out, s.localAddr);
  store<u32>(out, s.localPort, 4);
  return 0;
}

export function sockPeerName(stack: Stack, id: i32, out: usize): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  let connected = s.type == SOCK_STREAM ? s.state >= TCP_SYN_RECEIVED && s.state != TCP_LISTEN
    : (s.flags & SF_CONNECTED) != 0;
  if (!connected) return -ENOTCONN;
  store<u32>(out, s.remoteAddr);
  store<u32>(out, s.remotePort, 4);
  return 0;
}

/** Bytes readable now (FIONREAD): TCP bytes, or the next datagram's length. */
export function sockReadable(stack: Stack, id: i32): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  return s.type == SOCK_STREAM ? <i32>s.rxLen : <i32>datagramNextLength(s);
}

/** Bytes queued to send and not yet acknowledged (SIOCOUTQ; SO_LINGER waits for 0). */
export function sockUnsent(stack: Stack, id: i32): i32 {
  let s = get(stack, id);
  if (s == null) return -EBADF;
  let st = s.state;
  let finOut = st == TCP_FIN_WAIT_1 || st == TCP_CLOSING || st == TCP_LAST_ACK;
  return <i32>s.txLen + (finOut ? 1 : 0);
}

/** The TCP state (TCP_* constants) or -EBADF. */
export function sockState(stack: Stack, id: i32): i32 {
  let s = get(stack, id);
  return s == null ? -EBADF : <i32>s.state;
}

export function sockCount(stack: Stack): u32 {
  return stack.socketCount;
}

/** Frees every socket without sending anything (stack teardown). */
export function socketDestroyAll(stack: Stack): void {
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = stackSocketAt(stack, id);
    if (p == 0) continue;
    let s = changetype<Socket>(p);
    if (s.type == SOCK_STREAM) tcpDiscard(stack, s);
    else socketRelease(stack, s);
  }
}

