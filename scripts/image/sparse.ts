/** A disk image described by its size and the byte ranges that are not zero. */
export interface Extent {
  offset: number;
  data: Uint8Array;
}

export interface SparseDisk {
  size: number;
  extents: Extent[];
}

/** Copies the bytes of [offset, offset + out.length) into out (zeros elsewhere). */
export function readSparse(disk: SparseDisk, offset: number, out: Uint8Array): Uint8Array {
  out.fill(0);
  const end = offset + out.length;
  for (const e of disk.extents) {
    const eEnd = e.offset + e.data.length;
    if (eEnd <= offset || e.offset >= end) continue;
    const from = Math.max(offset, e.offset);
    const to = Math.min(end, eEnd);
    out.set(e.data.subarray(from - e.offset, to - e.offset), from - offset);
  }
  return out;
}

/** Indices of the blocks of the given size that some extent touches, ascending. */
export function touchedBlocks(disk: SparseDisk, blockSize: number): number[] {
  const set = new Set<number>();
  for (const e of disk.extents) {
    if (e.data.length === 0) continue;
    if (e.offset < 0 || e.offset + e.data.length > disk.size) {
      throw new RangeError(`extent ${e.offset}+${e.data.length} lies outside the ${disk.size}-byte disk`);
    }
    const first = Math.floor(e.offset / blockSize);
    const last = Math.floor((e.offset + e.data.length - 1) / blockSize);
    for (let b = first; b <= last; b++) set.add(b);
  }
  return [...set].sort((a, b) => a - b);
}
