// A test device whose other end is the test itself: frames the test injects
// are what the stack receives, and what the stack transmits waits for the
// test to take it. Tests script servers (DHCP, ARP peers) and feed crafted
// or fuzzed frames through it.
import { EAGAIN } from "../errno";
import { netAlloc, netFree } from "../mem";
import { Device, NEVER, NO_CHECKSUM_OFFLOAD, deviceInit } from "./device";
import { FrameRing, frameRingCreate, frameRingDestroy, frameRingPop, frameRingPush } from "./framering";

@final @unmanaged
class Pipe {
  toStack: FrameRing;
  fromStack: FrameRing;
}

function pipeTransmit(state: usize, frame: usize, len: u32, csumStart: u32, csumOffset: u32, now: u64): i32 {
  let flags = csumStart != NO_CHECKSUM_OFFLOAD ? (csumStart << 16) | csumOffset : 0;
  return frameRingPush(changetype<Pipe>(state).fromStack, frame, len, flags) ? 0 : -EAGAIN;
}

function pipeReceive(state: usize, buf: usize, cap: u32, now: u64, flagsOut: usize): i32 {
  let ring = changetype<Pipe>(state).toStack;
  let n = frameRingPop(ring, buf, cap);
  store<u32>(flagsOut, ring.lastFlags);
  return <i32>n;
}

function pipeDeadline(state: usize): u64 {
  return changetype<Pipe>(state).toStack.count != 0 ? 0 : NEVER;
}

/** A pipe device with `queueBytes` each way; null when out of memory. */
export function pipeCreate(mtu: u32, caps: u32, mac: u64, queueBytes: u32): Device | null {
  let dev = changetype<Device>(netAlloc(offsetof<Device>()));
  let pipe = changetype<Pipe>(netAlloc(offsetof<Pipe>()));
  let a = frameRingCreate(queueBytes);
  let b = frameRingCreate(queueBytes);
  if (changetype<usize>(dev) == 0 || changetype<usize>(pipe) == 0 || a == null || b == null) {
    if (a != null) frameRingDestroy(a);
    if (b != null) frameRingDestroy(b);
    netFree(changetype<usize>(pipe));
    netFree(changetype<usize>(dev));
    return null;
  }
  pipe.toStack = a;
  pipe.fromStack = b;
  deviceInit(dev, mtu, caps, mac, changetype<usize>(pipe), changetype<usize>(pipeTransmit),
    changetype<usize>(pipeReceive), changetype<usize>(pipeDeadline));
  return dev;
}

export function pipeDestroy(dev: Device): void {
  let pipe = changetype<Pipe>(dev.state);
  frameRingDestroy(pipe.toStack);
  frameRingDestroy(pipe.fromStack);
  netFree(changetype<usize>(pipe));
  netFree(changetype<usize>(dev));
}

/** Queues a frame for the stack to receive with DEV_RX_* `flags`; false when full. */
export function pipeInject(dev: Device, frame: usize, len: u32, flags: u32): bool {
  return frameRingPush(changetype<Pipe>(dev.state).toStack, frame, len, flags);
}

/** Takes the oldest frame the stack sent: its length, 0 when none. */
export function pipeTake(dev: Device, out: usize, cap: u32): u32 {
  return frameRingPop(changetype<Pipe>(dev.state).fromStack, out, cap);
}

/** Checksum start << 16 | offset of the frame pipeTake returned last (0: none offloaded). */
export function pipeTakenOffload(dev: Device): u32 {
  return changetype<Pipe>(dev.state).fromStack.lastFlags;
}

export function pipePending(dev: Device): u32 {
  return changetype<Pipe>(dev.state).fromStack.count;
}
