/** Small helpers for fixed-layout little/big-endian structures. */

export function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Reads a u64 and returns it as a number, failing if it exceeds 2^53. */
export function u64(dv: DataView, offset: number, littleEndian: boolean, what: string): number {
  const v = dv.getBigUint64(offset, littleEndian);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${what} 0x${v.toString(16)} is too large`);
  }
  return Number(v);
}

export function setU64(dv: DataView, offset: number, value: number, littleEndian: boolean): void {
  dv.setBigUint64(offset, BigInt(value), littleEndian);
}

export function isAllZero(buf: Uint8Array): boolean {
  // Compare 8 bytes at a time where alignment allows; this runs over every
  // cluster of an image.
  let i = 0;
  if (buf.byteOffset % 8 === 0) {
    const words = new BigUint64Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 3);
    for (const w of words) if (w !== 0n) return false;
    i = words.length * 8;
  }
  for (; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

export function hex(n: number): string {
  return "0x" + n.toString(16);
}

export function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
