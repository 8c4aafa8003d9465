// The device abstraction the stack sends and receives Ethernet frames
// through. A Device is a small record of function pointers over an
// implementation's state, so the same stack runs on the kernel's virtio-net
// (drivers/netdev.ts, wrapped in phase 2), the loopback device and the test
// devices (link, fault injector, pcap writer).
//
// Two ways in: pull, where the stack's poll asks receiveFn for frames
// (loopback, test devices), and push, where a driver hands a frame to
// stackInput (net/stack.ts) from its receive callback. Transmit always copies:
// the stack's buffer is free again when transmitFn returns.

/** The device (or its host) computes TCP/UDP checksums of frames sent with a checksum start. */
export const DEV_TX_CHECKSUM: u32 = 1;
/** Received frames may carry DEV_RX_* flags saying their checksums need no check. */
export const DEV_RX_CHECKSUM: u32 = 2;
/** No link-layer resolution (loopback): frames go out with a zero destination MAC. */
export const DEV_NOARP: u32 = 4;

/** Receive flags: checksums were verified (or never computed, on loopback). */
export const DEV_RX_CHECKSUM_VALID: u32 = 1;
/** Receive flags: the transport checksum holds a partial sum; the data is intact. */
export const DEV_RX_CHECKSUM_PARTIAL: u32 = 2;

/** transmitFn's checksum start when the frame is complete. */
export const NO_CHECKSUM_OFFLOAD: u32 = 0xffff;
export const NEVER: u64 = 0xffffffffffffffff;

export type TransmitFn = (state: usize, frame: usize, len: u32, csumStart: u32, csumOffset: u32, now: u64) => i32;
export type ReceiveFn = (state: usize, buf: usize, cap: u32, now: u64, flagsOut: usize) => i32;
export type DeadlineFn = (state: usize) => u64;

@final @unmanaged
export class Device {
  /** Largest IP packet (the Ethernet payload). */
  mtu: u32;
  caps: u32;
  mac: u64;
  state: usize;
  /** TransmitFn: 0 or -errno (-EAGAIN when full: the frame is dropped). `now` is
   * when the frame leaves; a wrapper may shift it (delay). */
  transmitFn: usize;
  /** ReceiveFn: a frame's length copied to buf, 0 when none is due; stores its DEV_RX_* flags (u32) at
   * flagsOut. 0: push only. */
  receiveFn: usize;
  /** DeadlineFn: when the next frame becomes receivable (NEVER: none). 0: frames never wait. */
  deadlineFn: usize;
  rxFlags: u32;
  txFrames: u64;
  txBytes: u64;
  txErrors: u64;
  rxFrames: u64;
  rxBytes: u64;
}

export function deviceInit(dev: Device, mtu: u32, caps: u32, mac: u64, state: usize, transmitFn: usize,
  receiveFn: usize, deadlineFn: usize): void {
  memory.fill(changetype<usize>(dev), 0, offsetof<Device>());
  dev.mtu = mtu;
  dev.caps = caps;
  dev.mac = mac;
  dev.state = state;
  dev.transmitFn = transmitFn;
  dev.receiveFn = receiveFn;
  dev.deadlineFn = deadlineFn;
}

export function deviceTransmit(dev: Device, frame: usize, len: u32, csumStart: u32, csumOffset: u32, now: u64): i32 {
  let r = changetype<TransmitFn>(dev.transmitFn)(dev.state, frame, len, csumStart, csumOffset, now);
  if (r < 0) dev.txErrors++;
  else {
    dev.txFrames++;
    dev.txBytes += <u64>len;
  }
  return r;
}

/** Pulls one frame into `buf`: its length, or 0. */
export function deviceReceive(dev: Device, buf: usize, cap: u32, now: u64): i32 {
  if (dev.receiveFn == 0) return 0;
  dev.rxFlags = 0;
  let n = changetype<ReceiveFn>(dev.receiveFn)(dev.state, buf, cap, now, changetype<usize>(dev) + offsetof<Device>("rxFlags"));
  if (n > 0) {
    dev.rxFrames++;
    dev.rxBytes += <u64>n;
  }
  return n;
}

export function deviceDeadline(dev: Device): u64 {
  if (dev.deadlineFn == 0) return NEVER;
  return changetype<DeadlineFn>(dev.deadlineFn)(dev.state);
}
