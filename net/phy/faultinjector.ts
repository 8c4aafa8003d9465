// A device wrapper that damages what goes out through it, from its own
// seeded generator so a failing run repeats: drop, duplicate, corrupt (one
// flipped bit), delay every frame by a fixed time, and reorder (hold a frame
// back by an extra delay so later ones overtake it). Rates are in parts per
// million. Receiving passes straight through.
import { netAlloc, netFree } from "../mem";
import { NetRandom, randomBelow, randomInit } from "../random";
import { Device, DeadlineFn, ReceiveFn, TransmitFn, deviceInit } from "./device";

@final @unmanaged
export class FaultInjector {
  // A NetRandom embedded at offset 0 (same layout).
  rngFn: usize;
  rngArg: usize;
  rngState: u64;
  inner: Device;
  dropPpm: u32;
  duplicatePpm: u32;
  corruptPpm: u32;
  reorderPpm: u32;
  delay: u64;
  reorderDelay: u64;
  scratch: usize;
  scratchSize: u32;
  dropped: u64;
  duplicated: u64;
  corrupted: u64;
  reordered: u64;
  /** Drop every frame while set (a cut cable). */
  blackhole: bool;
}

// @ts-ignore: decorator
@inline function rng(f: FaultInjector): NetRandom {
  return changetype<NetRandom>(changetype<usize>(f));
}

// @ts-ignore: decorator
@inline function chance(f: FaultInjector, ppm: u32): bool {
  return ppm != 0 && randomBelow(rng(f), 1000000) < ppm;
}

function faultTransmit(state: usize, frame: usize, len: u32, csumStart: u32, csumOffset: u32, now: u64): i32 {
  let f = changetype<FaultInjector>(state);
  if (f.blackhole || chance(f, f.dropPpm)) {
    f.dropped++;
    return 0;
  }
  let at = now + f.delay;
  if (chance(f, f.reorderPpm)) {
    f.reordered++;
    at += f.reorderDelay;
  }
  let out = frame;
  if (len <= f.scratchSize && len != 0 && chance(f, f.corruptPpm)) {
    memory.copy(f.scratch, frame, len);
    let bit = randomBelow(rng(f), len << 3);
    let p = f.scratch + (bit >> 3);
    store<u8>(p, <u8>(<u32>load<u8>(p) ^ (<u32>1 << (bit & 7))));
    out = f.scratch;
    f.corrupted++;
  }
  let inner = f.inner;
  let tx = changetype<TransmitFn>(inner.transmitFn);
  let r = tx(inner.state, out, len, csumStart, csumOffset, at);
  if (r == 0 && chance(f, f.duplicatePpm)) {
    f.duplicated++;
    tx(inner.state, out, len, csumStart, csumOffset, at);
  }
  return r;
}

function faultReceive(state: usize, buf: usize, cap: u32, now: u64, flagsOut: usize): i32 {
  let inner = changetype<FaultInjector>(state).inner;
  if (inner.receiveFn == 0) return 0;
  return changetype<ReceiveFn>(inner.receiveFn)(inner.state, buf, cap, now, flagsOut);
}

function faultDeadline(state: usize): u64 {
  let inner = changetype<FaultInjector>(state).inner;
  return changetype<DeadlineFn>(inner.deadlineFn)(inner.state);
}

/** Wraps `inner` (whose MTU, MAC and capabilities it takes); null when out of memory. */
export function faultInjectorCreate(inner: Device, seed: u64): Device | null {
  let dev = changetype<Device>(netAlloc(offsetof<Device>()));
  let f = changetype<FaultInjector>(netAlloc(offsetof<FaultInjector>()));
  let scratchSize = inner.mtu + 14;
  let scratch = netAlloc(scratchSize);
  if (changetype<usize>(dev) == 0 || changetype<usize>(f) == 0 || scratch == 0) {
    netFree(scratch);
    netFree(changetype<usize>(f));
    netFree(changetype<usize>(dev));
    return null;
  }
  f.inner = inner;
  randomInit(rng(f), 0, 0, seed);
  f.scratch = scratch;
  f.scratchSize = scratchSize;
  deviceInit(dev, inner.mtu, inner.caps, inner.mac, changetype<usize>(f), changetype<usize>(faultTransmit),
    inner.receiveFn != 0 ? changetype<usize>(faultReceive) : 0,
    inner.deadlineFn != 0 ? changetype<usize>(faultDeadline) : 0);
  return dev;
}

export function faultInjectorOf(dev: Device): FaultInjector {
  return changetype<FaultInjector>(dev.state);
}

export function faultInjectorDestroy(dev: Device): void {
  let f = faultInjectorOf(dev);
  netFree(f.scratch);
  netFree(changetype<usize>(f));
  netFree(changetype<usize>(dev));
}
