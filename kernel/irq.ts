// Device interrupt vectors: drivers allocate a vector (for an MSI-X entry or
// an IOAPIC pin) and register a handler; kernel/trap.ts onInterrupt calls it
// with interrupts off, after the local APIC's end-of-interrupt.
import { atomicAdd32 } from "../arch/x86_64/atomic";

/** Vectors 0x30-0xdf are for devices; the rest belong to the kernel (lapic.ts). */
export const DEVICE_VECTOR_FIRST: u32 = 0x30;
export const DEVICE_VECTOR_LAST: u32 = 0xdf;

const handlers = memory.data(256 * 8, 8); // per vector: handler function, argument
const nextVector = memory.data(4, 4);

/** A free device vector, or 0 when all are taken. */
export function irqAllocateVector(): u32 {
  let vector = DEVICE_VECTOR_FIRST + atomicAdd32(nextVector, 1);
  return vector <= DEVICE_VECTOR_LAST ? vector : 0;
}

/** Calls handler(arg) on every interrupt at `vector`. */
export function irqRegister(vector: u32, handler: (arg: usize) => void, arg: usize): bool {
  if (vector < DEVICE_VECTOR_FIRST || vector > DEVICE_VECTOR_LAST) return false;
  store<usize>(handlers + <usize>vector * 8, changetype<usize>(handler));
  store<usize>(handlers + <usize>vector * 8 + 4, arg);
  return true;
}

export function irqUnregister(vector: u32): void {
  if (vector < 256) store<u64>(handlers + <usize>vector * 8, 0);
}

/** Runs the handler registered for `vector`; false if there is none. */
export function irqDispatch(vector: u32): bool {
  if (vector >= 256) return false;
  let handler = load<usize>(handlers + <usize>vector * 8);
  if (handler == 0) return false;
  changetype<(arg: usize) => void>(handler)(load<usize>(handlers + <usize>vector * 8 + 4));
  return true;
}
