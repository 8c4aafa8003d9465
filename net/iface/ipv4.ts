// IPv4 processing: accepting packets for the stack's addresses, reassembly,
// dispatch to ICMP, UDP and TCP, ICMP echo and errors; and the output path
// with fragmentation. Output builds packets in the context's transmit
// buffer: the transport writes its header and payload at
// IP_PAYLOAD_OFFSET, calls ipRoute, then ipSend.
import { EMSGSIZE, ENETUNREACH } from "../errno";
import { NetCtx, TX_BUFFER_BYTES } from "../ctx";
import { DEV_RX_CHECKSUM_PARTIAL, DEV_RX_CHECKSUM_VALID } from "../phy/device";
import {
  STAT_ICMP_ECHO_REPLIES, STAT_ICMP_UNREACHABLE_SENT, STAT_IP_FRAGMENTS, STAT_RX_DROPPED, STAT_RX_MALFORMED,
  Stack, stat,
} from "../stack";
import { ipIsLoopback, ipIsMartianSource, ipIsMulticast } from "../wire/bytes";
import { ETH_HEADER_LEN } from "../wire/ethernet";
import {
  ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HEADER_LEN, ICMP_PARAMETER_PROBLEM,
  ICMP_TIME_EXCEEDED, ICMP_UNREACH_PROTOCOL, IcmpPacket, icmpEmitError,
} from "../wire/icmp";
import { IPV4_HEADER_LEN, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, Ipv4Packet, ipv4EmitHeader } from "../wire/ipv4";
import { fragInput, fragRelease } from "./fragment";
import { IF_LOOPBACK, Interface, OFFLOAD_NONE, ifaceAccepts, ifaceIsBroadcast, ifaceOutput } from "./interface";
import { ipRoute, isLocalAddress } from "./route";
import { udpInput, udpIcmpError, pingInput } from "../socket/udp";
import { tcpInput, tcpIcmpError } from "../socket/tcp";

/** Where a transport writes its header in the context's transmit buffer. */
export const IP_PAYLOAD_OFFSET: u32 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
/** Largest IPv4 payload (65535 - 20). */
export const IP_MAX_PAYLOAD: u32 = 65515;

export function ipv4Input(iface: Interface, ctx: NetCtx, p: usize, len: u32, flags: u32, now: u64): void {
  let stack = iface.stack;
  let ip = ctx.ip;
  if (Ipv4Packet.check(p, len) < 0 || ip.parse(Ipv4Packet.at(p), (flags & DEV_RX_CHECKSUM_VALID) != 0) < 0) {
    stat(stack, STAT_RX_MALFORMED);
    return;
  }
  if (ipIsMartianSource(ip.src) || ip.ttl == 0) {
    stat(stack, STAT_RX_DROPPED);
    return;
  }
  let dst = ip.dst;
  let forUs = ifaceAccepts(iface, dst);
  if (!forUs && (iface.flags & IF_LOOPBACK) != 0) forUs = ipIsLoopback(dst) || isLocalAddress(stack, dst);
  // A DHCP client without an address takes UDP whatever the destination (port checked by UDP).
  if (!forUs && iface.dhcp != 0 && iface.addr == 0 && ip.protocol == IP_PROTO_UDP && !ipIsMulticast(dst)) forUs = true;
  if (!forUs) {
    stat(stack, STAT_RX_DROPPED);
    return;
  }
  ctx.iface = changetype<usize>(iface);
  ctx.rxFlags = flags;
  ctx.checksumTrusted = (flags & (DEV_RX_CHECKSUM_VALID | DEV_RX_CHECKSUM_PARTIAL)) != 0;
  ctx.ipPacket = p;
  if (ip.isFragment) {
    stat(stack, STAT_IP_FRAGMENTS);
    let whole = fragInput(stack, ctx, p, now);
    if (whole == 0) return;
    ctx.ipPacket = whole;
    ctx.checksumTrusted = false;
    dispatch(iface, ctx, whole + IPV4_HEADER_LEN, ip.payloadLen, now);
    fragRelease(stack);
    return;
  }
  dispatch(iface, ctx, Ipv4Packet.at(p).payload, ip.payloadLen, now);
}

function dispatch(iface: Interface, ctx: NetCtx, payload: usize, len: u32, now: u64): void {
  let proto = ctx.ip.protocol;
  if (proto == IP_PROTO_TCP) tcpInput(iface.stack, ctx, payload, len, now);
  else if (proto == IP_PROTO_UDP) udpInput(iface, ctx, payload, len, now);
  else if (proto == IP_PROTO_ICMP) icmpInput(iface, ctx, payload, len, now);
  else {
    stat(iface.stack, STAT_RX_DROPPED);
    icmpSendError(iface.stack, ctx, ICMP_DEST_UNREACHABLE, ICMP_UNREACH_PROTOCOL, 0, now);
  }
}

function icmpInput(iface: Interface, ctx: NetCtx, p: usize, len: u32, now: u64): void {
  let stack = iface.stack;
  let icmp = ctx.icmp;
  if (IcmpPacket.check(p, len) < 0 || icmp.parse(IcmpPacket.at(p), len) < 0) {
    stat(stack, STAT_RX_MALFORMED);
    return;
  }
  let ip = ctx.ip;
  let type = icmp.type;
  if (type == ICMP_ECHO_REQUEST) {
    // No replies to broadcasts (Linux's icmp_echo_ignore_broadcasts).
    if (ifaceIsBroadcast(iface, ip.dst)) return;
    let src = ip.dst;
    let dst = ip.src;
    if (ipRoute(stack, ctx, dst, src) < 0) return;
    let out = ctx.txBuf + IP_PAYLOAD_OFFSET;
    let dataLen = icmp.dataLen;
    memory.copy(out + ICMP_HEADER_LEN, icmp.data, dataLen);
    let id = icmp.id;
    let seq = icmp.seq;
    icmp.type = ICMP_ECHO_REPLY;
    icmp.id = id;
    icmp.seq = seq;
    icmp.emitEcho(out);
    ipSend(stack, ctx, src, dst, IP_PROTO_ICMP, ICMP_HEADER_LEN + dataLen, false, OFFLOAD_NONE, now);
    stat(stack, STAT_ICMP_ECHO_REPLIES);
  } else if (type == ICMP_ECHO_REPLY) {
    pingInput(stack, ctx, now);
  } else if (type == ICMP_DEST_UNREACHABLE || type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETER_PROBLEM) {
    // Only about packets we sent.
    if (!isLocalAddress(stack, icmp.quotedSrc)) return;
    if (icmp.quotedProtocol == IP_PROTO_TCP) tcpIcmpError(stack, ctx, now);
    else if (icmp.quotedProtocol == IP_PROTO_UDP) udpIcmpError(stack, ctx, now);
  }
}

/**
 * Sends an ICMP error about the packet being received (ctx.ipPacket),
 * unless that would be wrong (RFC 1122 3.2.2): about an ICMP error, a
 * broadcast or multicast, a non-initial fragment or a martian source.
 */
export function icmpSendError(stack: Stack, ctx: NetCtx, type: u32, code: u32, word: u32, now: u64): void {
  let ip = ctx.ip;
  let iface = changetype<Interface>(ctx.iface);
  if (ipIsMartianSource(ip.src) || ip.src == 0 || ipIsMulticast(ip.dst) || ifaceIsBroadcast(iface, ip.dst)) return;
  if (ip.fragOffset != 0) return;
  let orig = ctx.ipPacket;
  if (ip.protocol == IP_PROTO_ICMP) {
    let t = <u32>load<u8>(orig + Ipv4Packet.at(orig).headerLen);
    if (t != ICMP_ECHO_REQUEST && t != ICMP_ECHO_REPLY) return;
  }
  let src = ip.dst;
  let dst = ip.src;
  if (ipRoute(stack, ctx, dst, src) < 0) return;
  let len = icmpEmitError(ctx.txBuf + IP_PAYLOAD_OFFSET, type, code, word, orig);
  ipSend(stack, ctx, src, dst, IP_PROTO_ICMP, len, false, OFFLOAD_NONE, now);
  stat(stack, STAT_ICMP_UNREACHABLE_SENT);
}

/**
 * Sends the `payloadLen` bytes at ctx.txBuf + IP_PAYLOAD_OFFSET as one IPv4
 * datagram through the interface ipRoute chose. `offload`: OFFLOAD_NONE, or
 * the checksum field's offset within the payload for the device to finish
 * (only when the interface offers it and the datagram is not fragmented).
 * Larger than the MTU: fragments, unless `df` (-EMSGSIZE). 0 or -errno.
 */
export function ipSend(stack: Stack, ctx: NetCtx, src: u32, dst: u32, protocol: u32, payloadLen: u32, df: bool,
  offload: u32, now: u64): i32 {
  if (ctx.routeIface == 0) return -ENETUNREACH;
  let iface = changetype<Interface>(ctx.routeIface);
  let frame = ctx.txBuf;
  let ident = stack.ipIdent;
  stack.ipIdent = (ident + 1) & 0xffff;
  if (payloadLen > IP_MAX_PAYLOAD) return -EMSGSIZE;
  if (IPV4_HEADER_LEN + payloadLen <= iface.mtu) {
    ipv4EmitHeader(frame + ETH_HEADER_LEN, src, dst, protocol, payloadLen, stack.ttl, ident, df, false, 0, 0);
    let word = offload == OFFLOAD_NONE ? OFFLOAD_NONE : (IP_PAYLOAD_OFFSET << 16) | offload;
    return ifaceOutput(iface, frame, IP_PAYLOAD_OFFSET + payloadLen, ctx.nextHop, word, now);
  }
  if (df || offload != OFFLOAD_NONE) return -EMSGSIZE;
  // Fragments: each piece's headers go in the 34 bytes before it (saved and restored).
  let piece = (iface.mtu - IPV4_HEADER_LEN) & ~7;
  if (piece == 0) return -EMSGSIZE;
  let save = ctx.txBuf + TX_BUFFER_BYTES - 40;
  let r: i32 = 0;
  let off: u32 = 0;
  while (off < payloadLen) {
    let n = payloadLen - off;
    let more = n > piece;
    if (more) n = piece;
    let start = frame + off;
    if (off != 0) memory.copy(save, start, IP_PAYLOAD_OFFSET);
    ipv4EmitHeader(start + ETH_HEADER_LEN, src, dst, protocol, n, stack.ttl, ident, false, more, off, 0);
    let e = ifaceOutput(iface, start, IP_PAYLOAD_OFFSET + n, ctx.nextHop, OFFLOAD_NONE, now);
    if (e < 0) r = e;
    if (off != 0) memory.copy(start, save, IP_PAYLOAD_OFFSET);
    off += n;
  }
  return r;
}
