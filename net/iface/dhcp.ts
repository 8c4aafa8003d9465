// The DHCP client (RFC 2131 4.4): INIT -> SELECTING (DISCOVER out, waiting
// for an OFFER) -> REQUESTING (REQUEST out, waiting for the ACK) -> BOUND
// (address, netmask, default route and DNS servers applied); at T1 RENEWING
// (unicast REQUEST to the server), at T2 REBINDING (broadcast), at the end
// of the lease back to INIT without an address. A NAK restarts at INIT.
// Retransmissions back off 4, 8, 16 ... 64 s (randomized by up to one
// second), as 4.1 asks; enough for QEMU's slirp server.
import { NetCtx } from "../ctx";
import { netAlloc, netFree } from "../mem";
import { NEVER } from "../phy/device";
import { randomBelow, randomU32 } from "../random";
import { Stack, stackRandom } from "../stack";
import { IP_BROADCAST } from "../wire/bytes";
import {
  BOOTREPLY, BOOTREQUEST, DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPREQUEST, DHCP_CLIENT_PORT, DHCP_SERVER_PORT,
  DhcpPacket,
} from "../wire/dhcp";
import { IP_PROTO_UDP, ipv4EmitHeader } from "../wire/ipv4";
import { UDP_HEADER_LEN } from "../wire/udp";
import { IP_PAYLOAD_OFFSET, ipSend } from "./ipv4";
import { Interface, OFFLOAD_NONE, ifaceOutput, ifaceSetAddress } from "./interface";
import { ipRoute, routeAdd, routeDelete } from "./route";
import { ETH_HEADER_LEN } from "../wire/ethernet";

export const DHCP_INIT: u32 = 0;
export const DHCP_SELECTING: u32 = 1;
export const DHCP_REQUESTING: u32 = 2;
export const DHCP_BOUND: u32 = 3;
export const DHCP_RENEWING: u32 = 4;
export const DHCP_REBINDING: u32 = 5;

const S: u64 = 1000000000;
const MAX_REQUESTS: u32 = 4;

@final @unmanaged
export class DhcpClient {
  iface: Interface;
  state: u32;
  xid: u32;
  offered: u32;
  server: u32;
  retries: u32;
  /** Seconds. */
  lease: u32;
  t1: u32;
  t2: u32;
  leaseStart: u64;
  deadline: u64;
  started: u64;
  /** Leases obtained, NAKs received (tests, diagnostics). */
  acquired: u32;
  naks: u32;
}

/** Starts DHCP on the interface (its address cleared): the first DISCOVER goes out on the next poll. */
export function dhcpStart(iface: Interface, now: u64): i32 {
  if (iface.dhcp == 0) {
    let c = changetype<DhcpClient>(netAlloc(offsetof<DhcpClient>()));
    if (changetype<usize>(c) == 0) return -12;
    c.iface = iface;
    iface.dhcp = changetype<usize>(c);
  }
  let c = changetype<DhcpClient>(iface.dhcp);
  unconfigure(c);
  c.state = DHCP_INIT;
  c.deadline = now;
  c.started = now;
  return 0;
}

export function dhcpDestroy(c: DhcpClient): void {
  c.iface.dhcp = 0;
  netFree(changetype<usize>(c));
}

export function dhcpState(iface: Interface): u32 {
  return iface.dhcp != 0 ? changetype<DhcpClient>(iface.dhcp).state : DHCP_INIT;
}

export function dhcpDeadline(c: DhcpClient): u64 {
  return c.deadline != 0 ? c.deadline : NEVER;
}

function stackOf(c: DhcpClient): Stack {
  return c.iface.stack;
}

function backoff(c: DhcpClient, now: u64): u64 {
  let shift = c.retries < 4 ? c.retries : 4;
  let base = (<u64>4 * S) << shift; // 4, 8, 16, 32, 64 s
  let jitter = <u64>randomBelow(stackRandom(stackOf(c)), 2000) * 1000000; // 0-2 s, i.e. +-1 s
  return now + base - S + jitter;
}

function unconfigure(c: DhcpClient): void {
  let iface = c.iface;
  if (iface.gateway != 0) routeDelete(iface.stack, 0, 0);
  iface.gateway = 0;
  iface.dns0 = 0;
  iface.dns1 = 0;
  ifaceSetAddress(iface, 0, 0);
}

/** Builds a client message in the transmit buffer and sends it (broadcast unless renewing). */
function send(c: DhcpClient, ctx: NetCtx, type: u32, now: u64): void {
  let iface = c.iface;
  let stack = iface.stack;
  let m = ctx.dhcp;
  m.clear();
  m.op = BOOTREQUEST;
  m.messageType = type;
  m.xid = c.xid;
  let secs = (now - c.started) / S;
  m.secs = secs > 0xffff ? 0xffff : <u32>secs;
  m.clientMac = iface.mac;
  m.clientOptions = true;
  if (type == DHCPREQUEST) {
    if (c.state == DHCP_REQUESTING) {
      m.requestedIp = c.offered;
      m.serverId = c.server;
    } else {
      m.ciaddr = iface.addr;
    }
  }
  let udp = ctx.txBuf + IP_PAYLOAD_OFFSET;
  let len = m.emit(udp + UDP_HEADER_LEN);
  let repr = ctx.udp;
  repr.srcPort = DHCP_CLIENT_PORT;
  repr.dstPort = DHCP_SERVER_PORT;
  repr.payloadLen = len;
  if (c.state == DHCP_RENEWING) {
    repr.emit(udp, iface.addr, c.server, true, false);
    if (ipRoute(stack, ctx, c.server, iface.addr) == 0) {
      ipSend(stack, ctx, iface.addr, c.server, IP_PROTO_UDP, UDP_HEADER_LEN + len, false, OFFLOAD_NONE, now);
    }
    return;
  }
  let src = c.state == DHCP_REBINDING ? iface.addr : 0;
  repr.emit(udp, src, IP_BROADCAST, true, false);
  let ident = stack.ipIdent;
  stack.ipIdent = (ident + 1) & 0xffff;
  ipv4EmitHeader(ctx.txBuf + ETH_HEADER_LEN, src, IP_BROADCAST, IP_PROTO_UDP, UDP_HEADER_LEN + len, stack.ttl,
    ident, false, false, 0, 0);
  ifaceOutput(iface, ctx.txBuf, IP_PAYLOAD_OFFSET + UDP_HEADER_LEN + len, IP_BROADCAST, OFFLOAD_NONE, now);
}

function discover(c: DhcpClient, ctx: NetCtx, now: u64): void {
  c.state = DHCP_SELECTING;
  c.xid = randomU32(stackRandom(stackOf(c)));
  c.retries = 0;
  send(c, ctx, DHCPDISCOVER, now);
  c.deadline = backoff(c, now);
}

export function dhcpTimers(iface: Interface, ctx: NetCtx, now: u64): u32 {
  let c = changetype<DhcpClient>(iface.dhcp);
  if (c.deadline == 0 || c.deadline > now) return 0;
  let state = c.state;
  if (state == DHCP_INIT) {
    discover(c, ctx, now);
  } else if (state == DHCP_SELECTING) {
    c.retries++;
    send(c, ctx, DHCPDISCOVER, now);
    c.deadline = backoff(c, now);
  } else if (state == DHCP_REQUESTING) {
    c.retries++;
    if (c.retries > MAX_REQUESTS) discover(c, ctx, now);
    else {
      send(c, ctx, DHCPREQUEST, now);
      c.deadline = backoff(c, now);
    }
  } else {
    let t1 = c.leaseStart + <u64>c.t1 * S;
    let t2 = c.leaseStart + <u64>c.t2 * S;
    let end = c.leaseStart + <u64>c.lease * S;
    if (now >= end) {
      unconfigure(c);
      c.state = DHCP_INIT;
      discover(c, ctx, now);
      return 1;
    }
    if (now >= t2) c.state = DHCP_REBINDING;
    else if (now >= t1) c.state = DHCP_RENEWING;
    send(c, ctx, DHCPREQUEST, now);
    // RFC 2131 4.4.5: wait half the time remaining until T2 (or the lease end), at least 60 s.
    let until = c.state == DHCP_RENEWING ? t2 : end;
    let wait = (until - now) / 2;
    if (wait < 60 * S) wait = 60 * S;
    c.deadline = now + wait < until ? now + wait : until;
  }
  return 1;
}

/** A DHCP message arrived for the client (UDP to port 68 on this interface). */
export function dhcpInput(iface: Interface, ctx: NetCtx, p: usize, len: u32, now: u64): void {
  let c = changetype<DhcpClient>(iface.dhcp);
  let m = ctx.dhcp;
  if (DhcpPacket.check(p, len) < 0 || m.parse(DhcpPacket.at(p), len) < 0) return;
  if (m.op != BOOTREPLY || m.xid != c.xid || m.clientMac != iface.mac) return;
  let type = m.messageType;
  if (c.state == DHCP_SELECTING && type == DHCPOFFER) {
    if (m.yiaddr == 0) return;
    c.offered = m.yiaddr;
    c.server = m.serverId != 0 ? m.serverId : ctx.ip.src;
    c.state = DHCP_REQUESTING;
    c.retries = 0;
    send(c, ctx, DHCPREQUEST, now);
    c.deadline = backoff(c, now);
    return;
  }
  if (c.state != DHCP_REQUESTING && c.state != DHCP_RENEWING && c.state != DHCP_REBINDING) return;
  if (type == DHCPNAK) {
    c.naks++;
    unconfigure(c);
    c.state = DHCP_INIT;
    c.deadline = now;
    return;
  }
  if (type != DHCPACK || m.yiaddr == 0) return;
  let stack = iface.stack;
  let mask = m.subnetMask;
  if (mask == 0) {
    let first = m.yiaddr >> 24;
    mask = first < 128 ? 0xff000000 : first < 192 ? 0xffff0000 : 0xffffff00;
  }
  if (iface.addr != m.yiaddr || iface.mask != mask) ifaceSetAddress(iface, m.yiaddr, mask);
  if (m.router != 0) {
    iface.gateway = m.router;
    routeAdd(stack, 0, 0, m.router, iface, 0);
  }
  iface.dns0 = m.dns0;
  iface.dns1 = m.dns1;
  if (m.serverId != 0) c.server = m.serverId;
  let lease = m.leaseTime != 0 ? m.leaseTime : 3600;
  c.lease = lease;
  c.t1 = m.renewalTime != 0 && m.renewalTime < lease ? m.renewalTime : lease >> 1;
  c.t2 = m.rebindingTime != 0 && m.rebindingTime < lease ? m.rebindingTime : <u32>(<u64>lease * 7 / 8);
  if (c.t1 > c.t2) c.t1 = c.t2;
  c.leaseStart = now;
  c.state = DHCP_BOUND;
  c.retries = 0;
  c.acquired++;
  // An infinite lease (0xffffffff) never renews.
  c.deadline = lease == 0xffffffff ? 0 : now + <u64>c.t1 * S;
}
