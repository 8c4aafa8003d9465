// TCP (RFC 9293): connection state machine, segment processing and output,
// timers. Sequence-space bookkeeping:
//  - the send ring holds unacknowledged and unsent data; its first byte is
//    SND.UNA once our SYN is acknowledged, and a queued FIN follows its last
//    byte (finSeq = SND.UNA + txLen);
//  - the receive ring holds readable bytes up to RCV.NXT, and out-of-order
//    data at its sequence offset beyond them (oooRanges, relative to RCV.NXT);
//  - the SACK scoreboard holds what the peer SACKed (relative to SND.UNA).
// Retransmission: RFC 6298 timer with Karn's algorithm and exponential
// backoff; congestion control NewReno (RFC 5681, 6582), with SACK loss
// recovery (RFC 6675 pipe and NextSeg) when both ends permit SACK; window
// scaling and timestamps with PAWS (RFC 7323); RFC 5961 challenge ACKs;
// delayed ACKs, Nagle, sender and receiver silly-window avoidance,
// zero-window probes, keepalive, TIME_WAIT.
//
// tcpProcess(stack, ctx, socket, now) is the per-connection input path: the
// normal path reaches it through tcpInput's demultiplexing; net channels
// (phase 2) call tcpChannelInput from the thread that reads the socket.
import {
  EADDRNOTAVAIL, ECONNREFUSED, ECONNRESET, EHOSTUNREACH, EINPROGRESS, ENETUNREACH, ENOMEM, ETIMEDOUT,
} from "../errno";
import { NetCtx } from "../ctx";
import { DEV_RX_CHECKSUM_PARTIAL, DEV_RX_CHECKSUM_VALID, DEV_TX_CHECKSUM, NEVER } from "../phy/device";
import { randomU32 } from "../random";
import {
  STAT_RX_DROPPED, STAT_RX_MALFORMED, STAT_TCP_ACCEPT_OVERFLOW, STAT_TCP_CHALLENGE_ACKS, STAT_TCP_FAST_RECOVERIES,
  STAT_TCP_KEEPALIVE_PROBES, STAT_TCP_OOO_DROPPED, STAT_TCP_PAWS_DROPPED, STAT_TCP_RETRANSMITS, STAT_TCP_RST_SENT,
  STAT_TCP_SACK_RETRANSMITS, STAT_TCP_SEGMENTS_IN, STAT_TCP_SEGMENTS_OUT, STAT_TCP_SYN_DROPPED, STAT_TCP_TIMEOUTS,
  STAT_TCP_ZERO_WINDOW_PROBES, Stack, TCPF_SACK, TCPF_TIMESTAMPS, TCPF_WSCALE, stackRandom, stat,
} from "../stack";
import { ipIsMulticast, seqGe, seqGt, seqLe, seqLt, seqMax } from "../wire/bytes";
import { ETHERTYPE_IPV4, ETH_HEADER_LEN, EthernetFrame } from "../wire/ethernet";
import { ICMP_DEST_UNREACHABLE, ICMP_UNREACH_NEEDFRAG, ICMP_UNREACH_PORT, ICMP_UNREACH_PROTOCOL } from "../wire/icmp";
import { IP_PROTO_TCP, Ipv4Packet } from "../wire/ipv4";
import {
  TCP_ACK, TCP_FIN, TCP_MAX_SACK_BLOCKS, TCP_NO_WSCALE, TCP_PSH, TCP_RST, TCP_SYN, TcpPacket, TcpRepr,
  tcpFillChecksum,
} from "../wire/tcp";
import { IP_PAYLOAD_OFFSET, ipSend } from "../iface/ipv4";
import { Interface, OFFLOAD_NONE, ifaceIsBroadcast } from "../iface/interface";
import { ipRoute } from "../iface/route";
import { asmAdd, asmClear, asmCount, asmEnd, asmFind, asmFront, asmShift, asmStart, asmTotal } from "./assembler";
import { ringConsume, ringReadAt, ringWriteAt } from "./ring";
import {
  OOO_MAX, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, SCOREBOARD_MAX, SF_ACK_NOW, SF_ACTIVE_OPEN, SF_BOUND,
  SF_CHILD, SF_FIN_QUEUED, SF_IN_ACCEPT_QUEUE, SF_IN_RECOVERY, SF_KEEPALIVE, SF_LINGER, SF_NODELAY, SF_REUSEADDR,
  SF_REUSEPORT, SF_RX_FIN, SF_RX_FIN_PENDING, SF_SACK, SF_SHUT_RD, SF_SHUT_WR, SF_SYN_ACKED, SF_TIMESTAMPS,
  SF_TIMING, SF_USER_CLOSED, SF_WAS_CONNECTED, SF_WSCALE, SOCK_STREAM, Socket, TCP_CLOSED, TCP_CLOSE_WAIT,
  TCP_CLOSING, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_LAST_ACK, TCP_LISTEN, TCP_SYN_RECEIVED,
  TCP_SYN_SENT, TCP_TIME_WAIT, oooRanges, rxRing, scoreboard, socketAllocRx, socketAllocTx, socketFreeRx,
  socketFreeTx, socketWake, txRing,
} from "./socket";
import {
  flowHash, socketAlloc, socketBindPort, socketRelease, tcpFindListener, tcpHash, tcpLookup, tcpUnhash,
} from "./table";

const MS: u64 = 1000000;
/** RFC 9293 default when the peer sends no MSS option; and the smallest MSS we accept (Linux's). */
const DEFAULT_MSS: u32 = 536;
const MIN_MSS: u32 = 88;
const TS_OPTION_BYTES: u32 = 12;
const MAX_WINDOW: u32 = 0x3fffffff;
const PERSIST_MAX: u64 = 60 * 1000 * MS;
/** Segments tcpOutput sends per call at most (a bound on work per event). */
const OUTPUT_BUDGET: u32 = 512;

// @ts-ignore: decorator
@inline function after(now: u64, delta: u64): u64 {
  let t = now + delta;
  return t != 0 ? t : 1;
}

// @ts-ignore: decorator
@inline function stackOf(s: Socket): Stack {
  return changetype<Stack>(s.stack);
}

// @ts-ignore: decorator
@inline function min32(a: u32, b: u32): u32 {
  return a < b ? a : b;
}

function synchronized(state: u32): bool {
  return state >= TCP_ESTABLISHED;
}

function tsNow(s: Socket, now: u64): u32 {
  return <u32>(now / MS) + s.tsOffset;
}

/** Data bytes per full-sized segment (MSS less the timestamp option). */
export function tcpSmss(s: Socket): u32 {
  let m = s.mss;
  if ((s.flags & SF_TIMESTAMPS) != 0) m -= TS_OPTION_BYTES;
  return m;
}

/** Room in the receive buffer beyond RCV.NXT (the whole configured size before the ring exists). */
function rcvFree(s: Socket): u32 {
  return s.rxBuf != 0 ? s.rxCap - s.rxLen : s.rcvBufSize;
}

function sackBlocksToSend(s: Socket): u32 {
  if ((s.flags & SF_SACK) == 0) return 0;
  let n = asmCount(oooRanges(s));
  let max = (s.flags & SF_TIMESTAMPS) != 0 ? TCP_MAX_SACK_BLOCKS - 1 : TCP_MAX_SACK_BLOCKS;
  return n < max ? n : max;
}

function segmentDataMax(s: Socket): u32 {
  let m = tcpSmss(s);
  let n = sackBlocksToSend(s);
  if (n != 0) m -= 4 + (n << 3);
  return m;
}

/**
 * The window to advertise (bytes, before scaling): the free space, but the
 * right edge only moves when it moves by at least min(buffer/2, MSS)
 * (receiver silly-window avoidance, RFC 9293 3.8.6.2.2).
 */
function advertisedWindow(s: Socket): u32 {
  let free = rcvFree(s);
  let maxWin = <u32>65535 << s.rcvWscale;
  if (free > maxWin) free = maxWin;
  let cur = seqGt(s.rcvAdv, s.rcvNxt) ? s.rcvAdv - s.rcvNxt : 0;
  if (free > cur) {
    let cap = s.rxBuf != 0 ? s.rxCap : s.rcvBufSize;
    let step = min32(cap >> 1, s.advMss);
    if (free - cur < step) free = cur;
  }
  return free;
}

function chooseWscale(size: u32): u32 {
  let shift: u32 = 0;
  while (shift < 14 && (size >> shift) > 65535) shift++;
  return shift;
}

function isn(stack: Stack, s: Socket, now: u64): u32 {
  // RFC 6528: a 4-microsecond clock plus a keyed hash of the connection.
  return <u32>(now / 4000) + <u32>flowHash(stack, s.localAddr, s.localPort, s.remoteAddr, s.remotePort);
}

/** Fresh control block: timers off, RTO initial, congestion window unset. */
function tcbInit(stack: Stack, s: Socket): void {
  s.srtt = 0;
  s.rttvar = 0;
  s.rto = stack.initialRto;
  s.backoff = 0;
  s.retries = 0;
  s.rtoAt = 0;
  s.delackAt = 0;
  s.persistAt = 0;
  s.keepaliveAt = 0;
  s.closeAt = 0;
  s.dupAcks = 0;
  s.bytesAcked = 0;
  s.ssthresh = MAX_WINDOW;
  s.keepProbes = 0;
  s.persistBackoff = 0;
  s.persistProbes = 0;
  s.unackedBytes = 0;
  s.rcvWscale = 0;
  s.sndWscale = 0;
  s.tsRecent = 0;
  s.tsOffset = randomU32(stackRandom(stack));
  if (s.keepIdle == 0) s.keepIdle = stack.keepIdle;
  if (s.keepIntvl == 0) s.keepIntvl = stack.keepIntvl;
  if (s.keepCnt == 0) s.keepCnt = stack.keepCnt;
  asmClear(oooRanges(s));
  asmClear(scoreboard(s));
}

function initialCwnd(s: Socket): u32 {
  // RFC 6928: min(10 * MSS, max(2 * MSS, 14600)).
  let m = tcpSmss(s);
  let w = 14600 > 2 * m ? <u32>14600 : 2 * m;
  return w < 10 * m ? w : 10 * m;
}

/** Negotiates options from a SYN (or SYN-ACK): MSS, window scale, SACK, timestamps. */
function takeSynOptions(stack: Stack, s: Socket, seg: TcpRepr, offered: u32): void {
  let peerMss = seg.mss != 0 ? seg.mss : DEFAULT_MSS;
  if (peerMss < MIN_MSS) peerMss = MIN_MSS;
  s.mss = min32(peerMss, s.advMss);
  let flags = s.flags & ~(SF_WSCALE | SF_SACK | SF_TIMESTAMPS);
  if ((offered & TCPF_WSCALE) != 0 && seg.wscale != TCP_NO_WSCALE) {
    flags |= SF_WSCALE;
    s.sndWscale = seg.wscale;
    s.rcvWscale = chooseWscale(s.rcvBufSize);
  } else {
    s.sndWscale = 0;
    s.rcvWscale = 0;
  }
  if ((offered & TCPF_SACK) != 0 && seg.sackPermitted) flags |= SF_SACK;
  if ((offered & TCPF_TIMESTAMPS) != 0 && seg.tsPresent) {
    flags |= SF_TIMESTAMPS;
    s.tsRecent = seg.tsVal;
  }
  s.flags = flags;
  s.cwnd = initialCwnd(s);
}

// ---- output ----

/**
 * Builds and sends one segment: `flags`, sequence number `seq`, `len` data
 * bytes from the send ring at offset `dataOff`. An ACK carries RCV.NXT and
 * clears pending ACK state. 0 or -errno.
 */
function sendSegment(stack: Stack, ctx: NetCtx, s: Socket, seq: u32, flags: u32, dataOff: u32, len: u32,
  now: u64): i32 {
  if (ipRoute(stack, ctx, s.remoteAddr, s.localAddr) < 0) return -ENETUNREACH;
  let iface = changetype<Interface>(ctx.routeIface);
  let out = ctx.out;
  out.srcPort = s.localPort;
  out.dstPort = s.remotePort;
  out.seq = seq;
  out.ack = (flags & TCP_ACK) != 0 ? s.rcvNxt : 0;
  out.flags = flags;
  out.urgent = 0;
  out.clearOptions();
  let win: u32;
  if ((flags & TCP_SYN) != 0) {
    win = min32(rcvFree(s), 65535);
    out.window = win;
    out.mss = s.advMss;
    let active = s.state == TCP_SYN_SENT;
    let features = stackOf(s).tcpFeatures;
    if (active ? (features & TCPF_WSCALE) != 0 : (s.flags & SF_WSCALE) != 0) {
      out.wscale = active ? chooseWscale(s.rcvBufSize) : s.rcvWscale;
    }
    out.sackPermitted = active ? (features & TCPF_SACK) != 0 : (s.flags & SF_SACK) != 0;
    if (active ? (features & TCPF_TIMESTAMPS) != 0 : (s.flags & SF_TIMESTAMPS) != 0) {
      out.tsPresent = true;
      out.tsVal = tsNow(s, now);
      out.tsEcr = active ? 0 : s.tsRecent;
    }
  } else {
    win = (flags & TCP_RST) != 0 ? 0 : advertisedWindow(s);
    let field = win >> s.rcvWscale;
    if (field > 65535) field = 65535;
    out.window = field;
    win = field << s.rcvWscale;
    if ((s.flags & SF_TIMESTAMPS) != 0) {
      out.tsPresent = true;
      out.tsVal = tsNow(s, now);
      out.tsEcr = s.tsRecent;
    }
    if ((flags & TCP_ACK) != 0 && (flags & TCP_RST) == 0) {
      let n = sackBlocksToSend(s);
      if (n != 0) {
        // RFC 2018: the block holding the latest out-of-order segment first, then the others.
        let ooo = oooRanges(s);
        let first = asmFind(ooo, s.lastOooStart - s.rcvNxt, s.lastOooEnd - s.rcvNxt);
        let k: u32 = 0;
        if (first >= 0) {
          out.setSack(0, s.rcvNxt + asmStart(ooo, <u32>first), s.rcvNxt + asmEnd(ooo, <u32>first));
          k = 1;
        }
        for (let i: u32 = 0; i < asmCount(ooo) && k < n; i++) {
          if (<i32>i == first) continue;
          out.setSack(k++, s.rcvNxt + asmStart(ooo, i), s.rcvNxt + asmEnd(ooo, i));
        }
        out.sackCount = k;
      }
    }
  }
  let p = ctx.txBuf + IP_PAYLOAD_OFFSET;
  let hlen = out.emit(p);
  if (len != 0) ringReadAt(txRing(s), dataOff, p + hlen, len);
  let offload = (iface.dev.caps & DEV_TX_CHECKSUM) != 0;
  let src = ctx.routeSrc;
  tcpFillChecksum(p, hlen + len, src, s.remoteAddr, offload);
  let r = ipSend(stack, ctx, src, s.remoteAddr, IP_PROTO_TCP, hlen + len, true, offload ? 16 : OFFLOAD_NONE, now);
  stat(stack, STAT_TCP_SEGMENTS_OUT);
  if ((flags & TCP_ACK) != 0) {
    s.lastAckSent = s.rcvNxt;
    let edge = s.rcvNxt + win;
    if (seqGt(edge, s.rcvAdv)) s.rcvAdv = edge;
    s.flags &= ~SF_ACK_NOW;
    s.delackAt = 0;
    s.unackedBytes = 0;
  }
  return r;
}

/** A pure ACK carries SND.MAX: while retransmitting, SND.NXT is behind what the peer may have (as BSD). */
function sendAck(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  sendSegment(stack, ctx, s, s.sndMax, TCP_ACK, 0, 0, now);
}

function sendSyn(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  let flags = s.state == TCP_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;
  sendSegment(stack, ctx, s, s.iss, flags, 0, 0, now);
  if (s.retries == 0 && (s.flags & SF_TIMING) == 0) {
    // The handshake gives the first RTT sample (not from a retransmitted SYN: Karn).
    s.flags |= SF_TIMING;
    s.rtSeq = s.iss;
    s.rtTime = now;
  }
  s.sndNxt = s.iss + 1;
  if (seqGt(s.sndNxt, s.sndMax)) s.sndMax = s.sndNxt;
  if (s.rtoAt == 0) s.rtoAt = after(now, s.rto);
}

/** Probe with an old sequence number (SND.UNA - 1, no data): the peer answers with an ACK. */
function sendProbe(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  sendSegment(stack, ctx, s, s.sndUna - 1, TCP_ACK, 0, 0, now);
}

/** RST for the connection (abort). */
function sendRst(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  sendSegment(stack, ctx, s, s.sndMax, TCP_RST | TCP_ACK, 0, 0, now);
  stat(stack, STAT_TCP_RST_SENT);
}

/** RFC 6675 IsLost: more than 2 SMSS, or 3 separate blocks, SACKed above `off`. */
function isLost(s: Socket, off: u32): bool {
  let sb = scoreboard(s);
  let n = asmCount(sb);
  let bytes: u32 = 0;
  let blocks: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let st = asmStart(sb, i);
    let en = asmEnd(sb, i);
    if (en <= off) continue;
    bytes += en - (st > off ? st : off);
    blocks++;
  }
  return blocks >= 3 || bytes > 2 * tcpSmss(s);
}

/** RFC 6675 SetPipe: bytes presumed in the network. */
function sackPipe(s: Socket): u32 {
  let sb = scoreboard(s);
  let n = asmCount(sb);
  let total = s.sndMax - s.sndUna;
  let high = seqGt(s.highRxt, s.sndUna) ? s.highRxt - s.sndUna : 0;
  let pipe: u32 = 0;
  let pos: u32 = 0;
  for (let i: u32 = 0; i <= n; i++) {
    let hs = pos;
    let he = i < n ? asmStart(sb, i) : total;
    if (he > total) he = total;
    if (he > hs) {
      if (i == n || !isLost(s, hs)) pipe += he - hs;
      let rexEnd = he < high ? he : high;
      if (rexEnd > hs) pipe += rexEnd - hs;
    }
    if (i < n) pos = asmEnd(sb, i);
  }
  return pipe;
}

/** Retransmits the next lost hole at or above HighRxt if the congestion window allows (RFC 6675 NextSeg rule 1). */
function sackRetransmit(stack: Stack, ctx: NetCtx, s: Socket, now: u64): bool {
  let sb = scoreboard(s);
  let n = asmCount(sb);
  let high = seqGt(s.highRxt, s.sndUna) ? s.highRxt - s.sndUna : 0;
  let pos: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let hs = pos;
    let he = asmStart(sb, i);
    pos = asmEnd(sb, i);
    let start = hs > high ? hs : high;
    if (start >= he || !isLost(s, start)) continue;
    let len = min32(he - start, segmentDataMax(s));
    if (start + len > s.txLen) len = start < s.txLen ? s.txLen - start : 0;
    if (len == 0) continue;
    let pipe = sackPipe(s);
    if (s.cwnd <= pipe || s.cwnd - pipe < len) return false;
    sendSegment(stack, ctx, s, s.sndUna + start, TCP_ACK, start, len, now);
    s.highRxt = s.sndUna + start + len;
    s.retransmits++;
    s.flags &= ~SF_TIMING;
    stat(stack, STAT_TCP_RETRANSMITS);
    stat(stack, STAT_TCP_SACK_RETRANSMITS);
    if (s.rtoAt == 0) s.rtoAt = after(now, s.rto);
    return true;
  }
  return false;
}

/** Retransmits the first unacknowledged segment (fast retransmit, NewReno partial ACKs). */
function retransmitFirst(stack: Stack, ctx: NetCtx, s: Socket, now: u64): u32 {
  let len = min32(s.txLen, segmentDataMax(s));
  let finSeq = s.sndUna + s.txLen;
  let fin = (s.flags & SF_FIN_QUEUED) != 0 && len == s.txLen && seqGt(s.sndMax, finSeq);
  if (len == 0 && !fin) return 0;
  sendSegment(stack, ctx, s, s.sndUna, TCP_ACK | (fin ? TCP_FIN : 0), 0, len, now);
  s.retransmits++;
  s.flags &= ~SF_TIMING;
  stat(stack, STAT_TCP_RETRANSMITS);
  let end = s.sndUna + len + (fin ? 1 : 0);
  if (seqLt(s.sndNxt, end)) s.sndNxt = end;
  return len;
}

/** Sends what data (and FIN) the windows, Nagle and SWS avoidance allow. `force`: one segment regardless (persist). */
function sendData(stack: Stack, ctx: NetCtx, s: Socket, now: u64, force: bool): bool {
  let state = s.state;
  if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT && state != TCP_FIN_WAIT_1 && state != TCP_CLOSING &&
      state != TCP_LAST_ACK) return false;
  let sent = false;
  for (let budget: u32 = 0; budget < OUTPUT_BUDGET; budget++) {
    let sack = (s.flags & (SF_IN_RECOVERY | SF_SACK)) == (SF_IN_RECOVERY | SF_SACK);
    if (sack && sackRetransmit(stack, ctx, s, now)) {
      sent = true;
      continue;
    }
    let txLen = s.txLen;
    let finSeq = s.sndUna + txLen;
    if (seqGt(s.sndNxt, finSeq)) break; // the FIN is out
    let off = s.sndNxt - s.sndUna;
    let unsent = txLen - off;
    let finQueued = (s.flags & SF_FIN_QUEUED) != 0;
    let edge = s.sndUna + s.sndWnd;
    let rwin = seqGt(edge, s.sndNxt) ? edge - s.sndNxt : 0;
    let inFlight = sack ? sackPipe(s) : s.sndNxt - s.sndUna;
    let cwin = s.cwnd > inFlight ? s.cwnd - inFlight : 0;
    let maxSeg = segmentDataMax(s);
    let len = min32(min32(unsent, rwin), min32(cwin, maxSeg));
    if (force && len == 0 && unsent != 0) len = min32(min32(unsent, maxSeg), rwin != 0 ? rwin : 1);
    let fin = finQueued && len == unsent;
    if (len == 0 && !fin) break;
    if (!force && len != 0 && len < maxSeg) {
      // Sender SWS avoidance: a window-limited piece waits for half the largest window seen.
      if (len < unsent && len < (s.maxSndWnd >> 1)) break;
      // Nagle: a small last piece waits while data is unacknowledged.
      if (len == unsent && !fin && (s.flags & SF_NODELAY) == 0 && s.sndNxt != s.sndUna) break;
    }
    let retransmission = seqLt(s.sndNxt, s.sndMax);
    let flags = TCP_ACK | (fin ? TCP_FIN : 0) | (len != 0 && len == unsent ? TCP_PSH : 0);
    sendSegment(stack, ctx, s, s.sndNxt, flags, off, len, now);
    if (retransmission) {
      s.retransmits++;
      stat(stack, STAT_TCP_RETRANSMITS);
    } else if ((s.flags & SF_TIMING) == 0 && len != 0) {
      s.flags |= SF_TIMING;
      s.rtSeq = s.sndNxt;
      s.rtTime = now;
    }
    s.sndNxt += len + (fin ? 1 : 0);
    if (seqGt(s.sndNxt, s.sndMax)) s.sndMax = s.sndNxt;
    if (s.rtoAt == 0) s.rtoAt = after(now, s.rto);
    s.persistAt = 0;
    sent = true;
    if (fin || force) break;
  }
  return sent;
}

/** Arms the persist timer when data waits on a closed (or too small) window with nothing in flight. */
function armPersist(stack: Stack, s: Socket, now: u64): void {
  if (!synchronized(s.state) || s.state == TCP_TIME_WAIT) return;
  let unsent = s.txLen - (s.sndNxt - s.sndUna);
  let waiting = s.txLen != 0 && <i32>unsent > 0 && s.sndNxt == s.sndUna && s.rtoAt == 0;
  if (!waiting) {
    s.persistAt = 0;
    return;
  }
  if (s.persistAt != 0) return;
  let interval = s.rto << s.persistBackoff;
  if (interval < stack.minRto) interval = stack.minRto;
  if (interval > PERSIST_MAX) interval = PERSIST_MAX;
  s.persistAt = after(now, interval);
}

/** Sends whatever is due: SYN, SYN-ACK, data, FIN, a pending ACK. */
export function tcpOutput(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  let state = s.state;
  if (state == TCP_CLOSED || state == TCP_LISTEN) return;
  if (state == TCP_SYN_SENT || state == TCP_SYN_RECEIVED) {
    if (s.sndNxt == s.iss) sendSyn(stack, ctx, s, now);
    else if ((s.flags & SF_ACK_NOW) != 0 && state == TCP_SYN_RECEIVED) sendAck(stack, ctx, s, now);
    return;
  }
  if (state == TCP_TIME_WAIT) {
    if ((s.flags & SF_ACK_NOW) != 0) sendAck(stack, ctx, s, now);
    return;
  }
  let sent = sendData(stack, ctx, s, now, false);
  if (!sent && (s.flags & SF_ACK_NOW) != 0) sendAck(stack, ctx, s, now);
  armPersist(stack, s, now);
}

// ---- state changes ----

function wake(s: Socket, events: u32): void {
  socketWake(s, events);
}

/** Leaves the listener's queues (a child that closes or is accepted). */
function detachChild(stack: Stack, s: Socket): void {
  if ((s.flags & SF_CHILD) == 0 || s.parent == 0) return;
  let l = changetype<Socket>(s.parent);
  if (s.state == TCP_SYN_RECEIVED) {
    l.synCount--;
    stack.halfOpen--;
  }
  if ((s.flags & SF_IN_ACCEPT_QUEUE) != 0) {
    let prev: usize = 0;
    let p = l.acceptHead;
    while (p != 0 && p != changetype<usize>(s)) {
      prev = p;
      p = changetype<Socket>(p).acceptNext;
    }
    if (p != 0) {
      if (prev == 0) l.acceptHead = s.acceptNext;
      else changetype<Socket>(prev).acceptNext = s.acceptNext;
      if (l.acceptTail == changetype<usize>(s)) l.acceptTail = prev;
      l.acceptCount--;
    }
    s.acceptNext = 0;
    s.flags &= ~SF_IN_ACCEPT_QUEUE;
  }
  s.parent = 0;
}

/**
 * The connection is over (reset, timeout, done): CLOSED, out of the hash,
 * timers off. A socket nobody will close (closed by the application, or an
 * unaccepted child) is freed; true then.
 */
function tcpClosed(stack: Stack, s: Socket, err: i32): bool {
  detachChild(stack, s);
  s.state = TCP_CLOSED;
  if (err != 0) s.error = err;
  s.rtoAt = 0;
  s.delackAt = 0;
  s.persistAt = 0;
  s.keepaliveAt = 0;
  s.closeAt = 0;
  tcpUnhash(stack, s);
  socketFreeTx(s);
  if ((s.flags & (SF_USER_CLOSED | SF_CHILD)) != 0) {
    socketRelease(stack, s);
    return true;
  }
  wake(s, POLLIN | POLLOUT | POLLHUP | (err != 0 ? POLLERR : 0));
  return false;
}

/** Aborts: RST to the peer if it knows the connection, then closed with `err`. True if freed. */
export function tcpAbort(stack: Stack, ctx: NetCtx, s: Socket, err: i32, now: u64): bool {
  let state = s.state;
  if (state == TCP_SYN_RECEIVED || (synchronized(state) && state != TCP_TIME_WAIT)) sendRst(stack, ctx, s, now);
  return tcpClosed(stack, s, err);
}

function enterTimeWait(stack: Stack, s: Socket, now: u64): void {
  s.state = TCP_TIME_WAIT;
  s.rtoAt = 0;
  s.persistAt = 0;
  s.keepaliveAt = 0;
  s.delackAt = 0;
  s.closeAt = after(now, stack.msl << 1);
  socketFreeTx(s);
  if ((s.flags & SF_USER_CLOSED) != 0) socketFreeRx(s);
  wake(s, POLLIN | POLLHUP);
}

function establish(stack: Stack, s: Socket, now: u64): void {
  s.state = TCP_ESTABLISHED;
  s.flags |= SF_WAS_CONNECTED | SF_SYN_ACKED;
  s.lastReceive = now;
  if ((s.flags & SF_KEEPALIVE) != 0) s.keepaliveAt = after(now, s.keepIdle);
}

/** Our FIN was acknowledged: the closing states move on. True if the socket was freed. */
function finAcked(stack: Stack, s: Socket, now: u64): bool {
  if (s.state == TCP_FIN_WAIT_1) {
    s.state = TCP_FIN_WAIT_2;
    if ((s.flags & SF_USER_CLOSED) != 0) s.closeAt = after(now, stack.finTimeout);
  } else if (s.state == TCP_CLOSING) {
    enterTimeWait(stack, s, now);
  } else if (s.state == TCP_LAST_ACK) {
    return tcpClosed(stack, s, 0);
  }
  return false;
}

/** The peer's FIN, in order. True if the socket was freed. */
function finReceived(stack: Stack, s: Socket, now: u64): bool {
  s.rcvNxt++;
  s.flags = (s.flags | SF_RX_FIN | SF_ACK_NOW) & ~SF_RX_FIN_PENDING;
  let state = s.state;
  if (state == TCP_ESTABLISHED || state == TCP_SYN_RECEIVED) s.state = TCP_CLOSE_WAIT;
  else if (state == TCP_FIN_WAIT_1) s.state = TCP_CLOSING;
  else if (state == TCP_FIN_WAIT_2) enterTimeWait(stack, s, now);
  else if (state == TCP_TIME_WAIT) s.closeAt = after(now, stack.msl << 1);
  wake(s, POLLIN | POLLRDHUP);
  return false;
}

// ---- RTT and congestion ----

function rttSample(stack: Stack, s: Socket, r: u64): void {
  if (s.srtt == 0) {
    s.srtt = r != 0 ? r : 1;
    s.rttvar = r >> 1;
  } else {
    let delta = s.srtt > r ? s.srtt - r : r - s.srtt;
    s.rttvar = s.rttvar - (s.rttvar >> 2) + (delta >> 2);
    s.srtt = s.srtt - (s.srtt >> 3) + (r >> 3);
  }
  updateRto(stack, s);
}

function updateRto(stack: Stack, s: Socket): void {
  if (s.srtt == 0) return;
  let v = s.rttvar << 2;
  if (v < MS) v = MS;
  let rto = s.srtt + v;
  if (rto < stack.minRto) rto = stack.minRto;
  if (rto > stack.maxRto) rto = stack.maxRto;
  s.rto = rto;
}

function flightSize(s: Socket): u32 {
  return s.sndMax - s.sndUna;
}

function lossThreshold(s: Socket): u32 {
  let half = flightSize(s) >> 1;
  let two = tcpSmss(s) << 1;
  return half > two ? half : two;
}

function enterRecovery(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  stat(stack, STAT_TCP_FAST_RECOVERIES);
  s.ssthresh = lossThreshold(s);
  s.recover = s.sndMax;
  s.flags |= SF_IN_RECOVERY;
  s.flags &= ~SF_TIMING;
  s.highRxt = s.sndUna;
  let len = retransmitFirst(stack, ctx, s, now);
  s.highRxt = s.sndUna + len;
  s.cwnd = (s.flags & SF_SACK) != 0 ? s.ssthresh : s.ssthresh + 3 * tcpSmss(s);
  s.rtoAt = after(now, s.rto);
}

function congestionOnAck(s: Socket, acked: u32): void {
  let smss = tcpSmss(s);
  if (s.cwnd < s.ssthresh) {
    // Slow start with appropriate byte counting (RFC 3465, L = 2).
    s.cwnd += min32(acked, 2 * smss);
  } else {
    s.bytesAcked += acked;
    if (s.bytesAcked >= s.cwnd) {
      s.bytesAcked -= s.cwnd;
      s.cwnd += smss;
    }
  }
  // Growth beyond what the peer could ever take only builds bursts.
  let cap = (<u64>s.maxSndWnd << 1) + <u64>initialCwnd(s);
  if (cap > <u64>MAX_WINDOW) cap = MAX_WINDOW;
  if (<u64>s.cwnd > cap) s.cwnd = <u32>cap;
}

// ---- input ----

/** RST in answer to a segment for no connection (RFC 9293 3.10.7.1). */
function sendResetFor(stack: Stack, ctx: NetCtx, now: u64): void {
  let seg = ctx.tcp;
  let ip = ctx.ip;
  if ((seg.flags & TCP_RST) != 0) return;
  if (ipRoute(stack, ctx, ip.src, ip.dst) < 0) return;
  let iface = changetype<Interface>(ctx.routeIface);
  let out = ctx.out;
  out.srcPort = seg.dstPort;
  out.dstPort = seg.srcPort;
  out.clearOptions();
  out.window = 0;
  out.urgent = 0;
  if ((seg.flags & TCP_ACK) != 0) {
    out.seq = seg.ack;
    out.ack = 0;
    out.flags = TCP_RST;
  } else {
    out.seq = 0;
    out.ack = seg.seq + seg.segLen;
    out.flags = TCP_RST | TCP_ACK;
  }
  let p = ctx.txBuf + IP_PAYLOAD_OFFSET;
  let hlen = out.emit(p);
  let offload = (iface.dev.caps & DEV_TX_CHECKSUM) != 0;
  tcpFillChecksum(p, hlen, ip.dst, ip.src, offload);
  ipSend(stack, ctx, ip.dst, ip.src, IP_PROTO_TCP, hlen, true, offload ? 16 : OFFLOAD_NONE, now);
  stat(stack, STAT_TCP_RST_SENT);
}

function challengeAck(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  stat(stack, STAT_TCP_CHALLENGE_ACKS);
  sendAck(stack, ctx, s, now);
}

/** Demultiplexes a received segment (ctx.ip parsed) to its connection or listener. */
export function tcpInput(stack: Stack, ctx: NetCtx, p: usize, len: u32, now: u64): void {
  let ip = ctx.ip;
  let seg = ctx.tcp;
  if (TcpPacket.check(p, len) < 0 || seg.parse(TcpPacket.at(p), len, ip.src, ip.dst, ctx.checksumTrusted) < 0) {
    stat(stack, STAT_RX_MALFORMED);
    return;
  }
  let iface = changetype<Interface>(ctx.iface);
  if (ipIsMulticast(ip.dst) || ifaceIsBroadcast(iface, ip.dst)) {
    stat(stack, STAT_RX_DROPPED);
    return;
  }
  stat(stack, STAT_TCP_SEGMENTS_IN);
  let flags = seg.flags;
  let found = tcpLookup(stack, ip.dst, seg.dstPort, ip.src, seg.srcPort);
  if (found != 0) {
    let s = changetype<Socket>(found);
    // RFC 9293 3.6.1 / RFC 6191: a new SYN may end TIME_WAIT if it is beyond the old connection.
    if (s.state == TCP_TIME_WAIT && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && seqGt(seg.seq, s.rcvNxt)) {
      tcpClosed(stack, s, 0); // frees it, or leaves it CLOSED and unhashed for its owner
    } else {
      tcpProcess(stack, ctx, s, now);
      return;
    }
  }
  let l = tcpFindListener(stack, ip.dst, seg.dstPort, ip.src, seg.srcPort);
  if (l != 0 && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
    listenInput(stack, ctx, changetype<Socket>(l), now);
    return;
  }
  if (l != 0 && (flags & TCP_RST) != 0) return;
  sendResetFor(stack, ctx, now);
}

/** A SYN for a listener: a child in SYN_RECEIVED, within the backlog and half-open bounds. */
function listenInput(stack: Stack, ctx: NetCtx, l: Socket, now: u64): void {
  let ip = ctx.ip;
  let seg = ctx.tcp;
  if (l.acceptCount >= l.backlog) {
    stat(stack, STAT_TCP_ACCEPT_OVERFLOW);
    return;
  }
  let synMax = l.backlog > 8 ? l.backlog : 8;
  if (synMax > stack.synBacklogMax) synMax = stack.synBacklogMax;
  if (l.synCount >= synMax || stack.halfOpen >= stack.maxHalfOpen) {
    stat(stack, STAT_TCP_SYN_DROPPED);
    return;
  }
  if (ipRoute(stack, ctx, ip.src, ip.dst) < 0) return;
  let mtu = changetype<Interface>(ctx.routeIface).mtu;
  let c = socketAlloc(stack, SOCK_STREAM);
  if (c == null) {
    stat(stack, STAT_TCP_SYN_DROPPED);
    return;
  }
  c.flags = SF_CHILD | SF_BOUND | (l.flags & (SF_REUSEADDR | SF_REUSEPORT | SF_KEEPALIVE | SF_NODELAY | SF_LINGER));
  c.lingerSeconds = l.lingerSeconds;
  c.rcvBufSize = l.rcvBufSize;
  c.sndBufSize = l.sndBufSize;
  c.keepIdle = l.keepIdle;
  c.keepIntvl = l.keepIntvl;
  c.keepCnt = l.keepCnt;
  c.wakeFn = 0;
  c.parent = changetype<usize>(l);
  c.localAddr = ip.dst;
  c.localPort = seg.dstPort;
  c.remoteAddr = ip.src;
  c.remotePort = seg.srcPort;
  tcbInit(stack, c);
  c.advMss = mtu - 40;
  takeSynOptions(stack, c, seg, stack.tcpFeatures);
  c.irs = seg.seq;
  c.rcvNxt = seg.seq + 1;
  c.rcvAdv = c.rcvNxt;
  c.iss = isn(stack, c, now);
  c.sndUna = c.iss;
  c.sndNxt = c.iss;
  c.sndMax = c.iss;
  c.recover = c.iss;
  c.sndWnd = seg.window;
  c.maxSndWnd = seg.window;
  c.sndWl1 = seg.seq;
  c.sndWl2 = c.iss;
  c.state = TCP_SYN_RECEIVED;
  c.lastReceive = now;
  l.synCount++;
  stack.halfOpen++;
  tcpHash(stack, c);
  sendSyn(stack, ctx, c, now);
}

/** SYN_SENT (RFC 9293 3.10.7.3). */
function synSentInput(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  let seg = ctx.tcp;
  let flags = seg.flags;
  let ackOk = false;
  if ((flags & TCP_ACK) != 0) {
    if (seqLe(seg.ack, s.iss) || seqGt(seg.ack, s.sndMax)) {
      sendResetFor(stack, ctx, now);
      return;
    }
    ackOk = true;
  }
  if ((flags & TCP_RST) != 0) {
    if (ackOk) tcpClosed(stack, s, ECONNREFUSED);
    return;
  }
  if ((flags & TCP_SYN) == 0) return;
  s.irs = seg.seq;
  s.rcvNxt = seg.seq + 1;
  s.rcvAdv = s.rcvNxt;
  takeSynOptions(stack, s, seg, stack.tcpFeatures);
  s.sndWnd = seg.window;
  s.maxSndWnd = seg.window;
  s.sndWl1 = seg.seq;
  s.sndWl2 = seg.ack;
  if (ackOk) {
    s.sndUna = seg.ack;
    if ((s.flags & SF_TIMING) != 0 && s.retries == 0) rttSample(stack, s, now - s.rtTime);
    s.flags &= ~SF_TIMING;
    s.retries = 0;
    s.rtoAt = 0;
    establish(stack, s, now);
    s.flags |= SF_ACK_NOW;
    tcpOutput(stack, ctx, s, now);
    wake(s, POLLOUT);
    return;
  }
  // Simultaneous open: SYN_RECEIVED, our SYN again with an ACK.
  s.state = TCP_SYN_RECEIVED;
  s.sndNxt = s.iss;
  s.rtoAt = 0;
  sendSyn(stack, ctx, s, now);
}

/** Receives payload at `seq` (already trimmed to the window). */
function receiveData(stack: Stack, s: Socket, seq: u32, data: usize, len: u32, now: u64): void {
  if ((s.flags & SF_SHUT_RD) != 0 || s.rxBuf == 0) {
    // Nobody will read it: acknowledge in-order bytes and drop them.
    if (seq == s.rcvNxt) {
      s.rcvNxt += len;
      s.flags |= SF_ACK_NOW;
    }
    return;
  }
  let r = rxRing(s);
  let ooo = oooRanges(s);
  let off = seq - s.rcvNxt;
  if (off == 0) {
    ringWriteAt(r, r.len, data, len);
    let had = asmCount(ooo) != 0;
    s.rcvNxt += len;
    r.len += len;
    if (had) {
      asmShift(ooo, len);
      let more = asmFront(ooo);
      if (more != 0) {
        s.rcvNxt += more;
        r.len += more;
        asmShift(ooo, more);
      }
      // Filling a hole: ACK at once (RFC 5681 4.2).
      s.flags |= SF_ACK_NOW;
    }
    s.unackedBytes += len;
    if (s.unackedBytes >= 2 * s.advMss || stack.delayedAck == 0) s.flags |= SF_ACK_NOW;
    else if (s.delackAt == 0) s.delackAt = after(now, stack.delayedAck);
    wake(s, POLLIN);
    return;
  }
  if (!asmAdd(ooo, OOO_MAX, off, off + len)) {
    stat(stack, STAT_TCP_OOO_DROPPED);
  } else {
    ringWriteAt(r, r.len + off, data, len);
    s.lastOooStart = seq;
    s.lastOooEnd = seq + len;
  }
  // Out of order: a duplicate ACK (with SACK blocks) at once.
  s.flags |= SF_ACK_NOW;
}

/** A new cumulative ACK (SND.UNA < ack <= SND.MAX). True if the socket was freed. */
function newAck(stack: Stack, ctx: NetCtx, s: Socket, ack: u32, now: u64): bool {
  let acked = ack - s.sndUna;
  let data = acked;
  let fin = false;
  if (data > s.txLen) {
    fin = true;
    data = s.txLen;
  }
  ringConsume(txRing(s), data);
  s.sndUna = ack;
  if (seqLt(s.sndNxt, ack)) s.sndNxt = ack;
  asmShift(scoreboard(s), acked);
  if ((s.flags & SF_TIMING) != 0 && seqGt(ack, s.rtSeq)) {
    rttSample(stack, s, now - s.rtTime);
    s.flags &= ~SF_TIMING;
  }
  s.retries = 0;
  s.backoff = 0;
  updateRto(stack, s);
  let smss = tcpSmss(s);
  if ((s.flags & SF_IN_RECOVERY) != 0) {
    if (seqGe(ack, s.recover)) {
      s.flags &= ~SF_IN_RECOVERY;
      if ((s.flags & SF_SACK) != 0) s.cwnd = s.ssthresh;
      else {
        let flight = flightSize(s);
        let w = (flight > smss ? flight : smss) + smss;
        s.cwnd = w < s.ssthresh ? w : s.ssthresh;
      }
      s.dupAcks = 0;
      s.bytesAcked = 0;
    } else if ((s.flags & SF_SACK) == 0) {
      // RFC 6582 partial ACK: retransmit the next hole, deflate the window.
      retransmitFirst(stack, ctx, s, now);
      s.cwnd = s.cwnd > acked ? s.cwnd - acked : 0;
      if (acked >= smss) s.cwnd += smss;
      if (s.cwnd < smss) s.cwnd = smss;
    }
  } else {
    s.dupAcks = 0;
    congestionOnAck(s, acked);
  }
  s.rtoAt = s.sndUna == s.sndMax ? 0 : after(now, s.rto);
  if (data != 0) wake(s, POLLOUT);
  if (fin) return finAcked(stack, s, now);
  return false;
}

/** Merges the segment's SACK blocks into the scoreboard. */
function takeSack(s: Socket, seg: TcpRepr): void {
  let sb = scoreboard(s);
  for (let i: u32 = 0; i < seg.sackCount; i++) {
    let l = seg.sackStart(i);
    let r = seg.sackEnd(i);
    if (!seqLt(l, r) || !seqGt(r, s.sndUna) || seqGt(r, s.sndMax)) continue;
    if (seqLt(l, s.sndUna)) l = s.sndUna;
    asmAdd(sb, SCOREBOARD_MAX, l - s.sndUna, r - s.sndUna);
  }
}

/**
 * Processes the segment in ctx (ctx.ip, ctx.tcp parsed) for connection `s`
 * (any state but LISTEN): RFC 9293 3.10.7.4 with RFC 5961 and RFC 7323.
 */
export function tcpProcess(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  let seg = ctx.tcp;
  let flags = seg.flags;
  let state = s.state;
  if (state == TCP_SYN_SENT) {
    synSentInput(stack, ctx, s, now);
    return;
  }
  if (state == TCP_CLOSED || state == TCP_LISTEN) {
    sendResetFor(stack, ctx, now);
    return;
  }
  // 1. Sequence number: PAWS, then acceptability.
  if ((s.flags & SF_TIMESTAMPS) != 0 && seg.tsPresent && (flags & TCP_RST) == 0 && seqLt(seg.tsVal, s.tsRecent)) {
    stat(stack, STAT_TCP_PAWS_DROPPED);
    sendAck(stack, ctx, s, now);
    return;
  }
  let wnd = rcvFree(s);
  let segLen = seg.segLen;
  let seq = seg.seq;
  let acceptable = segLen == 0
    ? seqGe(seq, s.rcvNxt) && seqLe(seq, s.rcvNxt + wnd)
    : seqGt(seq + segLen, s.rcvNxt) && seqLe(seq, s.rcvNxt + wnd);
  if (!acceptable) {
    if ((flags & TCP_RST) != 0) return;
    if (state == TCP_SYN_RECEIVED && (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && seq == s.irs) {
      // The peer retransmitted its SYN: our SYN-ACK was lost.
      sendSegment(stack, ctx, s, s.iss, TCP_SYN | TCP_ACK, 0, 0, now);
      return;
    }
    // RFC 9293 3.10.7.4: with a zero window no segment is acceptable, "but
    // special allowance should be made to accept valid ACKs": a peer whose
    // SND.MAX went past our edge puts that in the SEQ of its pure ACKs, and
    // refusing them would leave our own data unacknowledged for good while
    // our reader may be waiting for that very data to go out (an echo).
    // Its data is trimmed away below; the ACK field goes through the usual
    // checks. A pure ACK gets no reply (two such peers would ping-pong).
    let zeroWindowAck = wnd == 0 && state != TCP_SYN_RECEIVED && (flags & (TCP_ACK | TCP_SYN)) == TCP_ACK &&
      seqGt(seq, s.rcvNxt);
    if (!zeroWindowAck) {
      sendAck(stack, ctx, s, now);
      return;
    }
  }
  s.lastReceive = now;
  // 2. RST (RFC 5961 3.2: exact match resets, anything else in the window gets a challenge ACK).
  if ((flags & TCP_RST) != 0) {
    if (seq != s.rcvNxt) {
      challengeAck(stack, ctx, s, now);
      return;
    }
    if (state == TCP_SYN_RECEIVED) {
      tcpClosed(stack, s, (s.flags & SF_ACTIVE_OPEN) != 0 ? ECONNREFUSED : 0);
    } else if (state == TCP_CLOSING || state == TCP_LAST_ACK || state == TCP_TIME_WAIT) {
      tcpClosed(stack, s, 0);
    } else {
      tcpClosed(stack, s, ECONNRESET);
    }
    return;
  }
  // Timestamps: remember the peer's clock (RFC 7323 4.3).
  if ((s.flags & SF_TIMESTAMPS) != 0 && seg.tsPresent && seqLe(seq, s.lastAckSent) && seqGe(seg.tsVal, s.tsRecent)) {
    s.tsRecent = seg.tsVal;
  }
  // 4. SYN in a synchronized state: challenge ACK (RFC 5961 4.2).
  if ((flags & TCP_SYN) != 0) {
    challengeAck(stack, ctx, s, now);
    return;
  }
  // 5. ACK.
  if ((flags & TCP_ACK) == 0) return;
  let ack = seg.ack;
  if (state == TCP_SYN_RECEIVED) {
    if (!seqGt(ack, s.sndUna) || seqGt(ack, s.sndMax)) {
      sendResetFor(stack, ctx, now);
      return;
    }
    if (!becomeEstablished(stack, ctx, s, now)) return;
    state = s.state;
  }
  if (seqGt(ack, s.sndMax)) {
    sendAck(stack, ctx, s, now);
    return;
  }
  if (seqLt(ack, s.sndUna - s.maxSndWnd)) {
    challengeAck(stack, ctx, s, now);
    return;
  }
  s.persistProbes = 0;
  s.keepProbes = 0;
  if ((s.flags & SF_KEEPALIVE) != 0) s.keepaliveAt = after(now, s.keepIdle);
  let newWnd = seg.window << s.sndWscale;
  if ((s.flags & SF_SACK) != 0 && seg.sackCount != 0) takeSack(s, seg);
  let advances = seqGt(ack, s.sndUna);
  if (advances) {
    if (newAck(stack, ctx, s, ack, now)) return;
    state = s.state;
  } else if (ack == s.sndUna && seg.payloadLen == 0 && (flags & TCP_FIN) == 0 && s.sndMax != s.sndUna &&
      (newWnd == s.sndWnd || seg.sackCount != 0)) {
    s.dupAcks++;
    if ((s.flags & SF_IN_RECOVERY) == 0) {
      let lost = s.dupAcks >= 3 || ((s.flags & SF_SACK) != 0 && isLost(s, 0));
      if (lost && seqGt(ack, s.recover)) enterRecovery(stack, ctx, s, now);
    } else if ((s.flags & SF_SACK) == 0) {
      s.cwnd += tcpSmss(s);
    }
  }
  // Window update (RFC 9293: only from newer segments). A window counts
  // from its own segment's ACK, so SND.UNA + SND.WND is the peer's right
  // edge only while SND.WL2 == SND.UNA: a segment that moves SND.UNA always
  // updates the window (else the old window slides right with SND.UNA, as
  // when a retransmission, older by SEQ, brings the new ACK), and one with
  // an ACK older than SND.WL2 never does (a late segment of higher SEQ sent
  // before the peer went back to retransmit).
  if (advances || (seqGe(ack, s.sndWl2) && seqLe(s.sndWl1, seq))) {
    let edge = ack + newWnd;
    newWnd = seqGt(edge, s.sndUna) ? edge - s.sndUna : 0;
    let opened = s.sndWnd == 0 && newWnd != 0;
    s.sndWnd = newWnd;
    s.sndWl1 = seq;
    s.sndWl2 = ack;
    if (newWnd > s.maxSndWnd) s.maxSndWnd = newWnd;
    if (opened) {
      s.persistAt = 0;
      s.persistBackoff = 0;
    }
  }
  if (state == TCP_TIME_WAIT && (flags & TCP_FIN) != 0) {
    s.flags |= SF_ACK_NOW;
    s.closeAt = after(now, stack.msl << 1);
    tcpOutput(stack, ctx, s, now);
    return;
  }
  // 7. Data, trimmed to what is new and fits.
  let data = seg.payload;
  let len = seg.payloadLen;
  let finSeq = seq + len;
  let fin = (flags & TCP_FIN) != 0;
  if (seqLt(seq, s.rcvNxt)) {
    let d = s.rcvNxt - seq;
    if (d > len) d = len;
    data += d;
    len -= d;
    seq += d;
  }
  let wndEnd = s.rcvNxt + rcvFree(s);
  if (seqGt(seq + len, wndEnd)) {
    len = seqGt(wndEnd, seq) ? wndEnd - seq : 0;
    fin = false;
  }
  if (len != 0) {
    if (state == TCP_ESTABLISHED || state == TCP_FIN_WAIT_1 || state == TCP_FIN_WAIT_2) {
      if ((s.flags & SF_USER_CLOSED) != 0) {
        // Data for an application that is gone: reset (RFC 2525 2.17, as Linux).
        tcpAbort(stack, ctx, s, ECONNRESET, now);
        return;
      }
      receiveData(stack, s, seq, data, len, now);
    }
  } else if (seg.payloadLen != 0) {
    s.flags |= SF_ACK_NOW; // a duplicate: ACK it
  }
  // 8. FIN.
  if (fin && seqGe(finSeq, s.rcvNxt) && (s.flags & SF_RX_FIN) == 0) {
    if (finSeq == s.rcvNxt) {
      if (finReceived(stack, s, now)) return;
    } else {
      s.flags |= SF_RX_FIN_PENDING | SF_ACK_NOW;
      s.rcvFinSeq = finSeq;
    }
  }
  if ((s.flags & SF_RX_FIN_PENDING) != 0 && s.rcvFinSeq == s.rcvNxt) {
    if (finReceived(stack, s, now)) return;
  }
  tcpOutput(stack, ctx, s, now);
}

/** SYN_RECEIVED -> ESTABLISHED on the ACK of our SYN. False if the socket cannot go on (dropped, freed). */
function becomeEstablished(stack: Stack, ctx: NetCtx, s: Socket, now: u64): bool {
  let seg = ctx.tcp;
  let child = (s.flags & SF_CHILD) != 0;
  let l = child ? changetype<Socket>(s.parent) : changetype<Socket>(0);
  if (child && l.acceptCount >= l.backlog) {
    // Accept queue full: ignore the ACK; the SYN-ACK is retransmitted later (as Linux).
    stat(stack, STAT_TCP_ACCEPT_OVERFLOW);
    return false;
  }
  if (!socketAllocRx(s, s.rcvBufSize) || !socketAllocTx(s, s.sndBufSize)) {
    tcpAbort(stack, ctx, s, ENOMEM, now);
    return false;
  }
  if ((s.flags & SF_TIMING) != 0 && s.retries == 0) rttSample(stack, s, now - s.rtTime);
  s.flags &= ~SF_TIMING;
  s.retries = 0;
  s.sndUna = s.iss + 1;
  s.sndWnd = seg.window << s.sndWscale;
  s.maxSndWnd = s.sndWnd;
  s.sndWl1 = seg.seq;
  s.sndWl2 = seg.ack;
  s.rtoAt = 0;
  if (child) {
    l.synCount--;
    stack.halfOpen--;
  }
  establish(stack, s, now);
  if (child) {
    s.acceptNext = 0;
    if (l.acceptTail != 0) changetype<Socket>(l.acceptTail).acceptNext = changetype<usize>(s);
    else l.acceptHead = changetype<usize>(s);
    l.acceptTail = changetype<usize>(s);
    l.acceptCount++;
    s.flags |= SF_IN_ACCEPT_QUEUE;
    wake(l, POLLIN);
  } else {
    wake(s, POLLOUT);
  }
  return true;
}

// ---- timers ----

export function tcpDeadline(s: Socket): u64 {
  if (s.type != SOCK_STREAM) return NEVER;
  let t = NEVER;
  if (s.rtoAt != 0 && s.rtoAt < t) t = s.rtoAt;
  if (s.delackAt != 0 && s.delackAt < t) t = s.delackAt;
  if (s.persistAt != 0 && s.persistAt < t) t = s.persistAt;
  if (s.keepaliveAt != 0 && s.keepaliveAt < t) t = s.keepaliveAt;
  if (s.closeAt != 0 && s.closeAt < t) t = s.closeAt;
  return t;
}

function retransmitTimeout(stack: Stack, ctx: NetCtx, s: Socket, now: u64): bool {
  s.rtoAt = 0;
  let state = s.state;
  if (state == TCP_SYN_SENT || state == TCP_SYN_RECEIVED) {
    let limit = state == TCP_SYN_SENT || (s.flags & SF_CHILD) == 0 ? stack.synRetries : stack.synAckRetries;
    if (++s.retries > limit) {
      stat(stack, STAT_TCP_TIMEOUTS);
      return tcpClosed(stack, s, ETIMEDOUT);
    }
    s.rto = s.rto << 1 < stack.maxRto ? s.rto << 1 : stack.maxRto;
    s.flags &= ~SF_TIMING;
    s.sndNxt = s.iss;
    sendSyn(stack, ctx, s, now);
    return false;
  }
  if (s.sndUna == s.sndMax) return false;
  stat(stack, STAT_TCP_TIMEOUTS);
  if (++s.retries > stack.dataRetries) return tcpAbort(stack, ctx, s, s.error != 0 ? s.error : ETIMEDOUT, now);
  // RFC 5681 (4), RFC 6298 5.5-5.6, RFC 6582: collapse the window, back off, go back to SND.UNA.
  s.ssthresh = lossThreshold(s);
  s.cwnd = tcpSmss(s);
  s.bytesAcked = 0;
  s.dupAcks = 0;
  s.recover = s.sndMax;
  s.flags &= ~(SF_IN_RECOVERY | SF_TIMING);
  asmClear(scoreboard(s));
  s.backoff++;
  s.rto = s.rto << 1 < stack.maxRto ? s.rto << 1 : stack.maxRto;
  s.sndNxt = s.sndUna;
  if (s.sndWnd == 0) {
    // The data waits on a zero window: probing is the persist timer's job.
    tcpOutput(stack, ctx, s, now);
    return false;
  }
  if (!sendData(stack, ctx, s, now, true)) retransmitFirst(stack, ctx, s, now);
  if (s.rtoAt == 0) s.rtoAt = after(now, s.rto);
  return false;
}

/** Runs the socket's due timers. */
export function tcpTimers(s: Socket, ctx: NetCtx, now: u64): void {
  let stack = stackOf(s);
  if (s.closeAt != 0 && s.closeAt <= now) {
    s.closeAt = 0;
    if (s.state == TCP_TIME_WAIT || s.state == TCP_FIN_WAIT_2) {
      tcpClosed(stack, s, 0);
      return;
    }
  }
  if (s.rtoAt != 0 && s.rtoAt <= now) {
    if (retransmitTimeout(stack, ctx, s, now)) return;
  }
  if (s.persistAt != 0 && s.persistAt <= now) {
    s.persistAt = 0;
    if (s.sndWnd == 0) {
      if (++s.persistProbes > stack.dataRetries) {
        if (tcpAbort(stack, ctx, s, ETIMEDOUT, now)) return;
        return;
      }
      stat(stack, STAT_TCP_ZERO_WINDOW_PROBES);
      sendProbe(stack, ctx, s, now);
      if (s.persistBackoff < 16) s.persistBackoff++;
    } else {
      // A window too small for SWS avoidance: send what fits (RFC 9293 3.8.6.2.1 override).
      sendData(stack, ctx, s, now, true);
    }
    armPersist(stack, s, now);
  }
  if (s.keepaliveAt != 0 && s.keepaliveAt <= now) {
    s.keepaliveAt = 0;
    if ((s.flags & SF_KEEPALIVE) != 0 && (s.state == TCP_ESTABLISHED || s.state == TCP_CLOSE_WAIT)) {
      if (s.sndMax != s.sndUna || s.txLen != 0) {
        s.keepaliveAt = after(now, s.keepIdle);
      } else if (s.keepProbes >= s.keepCnt) {
        if (tcpAbort(stack, ctx, s, ETIMEDOUT, now)) return;
        return;
      } else {
        s.keepProbes++;
        stat(stack, STAT_TCP_KEEPALIVE_PROBES);
        sendProbe(stack, ctx, s, now);
        s.keepaliveAt = after(now, s.keepIntvl);
      }
    }
  }
  if (s.delackAt != 0 && s.delackAt <= now) {
    s.delackAt = 0;
    s.flags |= SF_ACK_NOW;
    tcpOutput(stack, ctx, s, now);
  }
}

// ---- ICMP errors ----

export function tcpIcmpError(stack: Stack, ctx: NetCtx, now: u64): void {
  let icmp = ctx.icmp;
  let p = tcpLookup(stack, icmp.quotedSrc, icmp.quotedSrcPort, icmp.quotedDst, icmp.quotedDstPort);
  if (p == 0) return;
  let s = changetype<Socket>(p);
  // RFC 5927: only errors that quote a sequence number in flight.
  if (!seqGe(icmp.quotedSeq, s.sndUna) || !seqLe(icmp.quotedSeq, s.sndMax)) return;
  if (icmp.type != ICMP_DEST_UNREACHABLE) return;
  if (icmp.code == ICMP_UNREACH_NEEDFRAG) {
    let mtu = icmp.mtu >= 68 ? icmp.mtu : 576;
    let mss = mtu - 40;
    if (mss < MIN_MSS) mss = MIN_MSS;
    if (mss < s.mss) {
      s.mss = mss;
      if (s.cwnd > initialCwnd(s)) s.cwnd = initialCwnd(s);
      s.sndNxt = s.sndUna;
      tcpOutput(stack, ctx, s, now);
    }
    return;
  }
  if (s.state == TCP_SYN_SENT) {
    if (icmp.code == ICMP_UNREACH_PORT || icmp.code == ICMP_UNREACH_PROTOCOL) tcpClosed(stack, s, ECONNREFUSED);
    else s.error = EHOSTUNREACH;
  }
}

// ---- socket operations (called by the socket API) ----

/** connect(): SYN out, -EINPROGRESS; the socket becomes writable when established. */
export function tcpConnect(stack: Stack, ctx: NetCtx, s: Socket, addr: u32, port: u32, now: u64): i32 {
  if (ipRoute(stack, ctx, addr, s.localAddr) < 0) return -ENETUNREACH;
  let mtu = changetype<Interface>(ctx.routeIface).mtu;
  let src = ctx.routeSrc;
  if ((s.flags & SF_BOUND) == 0) {
    let r = socketBindPort(stack, s, src, 0, addr, port);
    if (r < 0) return -EADDRNOTAVAIL;
  }
  if (s.localAddr == 0) s.localAddr = src;
  if (tcpLookup(stack, s.localAddr, s.localPort, addr, port) != 0) return -EADDRNOTAVAIL;
  s.remoteAddr = addr;
  s.remotePort = port;
  if (!socketAllocRx(s, s.rcvBufSize) || !socketAllocTx(s, s.sndBufSize)) {
    socketFreeRx(s);
    socketFreeTx(s);
    return -ENOMEM;
  }
  tcbInit(stack, s);
  s.flags = (s.flags | SF_ACTIVE_OPEN) & ~(SF_WSCALE | SF_SACK | SF_TIMESTAMPS | SF_FIN_QUEUED | SF_RX_FIN |
    SF_SHUT_RD | SF_SHUT_WR | SF_SYN_ACKED);
  s.advMss = mtu - 40;
  s.mss = min32(DEFAULT_MSS, s.advMss);
  s.cwnd = initialCwnd(s);
  s.iss = isn(stack, s, now);
  s.sndUna = s.iss;
  s.sndNxt = s.iss;
  s.sndMax = s.iss;
  s.recover = s.iss;
  s.rcvNxt = 0;
  s.rcvAdv = 0;
  s.state = TCP_SYN_SENT;
  s.error = 0;
  tcpHash(stack, s);
  sendSyn(stack, ctx, s, now);
  return -EINPROGRESS;
}

/** listen(): the socket (bound) takes connections into an accept queue of `backlog`. */
export function tcpListen(stack: Stack, s: Socket, backlog: u32): void {
  if (backlog < 1) backlog = 1;
  s.backlog = backlog;
  s.state = TCP_LISTEN;
}

/** Queues data to send: bytes taken (0 when the buffer is full). */
export function tcpSendData(stack: Stack, ctx: NetCtx, s: Socket, data: usize, len: u32, now: u64): u32 {
  let r = txRing(s);
  let room = r.cap - r.len;
  let n = len < room ? len : room;
  if (n == 0) return 0;
  if (s.sndMax == s.sndUna && s.srtt != 0 && now - s.lastReceive > s.rto) {
    // RFC 5681 4.1: restart slow start after an idle period longer than the RTO.
    let iw = initialCwnd(s);
    if (s.cwnd > iw) s.cwnd = iw;
  }
  ringWriteAt(r, r.len, data, n);
  r.len += n;
  tcpOutput(stack, ctx, s, now);
  return n;
}

/** After the application read `n` bytes: send a window update if the window grew enough. */
export function tcpReceived(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  if (!synchronized(s.state) || s.state == TCP_TIME_WAIT || (s.flags & SF_RX_FIN) != 0) return;
  let free = rcvFree(s);
  let edge = s.rcvNxt + ((free >> s.rcvWscale) << s.rcvWscale);
  let grown = seqGt(edge, s.rcvAdv) ? edge - s.rcvAdv : 0;
  let cap = s.rxCap;
  let threshold = min32(cap >> 1, 2 * s.advMss);
  let closed = !seqGt(s.rcvAdv, s.rcvNxt);
  if (grown >= threshold || (closed && grown >= min32(cap >> 1, s.advMss))) {
    s.flags |= SF_ACK_NOW;
    tcpOutput(stack, ctx, s, now);
  }
}

/** shutdown(SHUT_WR) / close(): FIN after the data; the state moves to FIN_WAIT_1 or LAST_ACK. */
export function tcpShutdownWrite(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  if ((s.flags & SF_FIN_QUEUED) != 0) return;
  let state = s.state;
  if (state == TCP_ESTABLISHED) s.state = TCP_FIN_WAIT_1;
  else if (state == TCP_CLOSE_WAIT) s.state = TCP_LAST_ACK;
  else return;
  s.flags |= SF_FIN_QUEUED | SF_SHUT_WR;
  tcpOutput(stack, ctx, s, now);
}

/** Closes a listener: its children (half-open or not accepted) are reset and freed. */
function closeListener(stack: Stack, ctx: NetCtx, l: Socket, now: u64): void {
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = load<usize>(stack.sockets + (<usize>id << 2));
    if (p == 0) continue;
    let c = changetype<Socket>(p);
    if ((c.flags & SF_CHILD) != 0 && c.parent == changetype<usize>(l)) tcpAbort(stack, ctx, c, ECONNRESET, now);
  }
  l.state = TCP_CLOSED;
}

/**
 * close(): the application is done with the socket. Unread data or SO_LINGER
 * with 0 s aborts with an RST; otherwise the FIN follows the data and the
 * socket frees itself when the connection is over.
 */
export function tcpClose(stack: Stack, ctx: NetCtx, s: Socket, now: u64): void {
  s.flags |= SF_USER_CLOSED;
  s.wakeFn = 0;
  let state = s.state;
  if (state == TCP_LISTEN) {
    closeListener(stack, ctx, s, now);
    socketRelease(stack, s);
    return;
  }
  if (state == TCP_CLOSED || state == TCP_SYN_SENT) {
    tcpClosed(stack, s, 0);
    return;
  }
  let unread = s.rxLen != 0;
  if (unread || ((s.flags & SF_LINGER) != 0 && s.lingerSeconds == 0) || state == TCP_SYN_RECEIVED) {
    tcpAbort(stack, ctx, s, ECONNRESET, now);
    return;
  }
  socketFreeRx(s);
  s.flags |= SF_SHUT_RD;
  if (state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT) tcpShutdownWrite(stack, ctx, s, now);
  else if (state == TCP_FIN_WAIT_2 && s.closeAt == 0) s.closeAt = after(now, stack.finTimeout);
}

/** Frees a socket without sending anything (stack teardown: every queue goes, so no unlinking). */
export function tcpDiscard(stack: Stack, s: Socket): void {
  s.parent = 0;
  s.flags &= ~(SF_CHILD | SF_IN_ACCEPT_QUEUE);
  socketRelease(stack, s);
}

// ---- net channels (phase 2) ----

/**
 * Which established connection a received frame belongs to, without
 * checking checksums or changing anything: its socket id, or -1 when the
 * frame must take the normal path (not IPv4/TCP, a fragment, options we must
 * see such as SYN/RST, no synchronized connection). The driver's receive
 * path uses this to queue frames on the connection's channel.
 */
export function tcpClassify(stack: Stack, frame: usize, len: u32): i32 {
  if (len < ETH_HEADER_LEN + 40 || EthernetFrame.at(frame).ethertype != ETHERTYPE_IPV4) return -1;
  let ipp = frame + ETH_HEADER_LEN;
  let iplen = len - ETH_HEADER_LEN;
  if (Ipv4Packet.check(ipp, iplen) < 0) return -1;
  let ip = Ipv4Packet.at(ipp);
  if (ip.protocol != IP_PROTO_TCP || ip.moreFragments || ip.fragOffset != 0) return -1;
  let tcp = ip.payload;
  let tlen = ip.payloadLen;
  if (TcpPacket.check(tcp, tlen) < 0) return -1;
  let t = TcpPacket.at(tcp);
  if ((t.flags & (TCP_SYN | TCP_RST)) != 0) return -1;
  let p = tcpLookup(stack, ip.dst, t.dstPort, ip.src, t.srcPort);
  if (p == 0) return -1;
  let s = changetype<Socket>(p);
  if (s.state < TCP_ESTABLISHED || s.state == TCP_TIME_WAIT) return -1;
  return s.id;
}

/**
 * The per-connection input path: validates the whole frame (Ethernet, IPv4
 * and TCP headers and checksums, addressed to `s`) into `ctx` and processes
 * it. Returns false if the frame was not for `s` (the caller gives it to
 * stackInput instead).
 */
export function tcpChannelInput(stack: Stack, ctx: NetCtx, s: Socket, frame: usize, len: u32, flags: u32,
  now: u64): bool {
  if (len < ETH_HEADER_LEN || EthernetFrame.at(frame).ethertype != ETHERTYPE_IPV4) return false;
  let ipp = frame + ETH_HEADER_LEN;
  let ip = ctx.ip;
  if (Ipv4Packet.check(ipp, len - ETH_HEADER_LEN) < 0 ||
      ip.parse(Ipv4Packet.at(ipp), (flags & DEV_RX_CHECKSUM_VALID) != 0) < 0 || ip.isFragment ||
      ip.protocol != IP_PROTO_TCP) return false;
  let seg = ctx.tcp;
  let trusted = (flags & (DEV_RX_CHECKSUM_VALID | DEV_RX_CHECKSUM_PARTIAL)) != 0;
  let tcp = Ipv4Packet.at(ipp).payload;
  if (TcpPacket.check(tcp, ip.payloadLen) < 0 || seg.parse(TcpPacket.at(tcp), ip.payloadLen, ip.src, ip.dst, trusted) < 0) {
    stat(stack, STAT_RX_MALFORMED);
    return true;
  }
  if (ip.dst != s.localAddr || ip.src != s.remoteAddr || seg.dstPort != s.localPort || seg.srcPort != s.remotePort) {
    return false;
  }
  ctx.ipPacket = ipp;
  ctx.rxFlags = flags;
  ctx.checksumTrusted = trusted;
  stat(stack, STAT_TCP_SEGMENTS_IN);
  tcpProcess(stack, ctx, s, now);
  return true;
}

