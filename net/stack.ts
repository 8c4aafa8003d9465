// The network stack instance: configuration, interfaces, routes, the socket
// table, the TCP connection hash, reassembly, counters and the processing
// context. Several stacks can live in one address space (the tests connect
// two over a test link); nothing in net/ is global.
//
// Driving it: stackPoll(now) receives from pull devices, runs every timer
// that is due and lets sockets send; stackInput() is the push path for a
// driver's receive callback; stackNextDeadline() says when to poll next
// (tickless). Time is always the caller's monotonic u64 nanoseconds.
import { NetCtx, ctxCreate, ctxDestroy } from "./ctx";
import { netAlloc, netFree } from "./mem";
import { NetRandom, randomInit, randomU64 } from "./random";
import { NEVER, Device, deviceDeadline, deviceReceive } from "./phy/device";
import {
  Interface, ifaceCreate, ifaceDeadline, ifaceDestroy, ifaceInput, ifaceTimers,
} from "./iface/interface";
import { fragCreate, fragDeadline, fragDestroy, fragTimers, Reassembly } from "./iface/fragment";
import { Socket } from "./socket/socket";
import { tcpDeadline, tcpTimers } from "./socket/tcp";
import { socketDestroyAll } from "./socket/api";

export const MAX_INTERFACES: u32 = 4;
export const MAX_ROUTES: u32 = 16;
/** Frames taken from one pull device per poll before timers run (then poll is due again at once). */
export const RX_BUDGET: u32 = 256;

// TCP features, Stack.tcpFeatures (all on by default; tests turn them off one by one).
export const TCPF_WSCALE: u32 = 1;
export const TCPF_TIMESTAMPS: u32 = 2;
export const TCPF_SACK: u32 = 4;

// Counters, stackStat(stack, STAT_*).
export const STAT_RX_FRAMES: u32 = 0;
export const STAT_RX_DROPPED: u32 = 1;
export const STAT_RX_MALFORMED: u32 = 2;
export const STAT_TX_FRAMES: u32 = 3;
export const STAT_TX_DROPPED: u32 = 4;
export const STAT_ARP_REQUESTS: u32 = 5;
export const STAT_ARP_REPLIES: u32 = 6;
export const STAT_IP_FRAGMENTS: u32 = 7;
export const STAT_IP_REASSEMBLED: u32 = 8;
export const STAT_IP_REASSEMBLY_FAILED: u32 = 9;
export const STAT_ICMP_ECHO_REPLIES: u32 = 10;
export const STAT_ICMP_UNREACHABLE_SENT: u32 = 11;
export const STAT_UDP_NO_PORT: u32 = 12;
export const STAT_UDP_QUEUE_FULL: u32 = 13;
export const STAT_TCP_SEGMENTS_IN: u32 = 14;
export const STAT_TCP_SEGMENTS_OUT: u32 = 15;
export const STAT_TCP_RETRANSMITS: u32 = 16;
export const STAT_TCP_RST_SENT: u32 = 17;
export const STAT_TCP_SYN_DROPPED: u32 = 18;
export const STAT_TCP_CHALLENGE_ACKS: u32 = 19;
export const STAT_TCP_FAST_RECOVERIES: u32 = 20;
export const STAT_TCP_TIMEOUTS: u32 = 21;
export const STAT_TCP_OOO_DROPPED: u32 = 22;
export const STAT_TCP_PAWS_DROPPED: u32 = 23;
export const STAT_TCP_ACCEPT_OVERFLOW: u32 = 24;
export const STAT_TCP_SACK_RETRANSMITS: u32 = 25;
export const STAT_TCP_ZERO_WINDOW_PROBES: u32 = 26;
export const STAT_TCP_KEEPALIVE_PROBES: u32 = 27;
export const STAT_COUNT: u32 = 32;

// Configuration keys, stackConfigure(stack, CONF_*, value). Times are ns.
export const CONF_MAX_SOCKETS: u32 = 0;
export const CONF_MAX_HALF_OPEN: u32 = 1;
export const CONF_SYN_BACKLOG: u32 = 2;
export const CONF_TCP_FEATURES: u32 = 3;
export const CONF_RCVBUF: u32 = 4;
export const CONF_SNDBUF: u32 = 5;
export const CONF_MSL: u32 = 6;
export const CONF_DELAYED_ACK: u32 = 7;
export const CONF_MIN_RTO: u32 = 8;
export const CONF_MAX_RTO: u32 = 9;
export const CONF_INITIAL_RTO: u32 = 10;
export const CONF_SYN_RETRIES: u32 = 11;
export const CONF_SYNACK_RETRIES: u32 = 12;
export const CONF_DATA_RETRIES: u32 = 13;
export const CONF_KEEPIDLE: u32 = 14;
export const CONF_KEEPINTVL: u32 = 15;
export const CONF_KEEPCNT: u32 = 16;
export const CONF_FIN_TIMEOUT: u32 = 17;
export const CONF_ARP_REACHABLE: u32 = 18;
export const CONF_ARP_RETRY: u32 = 19;
export const CONF_ARP_RETRIES: u32 = 20;
export const CONF_FRAG_TIMEOUT: u32 = 21;
export const CONF_FRAG_BUFFERS: u32 = 22;
export const CONF_TTL: u32 = 23;
export const CONF_MAX_BUF: u32 = 24;
export const CONF_UDP_RCVBUF: u32 = 25;

const MS: u64 = 1000000;
const S: u64 = 1000000000;

@final @unmanaged
export class Stack {
  // A NetRandom embedded at offset 0 (same layout).
  randFn: usize;
  randArg: usize;
  randState: u64;
  secret0: u64;
  secret1: u64;

  // Configuration.
  maxSockets: u32;
  maxHalfOpen: u32;
  synBacklogMax: u32;
  tcpFeatures: u32;
  defaultRcvBuf: u32;
  defaultSndBuf: u32;
  maxBuf: u32;
  udpRcvBuf: u32;
  ttl: u32;
  synRetries: u32;
  synAckRetries: u32;
  dataRetries: u32;
  keepCnt: u32;
  arpRetries: u32;
  arpPendingPerEntry: u32;
  fragBuffers: u32;
  msl: u64;
  delayedAck: u64;
  minRto: u64;
  maxRto: u64;
  initialRto: u64;
  keepIdle: u64;
  keepIntvl: u64;
  finTimeout: u64;
  arpReachable: u64;
  arpRetry: u64;
  fragTimeout: u64;

  // State.
  now: u64;
  ctx: NetCtx;
  interfaces: usize;
  interfaceCount: u32;
  routes: usize;
  routeCount: u32;
  sockets: usize;
  socketCount: u32;
  socketHint: u32;
  tcpHash: usize;
  tcpHashMask: u32;
  halfOpen: u32;
  ipIdent: u32;
  ephemeralNext: u32;
  frag: Reassembly;
  stats: usize;
  /** Set when a pull device still had frames after its budget: poll again now. */
  backlogged: bool;
}

// @ts-ignore: decorator
@inline export function stackRandom(stack: Stack): NetRandom {
  return changetype<NetRandom>(changetype<usize>(stack));
}

// @ts-ignore: decorator
@inline export function stat(stack: Stack, index: u32): void {
  let p = stack.stats + (<usize>index << 3);
  store<u64>(p, load<u64>(p) + 1);
}

export function stackStat(stack: Stack, index: u32): u64 {
  return index < STAT_COUNT ? load<u64>(stack.stats + (<usize>index << 3)) : 0;
}

// @ts-ignore: decorator
@inline export function stackInterface(stack: Stack, index: u32): Interface {
  return changetype<Interface>(load<usize>(stack.interfaces + (<usize>index << 2)));
}

// @ts-ignore: decorator
@inline export function stackSocketAt(stack: Stack, id: u32): usize {
  return load<usize>(stack.sockets + (<usize>id << 2));
}

function setDefaults(s: Stack): void {
  s.maxSockets = 1024;
  s.maxHalfOpen = 256;
  s.synBacklogMax = 128;
  s.tcpFeatures = TCPF_WSCALE | TCPF_TIMESTAMPS | TCPF_SACK;
  s.defaultRcvBuf = 128 * 1024;
  s.defaultSndBuf = 128 * 1024;
  s.maxBuf = 16 * 1024 * 1024;
  s.udpRcvBuf = 64 * 1024;
  s.ttl = 64;
  s.synRetries = 6;
  s.synAckRetries = 5;
  s.dataRetries = 15;
  s.keepCnt = 9;
  s.arpRetries = 3;
  s.arpPendingPerEntry = 16;
  s.fragBuffers = 4;
  s.msl = 30 * S;
  s.delayedAck = 40 * MS;
  s.minRto = 200 * MS;
  s.maxRto = 120 * S;
  s.initialRto = 1 * S;
  s.keepIdle = 7200 * S;
  s.keepIntvl = 75 * S;
  s.finTimeout = 60 * S;
  s.arpReachable = 60 * S;
  s.arpRetry = 1 * S;
  s.fragTimeout = 30 * S;
}

/**
 * A stack with no interfaces. `randomFn` ((arg) => u64) supplies randomness;
 * 0 uses a generator seeded with `seed` (tests). Null when out of memory.
 * The socket table and TCP hash are sized by CONF_MAX_SOCKETS at creation.
 */
export function stackCreate(randomFn: usize, randomArg: usize, seed: u64, maxSockets: u32): Stack | null {
  let s = changetype<Stack>(netAlloc(offsetof<Stack>()));
  if (changetype<usize>(s) == 0) return null;
  setDefaults(s);
  if (maxSockets != 0) s.maxSockets = maxSockets;
  randomInit(stackRandom(s), randomFn, randomArg, seed);
  s.secret0 = randomU64(stackRandom(s));
  s.secret1 = randomU64(stackRandom(s));
  s.ipIdent = <u32>randomU64(stackRandom(s)) & 0xffff;
  s.ephemeralNext = <u32>randomU64(stackRandom(s));
  let hashSize: u32 = 64;
  while (hashSize < s.maxSockets && hashSize < 65536) hashSize <<= 1;
  s.tcpHashMask = hashSize - 1;
  let ctx = ctxCreate();
  s.interfaces = netAlloc(<usize>MAX_INTERFACES << 2);
  s.routes = netAlloc(<usize>MAX_ROUTES * 20);
  s.sockets = netAlloc(<usize>s.maxSockets << 2);
  s.tcpHash = netAlloc(<usize>hashSize << 2);
  s.stats = netAlloc(<usize>STAT_COUNT << 3);
  let frag = fragCreate();
  if (ctx == null || frag == null || s.interfaces == 0 || s.routes == 0 || s.sockets == 0 || s.tcpHash == 0 ||
      s.stats == 0) {
    if (ctx != null) ctxDestroy(ctx);
    if (frag != null) fragDestroy(frag);
    netFree(s.interfaces);
    netFree(s.routes);
    netFree(s.sockets);
    netFree(s.tcpHash);
    netFree(s.stats);
    netFree(changetype<usize>(s));
    return null;
  }
  s.ctx = ctx;
  s.frag = frag;
  return s;
}

/** Frees everything: sockets (without sending anything), interfaces (not their devices), buffers. */
export function stackDestroy(s: Stack): void {
  socketDestroyAll(s);
  for (let i: u32 = 0; i < s.interfaceCount; i++) ifaceDestroy(stackInterface(s, i));
  fragDestroy(s.frag);
  ctxDestroy(s.ctx);
  netFree(s.interfaces);
  netFree(s.routes);
  netFree(s.sockets);
  netFree(s.tcpHash);
  netFree(s.stats);
  netFree(changetype<usize>(s));
}

/** Sets a CONF_* value; 0, or -22 (EINVAL) for an unknown key or a value out of range. */
export function stackConfigure(s: Stack, key: u32, value: u64): i32 {
  let v32 = <u32>value;
  switch (key) {
    case CONF_MAX_HALF_OPEN: s.maxHalfOpen = v32; break;
    case CONF_SYN_BACKLOG: s.synBacklogMax = v32; break;
    case CONF_TCP_FEATURES: s.tcpFeatures = v32; break;
    case CONF_RCVBUF: if (v32 < 256 || v32 > s.maxBuf) return -22; s.defaultRcvBuf = v32; break;
    case CONF_SNDBUF: if (v32 < 256 || v32 > s.maxBuf) return -22; s.defaultSndBuf = v32; break;
    case CONF_MSL: s.msl = value; break;
    case CONF_DELAYED_ACK: s.delayedAck = value; break;
    case CONF_MIN_RTO: s.minRto = value; break;
    case CONF_MAX_RTO: s.maxRto = value; break;
    case CONF_INITIAL_RTO: s.initialRto = value; break;
    case CONF_SYN_RETRIES: s.synRetries = v32; break;
    case CONF_SYNACK_RETRIES: s.synAckRetries = v32; break;
    case CONF_DATA_RETRIES: s.dataRetries = v32; break;
    case CONF_KEEPIDLE: s.keepIdle = value; break;
    case CONF_KEEPINTVL: s.keepIntvl = value; break;
    case CONF_KEEPCNT: s.keepCnt = v32; break;
    case CONF_FIN_TIMEOUT: s.finTimeout = value; break;
    case CONF_ARP_REACHABLE: s.arpReachable = value; break;
    case CONF_ARP_RETRY: s.arpRetry = value; break;
    case CONF_ARP_RETRIES: s.arpRetries = v32; break;
    case CONF_FRAG_TIMEOUT: s.fragTimeout = value; break;
    case CONF_FRAG_BUFFERS: s.fragBuffers = v32; break;
    case CONF_TTL: if (v32 == 0 || v32 > 255) return -22; s.ttl = v32; break;
    case CONF_MAX_BUF: s.maxBuf = v32; break;
    case CONF_UDP_RCVBUF: if (v32 < 256 || v32 > s.maxBuf) return -22; s.udpRcvBuf = v32; break;
    default: return -22;
  }
  return 0;
}

/** Adds an interface over `dev` with IF_* `flags`: its index, or -errno. */
export function stackAddInterface(s: Stack, dev: Device, flags: u32): i32 {
  if (s.interfaceCount >= MAX_INTERFACES) return -28; // ENOSPC
  let iface = ifaceCreate(s, dev, flags, s.interfaceCount);
  if (iface == null) return -12;
  store<usize>(s.interfaces + (<usize>s.interfaceCount << 2), changetype<usize>(iface));
  let index = s.interfaceCount;
  s.interfaceCount = index + 1;
  return <i32>index;
}

/** The push path: a driver delivers a received frame (flags: DEV_RX_*). */
export function stackInput(s: Stack, ifIndex: u32, frame: usize, len: u32, flags: u32, now: u64): void {
  if (ifIndex >= s.interfaceCount) return;
  s.now = now;
  ifaceInput(stackInterface(s, ifIndex), s.ctx, frame, len, flags, now);
}

/**
 * Receives what pull devices have (up to RX_BUDGET frames each), runs due
 * timers (ARP, reassembly, DHCP, TCP) and returns how many frames it took in
 * plus timers it ran: 0 means nothing happened.
 */
export function stackPoll(s: Stack, now: u64): u32 {
  s.now = now;
  let work: u32 = 0;
  s.backlogged = false;
  let ctx = s.ctx;
  for (let i: u32 = 0; i < s.interfaceCount; i++) {
    let iface = stackInterface(s, i);
    let dev = iface.dev;
    if (dev.receiveFn == 0) continue;
    let n: u32 = 0;
    while (n < RX_BUDGET) {
      let len = deviceReceive(dev, iface.rxBuf, iface.rxBufSize, now);
      if (len <= 0) break;
      ifaceInput(iface, ctx, iface.rxBuf, <u32>len, dev.rxFlags, now);
      n++;
    }
    if (n == RX_BUDGET) s.backlogged = true;
    work += n;
  }
  for (let i: u32 = 0; i < s.interfaceCount; i++) work += ifaceTimers(stackInterface(s, i), ctx, now);
  work += fragTimers(s, now);
  // Sockets: timers that are due (a socket may free itself, so read the slot each time).
  for (let id: u32 = 0; id < s.maxSockets; id++) {
    let p = stackSocketAt(s, id);
    if (p == 0) continue;
    let sock = changetype<Socket>(p);
    if (tcpDeadline(sock) <= now) {
      tcpTimers(sock, ctx, now);
      work++;
    }
  }
  return work;
}

/** When stackPoll has something to do next: `now` or earlier if work is waiting, NEVER if nothing. */
export function stackNextDeadline(s: Stack): u64 {
  if (s.backlogged) return s.now;
  let t = NEVER;
  for (let i: u32 = 0; i < s.interfaceCount; i++) {
    let iface = stackInterface(s, i);
    let d = deviceDeadline(iface.dev);
    if (d < t) t = d;
    d = ifaceDeadline(iface);
    if (d < t) t = d;
  }
  let d = fragDeadline(s);
  if (d < t) t = d;
  for (let id: u32 = 0; id < s.maxSockets; id++) {
    let p = stackSocketAt(s, id);
    if (p == 0) continue;
    d = tcpDeadline(changetype<Socket>(p));
    if (d < t) t = d;
  }
  return t;
}
