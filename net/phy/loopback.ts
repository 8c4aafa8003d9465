// The loopback device: what the stack sends on it comes back on its next
// poll. Frames queue in a FrameRing; checksums are neither computed nor
// checked (the device offers checksum offload and marks every frame valid,
// as Linux's lo does). No ARP: the loopback interface has the NOARP flag.
import { EAGAIN } from "../errno";
import { netAlloc, netFree } from "../mem";
import {
  DEV_NOARP, DEV_RX_CHECKSUM, DEV_RX_CHECKSUM_VALID, DEV_TX_CHECKSUM, Device, NEVER, deviceInit,
} from "./device";
import { FrameRing, frameRingCreate, frameRingDestroy, frameRingPop, frameRingPush } from "./framering";

/** Default IP MTU of the loopback device (Linux uses 65536; this keeps the queue small). */
export const LOOPBACK_MTU: u32 = 16384;
export const LOOPBACK_QUEUE_BYTES: u32 = 512 * 1024;

function loopbackTransmit(state: usize, frame: usize, len: u32, csumStart: u32, csumOffset: u32, now: u64): i32 {
  return frameRingPush(changetype<FrameRing>(state), frame, len, DEV_RX_CHECKSUM_VALID) ? 0 : -EAGAIN;
}

function loopbackReceive(state: usize, buf: usize, cap: u32, now: u64, flagsOut: usize): i32 {
  let ring = changetype<FrameRing>(state);
  let n = frameRingPop(ring, buf, cap);
  store<u32>(flagsOut, ring.lastFlags);
  return <i32>n;
}

function loopbackDeadline(state: usize): u64 {
  return changetype<FrameRing>(state).count != 0 ? 0 : NEVER;
}

/** A loopback device of IP MTU `mtu` queuing up to `queueBytes`; null when out of memory. */
export function loopbackCreate(mtu: u32, queueBytes: u32): Device | null {
  let dev = changetype<Device>(netAlloc(offsetof<Device>()));
  if (changetype<usize>(dev) == 0) return null;
  let ring = frameRingCreate(queueBytes);
  if (ring == null) {
    netFree(changetype<usize>(dev));
    return null;
  }
  deviceInit(dev, mtu, DEV_TX_CHECKSUM | DEV_RX_CHECKSUM | DEV_NOARP, 0, changetype<usize>(ring),
    changetype<usize>(loopbackTransmit), changetype<usize>(loopbackReceive), changetype<usize>(loopbackDeadline));
  return dev;
}

export function loopbackDestroy(dev: Device): void {
  frameRingDestroy(changetype<FrameRing>(dev.state));
  netFree(changetype<usize>(dev));
}
