// The kernel's entropy pool and random bytes (for getrandom, TCP initial
// sequence numbers, stack canaries ...). A ChaCha20 key is the pool: input
// (virtio-rng output, TSC jitter) is XORed into the key, which is then
// replaced by ChaCha20 output under a separate nonce; random bytes are
// ChaCha20 keystream, and after every request the key is replaced by fresh
// keystream ("fast key erasure"), so earlier output cannot be recomputed from
// a later state. A hardware source (virtio-rng) registers a refill function
// that the pool calls, without blocking, every REFILL_BYTES of output.
import { rdtsc } from "../arch/x86_64/cpu";
import { cpuIndex, interruptsRestore, interruptsSave } from "../arch/x86_64/atomic";
import { spinLock, spinUnlock } from "../kernel/sync/spinlock";
import { chacha20Block } from "./chacha20";

const REFILL_BYTES: u64 = 1 << 20;

const key = memory.data(32, 8);
const block = memory.data(64, 8);
const nonceMix = memory.data(12, 4); // all zero but the first word: "mix\0"
const nonceOut = memory.data(12, 4);
const lock = memory.data(4, 4);

export class Entropy {
  /** Bits credited from sources that claim full entropy (virtio-rng). */
  static creditedBits: u64 = 0;
  static outputBytes: u64 = 0;
  static sinceRefill: u64 = 0;
  static refillFunction: usize = 0;
  static refillArg: usize = 0;
  static counter: u32 = 0;
}

function absorbLocked(data: usize, length: usize): void {
  store<u32>(nonceMix, 0x78696d);
  let offset: usize = 0;
  while (offset < length) {
    let n = length - offset < 32 ? length - offset : 32;
    for (let i: usize = 0; i < n; i++) store<u8>(key + i, load<u8>(key + i) ^ load<u8>(data + offset + i));
    chacha20Block(key, 0, nonceMix, block);
    memory.copy(key, block, 32);
    offset += n;
  }
  memory.fill(block, 0, 64);
}

/** Mixes `length` bytes at `data` into the pool, crediting `bits` of entropy. Any context. */
export function entropyAdd(data: usize, length: usize, bits: u64): void {
  let flags = spinLock(lock);
  absorbLocked(data, length);
  Entropy.creditedBits += bits;
  spinUnlock(lock, flags);
}

const tscBytes = memory.data(8, 8);

/** Mixes the TSC in (a little jitter; credited as nothing). */
export function entropyAddTimestamp(): void {
  let flags = spinLock(lock);
  store<u64>(tscBytes, rdtsc());
  absorbLocked(tscBytes, 8);
  spinUnlock(lock, flags);
}

/** Registers the source to ask for more input: fn(arg), which must not block. */
export function entropySetRefill(fn: (arg: usize) => void, arg: usize): void {
  Entropy.refillFunction = changetype<usize>(fn);
  Entropy.refillArg = arg;
}

/** Fills `length` bytes at `out` with random bytes. Any context. */
export function getRandomBytes(out: usize, length: usize): void {
  let flags = spinLock(lock);
  store<u64>(tscBytes, rdtsc());
  absorbLocked(tscBytes, 8);
  store<u64>(nonceOut, <u64>Entropy.counter);
  Entropy.counter++;
  let offset: usize = 0;
  let counter: u32 = 1;
  while (offset < length) {
    chacha20Block(key, counter++, nonceOut, block);
    let n = length - offset < 64 ? length - offset : 64;
    memory.copy(out + offset, block, n);
    offset += n;
  }
  // Fast key erasure: the next key is keystream no caller has seen.
  chacha20Block(key, 0, nonceOut, block);
  memory.copy(key, block, 32);
  memory.fill(block, 0, 64);
  Entropy.outputBytes += <u64>length;
  Entropy.sinceRefill += <u64>length;
  let refill = Entropy.sinceRefill >= REFILL_BYTES && Entropy.refillFunction != 0;
  if (refill) Entropy.sinceRefill = 0;
  spinUnlock(lock, flags);
  if (refill) changetype<(arg: usize) => void>(Entropy.refillFunction)(Entropy.refillArg);
}

const u64Slots = memory.data(8 * 64, 8);

/** A random u64. */
export function randomU64(): u64 {
  let flags = interruptsSave();
  let slot = u64Slots + <usize>(cpuIndex() & 63) * 8;
  getRandomBytes(slot, 8);
  let value = load<u64>(slot);
  interruptsRestore(flags);
  return value;
}
