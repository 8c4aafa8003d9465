// virtio-net (virtio 1.2, 5.1): one receive and one transmit queue. The
// receive ring is kept full of 2 KiB buffers (with VIRTIO_NET_F_MRG_RXBUF a
// frame may span several, which are copied together); a receive thread,
// woken by the queue's interrupt, hands frames to the NetDevice callback and
// gives each buffer straight back. Transmit copies the frame behind a
// virtio-net header into the slot of its descriptor and asks for no
// interrupts: finished slots are reclaimed on the next send.
import { rdtsc } from "../../arch/x86_64/cpu";
import { Log } from "../../kernel/log";
import { heapAlloc, TAG_DRIVERS } from "../../kernel/mm/heap";
import { allocContiguous, PAGE_SIZE } from "../../kernel/mm/physical";
import { threadSpawn } from "../../kernel/sched/scheduler";
import { CPU_ANY } from "../../kernel/sched/thread";
import { Clock } from "../../kernel/time/clock";
import { Event, eventSignal, eventWait } from "../event";
import {
  EAGAIN, EINVAL, ENETDOWN, logMac, NetDevice, netdevDeliver, netdevRegister, NETDEV_RX_CHECKSUM,
  NETDEV_RX_CHECKSUM_PARTIAL, NETDEV_RX_CHECKSUM_VALID, NETDEV_TX_CHECKSUM,
} from "../netdev";
import {
  bit, COMMON_WANTED, hasFeature, NET_F_CSUM, NET_F_GUEST_CSUM, NET_F_MAC, NET_F_MRG_RXBUF, NET_F_MTU, NET_F_STATUS,
  netFeatureDependencies,
} from "./features";
import {
  logDeviceName, virtioConfig16, virtioConfig8, virtioCreateQueue, virtioDriverOk, virtioFail, virtioNegotiate,
  virtioSetupInterrupts, VirtioDevice,
} from "./device";
import {
  SEGMENT_BYTES, SEG_WRITE, Virtqueue, vqAdd, vqDisableInterrupts, vqEnableInterrupts, vqGetUsed, vqKick, vqLock,
  vqUnlock,
} from "./virtqueue";

const HEADER_BYTES: u32 = 12; // virtio_net_hdr with num_buffers (always, with VERSION_1)
const HDR_F_NEEDS_CSUM: u32 = 1;
const HDR_F_DATA_VALID: u32 = 2;
const BUFFER_BYTES: u32 = 2048;
const QUEUE_CAP: u32 = 256;
const FRAME_MAX: u32 = BUFFER_BYTES - HEADER_BYTES;
/** Largest frame assembled from merged buffers (64 KiB GSO frames and then some). */
const ASSEMBLY_BYTES: u32 = 65536 + 2048;
const STATUS_LINK_UP: u32 = 1;

let units: u32 = 0;

@unmanaged
class VirtioNet {
  device: usize;
  netdev: usize;
  rx: usize;
  tx: usize;
  rxBuffers: usize;
  txBuffers: usize;
  assembly: usize;
  mergeable: u32;
  /** Receive-thread wake-up: an Event (lock, head, tail, pending). */
  eventLock: u32;
  eventHead: usize;
  eventTail: usize;
  eventPending: u32;
  segment: usize;
  interrupts: u32;
  /** Length of the buffer nextRx returned (the receive thread's scratch). */
  rxLength: u32;
}

function rxEvent(net: VirtioNet): Event {
  return changetype<Event>(changetype<usize>(net) + offsetof<VirtioNet>("eventLock"));
}

function postRxBuffer(net: VirtioNet, vq: Virtqueue, index: u32): void {
  let segment = net.segment;
  store<u64>(segment, <u64>(net.rxBuffers + <usize>index * BUFFER_BYTES));
  store<u32>(segment, BUFFER_BYTES, 8);
  store<u32>(segment, SEG_WRITE, 12);
  vqAdd(vq, segment, 1, <usize>index + 1);
}

function rxFlags(net: VirtioNet, header: usize): u32 {
  let flags = <u32>load<u8>(header);
  if ((flags & HDR_F_DATA_VALID) != 0) return NETDEV_RX_CHECKSUM_VALID;
  if ((flags & HDR_F_NEEDS_CSUM) != 0) return NETDEV_RX_CHECKSUM_PARTIAL;
  return 0;
}

/** Takes the next used receive buffer: index + 1 (0: none), its length in lengthOut. */
function nextRx(vq: Virtqueue, lengthOut: usize): usize {
  let flags = vqLock(vq);
  let token = vqGetUsed(vq);
  store<u32>(lengthOut, vq.lastLength);
  vqUnlock(vq, flags);
  return token;
}

function repost(net: VirtioNet, vq: Virtqueue, index: u32): void {
  let flags = vqLock(vq);
  postRxBuffer(net, vq, index);
  vqUnlock(vq, flags);
}

/** Delivers every received frame, refilling the ring; returns when it is empty with interrupts on. */
function processRx(net: VirtioNet): void {
  let vq = changetype<Virtqueue>(net.rx);
  let netdev = changetype<NetDevice>(net.netdev);
  let lengthOut = changetype<usize>(net) + offsetof<VirtioNet>("rxLength");
  let handled: u32 = 0;
  while (true) {
    let token = nextRx(vq, lengthOut);
    if (token == 0) {
      let flags = vqLock(vq);
      vqKick(vq);
      let more = vqEnableInterrupts(vq);
      vqUnlock(vq, flags);
      if (!more) return;
      continue;
    }
    let index = <u32>token - 1;
    let buffer = net.rxBuffers + <usize>index * BUFFER_BYTES;
    let length = load<u32>(lengthOut);
    let buffers: u32 = net.mergeable != 0 ? <u32>load<u16>(buffer, 10) : 1;
    if (length < HEADER_BYTES || length > BUFFER_BYTES || buffers == 0) {
      netdev.rxDropped++;
      repost(net, vq, index);
      continue;
    }
    let flags = rxFlags(net, buffer);
    if (buffers == 1) {
      netdevDeliver(netdev, buffer + HEADER_BYTES, length - HEADER_BYTES, flags);
      repost(net, vq, index);
    } else {
      // A frame spread over several buffers: copy it together.
      let total = length - HEADER_BYTES;
      let ok = net.assembly != 0;
      if (ok) memory.copy(net.assembly, buffer + HEADER_BYTES, total);
      repost(net, vq, index);
      for (let k: u32 = 1; k < buffers; k++) {
        let next = nextRx(vq, lengthOut);
        if (next == 0) {
          ok = false; // the device promised more buffers than it used
          break;
        }
        let part = load<u32>(lengthOut);
        let nextIndex = <u32>next - 1;
        if (ok && total + part <= ASSEMBLY_BYTES && part <= BUFFER_BYTES) {
          memory.copy(net.assembly + total, net.rxBuffers + <usize>nextIndex * BUFFER_BYTES, part);
          total += part;
        } else {
          ok = false;
        }
        repost(net, vq, nextIndex);
      }
      if (ok) netdevDeliver(netdev, net.assembly, total, flags);
      else netdev.rxDropped++;
    }
    if (++handled % 32 == 0) {
      let f = vqLock(vq);
      vqKick(vq);
      vqUnlock(vq, f);
    }
  }
}

function rxThread(arg: usize): void {
  let net = changetype<VirtioNet>(arg);
  let tx = changetype<Virtqueue>(net.tx);
  while (true) {
    processRx(net);
    // A transmit notification lost to the race vqNeedsNotify describes is
    // otherwise only found at the next send: look at least once a second.
    let flags = vqLock(tx);
    vqKick(tx);
    vqUnlock(tx, flags);
    // Interrupts wake us; the timeout only covers a device that cannot interrupt.
    eventWait(rxEvent(net), Clock.deadlineIn(net.interrupts != 0 ? 1_000_000_000 : 2_000_000));
  }
}

function onRxInterrupt(arg: usize): void {
  let net = changetype<VirtioNet>(arg);
  changetype<NetDevice>(net.netdev).rxInterrupts++;
  eventSignal(rxEvent(net));
}

function onTxInterrupt(arg: usize): void {}

function readLinkState(net: VirtioNet): void {
  let dev = changetype<VirtioDevice>(net.device);
  let netdev = changetype<NetDevice>(net.netdev);
  netdev.linkUp = hasFeature(dev.features, NET_F_STATUS) ? virtioConfig16(dev, 6) & STATUS_LINK_UP : 1;
}

function onConfigChange(arg: usize): void {
  readLinkState(changetype<VirtioNet>(arg));
}

function send(driver: usize, frame: usize, length: u32, checksumStart: u32, checksumOffset: u32): i32 {
  let net = changetype<VirtioNet>(driver);
  let netdev = changetype<NetDevice>(net.netdev);
  if (length < 14 || length > FRAME_MAX) return -EINVAL;
  if (netdev.linkUp == 0) return -ENETDOWN;
  let vq = changetype<Virtqueue>(net.tx);
  let flags = vqLock(vq);
  while (true) {
    let done = vqGetUsed(vq);
    if (done == 0) break;
  }
  if (vq.freeCount == 0) {
    vqUnlock(vq, flags);
    netdev.txDropped++;
    return -EAGAIN;
  }
  // One descriptor per frame: the head taken is the slot of its buffer.
  let slot = vq.freeHead;
  let buffer = net.txBuffers + <usize>slot * BUFFER_BYTES;
  memory.fill(buffer, 0, HEADER_BYTES);
  if (checksumStart != 0xffff) {
    store<u8>(buffer, <u8>HDR_F_NEEDS_CSUM);
    store<u16>(buffer, <u16>checksumStart, 6);
    store<u16>(buffer, <u16>checksumOffset, 8);
  }
  memory.copy(buffer + HEADER_BYTES, frame, length);
  let segment = net.segment + SEGMENT_BYTES;
  store<u64>(segment, <u64>buffer);
  store<u32>(segment, length + HEADER_BYTES, 8);
  store<u32>(segment, 0, 12);
  let result = vqAdd(vq, segment, 1, <usize>slot + 1);
  if (result == 0) vqKick(vq);
  vqUnlock(vq, flags);
  if (result == 0) {
    netdev.txPackets++;
    netdev.txBytes += <u64>length;
  } else {
    netdev.txDropped++;
  }
  return result;
}

const WANTED: u64 = COMMON_WANTED | bit(NET_F_MAC) | bit(NET_F_STATUS) | bit(NET_F_MRG_RXBUF) | bit(NET_F_CSUM) |
  bit(NET_F_GUEST_CSUM) | bit(NET_F_MTU);

/** Sets up a virtio-net device, registers its NetDevice and starts its receive thread; 0 or -errno. */
export function virtioNetAttach(dev: VirtioDevice): i32 {
  dev.unit = units++;
  let result = virtioNegotiate(dev, netFeatureDependencies(WANTED));
  if (result < 0) return result;
  let netAddress = heapAlloc(offsetof<VirtioNet>() + 2 * SEGMENT_BYTES, TAG_DRIVERS);
  let netdevAddress = heapAlloc(offsetof<NetDevice>(), TAG_DRIVERS);
  if (netAddress == 0 || netdevAddress == 0) {
    virtioFail(dev);
    return -12;
  }
  let net = changetype<VirtioNet>(netAddress);
  let netdev = changetype<NetDevice>(netdevAddress);
  net.device = changetype<usize>(dev);
  net.netdev = netdevAddress;
  net.segment = netAddress + offsetof<VirtioNet>();
  net.mergeable = hasFeature(dev.features, NET_F_MRG_RXBUF) ? 1 : 0;
  dev.driver = netAddress;
  dev.configCallback = changetype<usize>(onConfigChange);
  dev.configArg = netAddress;
  let interrupts = virtioSetupInterrupts(dev, 2);
  net.interrupts = interrupts ? 1 : 0;
  let rx = virtioCreateQueue(dev, 0, QUEUE_CAP, onRxInterrupt, netAddress);
  let tx = virtioCreateQueue(dev, 1, QUEUE_CAP, onTxInterrupt, netAddress);
  if (rx === null || tx === null) {
    virtioFail(dev);
    return -5;
  }
  net.rx = changetype<usize>(rx);
  net.tx = changetype<usize>(tx);
  // Buffers straight from the page allocator: the heap would zero them.
  net.rxBuffers = allocContiguous((<usize>rx.size * BUFFER_BYTES + PAGE_SIZE - 1) / PAGE_SIZE);
  net.txBuffers = allocContiguous((<usize>tx.size * BUFFER_BYTES + PAGE_SIZE - 1) / PAGE_SIZE);
  if (net.mergeable != 0) net.assembly = heapAlloc(ASSEMBLY_BYTES, TAG_DRIVERS);
  if (net.rxBuffers == 0 || net.txBuffers == 0) {
    virtioFail(dev);
    return -12;
  }
  vqDisableInterrupts(tx);
  // MAC: the device's, or a locally administered one of our own.
  let mac = changetype<usize>(netdev) + offsetof<NetDevice>("mac");
  if (hasFeature(dev.features, NET_F_MAC)) {
    for (let i: u32 = 0; i < 6; i++) store<u8>(mac + i, <u8>virtioConfig8(dev, i));
  } else {
    let t = rdtsc();
    store<u8>(mac, 0x52);
    store<u8>(mac + 1, 0x54);
    for (let i: u32 = 2; i < 6; i++) store<u8>(mac + i, <u8>(t >> (8 * (i - 2))));
  }
  netdev.mtu = hasFeature(dev.features, NET_F_MTU) ? virtioConfig16(dev, 10) : 1500;
  if (netdev.mtu == 0 || netdev.mtu > FRAME_MAX - 14) netdev.mtu = 1500;
  if (hasFeature(dev.features, NET_F_CSUM)) netdev.offloads |= NETDEV_TX_CHECKSUM;
  if (hasFeature(dev.features, NET_F_GUEST_CSUM)) netdev.offloads |= NETDEV_RX_CHECKSUM;
  netdev.driver = netAddress;
  netdev.sendFunction = changetype<usize>(send);
  readLinkState(net);
  // Fill the receive ring before the device goes live.
  for (let i: u32 = 0; i < rx.size; i++) postRxBuffer(net, rx, i);
  virtioDriverOk(dev);
  let flags = vqLock(rx);
  vqKick(rx);
  vqUnlock(rx, flags);
  netdevRegister(netdev);
  threadSpawn("virtio-net rx", rxThread, netAddress, CPU_ANY, true);
  return 0;
}

/** "virtio-net0: MAC 52:54:00:12:34:56, link up, MTU 1500, checksum offload ...". */
export function virtioNetLog(dev: VirtioDevice): void {
  let netdev = changetype<NetDevice>(changetype<VirtioNet>(dev.driver).netdev);
  logDeviceName(dev);
  Log.str(": MAC ");
  logMac(changetype<usize>(netdev) + offsetof<NetDevice>("mac"));
  Log.str(", link ");
  Log.str(netdev.linkUp != 0 ? "up" : "down");
  Log.str(", MTU ");
  Log.dec(netdev.mtu);
  Log.str(", checksum offload tx ");
  Log.str((netdev.offloads & NETDEV_TX_CHECKSUM) != 0 ? "on" : "off");
  Log.str(" rx ");
  Log.line((netdev.offloads & NETDEV_RX_CHECKSUM) != 0 ? "on" : "off");
}
