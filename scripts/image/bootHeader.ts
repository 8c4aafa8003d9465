/**
 * The boot header: disk sector 1, read by the MBR loader (arch/x86_64/mbr.S)
 * to 0x7e00. It says where the kernel is on disk and in memory, and holds the
 * kernel command line, which stays there in memory for the kernel to read
 * (hvm_start_info.cmdline_paddr = 0x7e80). Layout (little endian):
 *
 *   0x000  8  magic "WISPBOOT"
 *   0x008  2  format version (1)
 *   0x00a  2  header size in bytes (512)
 *   0x00c  4  flags (0)
 *   0x010  8  kernel start LBA
 *   0x018  4  kernel sector count
 *   0x01c  4  CRC-32 of the kernel blob (tools only; the MBR does not check)
 *   0x020  8  physical load address of the blob
 *   0x028  8  physical 32-bit entry address (PVH)
 *   0x030  8  kernel blob size in bytes
 *   0x038  2  command line offset (0x80)
 *   0x03a  2  command line field size (384, including the NUL)
 *   0x03c  4  reserved, zero
 *   0x040  8  root archive start LBA (0: no archive on the disk)
 *   0x048  8  root archive size in bytes (a cpio "newc" archive)
 *   0x050  4  CRC-32 of the root archive
 *   0x054 44  reserved, zero
 *   0x080 384 command line, NUL-terminated, zero-padded
 *
 * The MBR checks magic and version and uses LBA, count, load and entry; the
 * high halves of the u64 fields must be zero for it. The root archive is
 * the kernel's to read (kernel/vfs/rootArchive.ts, through virtio-blk): the
 * header stays in memory at 0x7e00.
 */
import { ImageError } from "./errors.js";
import { u64, setU64, view } from "./bytes.js";

export const SECTOR_SIZE = 512;
export const BOOT_HEADER_LBA = 1;
export const BOOT_HEADER_OFFSET = BOOT_HEADER_LBA * SECTOR_SIZE;
export const BOOT_HEADER_MAGIC = "WISPBOOT";
export const BOOT_HEADER_VERSION = 1;
export const CMDLINE_OFFSET = 0x80;
export const CMDLINE_FIELD_SIZE = SECTOR_SIZE - CMDLINE_OFFSET;
/** Longest command line in bytes (UTF-8), leaving room for the NUL. */
export const CMDLINE_MAX_BYTES = CMDLINE_FIELD_SIZE - 1;
/** Where the MBR loads the header; the kernel finds the command line here. */
export const BOOT_HEADER_LOAD_ADDR = 0x7e00;

export interface BootHeader {
  kernelLba: number;
  kernelSectors: number;
  kernelBytes: number;
  kernelCrc32: number;
  loadAddr: number;
  entryAddr: number;
  cmdline: string;
  /** The root archive on the disk, if any (0, 0, 0 when none). */
  archiveLba?: number;
  archiveBytes?: number;
  archiveCrc32?: number;
}

/** Byte offsets of the header fields (the MBR hard-codes the ones it uses). */
export const HEADER_FIELDS = {
  magic: 0x00,
  version: 0x08,
  headerSize: 0x0a,
  flags: 0x0c,
  kernelLba: 0x10,
  kernelSectors: 0x18,
  kernelCrc32: 0x1c,
  loadAddr: 0x20,
  entryAddr: 0x28,
  kernelBytes: 0x30,
  cmdlineOffset: 0x38,
  cmdlineSize: 0x3a,
  archiveLba: 0x40,
  archiveBytes: 0x48,
  archiveCrc32: 0x50,
  cmdline: CMDLINE_OFFSET,
} as const;

const F = HEADER_FIELDS;
const MAGIC_BYTES = new TextEncoder().encode(BOOT_HEADER_MAGIC);

/** Command line bytes, or an ImageError explaining why it cannot be stored. */
export function encodeCmdline(cmdline: string): Uint8Array {
  for (const ch of cmdline) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || c === 0x7f) {
      throw new ImageError(`command line contains control character 0x${c.toString(16).padStart(2, "0")}`);
    }
  }
  const bytes = new TextEncoder().encode(cmdline);
  if (bytes.length > CMDLINE_MAX_BYTES) {
    throw new ImageError(`command line is ${bytes.length} bytes; the boot header holds at most ${CMDLINE_MAX_BYTES}`);
  }
  return bytes;
}

export function encodeBootHeader(h: BootHeader): Uint8Array {
  const fits32 = (n: number, what: string): void => {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new ImageError(`${what} ${n} does not fit the MBR loader's 32 bits`);
  };
  fits32(h.kernelLba, "kernel LBA");
  fits32(h.kernelSectors, "kernel sector count");
  fits32(h.loadAddr, "load address");
  fits32(h.entryAddr, "entry address");
  const sector = new Uint8Array(SECTOR_SIZE);
  const dv = view(sector);
  sector.set(MAGIC_BYTES, F.magic);
  dv.setUint16(F.version, BOOT_HEADER_VERSION, true);
  dv.setUint16(F.headerSize, SECTOR_SIZE, true);
  dv.setUint32(F.flags, 0, true);
  setU64(dv, F.kernelLba, h.kernelLba, true);
  dv.setUint32(F.kernelSectors, h.kernelSectors, true);
  dv.setUint32(F.kernelCrc32, h.kernelCrc32 >>> 0, true);
  setU64(dv, F.loadAddr, h.loadAddr, true);
  setU64(dv, F.entryAddr, h.entryAddr, true);
  setU64(dv, F.kernelBytes, h.kernelBytes, true);
  dv.setUint16(F.cmdlineOffset, CMDLINE_OFFSET, true);
  dv.setUint16(F.cmdlineSize, CMDLINE_FIELD_SIZE, true);
  setU64(dv, F.archiveLba, h.archiveLba ?? 0, true);
  setU64(dv, F.archiveBytes, h.archiveBytes ?? 0, true);
  dv.setUint32(F.archiveCrc32, (h.archiveCrc32 ?? 0) >>> 0, true);
  sector.set(encodeCmdline(h.cmdline), CMDLINE_OFFSET);
  return sector;
}

export function hasBootHeaderMagic(sector: Uint8Array): boolean {
  return sector.length >= 8 && MAGIC_BYTES.every((b, i) => sector[i] === b);
}

export function decodeBootHeader(sector: Uint8Array): BootHeader {
  if (sector.length < SECTOR_SIZE || !hasBootHeaderMagic(sector)) {
    throw new ImageError(`no Wisp boot header (magic "${BOOT_HEADER_MAGIC}") in sector ${BOOT_HEADER_LBA}`);
  }
  const dv = view(sector);
  const version = dv.getUint16(F.version, true);
  if (version !== BOOT_HEADER_VERSION) {
    throw new ImageError(`boot header version ${version} is not supported (want ${BOOT_HEADER_VERSION})`);
  }
  const cmdOff = dv.getUint16(F.cmdlineOffset, true);
  const cmdSize = dv.getUint16(F.cmdlineSize, true);
  if (cmdOff !== CMDLINE_OFFSET || cmdSize !== CMDLINE_FIELD_SIZE) {
    throw new ImageError(`boot header command line field at ${cmdOff}+${cmdSize} is not the expected ${CMDLINE_OFFSET}+${CMDLINE_FIELD_SIZE}`);
  }
  const field = sector.subarray(CMDLINE_OFFSET, CMDLINE_OFFSET + CMDLINE_FIELD_SIZE);
  const nul = field.indexOf(0);
  if (nul < 0) throw new ImageError("boot header command line is not NUL-terminated");
  return {
    kernelLba: u64(dv, F.kernelLba, true, "kernel LBA"),
    kernelSectors: dv.getUint32(F.kernelSectors, true),
    kernelCrc32: dv.getUint32(F.kernelCrc32, true),
    loadAddr: u64(dv, F.loadAddr, true, "load address"),
    entryAddr: u64(dv, F.entryAddr, true, "entry address"),
    kernelBytes: u64(dv, F.kernelBytes, true, "kernel size"),
    cmdline: new TextDecoder().decode(field.subarray(0, nul)),
    archiveLba: u64(dv, F.archiveLba, true, "archive LBA"),
    archiveBytes: u64(dv, F.archiveBytes, true, "archive size"),
    archiveCrc32: dv.getUint32(F.archiveCrc32, true),
  };
}

/** Replaces the command line of an encoded header sector in place. */
export function writeCmdline(sector: Uint8Array, cmdline: string): void {
  decodeBootHeader(sector); // refuse anything that is not a valid header
  const bytes = encodeCmdline(cmdline);
  sector.fill(0, CMDLINE_OFFSET, CMDLINE_OFFSET + CMDLINE_FIELD_SIZE);
  sector.set(bytes, CMDLINE_OFFSET);
}
