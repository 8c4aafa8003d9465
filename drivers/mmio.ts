// Device register access through the direct map (MMIO at or above 3 GiB is
// mapped uncached). AS loads and stores are plain memory accesses to gcc,
// which may merge, reorder, hoist or drop them; a full fence on both sides
// pins each access where the driver wrote it and makes it happen exactly
// once, at the width asked for.
import { memoryFence } from "../arch/x86_64/atomic";

// @ts-ignore: decorator
@inline export function mmioRead8(address: usize): u32 {
  memoryFence();
  let value = <u32>load<u8>(address);
  memoryFence();
  return value;
}

// @ts-ignore: decorator
@inline export function mmioRead16(address: usize): u32 {
  memoryFence();
  let value = <u32>load<u16>(address);
  memoryFence();
  return value;
}

// @ts-ignore: decorator
@inline export function mmioRead32(address: usize): u32 {
  memoryFence();
  let value = load<u32>(address);
  memoryFence();
  return value;
}

// @ts-ignore: decorator
@inline export function mmioWrite8(address: usize, value: u32): void {
  memoryFence();
  store<u8>(address, <u8>value);
  memoryFence();
}

// @ts-ignore: decorator
@inline export function mmioWrite16(address: usize, value: u32): void {
  memoryFence();
  store<u16>(address, <u16>value);
  memoryFence();
}

// @ts-ignore: decorator
@inline export function mmioWrite32(address: usize, value: u32): void {
  memoryFence();
  store<u32>(address, value);
  memoryFence();
}

/** A 64-bit register as two 32-bit writes, low half first (virtio allows it). */
export function mmioWrite64(address: usize, value: u64): void {
  mmioWrite32(address, <u32>value);
  mmioWrite32(address + 4, <u32>(value >> 32));
}
