// Test entry: the network stack (net/) with the kernel heap under it,
// compiled on its own for Node (AssemblyScript; excluded from the host
// type-check). Besides the stack's own API it exports wire-format probes
// (parse into / emit from plain u32 arrays the tests read and write), device
// set-up helpers, and runStacks, which drives stacks over simulated time.
import { physicalAddFree, physicalInit, physicalMetadataBytes } from "../../../kernel/mm/physical";
import { TAG_KERNEL, TAG_NET, heapAlloc, heapBytesInUse } from "../../../kernel/mm/heap";
import {
  IF_LOOPBACK, Interface, NEVER, Stack, dhcpStart, dhcpState, ifaceArpLookup, ifaceSetAddress, loopbackCreate,
  loopbackDestroy, routeAdd, stackAddInterface, stackInterface, stackNextDeadline, stackPoll,
  LOOPBACK_MTU, LOOPBACK_QUEUE_BYTES, Device,
} from "../../../net/index";
import { ArpPacket, ArpRepr } from "../../../net/wire/arp";
import { checksum } from "../../../net/wire/checksum";
import { DhcpPacket, DhcpRepr } from "../../../net/wire/dhcp";
import { EthernetFrame } from "../../../net/wire/ethernet";
import { IcmpPacket, IcmpRepr, icmpEmitError } from "../../../net/wire/icmp";
import { Ipv4Packet, Ipv4Repr } from "../../../net/wire/ipv4";
import { TcpPacket, TcpRepr, tcpFillChecksum } from "../../../net/wire/tcp";
import { UdpPacket, UdpRepr } from "../../../net/wire/udp";
import { siphash2 } from "../../../net/random";
import { Link, linkCreate, linkDestroy, linkDropped, linkQueued } from "../../../net/phy/link";
import { FaultInjector, faultInjectorCreate, faultInjectorDestroy, faultInjectorOf } from "../../../net/phy/faultinjector";
import { pipeCreate, pipeDestroy, pipeInject, pipePending, pipeTake, pipeTakenOffload } from "../../../net/phy/pipe";
import { fragInUse } from "../../../net/iface/fragment";
import { DhcpClient } from "../../../net/iface/dhcp";
import { sockRecv, sockSend, sockSetWake } from "../../../net/socket/api";
import { socketById } from "../../../net/socket/table";
import { Socket, socketBytes } from "../../../net/socket/socket";

export {
  stackCreate, stackDestroy, stackConfigure, stackAddInterface, stackInput, stackPoll, stackNextDeadline, stackStat,
  routeAdd, routeDelete, sockAccept, sockBind, sockClose, sockConnect, sockCount, sockGetOption, sockListen,
  sockLocalName, sockOpen, sockPeerName, sockPoll, sockReadable, sockRecv, sockRecvFrom, sockSend, sockSendTo,
  sockSetOption, sockSetWake, sockShutdown, sockState, sockUnsent, tcpChannelInput, tcpClassify, ctxCreate, ctxDestroy,
} from "../../../net/index";
export { pcapCreate, pcapDestroy, pcapClear, pcapDeviceCreate, pcapDeviceDestroy } from "../../../net/phy/pcap";
export { heapBytesInUse, heapPagesHeld } from "../../../kernel/mm/heap";

// ---- memory ----

/** Hands the wasm memory above the static data to the page allocator (once per instance). */
export function netTestInit(): void {
  let base = (__heap_base + (2 << 20) + 0xfffff) & ~<usize>0xfffff;
  let end = <u64>memory.size() << 16;
  let meta = physicalMetadataBytes(end);
  physicalInit(base, end);
  physicalAddFree(<u64>(base + meta), end);
}

export function netHeapBytes(): usize {
  return heapBytesInUse(TAG_NET);
}

/** `size` bytes the tests use as buffers (not charged to the stack). */
export function testAlloc(size: usize): usize {
  return heapAlloc(size, TAG_KERNEL);
}

// ---- wire probes ----

export function testChecksum(p: usize, len: u32): u32 {
  return checksum(p, len);
}

export function testSiphash(k0: u64, k1: u64, m0: u64, m1: u64): u64 {
  return siphash2(k0, k1, m0, m1);
}

let scratchRepr: usize = 0;
function repr<T>(): T {
  if (scratchRepr == 0) scratchRepr = heapAlloc(512, TAG_KERNEL);
  memory.fill(scratchRepr, 0, 512);
  return changetype<T>(scratchRepr);
}

export function testEthernetCheck(p: usize, len: u32): i32 {
  return EthernetFrame.check(p, len);
}

/** ARP: op, senderMac lo/hi, senderIp, targetMac lo/hi, targetIp. */
export function testArpParse(p: usize, len: u32, out: usize): i32 {
  if (ArpPacket.check(p, len) < 0) return -1;
  let r = repr<ArpRepr>();
  let e = r.parse(ArpPacket.at(p));
  if (e < 0) return e;
  store<u32>(out, r.op);
  store<u32>(out, <u32>r.senderMac, 4);
  store<u32>(out, <u32>(r.senderMac >> 32), 8);
  store<u32>(out, r.senderIp, 12);
  store<u32>(out, <u32>r.targetMac, 16);
  store<u32>(out, <u32>(r.targetMac >> 32), 20);
  store<u32>(out, r.targetIp, 24);
  return 0;
}

export function testArpEmit(input: usize, out: usize): u32 {
  let r = repr<ArpRepr>();
  r.op = load<u32>(input);
  r.senderMac = <u64>load<u32>(input, 4) | (<u64>load<u32>(input, 8) << 32);
  r.senderIp = load<u32>(input, 12);
  r.targetMac = <u64>load<u32>(input, 16) | (<u64>load<u32>(input, 20) << 32);
  r.targetIp = load<u32>(input, 24);
  r.emit(ArpPacket.at(out));
  return 28;
}

/** IPv4: src, dst, protocol, payloadLen, headerLen, ttl, tos, ident, df, mf, fragOffset. */
export function testIpv4Parse(p: usize, len: u32, trusted: bool, out: usize): i32 {
  let e = Ipv4Packet.check(p, len);
  if (e < 0) return e;
  let r = repr<Ipv4Repr>();
  e = r.parse(Ipv4Packet.at(p), trusted);
  if (e < 0) return e;
  store<u32>(out, r.src);
  store<u32>(out, r.dst, 4);
  store<u32>(out, r.protocol, 8);
  store<u32>(out, r.payloadLen, 12);
  store<u32>(out, r.headerLen, 16);
  store<u32>(out, r.ttl, 20);
  store<u32>(out, r.tos, 24);
  store<u32>(out, r.ident, 28);
  store<u32>(out, r.dontFragment ? 1 : 0, 32);
  store<u32>(out, r.moreFragments ? 1 : 0, 36);
  store<u32>(out, r.fragOffset, 40);
  return 0;
}

export function testIpv4Emit(input: usize, out: usize): u32 {
  let r = repr<Ipv4Repr>();
  r.src = load<u32>(input);
  r.dst = load<u32>(input, 4);
  r.protocol = load<u32>(input, 8);
  r.payloadLen = load<u32>(input, 12);
  r.ttl = load<u32>(input, 20);
  r.tos = load<u32>(input, 24);
  r.ident = load<u32>(input, 28);
  r.dontFragment = load<u32>(input, 32) != 0;
  r.moreFragments = load<u32>(input, 36) != 0;
  r.fragOffset = load<u32>(input, 40);
  r.emit(Ipv4Packet.at(out));
  return 20;
}

/** ICMP: type, code, id, seq, mtu, dataLen, quotedProtocol, quotedSrc, quotedDst, quotedSrcPort, quotedDstPort, quotedSeq. */
export function testIcmpParse(p: usize, len: u32, out: usize): i32 {
  let e = IcmpPacket.check(p, len);
  if (e < 0) return e;
  let r = repr<IcmpRepr>();
  e = r.parse(IcmpPacket.at(p), len);
  if (e < 0) return e;
  store<u32>(out, r.type);
  store<u32>(out, r.code, 4);
  store<u32>(out, r.id, 8);
  store<u32>(out, r.seq, 12);
  store<u32>(out, r.mtu, 16);
  store<u32>(out, r.dataLen, 20);
  store<u32>(out, r.quotedProtocol, 24);
  store<u32>(out, r.quotedSrc, 28);
  store<u32>(out, r.quotedDst, 32);
  store<u32>(out, r.quotedSrcPort, 36);
  store<u32>(out, r.quotedDstPort, 40);
  store<u32>(out, r.quotedSeq, 44);
  return 0;
}

/** Echo message at `out` whose data (dataLen bytes) is already at out + 8. */
export function testIcmpEmitEcho(type: u32, id: u32, seq: u32, dataLen: u32, out: usize): u32 {
  let r = repr<IcmpRepr>();
  r.type = type;
  r.id = id;
  r.seq = seq;
  r.dataLen = dataLen;
  r.emitEcho(out);
  return 8 + dataLen;
}

export function testIcmpEmitError(type: u32, code: u32, word: u32, original: usize, out: usize): u32 {
  return icmpEmitError(out, type, code, word, original);
}

/** UDP: srcPort, dstPort, payloadLen, payload offset. */
export function testUdpParse(p: usize, len: u32, src: u32, dst: u32, trusted: bool, out: usize): i32 {
  let e = UdpPacket.check(p, len);
  if (e < 0) return e;
  let r = repr<UdpRepr>();
  e = r.parse(UdpPacket.at(p), src, dst, trusted);
  if (e < 0) return e;
  store<u32>(out, r.srcPort);
  store<u32>(out, r.dstPort, 4);
  store<u32>(out, r.payloadLen, 8);
  store<u32>(out, <u32>(r.payload - p), 12);
  return 0;
}

export function testUdpEmit(srcPort: u32, dstPort: u32, payloadLen: u32, src: u32, dst: u32, withChecksum: bool,
  out: usize): u32 {
  let r = repr<UdpRepr>();
  r.srcPort = srcPort;
  r.dstPort = dstPort;
  r.payloadLen = payloadLen;
  r.emit(out, src, dst, withChecksum, false);
  return 8 + payloadLen;
}

// TCP fields (u32 each): 0 srcPort, 1 dstPort, 2 seq, 3 ack, 4 flags, 5 window, 6 urgent, 7 mss, 8 wscale,
// 9 sackPermitted, 10 tsPresent, 11 tsVal, 12 tsEcr, 13 sackCount, 14-21 sack start/end x4, 22 headerLen,
// 23 payload offset, 24 payloadLen.
export function testTcpParse(p: usize, len: u32, src: u32, dst: u32, trusted: bool, out: usize): i32 {
  let e = TcpPacket.check(p, len);
  if (e < 0) return e;
  let r = repr<TcpRepr>();
  e = r.parse(TcpPacket.at(p), len, src, dst, trusted);
  if (e < 0) return e;
  let f: StaticArray<u32> = [r.srcPort, r.dstPort, r.seq, r.ack, r.flags, r.window, r.urgent, r.mss, r.wscale,
    r.sackPermitted ? 1 : 0, r.tsPresent ? 1 : 0, r.tsVal, r.tsEcr, r.sackCount];
  for (let i = 0; i < 14; i++) store<u32>(out + (<usize>i << 2), unchecked(f[i]));
  for (let i: u32 = 0; i < 4; i++) {
    store<u32>(out + 56 + (<usize>i << 3), r.sackStart(i));
    store<u32>(out + 60 + (<usize>i << 3), r.sackEnd(i));
  }
  store<u32>(out, r.headerLen, 88);
  store<u32>(out, <u32>(r.payload - p), 92);
  store<u32>(out, r.payloadLen, 96);
  return 0;
}

/** Emits from the same field layout; payloadLen bytes at out + header length must already be there (use testTcpHeaderLen). */
export function testTcpEmit(input: usize, payloadLen: u32, src: u32, dst: u32, out: usize): u32 {
  let r = repr<TcpRepr>();
  loadTcp(r, input);
  let h = r.emit(out);
  tcpFillChecksum(out, h + payloadLen, src, dst, false);
  return h + payloadLen;
}

export function testTcpHeaderLen(input: usize): u32 {
  let r = repr<TcpRepr>();
  loadTcp(r, input);
  return 20 + r.optionsLen();
}

function loadTcp(r: TcpRepr, input: usize): void {
  r.srcPort = load<u32>(input);
  r.dstPort = load<u32>(input, 4);
  r.seq = load<u32>(input, 8);
  r.ack = load<u32>(input, 12);
  r.flags = load<u32>(input, 16);
  r.window = load<u32>(input, 20);
  r.urgent = load<u32>(input, 24);
  r.mss = load<u32>(input, 28);
  r.wscale = load<u32>(input, 32);
  r.sackPermitted = load<u32>(input, 36) != 0;
  r.tsPresent = load<u32>(input, 40) != 0;
  r.tsVal = load<u32>(input, 44);
  r.tsEcr = load<u32>(input, 48);
  r.sackCount = load<u32>(input, 52);
  for (let i: u32 = 0; i < 4; i++) r.setSack(i, load<u32>(input + 56 + (<usize>i << 3)), load<u32>(input + 60 + (<usize>i << 3)));
}

// DHCP fields: 0 op, 1 messageType, 2 xid, 3 secs, 4 broadcast, 5 ciaddr, 6 yiaddr, 7 siaddr, 8 giaddr,
// 9 mac lo, 10 mac hi, 11 serverId, 12 requestedIp, 13 subnetMask, 14 router, 15 dns0, 16 dns1, 17 lease,
// 18 renewal, 19 rebinding, 20 clientOptions.
export function testDhcpParse(p: usize, len: u32, out: usize): i32 {
  let e = DhcpPacket.check(p, len);
  if (e < 0) return e;
  let r = repr<DhcpRepr>();
  e = r.parse(DhcpPacket.at(p), len);
  if (e < 0) return e;
  let f: StaticArray<u32> = [r.op, r.messageType, r.xid, r.secs, r.broadcast ? 1 : 0, r.ciaddr, r.yiaddr, r.siaddr,
    r.giaddr, <u32>r.clientMac, <u32>(r.clientMac >> 32), r.serverId, r.requestedIp, r.subnetMask, r.router, r.dns0,
    r.dns1, r.leaseTime, r.renewalTime, r.rebindingTime, 0];
  for (let i = 0; i < 21; i++) store<u32>(out + (<usize>i << 2), unchecked(f[i]));
  return 0;
}

export function testDhcpEmit(input: usize, out: usize): u32 {
  let r = repr<DhcpRepr>();
  r.op = load<u32>(input);
  r.messageType = load<u32>(input, 4);
  r.xid = load<u32>(input, 8);
  r.secs = load<u32>(input, 12);
  r.broadcast = load<u32>(input, 16) != 0;
  r.ciaddr = load<u32>(input, 20);
  r.yiaddr = load<u32>(input, 24);
  r.siaddr = load<u32>(input, 28);
  r.giaddr = load<u32>(input, 32);
  r.clientMac = <u64>load<u32>(input, 36) | (<u64>load<u32>(input, 40) << 32);
  r.serverId = load<u32>(input, 44);
  r.requestedIp = load<u32>(input, 48);
  r.subnetMask = load<u32>(input, 52);
  r.router = load<u32>(input, 56);
  r.dns0 = load<u32>(input, 60);
  r.dns1 = load<u32>(input, 64);
  r.leaseTime = load<u32>(input, 68);
  r.renewalTime = load<u32>(input, 72);
  r.rebindingTime = load<u32>(input, 76);
  r.clientOptions = load<u32>(input, 80) != 0;
  return r.emit(out);
}

// ---- devices and interfaces ----

export function testAddLoopback(stack: Stack): i32 {
  let dev = loopbackCreate(LOOPBACK_MTU, LOOPBACK_QUEUE_BYTES);
  if (dev == null) return -12;
  let i = stackAddInterface(stack, dev, IF_LOOPBACK);
  if (i < 0) return i;
  ifaceSetAddress(stackInterface(stack, <u32>i), 0x7f000001, 0xff000000);
  return i;
}

/** Destroys the loopback device of interface `i` (after stackDestroy, pass the device pointer). */
export function testInterfaceDevice(stack: Stack, i: u32): usize {
  return changetype<usize>(stackInterface(stack, i).dev);
}

export function testLoopbackDestroy(dev: usize): void {
  loopbackDestroy(changetype<Device>(dev));
}

export function testAddDevice(stack: Stack, dev: usize, addr: u32, mask: u32): i32 {
  let i = stackAddInterface(stack, changetype<Device>(dev), 0);
  if (i < 0) return i;
  if (addr != 0) ifaceSetAddress(stackInterface(stack, <u32>i), addr, mask);
  return i;
}

export function testSetAddress(stack: Stack, i: u32, addr: u32, mask: u32): void {
  ifaceSetAddress(stackInterface(stack, i), addr, mask);
}

export function testAddRoute(stack: Stack, dest: u32, mask: u32, gateway: u32, i: u32): i32 {
  return routeAdd(stack, dest, mask, gateway, stackInterface(stack, i), 0);
}

export function testIfaceField(stack: Stack, i: u32, field: u32): u32 {
  let iface = stackInterface(stack, i);
  switch (field) {
    case 0: return iface.addr;
    case 1: return iface.mask;
    case 2: return iface.gateway;
    case 3: return iface.dns0;
    case 4: return iface.dns1;
    case 5: return iface.mtu;
  }
  return 0;
}

export function testArpLookup(stack: Stack, i: u32, ip: u32, now: u64): u64 {
  return ifaceArpLookup(stackInterface(stack, i), ip, now);
}

export function testDhcpStart(stack: Stack, i: u32, now: u64): i32 {
  return dhcpStart(stackInterface(stack, i), now);
}

export function testDhcpState(stack: Stack, i: u32): u32 {
  return dhcpState(stackInterface(stack, i));
}

export function testDhcpXid(stack: Stack, i: u32): u32 {
  let iface = stackInterface(stack, i);
  return iface.dhcp != 0 ? changetype<DhcpClient>(iface.dhcp).xid : 0;
}

export function testLinkCreate(mtu: u32, macA: u64, macB: u64, slots: u32, latency: u64, rate: u64): usize {
  let l = linkCreate(mtu, macA, macB, slots, latency, rate);
  return l == null ? 0 : changetype<usize>(l);
}
export function testLinkEnd(link: usize, b: bool): usize {
  let l = changetype<Link>(link);
  return changetype<usize>(b ? l.b : l.a);
}
export function testLinkDestroy(link: usize): void {
  linkDestroy(changetype<Link>(link));
}
export function testLinkDropped(link: usize, fromA: bool): u64 {
  return linkDropped(changetype<Link>(link), fromA);
}
export function testLinkQueued(link: usize): u32 {
  return linkQueued(changetype<Link>(link));
}

export function testFaultCreate(inner: usize, seed: u64): usize {
  let d = faultInjectorCreate(changetype<Device>(inner), seed);
  return d == null ? 0 : changetype<usize>(d);
}
export function testFaultSet(dev: usize, drop: u32, duplicate: u32, corrupt: u32, reorder: u32, delay: u64,
  reorderDelay: u64): void {
  let f = faultInjectorOf(changetype<Device>(dev));
  f.dropPpm = drop;
  f.duplicatePpm = duplicate;
  f.corruptPpm = corrupt;
  f.reorderPpm = reorder;
  f.delay = delay;
  f.reorderDelay = reorderDelay;
}
export function testFaultBlackhole(dev: usize, on: bool): void {
  faultInjectorOf(changetype<Device>(dev)).blackhole = on;
}
/** dropped, duplicated, corrupted, reordered. */
export function testFaultCount(dev: usize, which: u32): u64 {
  let f = faultInjectorOf(changetype<Device>(dev));
  return which == 0 ? f.dropped : which == 1 ? f.duplicated : which == 2 ? f.corrupted : f.reordered;
}
export function testFaultDestroy(dev: usize): void {
  faultInjectorDestroy(changetype<Device>(dev));
}

export function testPipeCreate(mtu: u32, caps: u32, mac: u64, queueBytes: u32): usize {
  let d = pipeCreate(mtu, caps, mac, queueBytes);
  return d == null ? 0 : changetype<usize>(d);
}
export function testPipeInject(dev: usize, frame: usize, len: u32, flags: u32): bool {
  return pipeInject(changetype<Device>(dev), frame, len, flags);
}
export function testPipeTake(dev: usize, out: usize, cap: u32): u32 {
  return pipeTake(changetype<Device>(dev), out, cap);
}
export function testPipeTakenOffload(dev: usize): u32 {
  return pipeTakenOffload(changetype<Device>(dev));
}
export function testPipePending(dev: usize): u32 {
  return pipePending(changetype<Device>(dev));
}
export function testPipeDestroy(dev: usize): void {
  pipeDestroy(changetype<Device>(dev));
}

export function testPcapData(w: usize): usize {
  return load<usize>(w);
}
export function testPcapLength(w: usize): u32 {
  return load<u32>(w, 8);
}

export function testFragInUse(stack: Stack): u32 {
  return fragInUse(stack);
}

/** A socket's TCP variable for white-box checks: 0 cwnd, 1 ssthresh, 2 rto (ms), 3 mss, 4 sndWscale,
 * 5 rcvWscale, 6 flags, 7 retransmits, 8 sndWnd, 9 srtt (us), 10 rxCap, 11 txCap, 12 rcvNxt, 13 sndNxt,
 * 14 sndUna, 15 localPort, 16 maxSndWnd, 17 sndMax, 18 rcvAdv, 19 rxLen, 20 sndWl1, 21 txLen. */
export function testSocketField(stack: Stack, id: i32, field: u32): u32 {
  let s = socketById(stack, id);
  if (s == null) return 0xffffffff;
  switch (field) {
    case 0: return s.cwnd;
    case 1: return s.ssthresh;
    case 2: return <u32>(s.rto / 1000000);
    case 3: return s.mss;
    case 4: return s.sndWscale;
    case 5: return s.rcvWscale;
    case 6: return s.flags;
    case 7: return s.retransmits;
    case 8: return s.sndWnd;
    case 9: return <u32>(s.srtt / 1000);
    case 10: return s.rxCap;
    case 11: return s.txCap;
    case 12: return s.rcvNxt;
    case 13: return s.sndNxt;
    case 14: return s.sndUna;
    case 15: return s.localPort;
    case 16: return s.maxSndWnd;
    case 17: return s.sndMax;
    case 18: return s.rcvAdv;
    case 19: return s.rxLen;
    case 20: return s.sndWl1;
    case 21: return s.txLen;
  }
  return 0;
}

// ---- driving ----

let runIterations: u32 = 0;

/**
 * Polls the stacks (b may be 0) at `now` until nothing happens, then moves
 * time to the next deadline, up to `until`. Returns the time reached
 * (`until` when everything due by then is done). Gives up after maxSteps
 * polls (a livelock): runStalled() then says so.
 */
export function runStacks(a: Stack, b: usize, now: u64, until: u64, maxSteps: u32): u64 {
  let t = now;
  runIterations = 0;
  while (runIterations < maxSteps) {
    runIterations++;
    let work = stackPoll(a, t);
    if (b != 0) work += stackPoll(changetype<Stack>(b), t);
    if (work != 0) continue;
    let d = stackNextDeadline(a);
    if (b != 0) {
      let d2 = stackNextDeadline(changetype<Stack>(b));
      if (d2 < d) d = d2;
    }
    if (d <= t) continue;
    if (d > until) return until;
    t = d;
  }
  return t;
}

export function runStalled(maxSteps: u32): bool {
  return runIterations >= maxSteps;
}

/**
 * Benchmark: moves `total` bytes from socket `tx` of stack a to socket `rx`
 * of stack b (b may equal a) through a 64 KiB buffer, polling both, time
 * advancing by `tick` ns per round. Returns the bytes received.
 */
export function benchTransfer(a: Stack, tx: i32, b: Stack, rx: i32, total: u64, buf: usize, now: u64, tick: u64): u64 {
  let sent: u64 = 0;
  let received: u64 = 0;
  let t = now;
  let rounds: u32 = 0;
  while (received < total && rounds < 50000000) {
    rounds++;
    if (sent < total) {
      let want = total - sent < 65536 ? <u32>(total - sent) : 65536;
      let n = sockSend(a, tx, buf, want, t);
      if (n > 0) sent += <u64>n;
    }
    stackPoll(a, t);
    if (changetype<usize>(b) != changetype<usize>(a)) stackPoll(b, t);
    while (true) {
      let n = sockRecv(b, rx, buf, 65536, 0, t);
      if (n <= 0) break;
      received += <u64>n;
    }
    t += tick;
  }
  return received;
}

export const NEVER_TIME: u64 = NEVER;

// A wake callback that counts: calls, and the events of the last one.
const wakeCounts = memory.data(16, 8);
function countingWake(arg: usize, id: i32, events: u32): void {
  store<u32>(wakeCounts, load<u32>(wakeCounts) + 1);
  store<u32>(wakeCounts, events, 4);
  store<i32>(wakeCounts, id, 8);
}
export function testInstallWake(stack: Stack, id: i32): i32 {
  return sockSetWake(stack, id, changetype<usize>(countingWake), 0);
}
/** 0: calls, 1: events of the last call, 2: its socket id. */
export function testWakeCount(which: u32): u32 {
  return load<u32>(wakeCounts + (<usize>which << 2));
}

/** Frame builder for tests: Ethernet + IPv4 + TCP (fields as testTcpParse) + payload at `out`; its length. */
export function testTcpFrame(dstMac: u64, srcMac: u64, src: u32, dst: u32, fields: usize, payload: usize,
  payloadLen: u32, out: usize): u32 {
  let r = repr<TcpRepr>();
  loadTcp(r, fields);
  let tcp = out + 34;
  let h = r.emit(tcp);
  memory.copy(tcp + h, payload, payloadLen);
  tcpFillChecksum(tcp, h + payloadLen, src, dst, false);
  let ip = repr<Ipv4Repr>();
  ip.src = src;
  ip.dst = dst;
  ip.protocol = 6;
  ip.payloadLen = h + payloadLen;
  ip.ttl = 64;
  ip.dontFragment = true;
  ip.emit(Ipv4Packet.at(out + 14));
  let e = EthernetFrame.at(out);
  e.dst = dstMac;
  e.src = srcMac;
  e.ethertype = 0x0800;
  return 34 + h + payloadLen;
}
export function socketPointer(stack: Stack, id: i32): usize {
  let s = socketById(stack, id);
  return s == null ? 0 : changetype<usize>(s);
}

/** Sizes for the documentation: socket record, stack, interface, context transmit buffer. */
export function testSizes(which: u32): u32 {
  switch (which) {
    case 0: return <u32>socketBytes();
    case 1: return <u32>offsetof<Stack>();
    case 2: return <u32>offsetof<Interface>();
  }
  return 0;
}
