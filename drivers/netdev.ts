// The network-device interface the network stack uses: send a frame
// (copied, so the caller keeps its buffer), receive frames through a
// callback, MAC address, link state, MTU and checksum offloads. Drivers fill
// a NetDevice and register it.
//
// Receive callbacks run in the driver's receive thread (not in interrupt
// context) and must not keep the frame pointer after returning: the buffer
// goes straight back to the device.
import { Log } from "../kernel/log";
import { EAGAIN, EINVAL, ENETDOWN } from "../kernel/errno";
export { EAGAIN, EINVAL, ENETDOWN };


/** The device computes the TCP/UDP checksum of frames sent with netdevSendPartialChecksum. */
export const NETDEV_TX_CHECKSUM: u32 = 1;
/** Received frames may come with NETDEV_RX_* checksum flags. */
export const NETDEV_RX_CHECKSUM: u32 = 2;

/** Receive flags: the device verified the frame's checksums. */
export const NETDEV_RX_CHECKSUM_VALID: u32 = 1;
/** Receive flags: the checksum field is not filled in yet (a partial checksum from
 * the host's own stack); the data itself is intact. */
export const NETDEV_RX_CHECKSUM_PARTIAL: u32 = 2;

const MAX_DEVICES: u32 = 8;
const devices = memory.data(<i32>(MAX_DEVICES * 4), 4);
let deviceCount: u32 = 0;

@unmanaged
export class NetDevice {
  /** The MAC address in its first 6 bytes (wire order). */
  mac: u64;
  mtu: u32;
  linkUp: u32;
  /** NETDEV_TX_CHECKSUM | NETDEV_RX_CHECKSUM. */
  offloads: u32;
  unit: u32;
  driver: usize;
  /** (driver, frame, length, checksumStart, checksumOffset) => 0 | -errno; start 0xffff: no offload. */
  sendFunction: usize;
  /** (arg, device, frame, length, flags) => void. */
  receiveFunction: usize;
  receiveArg: usize;
  rxPackets: u64;
  rxBytes: u64;
  rxDropped: u64;
  txPackets: u64;
  txBytes: u64;
  txDropped: u64;
  /** Receive interrupts taken (0 when the driver polls). */
  rxInterrupts: u64;
}

export function netdevRegister(dev: NetDevice): u32 {
  if (deviceCount >= MAX_DEVICES) return 0xffffffff;
  dev.unit = deviceCount;
  store<usize>(devices + <usize>deviceCount * 4, changetype<usize>(dev));
  return deviceCount++;
}

export function netdevCount(): u32 {
  return deviceCount;
}

export function netdevGet(index: u32): NetDevice | null {
  if (index >= deviceCount) return null;
  return changetype<NetDevice>(load<usize>(devices + <usize>index * 4));
}

/** Byte `i` (0-5) of the MAC address. */
export function netdevMacByte(dev: NetDevice, i: u32): u32 {
  return <u32>load<u8>(changetype<usize>(dev) + offsetof<NetDevice>("mac") + <usize>i);
}

/** Address of the 6 MAC bytes. */
export function netdevMacAddress(dev: NetDevice): usize {
  return changetype<usize>(dev) + offsetof<NetDevice>("mac");
}

export function netdevLinkUp(dev: NetDevice): bool {
  return dev.linkUp != 0;
}

/** Sends one Ethernet frame (without FCS); 0, -EAGAIN when the ring is full, -EINVAL. */
export function netdevSend(dev: NetDevice, frame: usize, length: u32): i32 {
  return changetype<(driver: usize, frame: usize, length: u32, start: u32, offset: u32) => i32>(dev.sendFunction)(
    dev.driver, frame, length, 0xffff, 0);
}

/**
 * Sends a frame whose TCP/UDP checksum the device fills in: the sum over
 * [checksumStart, end) goes at checksumStart + checksumOffset (the field
 * holds the pseudo-header sum). Only with NETDEV_TX_CHECKSUM in offloads.
 */
export function netdevSendPartialChecksum(dev: NetDevice, frame: usize, length: u32, checksumStart: u32, checksumOffset: u32): i32 {
  if ((dev.offloads & NETDEV_TX_CHECKSUM) == 0) return -EINVAL;
  return changetype<(driver: usize, frame: usize, length: u32, start: u32, offset: u32) => i32>(dev.sendFunction)(
    dev.driver, frame, length, checksumStart, checksumOffset);
}

/** Sets the receive callback: fn(arg, device, frame, length, flags). */
export function netdevSetReceive(dev: NetDevice, fn: (arg: usize, dev: usize, frame: usize, length: u32, flags: u32) => void, arg: usize): void {
  dev.receiveArg = arg;
  dev.receiveFunction = changetype<usize>(fn);
}

/** Drivers hand every received frame here. */
export function netdevDeliver(dev: NetDevice, frame: usize, length: u32, flags: u32): void {
  dev.rxPackets++;
  dev.rxBytes += <u64>length;
  if (dev.receiveFunction == 0) {
    dev.rxDropped++;
    return;
  }
  changetype<(arg: usize, dev: usize, frame: usize, length: u32, flags: u32) => void>(dev.receiveFunction)(
    dev.receiveArg, changetype<usize>(dev), frame, length, flags);
}

function hex2(value: u32): void {
  let digits = "0123456789abcdef";
  Log.strSlice(digits, <i32>(value >> 4), <i32>(value >> 4) + 1);
  Log.strSlice(digits, <i32>(value & 15), <i32>(value & 15) + 1);
}

/** Prints the 6 bytes at `mac` as aa:bb:cc:dd:ee:ff. */
export function logMac(mac: usize): void {
  for (let i: u32 = 0; i < 6; i++) {
    if (i > 0) Log.str(":");
    hex2(<u32>load<u8>(mac + i));
  }
}
