// UDP sockets and ping sockets: datagrams queue in the receive ring as
// records of [length u32][source address u32][source port u32][bytes];
// sending builds the datagram in the context's transmit buffer and hands it
// to IPv4 at once (it waits only in the ARP queue). Demultiplexing prefers a
// connected socket, then an exact local address, then the wildcard; among
// SO_REUSEPORT sockets the flow hash picks one; broadcasts go to all.
import { EAGAIN, ECONNREFUSED, EHOSTUNREACH, EMSGSIZE, ENETUNREACH } from "../errno";
import { NetCtx } from "../ctx";
import { DEV_TX_CHECKSUM } from "../phy/device";
import {
  STAT_RX_MALFORMED, STAT_UDP_NO_PORT, STAT_UDP_QUEUE_FULL, Stack, stackSocketAt, stat,
} from "../stack";
import { ipIsMulticast } from "../wire/bytes";
import {
  ICMP_DEST_UNREACHABLE, ICMP_ECHO_REQUEST, ICMP_HEADER_LEN, ICMP_UNREACH_PORT,
} from "../wire/icmp";
import { IPV4_HEADER_LEN, IP_PROTO_ICMP, IP_PROTO_UDP } from "../wire/ipv4";
import { DHCP_CLIENT_PORT } from "../wire/dhcp";
import { UDP_HEADER_LEN, UdpPacket } from "../wire/udp";
import { dhcpInput } from "../iface/dhcp";
import { IP_MAX_PAYLOAD, IP_PAYLOAD_OFFSET, icmpSendError, ipSend } from "../iface/ipv4";
import { Interface, OFFLOAD_NONE, ifaceIsBroadcast } from "../iface/interface";
import { ipRoute } from "../iface/route";
import { ringConsume, ringFree, ringLoadU32, ringPush, ringPushU32, ringReadAt } from "./ring";
import {
  POLLERR, POLLIN, SF_BOUND, SF_CONNECTED, SF_REUSEPORT, SF_SHUT_RD, SOCK_DGRAM, SOCK_ICMP, Socket, rxRing,
  socketWake,
} from "./socket";
import { flowHash } from "./table";

const RECORD_HEADER: u32 = 12;
/** Largest UDP payload: 65535 - 20 - 8. */
export const UDP_MAX_PAYLOAD: u32 = 65507;

/** Queues a datagram for the socket; false if the ring has no room. */
function enqueue(s: Socket, data: usize, len: u32, addr: u32, port: u32): bool {
  let r = rxRing(s);
  if (r.buf == 0 || (s.flags & SF_SHUT_RD) != 0 || ringFree(r) < RECORD_HEADER + len) return false;
  ringPushU32(r, len);
  ringPushU32(r, addr);
  ringPushU32(r, port);
  ringPush(r, data, len);
  s.rxDatagrams++;
  socketWake(s, POLLIN);
  return true;
}

/** How well socket `s` matches: 0 no, 1 wildcard, 2 exact address, 3 connected. */
function matchScore(s: Socket, type: u32, dst: u32, dport: u32, src: u32, sport: u32, broadcast: bool): u32 {
  if (s.type != type || (s.flags & SF_BOUND) == 0 || s.localPort != dport) return 0;
  if ((s.flags & SF_CONNECTED) != 0 && (s.remoteAddr != src || s.remotePort != sport)) return 0;
  if (s.localAddr != 0 && s.localAddr != dst && !broadcast) return 0;
  if ((s.flags & SF_CONNECTED) != 0) return 3;
  return s.localAddr != 0 ? 2 : 1;
}

/** Delivers to the best match (or all matches for a broadcast); how many got it. */
function deliver(stack: Stack, ctx: NetCtx, type: u32, dport: u32, sport: u32, data: usize, len: u32,
  broadcast: bool): u32 {
  let ip = ctx.ip;
  if (broadcast) {
    let n: u32 = 0;
    for (let id: u32 = 0; id < stack.maxSockets; id++) {
      let p = stackSocketAt(stack, id);
      if (p == 0) continue;
      let s = changetype<Socket>(p);
      if (matchScore(s, type, ip.dst, dport, ip.src, sport, true) == 0) continue;
      if (enqueue(s, data, len, ip.src, sport)) n++;
      else stat(stack, STAT_UDP_QUEUE_FULL);
    }
    return n;
  }
  let best: u32 = 0;
  let count: u32 = 0;
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = stackSocketAt(stack, id);
    if (p == 0) continue;
    let score = matchScore(changetype<Socket>(p), type, ip.dst, dport, ip.src, sport, false);
    if (score > best) {
      best = score;
      count = 1;
    } else if (score == best && score != 0) count++;
  }
  if (best == 0) return 0;
  let pick = count > 1 ? <u32>(flowHash(stack, ip.dst, dport, ip.src, sport) % <u64>count) : 0;
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = stackSocketAt(stack, id);
    if (p == 0) continue;
    let s = changetype<Socket>(p);
    if (matchScore(s, type, ip.dst, dport, ip.src, sport, false) != best) continue;
    if (pick != 0 && (s.flags & SF_REUSEPORT) != 0) {
      pick--;
      continue;
    }
    if (!enqueue(s, data, len, ip.src, sport)) stat(stack, STAT_UDP_QUEUE_FULL);
    return 1;
  }
  return 0;
}

export function udpInput(iface: Interface, ctx: NetCtx, p: usize, len: u32, now: u64): void {
  let stack = iface.stack;
  let ip = ctx.ip;
  let udp = ctx.udp;
  if (UdpPacket.check(p, len) < 0 || udp.parse(UdpPacket.at(p), ip.src, ip.dst, ctx.checksumTrusted) < 0) {
    stat(stack, STAT_RX_MALFORMED);
    return;
  }
  if (udp.dstPort == DHCP_CLIENT_PORT && iface.dhcp != 0) {
    dhcpInput(iface, ctx, udp.payload, udp.payloadLen, now);
    return;
  }
  if (iface.addr == 0 && iface.dhcp != 0 && ip.dst != 0xffffffff) return;
  let broadcast = ifaceIsBroadcast(iface, ip.dst) || ipIsMulticast(ip.dst);
  if (deliver(stack, ctx, SOCK_DGRAM, udp.dstPort, udp.srcPort, udp.payload, udp.payloadLen, broadcast) == 0) {
    stat(stack, STAT_UDP_NO_PORT);
    if (!broadcast) icmpSendError(stack, ctx, ICMP_DEST_UNREACHABLE, ICMP_UNREACH_PORT, 0, now);
  }
}

/** An echo reply: to the ping socket whose identifier (its local port) it carries. */
export function pingInput(stack: Stack, ctx: NetCtx, now: u64): void {
  let icmp = ctx.icmp;
  deliver(stack, ctx, SOCK_ICMP, icmp.id, icmp.id, icmp.data, icmp.dataLen, false);
}

/** An ICMP error quoting one of our datagrams: connected sockets get ECONNREFUSED or EHOSTUNREACH. */
export function udpIcmpError(stack: Stack, ctx: NetCtx, now: u64): void {
  let icmp = ctx.icmp;
  if (icmp.type != ICMP_DEST_UNREACHABLE) return;
  for (let id: u32 = 0; id < stack.maxSockets; id++) {
    let p = stackSocketAt(stack, id);
    if (p == 0) continue;
    let s = changetype<Socket>(p);
    if (s.type != SOCK_DGRAM || (s.flags & SF_CONNECTED) == 0) continue;
    if (s.localPort != icmp.quotedSrcPort || s.remoteAddr != icmp.quotedDst || s.remotePort != icmp.quotedDstPort) continue;
    s.error = icmp.code == ICMP_UNREACH_PORT ? ECONNREFUSED : EHOSTUNREACH;
    socketWake(s, POLLERR);
  }
}

/**
 * Sends `len` bytes at `data` to (dst, dport) from the bound socket: the
 * length, or -errno. UDP datagrams larger than the MTU go out fragmented.
 */
export function datagramSend(stack: Stack, ctx: NetCtx, s: Socket, data: usize, len: u32, dst: u32, dport: u32,
  now: u64): i32 {
  let icmp = s.type == SOCK_ICMP;
  let header = icmp ? ICMP_HEADER_LEN : UDP_HEADER_LEN;
  if (len > IP_MAX_PAYLOAD - header) return -EMSGSIZE;
  if (ipRoute(stack, ctx, dst, s.localAddr) < 0) return -ENETUNREACH;
  let src = ctx.routeSrc;
  let iface = changetype<Interface>(ctx.routeIface);
  let out = ctx.txBuf + IP_PAYLOAD_OFFSET;
  memory.copy(out + header, data, len);
  let r: i32;
  if (icmp) {
    let e = ctx.icmp;
    e.type = ICMP_ECHO_REQUEST;
    e.code = 0;
    e.id = s.localPort;
    e.seq = s.echoSeq;
    s.echoSeq = (s.echoSeq + 1) & 0xffff;
    e.dataLen = len;
    e.emitEcho(out);
    r = ipSend(stack, ctx, src, dst, IP_PROTO_ICMP, header + len, false, OFFLOAD_NONE, now);
  } else {
    let u = ctx.udp;
    u.srcPort = s.localPort;
    u.dstPort = dport;
    u.payloadLen = len;
    let offload = (iface.dev.caps & DEV_TX_CHECKSUM) != 0 && IPV4_HEADER_LEN + header + len <= iface.mtu;
    u.emit(out, src, dst, true, offload);
    r = ipSend(stack, ctx, src, dst, IP_PROTO_UDP, header + len, false, offload ? 6 : OFFLOAD_NONE, now);
  }
  if (r < 0 && r != -EAGAIN) return r;
  return <i32>len;
}

/**
 * Takes the next datagram: copies up to `cap` bytes to `buf` (the rest is
 * discarded unless `peek`), stores the source address and port at `from`
 * (two u32, if not 0). The datagram's full length, or -EAGAIN when none.
 */
export function datagramRecv(s: Socket, buf: usize, cap: u32, from: usize, peek: bool): i32 {
  let r = rxRing(s);
  if (s.rxDatagrams == 0) return -EAGAIN;
  let len = ringLoadU32(r, 0);
  if (from != 0) {
    store<u32>(from, ringLoadU32(r, 4));
    store<u32>(from, ringLoadU32(r, 8), 4);
  }
  let n = len < cap ? len : cap;
  ringReadAt(r, RECORD_HEADER, buf, n);
  if (!peek) {
    ringConsume(r, RECORD_HEADER + len);
    s.rxDatagrams--;
  }
  return <i32>len;
}

/** Bytes of the next datagram (FIONREAD), 0 if none. */
export function datagramNextLength(s: Socket): u32 {
  return s.rxDatagrams == 0 ? 0 : ringLoadU32(rxRing(s), 0);
}
