// Sockets as open files: a File whose node is a KSock, the kernel's side of
// one stack socket (net/socket/api.ts). The stack never blocks; here a call
// that gets -EAGAIN waits on the socket's wait queue until the stack's wake
// callback says readiness changed (or SO_RCVTIMEO / SO_SNDTIMEO passes), and
// O_NONBLOCK returns -EAGAIN as is. The stack lock is held only around each
// stack call; application data is bounced through a kernel buffer in chunks
// outside it.
//
// Lost wake-ups: the wake callback bumps `seq` under the wait queue's lock;
// a caller notes `seq` under the stack lock together with the -EAGAIN, and
// sleeps only if it has not changed since.
//
// With net channels (channel.ts) every call first processes the frames
// queued for its connection, so TCP input runs in the caller's thread.
import { atomicExchange32 } from "../../arch/x86_64/atomic";
import { EAGAIN, EFAULT, EINPROGRESS, EINVAL, EMSGSIZE, ENOMEM, ENOTCONN, ENOTTY } from "../errno";
import { heapAlloc, heapFree, TAG_NET } from "../mm/heap";
import { WaitQueue, waitQueueInit, waitQueueLock, waitQueueSleepLocked, waitQueueUnlock, waitQueueWakeLocked } from "../sync/waitqueue";
import { Clock } from "../time/clock";
import { accessCompareExchange32, accessWrite32 } from "../../arch/x86_64/access";
import {
  File, FileIoctl, FilePoll, FileReadWrite, FileRelease, FileStat, IO_KERNEL, O_NONBLOCK, O_RDWR, S_IFSOCK, fileCreate,
  fileIsType, fileNotify, ioCopyIn, ioCopyOut,
} from "../vfs/file";
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "../vfs/poll";
import {
  sockAccept, sockClose, sockConnect, sockGetOption, sockOpen, sockPoll, sockReadable, sockRecvFrom, sockSend,
  sockSendTo, sockSetWake, sockState, sockUnsent,
} from "../../net/index";
import { MSG_PEEK, SOL_SOCKET, SO_ERROR } from "../../net/socket/api";
import { SOCK_STREAM, TCP_ESTABLISHED, TCP_CLOSE_WAIT } from "../../net/socket/socket";
import { channelAttach, channelDetach, channelDrain } from "./channel";
import { netEnsure, netLock, netNow, netStack, netUnlock } from "./net";

// recv/send flags the layer itself handles (Linux values).
export const MSG_OOB: u32 = 0x1;
export const MSG_DONTROUTE: u32 = 0x4;
export const MSG_TRUNC: u32 = 0x20;
export const MSG_DONTWAIT: u32 = 0x40;
export const MSG_EOR: u32 = 0x80;
export const MSG_WAITALL: u32 = 0x100;
export const MSG_NOSIGNAL: u32 = 0x4000;
export const MSG_MORE: u32 = 0x8000;
export const MSG_CMSG_CLOEXEC: u32 = 0x40000000;

/** Bytes bounced per stack call (and the largest datagram). */
const CHUNK: u32 = 65536;

@unmanaged
export class KSock {
  // The WaitQueue first, so the record is also the socket's wait queue.
  lock: u32;
  head: usize;
  tail: usize;
  /** Bumped by every wake (under the queue lock). */
  seq: u32;
  /** The stack socket. */
  id: i32;
  /** SOCK_STREAM or SOCK_DGRAM. */
  type: u32;
  /** The File (for fileNotify). */
  file: usize;
  /** SO_RCVTIMEO / SO_SNDTIMEO in ns (0: wait forever). */
  rcvTimeout: u64;
  sndTimeout: u64;
  /** IP_TOS as set (kept for getsockopt). */
  tos: u32;
  /** Listening (SO_ACCEPTCONN). */
  listening: u32;
  /** SO_BROADCAST as set (the stack sends to any address it routes). */
  broadcast: u32;
  /** The connection was offered a net channel (once established). */
  channelled: u32;
  /** Per-socket bounce buffers (CHUNK bytes, allocated on first use) and who holds them. */
  rxBounce: usize;
  txBounce: usize;
  rxBusy: u32;
  txBusy: u32;
}

function queue(ks: KSock): WaitQueue {
  return changetype<WaitQueue>(changetype<usize>(ks));
}

function wakeAll(ks: KSock): void {
  let q = queue(ks);
  let flags = waitQueueLock(q);
  ks.seq++;
  waitQueueWakeLocked(q, 0xffffffff, 0);
  waitQueueUnlock(q, flags);
}

// The stack's wake callback (stack lock held): no sleeping.
function onSockWake(arg: usize, id: i32, events: u32): void {
  let ks = changetype<KSock>(arg);
  wakeAll(ks);
  if (ks.file != 0) fileNotify(changetype<File>(ks.file), events);
}

// A channel went non-empty (stack lock held): the reader processes it.
function onChannel(arg: usize): void {
  let ks = changetype<KSock>(arg);
  wakeAll(ks);
  if (ks.file != 0) fileNotify(changetype<File>(ks.file), POLLIN | POLLOUT);
}

/**
 * Sleeps until the socket's readiness changes after `seen` or TSC
 * `deadline` passes (0: none); false on timeout.
 */
function waitChange(ks: KSock, seen: u32, deadline: u64): bool {
  let q = queue(ks);
  let flags = waitQueueLock(q);
  if (ks.seq != seen) {
    waitQueueUnlock(q, flags);
    return true;
  }
  return waitQueueSleepLocked(q, flags, deadline) == 0;
}

function deadlineFor(timeout: u64): u64 {
  return timeout == 0 ? 0 : Clock.deadlineIn(timeout);
}

function takeBounce(ks: KSock, tx: bool): usize {
  let busy = changetype<usize>(ks) + (tx ? offsetof<KSock>("txBusy") : offsetof<KSock>("rxBusy"));
  if (atomicExchange32(busy, 1) == 0) {
    let b = tx ? ks.txBounce : ks.rxBounce;
    if (b == 0) {
      b = heapAlloc(CHUNK, TAG_NET);
      if (b == 0) {
        store<u32>(busy, 0);
        return 0;
      }
      if (tx) ks.txBounce = b;
      else ks.rxBounce = b;
    }
    return b;
  }
  // Another thread uses this socket's buffer at the same time: a private one.
  return heapAlloc(CHUNK, TAG_NET);
}

function giveBounce(ks: KSock, tx: bool, b: usize): void {
  if (b == (tx ? ks.txBounce : ks.rxBounce)) {
    store<u32>(changetype<usize>(ks) + (tx ? offsetof<KSock>("txBusy") : offsetof<KSock>("rxBusy")), 0);
  } else heapFree(b);
}

export function ksockOf(file: File): KSock | null {
  return fileIsType(file, SOCKET_OPS) ? changetype<KSock>(file.node) : null;
}

function ksockAlloc(type: u32): KSock | null {
  let p = heapAlloc(offsetof<KSock>(), TAG_NET);
  if (p == 0) return null;
  memory.fill(p, 0, offsetof<KSock>());
  let ks = changetype<KSock>(p);
  waitQueueInit(queue(ks));
  ks.id = -1;
  ks.type = type;
  return ks;
}

function ksockFree(ks: KSock): void {
  if (ks.rxBounce != 0) heapFree(ks.rxBounce);
  if (ks.txBounce != 0) heapFree(ks.txBounce);
  heapFree(changetype<usize>(ks));
}

/** Hooks a stack socket to `ks` (stack lock held). */
function attach(ks: KSock, id: i32): void {
  ks.id = id;
  sockSetWake(netStack(), id, changetype<usize>(onSockWake), changetype<usize>(ks));
  ksockConnected(ks);
}

/** A new socket file (SOCK_STREAM or SOCK_DGRAM; status O_NONBLOCK or 0), or -errno. */
export function socketFileOpen(type: u32, status: u32, out: usize): i64 {
  if (!netEnsure()) return -ENOMEM;
  let ks = ksockAlloc(type);
  if (ks === null) return -ENOMEM;
  let file = fileCreate(SOCKET_OPS, O_RDWR | status, changetype<usize>(ks), 0);
  if (file === null) {
    ksockFree(ks);
    return -ENOMEM;
  }
  netLock();
  let id = sockOpen(netStack(), type);
  if (id >= 0) attach(ks, id);
  netUnlock();
  if (id < 0) {
    // Nothing to close: the release below sees id -1.
    heapFree(changetype<usize>(file));
    ksockFree(ks);
    return id;
  }
  ks.file = changetype<usize>(file);
  store<usize>(out, changetype<usize>(file));
  return 0;
}

/**
 * Can the application write [buffer, buffer + count)? Touches each page
 * with a compare-exchange that leaves memory as it was. A stream receive
 * checks first, so a bad buffer leaves the bytes queued (as Linux does)
 * instead of losing them between the stack and the copy.
 */
function writable(buffer: u64, count: u32): bool {
  if (count == 0) return true;
  let end = buffer + <u64>count - 1;
  // Only the application's half (the copy refuses the rest too).
  if (end < buffer || end >= 0x0000800000000000) return false;
  let at = buffer;
  while (true) {
    if (accessCompareExchange32(at & ~(<u64>3), 0, 0) < 0) return false;
    let next = (at | 0xfff) + 1;
    if (next > end || next == 0) break;
    at = next;
  }
  return accessCompareExchange32(end & ~(<u64>3), 0, 0) >= 0;
}

function nonblocking(file: File, flags: u32): bool {
  return (file.status & O_NONBLOCK) != 0 || (flags & MSG_DONTWAIT) != 0;
}

/**
 * Receives into `buffer` (application address, or AS pointer with
 * IO_KERNEL). `from` (AS pointer, 8 bytes: address, port) gets the sender.
 * Stream: bytes read, 0 at end; datagram: the datagram's full length (more
 * than `count` when truncated). -errno.
 */
export function ksockRecv(file: File, buffer: u64, count: u64, ioflags: u32, flags: u32, from: usize): i64 {
  let ks = changetype<KSock>(file.node);
  let stream = ks.type == SOCK_STREAM;
  if (stream && count == 0) return 0;
  let direct = (ioflags & IO_KERNEL) != 0;
  let bounce: usize = direct ? 0 : takeBounce(ks, false);
  if (!direct && bounce == 0) return -ENOMEM;
  let nonblock = nonblocking(file, flags);
  let peek = (flags & MSG_PEEK) != 0;
  let waitAll = stream && !peek && (flags & MSG_WAITALL) != 0;
  let deadline: u64 = 0;
  let timed = false;
  let done: u64 = 0;
  let result: i64 = 0;
  let stack = netStack();
  while (true) {
    let left = count - done;
    let want: u32 = left < <u64>CHUNK ? <u32>left : CHUNK;
    let target = direct ? <usize>(buffer + done) : bounce;
    if (stream && !direct && !writable(buffer + done, want)) {
      result = done > 0 ? <i64>done : -EFAULT;
      break;
    }
    netLock();
    let now = netNow();
    ksockConnected(ks);
    channelDrain(stack, ks.id, now);
    let n = sockRecvFrom(stack, ks.id, target, want, peek ? MSG_PEEK : 0, from, now);
    let seen = ks.seq;
    netUnlock();
    if (n >= 0) {
      let got: u32 = <u32>n < want ? <u32>n : want;
      if (!direct && got != 0 && ioCopyOut(buffer + done, bounce, got, ioflags) < 0) {
        result = done > 0 ? <i64>done : -EFAULT;
        break;
      }
      if (!stream) {
        result = n;
        break;
      }
      done += got;
      if (n == 0 || peek || done == count) {
        result = <i64>done;
        break;
      }
      continue; // more may be there already; the next call says -EAGAIN if not
    }
    if (n != -EAGAIN) {
      result = done > 0 ? <i64>done : <i64>n;
      break;
    }
    if ((done > 0 && !waitAll) || nonblock) {
      result = done > 0 ? <i64>done : -EAGAIN;
      break;
    }
    if (!timed) {
      deadline = deadlineFor(ks.rcvTimeout);
      timed = true;
    }
    if (!waitChange(ks, seen, deadline)) {
      result = done > 0 ? <i64>done : -EAGAIN;
      break;
    }
  }
  if (!direct) giveBounce(ks, false, bounce);
  return result;
}

/**
 * Sends from `buffer`; `hasTo` with (addr, port) for sendto on datagram
 * sockets. Bytes sent or -errno. A blocking stream send returns when all
 * is queued (or on a timeout or error after some was).
 */
export function ksockSend(file: File, buffer: u64, count: u64, ioflags: u32, flags: u32, hasTo: bool, addr: u32,
  port: u32): i64 {
  let ks = changetype<KSock>(file.node);
  let stream = ks.type == SOCK_STREAM;
  let direct = (ioflags & IO_KERNEL) != 0;
  if (!stream && count > <u64>(CHUNK - 1)) return -EMSGSIZE;
  let bounce: usize = direct ? 0 : takeBounce(ks, true);
  if (!direct && bounce == 0) return -ENOMEM;
  let nonblock = nonblocking(file, flags);
  let deadline: u64 = 0;
  let timed = false;
  let done: u64 = 0;
  let result: i64 = 0;
  let stack = netStack();
  // The chunk in the bounce buffer: [chunkStart, chunkStart + chunkLen), `sent` of it gone.
  let chunkLen: u32 = 0;
  let sent: u32 = 0;
  while (true) {
    if (sent == chunkLen && (done < count || (count == 0 && chunkLen == 0))) {
      let left = count - done;
      chunkLen = left < <u64>CHUNK ? <u32>left : CHUNK;
      sent = 0;
      if (!direct && chunkLen != 0 && ioCopyIn(bounce, buffer + done, chunkLen, ioflags) < 0) {
        result = done > 0 ? <i64>done : -EFAULT;
        break;
      }
    }
    let source = direct ? <usize>(buffer + done) : bounce + sent;
    netLock();
    let now = netNow();
    ksockConnected(ks);
    channelDrain(stack, ks.id, now);
    let n = hasTo && !stream
      ? sockSendTo(stack, ks.id, source, chunkLen - sent, addr, port, now)
      : sockSend(stack, ks.id, source, chunkLen - sent, now);
    let seen = ks.seq;
    netUnlock();
    if (n >= 0) {
      if (!stream) {
        result = n;
        break;
      }
      sent += <u32>n;
      done += <u64>n;
      if (done >= count) {
        result = <i64>done;
        break;
      }
      if (sent < chunkLen && nonblock) {
        result = <i64>done;
        break;
      }
      continue;
    }
    if (n != -EAGAIN) {
      result = done > 0 ? <i64>done : <i64>n;
      break;
    }
    if (nonblock) {
      result = done > 0 ? <i64>done : -EAGAIN;
      break;
    }
    if (!timed) {
      deadline = deadlineFor(ks.sndTimeout);
      timed = true;
    }
    if (!waitChange(ks, seen, deadline)) {
      result = done > 0 ? <i64>done : -EAGAIN;
      break;
    }
  }
  if (!direct) giveBounce(ks, true, bounce);
  return result;
}

/** connect: 0 or -errno; a blocking TCP connect waits for the handshake. */
export function ksockConnect(file: File, addr: u32, port: u32): i64 {
  let ks = changetype<KSock>(file.node);
  let stack = netStack();
  netLock();
  let r = sockConnect(stack, ks.id, addr, port, netNow());
  let seen = ks.seq;
  netUnlock();
  if (r != -EINPROGRESS) return r;
  if ((file.status & O_NONBLOCK) != 0) return -EINPROGRESS;
  let deadline = deadlineFor(ks.sndTimeout);
  while (true) {
    if (!waitChange(ks, seen, deadline)) return -EINPROGRESS;
    netLock();
    let now = netNow();
    channelDrain(stack, ks.id, now);
    let events = sockPoll(stack, ks.id);
    let result: i64 = 1;
    if ((events & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      let state = sockState(stack, ks.id);
      if (state == <i32>TCP_ESTABLISHED || state == <i32>TCP_CLOSE_WAIT) {
        result = 0;
        ksockConnected(ks);
      } else {
        let e = sockGetOption(stack, ks.id, SOL_SOCKET, SO_ERROR);
        result = e > 0 ? -e : (state == 0 ? -ENOTCONN : 1);
      }
    }
    seen = ks.seq;
    netUnlock();
    if (result <= 0) return result;
  }
}

/**
 * Gives an established connection its channel, once (stack lock held):
 * after accept, a blocking connect, and on the first call that finds a
 * nonblocking connect finished. Does nothing otherwise.
 */
export function ksockConnected(ks: KSock): void {
  if (ks.channelled != 0 || ks.type != SOCK_STREAM) return;
  let st = sockState(netStack(), ks.id);
  if (st == <i32>TCP_ESTABLISHED || st == <i32>TCP_CLOSE_WAIT) {
    channelAttach(ks.id, onChannel, changetype<usize>(ks));
    ks.channelled = 1;
  }
}

/**
 * accept: a new socket File stored at `out` (status from `status`), the
 * peer at `peer` (AS pointer, address and port); 0 or -errno.
 */
export function ksockAccept(file: File, status: u32, peer: usize, out: usize): i64 {
  let ks = changetype<KSock>(file.node);
  let stack = netStack();
  let child = ksockAlloc(SOCK_STREAM);
  if (child === null) return -ENOMEM;
  let childFile = fileCreate(SOCKET_OPS, O_RDWR | status, changetype<usize>(child), 0);
  if (childFile === null) {
    ksockFree(child);
    return -ENOMEM;
  }
  child.file = changetype<usize>(childFile);
  let nonblock = (file.status & O_NONBLOCK) != 0;
  let deadline: u64 = 0;
  let timed = false;
  while (true) {
    netLock();
    let id = sockAccept(stack, ks.id, peer);
    if (id >= 0) attach(child, id);
    let seen = ks.seq;
    netUnlock();
    if (id >= 0) {
      store<usize>(out, changetype<usize>(childFile));
      return 0;
    }
    let fail: i64 = 0;
    if (id != -EAGAIN) fail = id;
    else if (nonblock) fail = -EAGAIN;
    else {
      if (!timed) {
        deadline = deadlineFor(ks.rcvTimeout);
        timed = true;
      }
      if (!waitChange(ks, seen, deadline)) fail = -EAGAIN;
    }
    if (fail != 0) {
      heapFree(changetype<usize>(childFile));
      ksockFree(child);
      return fail;
    }
  }
}

function socketPoll(file: File): u32 {
  let ks = changetype<KSock>(file.node);
  let stack = netStack();
  netLock();
  channelDrain(stack, ks.id, netNow());
  let events = sockPoll(stack, ks.id);
  // A nonblocking connect that finished: the connection gets its channel.
  if ((events & POLLOUT) != 0) ksockConnected(ks);
  netUnlock();
  if ((events & POLLIN) != 0) events |= POLLRDNORM;
  if ((events & POLLOUT) != 0) events |= POLLWRNORM;
  return events;
}

function socketRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  let n = ksockRecv(file, buffer, count, flags, 0, 0);
  // A datagram longer than the buffer: read(2) returns what fit.
  if (n > 0 && <u64>n > count) n = <i64>count;
  return n;
}

function socketWrite(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  return ksockSend(file, buffer, count, flags, 0, false, 0, 0);
}

const FIONREAD: u32 = 0x541b;
const TIOCOUTQ: u32 = 0x5411;

function socketIoctl(file: File, request: u32, argument: u64): i64 {
  let ks = changetype<KSock>(file.node);
  let value: i32;
  netLock();
  if (request == FIONREAD) value = sockReadable(netStack(), ks.id);
  else if (request == TIOCOUTQ) value = sockUnsent(netStack(), ks.id);
  else value = -EINVAL;
  netUnlock();
  if (value == -EINVAL) return -ENOTTY;
  if (value < 0) return value;
  return accessWrite32(argument, <u32>value) < 0 ? -EFAULT : 0;
}

function socketStat(file: File, st: usize): i64 {
  let ks = changetype<KSock>(file.node);
  store<u64>(st, 8); // st_dev: sockfs
  store<u64>(st, 0x100000 + <u64>ks.id, 8); // st_ino
  store<u64>(st, 1, 16); // st_nlink
  store<u32>(st, S_IFSOCK | 0o777, 24);
  store<u64>(st, 4096, 56); // st_blksize
  return 0;
}

const LINGER_POLL_NANOS: u64 = 10_000_000;

function socketRelease(file: File): void {
  let ks = changetype<KSock>(file.node);
  let stack = netStack();
  netLock();
  // SO_LINGER with a timeout: wait (bounded) until the peer has everything.
  let linger = ks.type == SOCK_STREAM ? sockGetOption(stack, ks.id, SOL_SOCKET, 13) : -1;
  netUnlock();
  if (linger > 0) {
    let end = Clock.deadlineIn(<u64>linger * 1_000_000_000);
    while (true) {
      netLock();
      channelDrain(stack, ks.id, netNow());
      let unsent = sockUnsent(stack, ks.id);
      let seen = ks.seq;
      netUnlock();
      if (unsent <= 0) break;
      let step = Clock.deadlineIn(LINGER_POLL_NANOS);
      if (step >= end) break;
      waitChange(ks, seen, step);
    }
  }
  netLock();
  let now = netNow();
  channelDetach(stack, ks.id, now);
  sockSetWake(stack, ks.id, 0, 0);
  sockClose(stack, ks.id, now);
  netUnlock();
  ksockFree(ks);
}

export const SOCKET_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>socketRead),
  changetype<usize>(<FileReadWrite>socketWrite),
  changetype<usize>(<FilePoll>socketPoll),
  changetype<usize>(<FileIoctl>socketIoctl),
  changetype<usize>(<FileStat>socketStat),
  0, // seek: -ESPIPE
  0, // readdir
  0, // truncate
  changetype<usize>(<FileRelease>socketRelease),
];
