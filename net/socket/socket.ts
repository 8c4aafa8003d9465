// Sockets: one record for every TCP connection (listening, half-open,
// established, closing, TIME_WAIT), UDP socket and ping socket, in the
// stack's socket table. An id is the table index; the kernel's file
// descriptors (phase 2) map onto ids. Each socket has a send and a receive
// ring (allocated when it needs them: TCP when connecting or established,
// datagram sockets when opened), TCP's out-of-order ranges and SACK
// scoreboard in the block after the record, and a wake callback the kernel
// hooks its wait queues and epoll to.
import { netAlloc, netFree } from "../mem";
import { asmBytes } from "./assembler";
import { Ring } from "./ring";

export const SOCK_STREAM: u32 = 1;
export const SOCK_DGRAM: u32 = 2;
/** Ping sockets (Linux's SOCK_DGRAM + IPPROTO_ICMP): echo requests out, replies in. */
export const SOCK_ICMP: u32 = 3;

// TCP states (RFC 9293 3.3.2).
export const TCP_CLOSED: u32 = 0;
export const TCP_LISTEN: u32 = 1;
export const TCP_SYN_SENT: u32 = 2;
export const TCP_SYN_RECEIVED: u32 = 3;
export const TCP_ESTABLISHED: u32 = 4;
export const TCP_FIN_WAIT_1: u32 = 5;
export const TCP_FIN_WAIT_2: u32 = 6;
export const TCP_CLOSE_WAIT: u32 = 7;
export const TCP_CLOSING: u32 = 8;
export const TCP_LAST_ACK: u32 = 9;
export const TCP_TIME_WAIT: u32 = 10;

// Socket flags.
export const SF_BOUND: u32 = 1 << 0;
/** UDP: connect() fixed the peer. */
export const SF_CONNECTED: u32 = 1 << 1;
/** The application closed it; the stack frees it when the protocol is done. */
export const SF_USER_CLOSED: u32 = 1 << 2;
export const SF_SHUT_RD: u32 = 1 << 3;
export const SF_SHUT_WR: u32 = 1 << 4;
export const SF_REUSEADDR: u32 = 1 << 5;
export const SF_REUSEPORT: u32 = 1 << 6;
export const SF_KEEPALIVE: u32 = 1 << 7;
export const SF_NODELAY: u32 = 1 << 8;
export const SF_LINGER: u32 = 1 << 9;
/** Created by a listener and not accepted yet. */
export const SF_CHILD: u32 = 1 << 10;
export const SF_IN_ACCEPT_QUEUE: u32 = 1 << 11;
export const SF_HASHED: u32 = 1 << 12;
/** TCP: the application has no more to send (shutdown(WR) or close): FIN after the data. */
export const SF_FIN_QUEUED: u32 = 1 << 13;
/** TCP: the peer's FIN arrived (in order). */
export const SF_RX_FIN: u32 = 1 << 14;
export const SF_SACK: u32 = 1 << 15;
export const SF_TIMESTAMPS: u32 = 1 << 16;
export const SF_WSCALE: u32 = 1 << 17;
export const SF_ACK_NOW: u32 = 1 << 18;
export const SF_IN_RECOVERY: u32 = 1 << 19;
export const SF_TIMING: u32 = 1 << 20;
/** Our SYN has been acknowledged. */
export const SF_SYN_ACKED: u32 = 1 << 21;
/** The peer's FIN arrived out of order: rcvFinSeq holds its sequence number. */
export const SF_RX_FIN_PENDING: u32 = 1 << 22;
/** The connection was once synchronized (ESTABLISHED reached). */
export const SF_WAS_CONNECTED: u32 = 1 << 23;
/** Connected by the active side (connect()), for errors in SYN_RECEIVED. */
export const SF_ACTIVE_OPEN: u32 = 1 << 24;

// Readiness (Linux poll bits).
export const POLLIN: u32 = 0x001;
export const POLLPRI: u32 = 0x002;
export const POLLOUT: u32 = 0x004;
export const POLLERR: u32 = 0x008;
export const POLLHUP: u32 = 0x010;
export const POLLRDHUP: u32 = 0x2000;

/** Out-of-order ranges a TCP receiver tracks (beyond: the segment is dropped). */
export const OOO_MAX: u32 = 8;
/** SACK scoreboard ranges a TCP sender tracks. */
export const SCOREBOARD_MAX: u32 = 8;

/** Wake callback: (arg, socket id, readiness) => void, called when readiness may have changed. */
export type WakeFn = (arg: usize, id: i32, events: u32) => void;

@final @unmanaged
export class Socket {
  stack: usize;
  id: i32;
  type: u32;
  state: u32;
  flags: u32;
  /** Pending error (positive errno) for SO_ERROR and the next call; 0 none. */
  error: i32;
  localAddr: u32;
  localPort: u32;
  remoteAddr: u32;
  remotePort: u32;
  lingerSeconds: u32;
  rcvBufSize: u32;
  sndBufSize: u32;
  wakeFn: usize;
  wakeArg: usize;
  /** TCP: next socket in the same 4-tuple hash bucket. */
  hashNext: usize;
  /** Children: the listener. Listeners: the accept queue (established, not accepted). */
  parent: usize;
  acceptHead: usize;
  acceptTail: usize;
  acceptNext: usize;
  acceptCount: u32;
  backlog: u32;
  /** Listeners: children in SYN_RECEIVED. */
  synCount: u32;

  // Receive ring (embedded Ring: buf, cap, head, len).
  rxBuf: usize;
  rxCap: u32;
  rxHead: u32;
  rxLen: u32;
  // Send ring.
  txBuf: usize;
  txCap: u32;
  txHead: u32;
  txLen: u32;
  /** Datagram sockets: datagrams queued in the receive ring. */
  rxDatagrams: u32;
  /** Ping sockets: sequence number of the next echo request. */
  echoSeq: u32;

  // TCP send sequence space.
  iss: u32;
  sndUna: u32;
  sndNxt: u32;
  /** Highest sequence number sent (+1). */
  sndMax: u32;
  /** Peer's window in bytes (scaled). */
  sndWnd: u32;
  sndWl1: u32;
  sndWl2: u32;
  maxSndWnd: u32;
  sndWscale: u32;
  // TCP receive sequence space.
  irs: u32;
  rcvNxt: u32;
  /** Right edge of the window last advertised. */
  rcvAdv: u32;
  rcvWscale: u32;
  lastAckSent: u32;
  rcvFinSeq: u32;
  /** Segment size for data (without options), what the peer allows. */
  mss: u32;
  /** What we advertised. */
  advMss: u32;
  tsRecent: u32;
  tsOffset: u32;
  // Round-trip time (ns), RFC 6298.
  srtt: u64;
  rttvar: u64;
  rto: u64;
  rtTime: u64;
  rtSeq: u32;
  backoff: u32;
  retries: u32;
  // Congestion control (bytes), RFC 5681/6582/6675.
  cwnd: u32;
  ssthresh: u32;
  dupAcks: u32;
  recover: u32;
  highRxt: u32;
  bytesAcked: u32;
  // Timers: absolute ns, 0 when off.
  rtoAt: u64;
  delackAt: u64;
  persistAt: u64;
  keepaliveAt: u64;
  /** TIME_WAIT expiry, FIN_WAIT_2 timeout of an orphan. */
  closeAt: u64;
  lastReceive: u64;
  keepIdle: u64;
  keepIntvl: u64;
  keepCnt: u32;
  keepProbes: u32;
  persistBackoff: u32;
  persistProbes: u32;
  /** Bytes received since the last ACK we sent. */
  unackedBytes: u32;
  /** Most recent out-of-order segment (SACK block order). */
  lastOooStart: u32;
  lastOooEnd: u32;
  retransmits: u32;
}

/** Bytes after the record: the out-of-order ranges, then the scoreboard. */
export function socketBytes(): usize {
  return offsetof<Socket>() + asmBytes(OOO_MAX) + asmBytes(SCOREBOARD_MAX);
}

/** The out-of-order ranges (offsets from rcvNxt). */
// @ts-ignore: decorator
@inline export function oooRanges(s: Socket): usize {
  return changetype<usize>(s) + offsetof<Socket>();
}

/** The SACK scoreboard (offsets from sndUna). */
// @ts-ignore: decorator
@inline export function scoreboard(s: Socket): usize {
  return changetype<usize>(s) + offsetof<Socket>() + asmBytes(OOO_MAX);
}

// @ts-ignore: decorator
@inline export function rxRing(s: Socket): Ring {
  return changetype<Ring>(changetype<usize>(s) + offsetof<Socket>("rxBuf"));
}

// @ts-ignore: decorator
@inline export function txRing(s: Socket): Ring {
  return changetype<Ring>(changetype<usize>(s) + offsetof<Socket>("txBuf"));
}

/** Allocates the receive ring; false when out of memory. */
export function socketAllocRx(s: Socket, size: u32): bool {
  if (s.rxBuf != 0) return true;
  let buf = netAlloc(size);
  if (buf == 0) return false;
  s.rxBuf = buf;
  s.rxCap = size;
  s.rxHead = 0;
  s.rxLen = 0;
  return true;
}

export function socketAllocTx(s: Socket, size: u32): bool {
  if (s.txBuf != 0) return true;
  let buf = netAlloc(size);
  if (buf == 0) return false;
  s.txBuf = buf;
  s.txCap = size;
  s.txHead = 0;
  s.txLen = 0;
  return true;
}

export function socketFreeRx(s: Socket): void {
  netFree(s.rxBuf);
  s.rxBuf = 0;
  s.rxCap = 0;
  s.rxLen = 0;
  s.rxHead = 0;
}

export function socketFreeTx(s: Socket): void {
  netFree(s.txBuf);
  s.txBuf = 0;
  s.txCap = 0;
  s.txLen = 0;
  s.txHead = 0;
}

export function socketWake(s: Socket, events: u32): void {
  if (s.wakeFn != 0) changetype<WakeFn>(s.wakeFn)(s.wakeArg, s.id, events);
}
