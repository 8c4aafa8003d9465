// The network stack (net/) in the kernel: one Stack, a loopback interface
// and one interface per NetDevice, one mutex around every entry point, and
// a network thread that runs stackPoll when the stack's next deadline comes
// (tickless: it sleeps with a deadline from stackNextDeadline and is woken
// early when an entry point moves that deadline closer).
//
// The driver's receive callback hands frames of established connections
// with a net channel to their owners (channel.ts); the rest go to
// stackInput. Socket system calls start the stack on first use (netEnsure)
// when the command line did not.
//
// Address: wisp.ip=a.b.c.d/len with wisp.gw=a.b.c.d (static), otherwise
// DHCP; if DHCP has not bound after NET_DHCP_FALLBACK the first NIC takes
// QEMU user networking's 10.0.2.15/24 via 10.0.2.2.
import { BootInfo } from "../bootinfo";
import { parseDecimal } from "../cmdline";
import { Log } from "../log";
import { heapAlloc, TAG_NET } from "../mm/heap";
import { Options } from "../options";
import { threadSpawn, yieldCpu } from "../sched/scheduler";
import { atomicCompareExchange32, atomicLoad32, atomicStore32 } from "../../arch/x86_64/atomic";
import { CPU_ANY } from "../sched/thread";
import { Mutex, mutexInit, mutexLock, mutexUnlock } from "../sync/mutex";
import { Clock } from "../time/clock";
import { Event, eventSignal, eventWait } from "../../drivers/event";
import { randomU64 } from "../../drivers/entropy";
import {
  NETDEV_RX_CHECKSUM, NETDEV_TX_CHECKSUM, NetDevice, netdevCount, netdevGet, netdevSend, netdevSendPartialChecksum,
  netdevSetReceive,
} from "../../drivers/netdev";
import { parseIpv4 } from "../../drivers/net/arp";
import {
  DEV_RX_CHECKSUM, DEV_TX_CHECKSUM, Device, IF_LOOPBACK, LOOPBACK_MTU, LOOPBACK_QUEUE_BYTES, NEVER, Stack,
  dhcpStart, dhcpState, deviceInit, ifaceSetAddress, loopbackCreate, routeAdd, stackAddInterface, stackCreate,
  sockCount, stackInput, stackInterface, stackNextDeadline, stackPoll, stackStat,
} from "../../net/index";
import { STAT_TCP_RETRANSMITS, STAT_TCP_SEGMENTS_IN, STAT_TCP_SEGMENTS_OUT } from "../../net/stack";
import { sleepNanos } from "../sched/sleep";
import { DHCP_BOUND } from "../../net/iface/dhcp";
import { channelDrainAll, channelReceive, channelsInit, channelsLog } from "./channel";

export const NET_MAX_SOCKETS: u32 = 1024;
const NET_DHCP_FALLBACK: u64 = 3_000_000_000;
const USER_NET_IP: u32 = 0x0a00020f; // 10.0.2.15
const USER_NET_GW: u32 = 0x0a000202; // 10.0.2.2
const MAX_NICS: u32 = 4;

/** 0: netInit not run; 1: running; 2: done (Net.up says how it went). */
const initState = memory.data(4, 4);
const lockRecord = memory.data(<i32>offsetof<Mutex>(), 8);
const eventRecord = memory.data(<i32>offsetof<Event>(), 8);

export class Net {
  static stack: Stack | null = null;
  static up: bool = false;
  /** The deadline (ns) the network thread sleeps until; NEVER when none. */
  static sleepingUntil: u64 = NEVER;
  static nicCount: u32 = 0;
  static firstNicIface: i32 = -1;
  static usingDhcp: bool = false;
  static dhcpStarted: u64 = 0;
  static fallbackDone: bool = false;
  static polls: u64 = 0;
}

function lock(): Mutex {
  return changetype<Mutex>(lockRecord);
}

function event(): Event {
  return changetype<Event>(eventRecord);
}

export function netStack(): Stack {
  return changetype<Stack>(Net.stack);
}

export function netNow(): u64 {
  return Clock.monotonicNanos();
}

/** Takes the stack lock (thread context only). */
export function netLock(): void {
  mutexLock(lock());
}

/**
 * Drops the stack lock after an entry point, waking the network thread if
 * the stack now needs polling before the deadline it sleeps until.
 */
export function netUnlock(): void {
  let deadline = stackNextDeadline(netStack());
  let wake = deadline < Net.sleepingUntil;
  if (wake) Net.sleepingUntil = deadline;
  mutexUnlock(lock());
  if (wake) eventSignal(event());
}

function randomFn(arg: usize): u64 {
  return randomU64();
}

function transmit(state: usize, frame: usize, len: u32, csumStart: u32, csumOffset: u32, now: u64): i32 {
  let dev = changetype<NetDevice>(state);
  if (csumStart != 0xffff) return netdevSendPartialChecksum(dev, frame, len, csumStart, csumOffset);
  return netdevSend(dev, frame, len);
}

// The driver's receive thread (flag values are the same on both sides).
function receive(arg: usize, devAddress: usize, frame: usize, length: u32, flags: u32): void {
  if (!Net.up) return;
  netLock();
  let now = netNow();
  // Established connections with a channel: queued for their owner's thread.
  if (!channelReceive(netStack(), <u32>arg, frame, length, flags, now)) {
    stackInput(netStack(), <u32>arg, frame, length, flags, now);
  }
  netUnlock();
}

/** Parses "a.b.c.d/len" (len optional, default 24) into address and mask; false if malformed. */
function parseCidr(text: usize, offset: u32, count: u32, out: usize): bool {
  let slash = count;
  for (let i: u32 = 0; i < count; i++) {
    if (load<u8>(text + offset + i) == 0x2f) {
      slash = i;
      break;
    }
  }
  let addr = parseIpv4(text, offset, slash);
  if (addr < 0) return false;
  let prefix: i64 = 24;
  if (slash < count) prefix = parseDecimal(text, offset + slash + 1, count - slash - 1);
  if (prefix < 0 || prefix > 32) return false;
  let mask: u32 = prefix == 0 ? 0 : <u32>(0xffffffff << (32 - <u32>prefix));
  store<u32>(out, <u32>addr);
  store<u32>(out, mask, 4);
  return true;
}

function setStatic(ifIndex: u32, addr: u32, mask: u32, gateway: u32): void {
  let s = netStack();
  let iface = stackInterface(s, ifIndex);
  ifaceSetAddress(iface, addr, mask);
  if (gateway != 0) routeAdd(s, 0, 0, gateway, iface, 0);
  Log.str("net: ");
  Log.ipv4(addr);
  Log.str(" mask ");
  Log.ipv4(mask);
  if (gateway != 0) {
    Log.str(" gateway ");
    Log.ipv4(gateway);
  }
  Log.newline();
}

// Falls back to user networking's static address when DHCP is slow; stack locked.
function dhcpFallback(now: u64): void {
  if (!Net.usingDhcp || Net.fallbackDone || Net.firstNicIface < 0) return;
  let iface = stackInterface(netStack(), <u32>Net.firstNicIface);
  if (dhcpState(iface) == DHCP_BOUND) {
    Net.fallbackDone = true;
    Log.str("net: DHCP bound ");
    Log.ipv4(iface.addr);
    Log.newline();
    return;
  }
  if (now - Net.dhcpStarted < NET_DHCP_FALLBACK) return;
  Net.fallbackDone = true;
  Log.line("net: no DHCP answer, static user-networking address");
  setStatic(<u32>Net.firstNicIface, USER_NET_IP, 0xffffff00, USER_NET_GW);
}

function networkThread(arg: usize): void {
  while (true) {
    netLock();
    let now = netNow();
    channelDrainAll(netStack(), now);
    stackPoll(netStack(), now);
    Net.polls++;
    dhcpFallback(now);
    let deadline = stackNextDeadline(netStack());
    if (Net.usingDhcp && !Net.fallbackDone) {
      let check = Net.dhcpStarted + NET_DHCP_FALLBACK;
      if (check < deadline) deadline = check;
      if (now + 100_000_000 < deadline) deadline = now + 100_000_000;
    }
    Net.sleepingUntil = deadline;
    mutexUnlock(lock());
    if (deadline <= now) continue;
    eventWait(event(), deadline == NEVER ? 0 : Clock.bootTsc + Clock.nanosToTicks(deadline));
  }
}

/** Do the options ask for the stack (a service or an address)? */
export function netRequested(): bool {
  return Options.has("wisp.echo") || Options.has("wisp.udpecho") || Options.has("wisp.http") ||
    Options.has("wisp.net");
}

/**
 * Creates the stack, takes over every NetDevice's receive callback (which
 * ends the drivers' ARP responder there: the stack answers ARP itself) and
 * starts the network thread. false if there is no memory.
 */
export function netInit(): bool {
  if (atomicCompareExchange32(initState, 0, 1) != 0) return Net.up;
  let ok = netInitOnce();
  atomicStore32(initState, 2);
  return ok;
}

/**
 * The stack for the socket system calls: up already when the command line
 * asked for it, otherwise started on first use (loopback, and any NIC).
 */
export function netEnsure(): bool {
  if (Net.up) return true;
  if (atomicLoad32(initState) == 0) return netInit();
  while (atomicLoad32(initState) == 1) yieldCpu();
  return Net.up;
}

function netInitOnce(): bool {
  mutexInit(lock());
  let e = event();
  e.lock = 0;
  e.head = 0;
  e.tail = 0;
  e.pending = 0;
  let s = stackCreate(changetype<usize>(randomFn), 0, 0, NET_MAX_SOCKETS);
  if (s === null) return false;
  Net.stack = s;
  channelsInit(NET_MAX_SOCKETS);
  let lo = loopbackCreate(LOOPBACK_MTU, LOOPBACK_QUEUE_BYTES);
  if (lo === null) return false;
  let li = stackAddInterface(s, changetype<Device>(lo), IF_LOOPBACK);
  if (li < 0) return false;
  ifaceSetAddress(stackInterface(s, <u32>li), 0x7f000001, 0xff000000);

  let now = netNow();
  let config = memory.data(8, 4);
  let haveStatic = false;
  let found = Options.find("wisp.ip");
  if (found >= 0) {
    haveStatic = parseCidr(BootInfo.cmdline, <u32>(found >>> 32), <u32>(found & 0xffffffff), config);
    if (!haveStatic) Log.line("net: wisp.ip is not a.b.c.d/len, using DHCP");
  }
  let gateway: u32 = 0;
  found = Options.find("wisp.gw");
  if (found < 0) found = Options.find("wisp.gateway");
  if (found >= 0) {
    let g = parseIpv4(BootInfo.cmdline, <u32>(found >>> 32), <u32>(found & 0xffffffff));
    if (g >= 0) gateway = <u32>g;
  }
  for (let n: u32 = 0; n < netdevCount() && n < MAX_NICS; n++) {
    let nic = netdevGet(n);
    if (nic === null) continue;
    let dev = changetype<Device>(heapAlloc(offsetof<Device>(), TAG_NET));
    if (changetype<usize>(dev) == 0) return false;
    let caps: u32 = 0;
    if ((nic.offloads & NETDEV_TX_CHECKSUM) != 0) caps |= DEV_TX_CHECKSUM;
    if ((nic.offloads & NETDEV_RX_CHECKSUM) != 0) caps |= DEV_RX_CHECKSUM;
    deviceInit(dev, nic.mtu, caps, nic.mac, changetype<usize>(nic), changetype<usize>(transmit), 0, 0);
    let i = stackAddInterface(s, dev, 0);
    if (i < 0) break;
    if (Net.firstNicIface < 0) {
      Net.firstNicIface = i;
      if (haveStatic) setStatic(<u32>i, load<u32>(config), load<u32>(config, 4), gateway);
      else {
        dhcpStart(stackInterface(s, <u32>i), now);
        Net.usingDhcp = true;
        Net.dhcpStarted = now;
      }
    }
    netdevSetReceive(nic, receive, <usize>i);
    Net.nicCount++;
  }
  Net.up = true;
  if (threadSpawn("net", networkThread, 0, CPU_ANY, true) === null) return false;
  Log.str("net: stack up, ");
  Log.dec(Net.nicCount);
  Log.str(Net.nicCount == 1 ? " interface" : " interfaces");
  Log.line(Net.usingDhcp ? ", DHCP" : "");
  return true;
}

/**
 * Keeps the VM up while services run: until wisp.runfor=<seconds> passes,
 * or forever when `services` is set and there is no deadline.
 */
export function netRunFor(services: bool): void {
  let found = Options.find("wisp.runfor");
  let seconds: i64 = -1;
  if (found >= 0) seconds = parseDecimal(BootInfo.cmdline, <u32>(found >>> 32), <u32>(found & 0xffffffff));
  if (seconds < 0 && !services) return;
  Log.line("net: running");
  if (seconds < 0) {
    while (true) sleepNanos(3600 * 1_000_000_000);
  }
  sleepNanos(<u64>seconds * 1_000_000_000);
  if (Net.stack !== null) {
    netLock();
    let s = netStack();
    Log.str("net: tcp segments in ");
    Log.dec(stackStat(s, STAT_TCP_SEGMENTS_IN));
    Log.str(" out ");
    Log.dec(stackStat(s, STAT_TCP_SEGMENTS_OUT));
    Log.str(", retransmits ");
    Log.dec(stackStat(s, STAT_TCP_RETRANSMITS));
    Log.str(", sockets open ");
    Log.dec(sockCount(s));
    Log.str(", polls ");
    Log.dec(Net.polls);
    Log.newline();
    channelsLog();
    netUnlock();
  }
}
