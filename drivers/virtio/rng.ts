// virtio-rng (virtio 1.2, 5.4): one queue; the device fills the buffers we
// give it with random bytes, which go into the entropy pool
// (drivers/entropy.ts). At attach one buffer is posted to seed the pool;
// afterwards the pool asks for a refill now and then. Posting never blocks;
// the interrupt handler mixes what arrived into the pool.
import { rdtsc } from "../../arch/x86_64/cpu";
import { heapAlloc, TAG_DRIVERS } from "../../kernel/mm/heap";
import { Tsc } from "../../kernel/time/tsc";
import { sleepNanos } from "../../kernel/sched/sleep";
import { entropyAdd, entropySetRefill } from "../entropy";
import { COMMON_WANTED } from "./features";
import {
  virtioCreateQueue, virtioDriverOk, virtioFail, virtioNegotiate, virtioSetupInterrupts, VirtioDevice,
} from "./device";
import { SEGMENT_BYTES, SEG_WRITE, Virtqueue, vqAdd, vqGetUsed, vqKick, vqLock, vqUnlock } from "./virtqueue";

const BUFFER_BYTES: u32 = 64;

let units: u32 = 0;

@unmanaged
class VirtioRng {
  device: usize;
  queue: usize;
  buffer: usize;
  segment: usize;
  inFlight: u32;
  bytes: u64;
}

export class Rng {
  static first: usize = 0;
}

/** Mixes in what the device delivered. Any context. */
function reap(rng: VirtioRng): u32 {
  let vq = changetype<Virtqueue>(rng.queue);
  let flags = vqLock(vq);
  let token = vqGetUsed(vq);
  let length = vq.lastLength;
  if (token != 0) {
    if (length > BUFFER_BYTES) length = BUFFER_BYTES;
    entropyAdd(rng.buffer, length, <u64>length * 8);
    memory.fill(rng.buffer, 0, BUFFER_BYTES);
    rng.bytes += <u64>length;
    rng.inFlight = 0;
  }
  vqUnlock(vq, flags);
  return token != 0 ? length : 0;
}

/** Posts the buffer unless it is already with the device. Never blocks. */
function request(arg: usize): void {
  let rng = changetype<VirtioRng>(arg);
  let vq = changetype<Virtqueue>(rng.queue);
  let flags = vqLock(vq);
  if (rng.inFlight == 0) {
    store<u64>(rng.segment, <u64>rng.buffer);
    store<u32>(rng.segment, BUFFER_BYTES, 8);
    store<u32>(rng.segment, SEG_WRITE, 12);
    if (vqAdd(vq, rng.segment, 1, 1) == 0) {
      rng.inFlight = 1;
      vqKick(vq);
    }
  }
  vqUnlock(vq, flags);
}

function onInterrupt(arg: usize): void {
  reap(changetype<VirtioRng>(arg));
}

/** Asks for BUFFER_BYTES and waits (at most `millis`, thread context) for them: bytes mixed in. */
export function rngFillSync(millis: u64): u32 {
  if (Rng.first == 0) return 0;
  let rng = changetype<VirtioRng>(Rng.first);
  let before = rng.bytes;
  request(Rng.first);
  let deadline = rdtsc() + Tsc.hz / 1000 * millis;
  while (rng.bytes == before && rdtsc() < deadline) {
    reap(rng);
    // Sleep rather than spin: the host may need this CPU's time to answer.
    if (rng.bytes == before) sleepNanos(200_000);
  }
  return <u32>(rng.bytes - before);
}

export function rngBytesDelivered(): u64 {
  return Rng.first == 0 ? 0 : changetype<VirtioRng>(Rng.first).bytes;
}

export function virtioRngAttach(dev: VirtioDevice): i32 {
  dev.unit = units++;
  let result = virtioNegotiate(dev, COMMON_WANTED);
  if (result < 0) return result;
  let address = heapAlloc(offsetof<VirtioRng>() + SEGMENT_BYTES + BUFFER_BYTES, TAG_DRIVERS);
  if (address == 0) {
    virtioFail(dev);
    return -12;
  }
  let rng = changetype<VirtioRng>(address);
  rng.device = changetype<usize>(dev);
  rng.segment = address + offsetof<VirtioRng>();
  rng.buffer = rng.segment + SEGMENT_BYTES;
  dev.driver = address;
  virtioSetupInterrupts(dev, 1);
  let vq = virtioCreateQueue(dev, 0, 16, onInterrupt, address);
  if (vq === null) {
    virtioFail(dev);
    return -5;
  }
  rng.queue = changetype<usize>(vq);
  virtioDriverOk(dev);
  if (Rng.first == 0) {
    Rng.first = address;
    entropySetRefill(request, address);
  }
  // Seed the pool without holding up the boot: the interrupt mixes it in.
  request(address);
  return 0;
}
