/**
 * qcow2 (version 3) writer and a minimal reader/patcher, following QEMU's
 * docs/interop/qcow2.txt. All qcow2 integers are big endian.
 *
 * Writer layout, in host clusters:
 *   header | refcount table | refcount blocks | L1 table | L2 tables | data
 * Only clusters of the virtual disk that hold a non-zero byte get a data
 * cluster; everything else reads as zero. Every cluster has refcount 1 and
 * every L1/L2 entry carries the COPIED flag, as QEMU expects for images
 * without snapshots.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { ImageError } from "./errors.js";
import { isAllZero, setU64, u64, view } from "./bytes.js";
import { readSparse, touchedBlocks, type SparseDisk } from "./sparse.js";

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const DEFAULT_CLUSTER_BITS = 16;
const V3_HEADER_LENGTH = 104;
const REFCOUNT_ORDER = 4; // 16-bit refcounts
const COPIED = 1n << 63n;
const COMPRESSED = 1n << 62n;
const ZERO_FLAG = 1n;
const OFFSET_MASK = 0x00ff_ffff_ffff_fe00n; // bits 9..55

export interface Qcow2WriteOptions {
  /** log2 of the cluster size, 9..21 (default 16: 64 KiB). */
  clusterBits?: number;
}

export interface Qcow2WriteResult {
  fileBytes: number;
  clusterSize: number;
  hostClusters: number;
  dataClusters: number;
  l2Tables: number;
  refcountBlocks: number;
}

/** Writes `disk` to `path` as a qcow2 v3 image (replacing the file). */
export function writeQcow2(path: string, disk: SparseDisk, opts: Qcow2WriteOptions = {}): Qcow2WriteResult {
  const bits = opts.clusterBits ?? DEFAULT_CLUSTER_BITS;
  if (!Number.isInteger(bits) || bits < 9 || bits > 21) throw new RangeError(`cluster bits ${bits} not in 9..21`);
  if (disk.size <= 0) throw new RangeError("disk size must be positive");
  const cs = 2 ** bits;
  const l2Entries = cs / 8;
  const refsPerBlock = (cs * 8) / 2 ** REFCOUNT_ORDER;

  // Guest clusters holding a non-zero byte.
  const scratch = new Uint8Array(cs);
  const data = touchedBlocks(disk, cs).filter((c) => !isAllZero(readSparse(disk, c * cs, scratch)));
  const l1Size = Math.ceil(disk.size / (cs * l2Entries));
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  const l2Indices = [...new Set(data.map((c) => Math.floor(c / l2Entries)))];

  // Refcount metadata covers itself: iterate to a fixed point.
  let refBlocks = 0;
  let refTableClusters = 0;
  let total = 0;
  for (;;) {
    total = 1 + refTableClusters + refBlocks + l1Clusters + l2Indices.length + data.length;
    const rb = Math.ceil(total / refsPerBlock);
    const rt = Math.ceil((rb * 8) / cs);
    if (rb === refBlocks && rt === refTableClusters) break;
    refBlocks = rb;
    refTableClusters = rt;
  }

  const refTableAt = 1;
  const refBlocksAt = refTableAt + refTableClusters;
  const l1At = refBlocksAt + refBlocks;
  const l2At = l1At + l1Clusters;
  const dataAt = l2At + l2Indices.length;

  const header = new Uint8Array(cs);
  const hv = view(header);
  hv.setUint32(0, QCOW2_MAGIC);
  hv.setUint32(4, 3);
  hv.setUint32(20, bits);
  setU64(hv, 24, disk.size, false);
  hv.setUint32(32, 0); // no encryption
  hv.setUint32(36, l1Size);
  setU64(hv, 40, l1At * cs, false);
  setU64(hv, 48, refTableAt * cs, false);
  hv.setUint32(56, refTableClusters);
  hv.setUint32(96, REFCOUNT_ORDER);
  hv.setUint32(100, V3_HEADER_LENGTH);
  // Header extensions start at 104; the zero bytes there are the end marker.

  const refTable = new Uint8Array(refTableClusters * cs);
  const rtv = view(refTable);
  for (let i = 0; i < refBlocks; i++) setU64(rtv, i * 8, (refBlocksAt + i) * cs, false);
  const refBlockBytes = new Uint8Array(refBlocks * cs);
  const rbv = view(refBlockBytes);
  for (let i = 0; i < total; i++) rbv.setUint16(i * 2, 1);

  const l1 = new Uint8Array(l1Clusters * cs);
  const l1v = view(l1);
  l2Indices.forEach((l1Index, i) => l1v.setBigUint64(l1Index * 8, BigInt((l2At + i) * cs) | COPIED));
  const l2 = new Uint8Array(l2Indices.length * cs);
  const l2v = view(l2);
  const l2Slot = new Map(l2Indices.map((l1Index, i) => [l1Index, i]));
  data.forEach((c, i) => {
    const slot = l2Slot.get(Math.floor(c / l2Entries)) ?? 0;
    l2v.setBigUint64(slot * cs + (c % l2Entries) * 8, BigInt((dataAt + i) * cs) | COPIED);
  });

  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, total * cs);
    const put = (bytes: Uint8Array, cluster: number): void => {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, cluster * cs + done);
    };
    put(header, 0);
    put(refTable, refTableAt);
    put(refBlockBytes, refBlocksAt);
    put(l1, l1At);
    put(l2, l2At);
    data.forEach((c, i) => put(readSparse(disk, c * cs, scratch), dataAt + i));
  } finally {
    closeSync(fd);
  }
  return {
    fileBytes: total * cs,
    clusterSize: cs,
    hostClusters: total,
    dataClusters: data.length,
    l2Tables: l2Indices.length,
    refcountBlocks: refBlocks,
  };
}

export interface Qcow2Header {
  version: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  backingFileOffset: number;
  incompatibleFeatures: bigint;
}

export function hasQcow2Magic(buf: Uint8Array): boolean {
  return buf.length >= 4 && view(buf).getUint32(0) === QCOW2_MAGIC;
}

const INCOMPATIBLE_FEATURES = ["dirty", "corrupt", "external data file", "compression type", "extended L2 entries"];

/**
 * Parses and vets a qcow2 header for in-place patching: refuses encrypted
 * images, incompatible features and anything it does not understand.
 */
export function parseQcow2Header(buf: Uint8Array): Qcow2Header {
  if (!hasQcow2Magic(buf)) throw new ImageError("not a qcow2 image (no QFI\\xfb magic)");
  if (buf.length < 72) throw new ImageError("qcow2 header truncated");
  const dv = view(buf);
  const version = dv.getUint32(4);
  if (version !== 2 && version !== 3) throw new ImageError(`qcow2 version ${version} is not supported (want 2 or 3)`);
  if (version === 3 && buf.length < V3_HEADER_LENGTH) throw new ImageError("qcow2 v3 header truncated");
  const h: Qcow2Header = {
    version,
    clusterBits: dv.getUint32(20),
    size: u64(dv, 24, false, "qcow2 size"),
    cryptMethod: dv.getUint32(32),
    l1Size: dv.getUint32(36),
    l1TableOffset: u64(dv, 40, false, "qcow2 L1 offset"),
    refcountTableOffset: u64(dv, 48, false, "qcow2 refcount table offset"),
    refcountTableClusters: dv.getUint32(56),
    nbSnapshots: dv.getUint32(60),
    backingFileOffset: u64(dv, 8, false, "qcow2 backing file offset"),
    incompatibleFeatures: version === 3 ? dv.getBigUint64(72) : 0n,
  };
  if (h.clusterBits < 9 || h.clusterBits > 21) throw new ImageError(`qcow2 cluster size 2^${h.clusterBits} is invalid`);
  if (h.cryptMethod !== 0) throw new ImageError(`qcow2 image is encrypted (method ${h.cryptMethod}); refusing to patch it`);
  if (h.incompatibleFeatures !== 0n) {
    const names: string[] = [];
    for (let bit = 0; bit < 64; bit++) {
      if (h.incompatibleFeatures & (1n << BigInt(bit))) names.push(INCOMPATIBLE_FEATURES[bit] ?? `unknown bit ${bit}`);
    }
    throw new ImageError(`qcow2 image has incompatible features (${names.join(", ")}); refusing to patch it`);
  }
  return h;
}

/** What a guest offset maps to in a qcow2 file. */
export type Qcow2Mapping =
  | { kind: "data"; hostOffset: number; copied: boolean }
  | { kind: "zero" }
  | { kind: "unallocated" };

/** An open qcow2 file that can read and overwrite already-allocated clusters. */
export class Qcow2File {
  readonly header: Qcow2Header;
  readonly clusterSize: number;
  private readonly l2Entries: number;

  constructor(private readonly fd: number) {
    const head = new Uint8Array(V3_HEADER_LENGTH);
    readSync(fd, head, 0, head.length, 0);
    this.header = parseQcow2Header(head);
    this.clusterSize = 2 ** this.header.clusterBits;
    this.l2Entries = this.clusterSize / 8;
    const fileSize = fstatSync(fd).size;
    if (this.header.l1TableOffset + this.header.l1Size * 8 > fileSize) throw new ImageError("qcow2 L1 table lies past the end of the file");
  }

  private readEntry(offset: number): bigint {
    const b = new Uint8Array(8);
    if (readSync(this.fd, b, 0, 8, offset) !== 8) throw new ImageError(`qcow2 table entry at ${offset} lies past the end of the file`);
    return view(b).getBigUint64(0);
  }

  /** Maps the guest byte offset to its host cluster. */
  map(guestOffset: number): Qcow2Mapping {
    if (guestOffset < 0 || guestOffset >= this.header.size) throw new ImageError(`offset ${guestOffset} is outside the ${this.header.size}-byte disk`);
    const cluster = Math.floor(guestOffset / this.clusterSize);
    const l1Index = Math.floor(cluster / this.l2Entries);
    if (l1Index >= this.header.l1Size) return { kind: "unallocated" };
    const l1e = this.readEntry(this.header.l1TableOffset + l1Index * 8);
    const l2Offset = Number(l1e & OFFSET_MASK);
    if (l2Offset === 0) return { kind: "unallocated" };
    const l2e = this.readEntry(l2Offset + (cluster % this.l2Entries) * 8);
    if (l2e & COMPRESSED) throw new ImageError("qcow2 cluster is compressed; refusing to patch it (convert the image without -c)");
    if (this.header.version === 3 && l2e & ZERO_FLAG) return { kind: "zero" };
    const host = Number(l2e & OFFSET_MASK);
    if (host === 0) return { kind: "unallocated" };
    const within = guestOffset % this.clusterSize;
    return { kind: "data", hostOffset: host + within, copied: (l1e & COPIED) !== 0n && (l2e & COPIED) !== 0n };
  }

  /** Reads guest bytes (unallocated and zero clusters read as zero). */
  read(guestOffset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.eachCluster(guestOffset, length, (pos, len, at) => {
      const m = this.map(pos);
      if (m.kind === "data") readSync(this.fd, out, at, len, m.hostOffset);
      else if (m.kind === "unallocated" && this.header.backingFileOffset !== 0) {
        throw new ImageError("qcow2 data lives in a backing file; refusing to read through it");
      }
    });
    return out;
  }

  /** Overwrites guest bytes in place; only allocated, unshared clusters. */
  write(guestOffset: number, data: Uint8Array): void {
    this.eachCluster(guestOffset, data.length, (pos, len, at) => {
      const m = this.map(pos);
      if (m.kind !== "data") throw new ImageError(`qcow2 cluster at guest offset ${pos} is not allocated; cannot patch in place`);
      if (!m.copied) throw new ImageError("qcow2 cluster is shared (snapshot or missing COPIED flag); refusing to patch it");
      writeSync(this.fd, data, at, len, m.hostOffset);
    });
  }

  private eachCluster(offset: number, length: number, f: (pos: number, len: number, at: number) => void): void {
    let at = 0;
    while (at < length) {
      const pos = offset + at;
      const len = Math.min(length - at, this.clusterSize - (pos % this.clusterSize));
      f(pos, len, at);
      at += len;
    }
  }
}
