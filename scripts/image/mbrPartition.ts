/**
 * The MBR sector: loader code (bytes 0..439, from build/mbr.bin), disk
 * signature (440..443), two zero bytes, four 16-byte partition entries
 * (446..509) and the 55 AA boot signature.
 */
import { ImageError } from "./errors.js";
import { SECTOR_SIZE } from "./bootHeader.js";
import { view } from "./bytes.js";

export const MBR_CODE_BYTES = 440;
export const DISK_SIGNATURE_OFFSET = 440;
export const PARTITION_TABLE_OFFSET = 446;
export const PARTITION_ENTRY_SIZE = 16;
/** "Non-FS data": the area after the kernel, for a future ramfs/ZFS. */
export const DATA_PARTITION_TYPE = 0xda;

export interface PartitionEntry {
  bootable: boolean;
  type: number;
  firstLba: number;
  sectors: number;
}

const HEADS = 255;
const SECTORS_PER_TRACK = 63;

/** CHS bytes (head, sector|cyl-high, cyl-low) for an LBA; FE FF FF past cylinder 1023. */
export function lbaToChs(lba: number): [number, number, number] {
  const cylinder = Math.floor(lba / (HEADS * SECTORS_PER_TRACK));
  if (cylinder > 1023) return [0xfe, 0xff, 0xff];
  const head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  const sector = (lba % SECTORS_PER_TRACK) + 1;
  return [head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff];
}

export function encodePartitionEntry(p: PartitionEntry): Uint8Array {
  if (p.sectors <= 0) throw new ImageError("partition must have at least one sector");
  const last = p.firstLba + p.sectors - 1;
  if (p.firstLba < 1 || last > 0xffffffff) throw new ImageError(`partition ${p.firstLba}+${p.sectors} does not fit an MBR entry`);
  if (p.type <= 0 || p.type > 0xff) throw new ImageError(`partition type ${p.type} is not a byte`);
  const e = new Uint8Array(PARTITION_ENTRY_SIZE);
  const dv = view(e);
  e[0] = p.bootable ? 0x80 : 0x00;
  e.set(lbaToChs(p.firstLba), 1);
  e[4] = p.type;
  e.set(lbaToChs(last), 5);
  dv.setUint32(8, p.firstLba, true);
  dv.setUint32(12, p.sectors, true);
  return e;
}

/** The four partition slots of an MBR sector (null where empty). */
export function decodePartitionTable(mbr: Uint8Array): (PartitionEntry | null)[] {
  const dv = view(mbr);
  const out: (PartitionEntry | null)[] = [];
  for (let i = 0; i < 4; i++) {
    const o = PARTITION_TABLE_OFFSET + i * PARTITION_ENTRY_SIZE;
    const type = mbr[o + 4];
    out.push(
      type === 0
        ? null
        : { bootable: mbr[o] === 0x80, type, firstLba: dv.getUint32(o + 8, true), sectors: dv.getUint32(o + 12, true) },
    );
  }
  return out;
}

/** Checks build/mbr.bin: one sector, 55 AA, nothing in 440..509. */
export function checkMbrCode(code: Uint8Array): void {
  if (code.length !== SECTOR_SIZE) throw new ImageError(`MBR code is ${code.length} bytes, not ${SECTOR_SIZE}`);
  if (code[510] !== 0x55 || code[511] !== 0xaa) throw new ImageError("MBR code does not end in 55 AA");
  for (let i = MBR_CODE_BYTES; i < 510; i++) {
    if (code[i] !== 0) throw new ImageError(`MBR code uses byte ${i}; bytes ${MBR_CODE_BYTES}..509 belong to the partition table`);
  }
}

export function assembleMbr(code: Uint8Array, diskSignature: number, partitions: PartitionEntry[]): Uint8Array {
  checkMbrCode(code);
  if (partitions.length > 4) throw new ImageError("an MBR holds at most 4 partitions");
  const mbr = new Uint8Array(SECTOR_SIZE);
  mbr.set(code.subarray(0, MBR_CODE_BYTES), 0);
  view(mbr).setUint32(DISK_SIGNATURE_OFFSET, diskSignature >>> 0, true);
  partitions.forEach((p, i) => mbr.set(encodePartitionEntry(p), PARTITION_TABLE_OFFSET + i * PARTITION_ENTRY_SIZE));
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}
