// getrandom(2) from the kernel's entropy pool (drivers/entropy.ts: a
// ChaCha20 generator seeded from the TSC, and from virtio-rng when the VM
// has one). The pool never blocks, so GRND_NONBLOCK and GRND_RANDOM change
// nothing; the pool's seeding is only as good as its sources.
import { getRandomBytes } from "../drivers/entropy";
import { BUFFER_BYTES, copyOut, scratchBuffer } from "./uaccess";
import { EFAULT, EINVAL } from "./errno";

const GRND_NONBLOCK: u64 = 1;
const GRND_RANDOM: u64 = 2;
const GRND_INSECURE: u64 = 4;
/** Linux returns at most this much per call (MAX_RW_COUNT would allow more, urandom does not). */
const GETRANDOM_MAX: u64 = 0x1ffffff;

export function sysGetrandom(buffer: u64, length: u64, flags: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) != 0) return -EINVAL;
  if ((flags & (GRND_INSECURE | GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM)) return -EINVAL;
  if (length > GETRANDOM_MAX) length = GETRANDOM_MAX;
  let bounce = scratchBuffer();
  let done: u64 = 0;
  while (done < length) {
    let chunk = length - done < <u64>BUFFER_BYTES ? length - done : <u64>BUFFER_BYTES;
    getRandomBytes(bounce, <usize>chunk);
    if (copyOut(buffer + done, bounce, <usize>chunk) < 0) {
      memory.fill(bounce, 0, <usize>chunk);
      return done > 0 ? <i64>done : -EFAULT;
    }
    done += chunk;
  }
  memory.fill(bounce, 0, <usize>(length < <u64>BUFFER_BYTES ? length : <u64>BUFFER_BYTES));
  return <i64>done;
}
