// Where the root file system's archive (cpio "newc", built by
// scripts/image/) is at boot, brought into memory for the VFS to unpack:
//
// - direct boot (PVH, QEMU -initrd): boot module 0, when it starts with the
//   newc magic "070701" (otherwise module 0 is the program itself, as tests
//   boot it);
// - disk boot: the boot header the MBR loader left at 0x7e00 (its format:
//   scripts/image/bootHeader.ts) gives the archive's first sector, size and
//   CRC-32; the kernel reads it through the block device whose sector 1 is
//   that header (the boot disk, attached as virtio-blk) and checks the CRC.
//
// kernel/vfs/boot.ts unpacks it into ramfs; this file only finds the bytes.
import { BootInfo } from "../bootinfo";
import { EINVAL, EIO, ENOENT, ENOMEM } from "../errno";
import { Log } from "../log";
import { allocContiguous, freeContiguous, PAGE_SIZE } from "../mm/physical";
import { blockDevice, blockDeviceCount, blockRead, SECTOR_SIZE } from "../../drivers/block";
import { cpioIsArchive } from "./cpioUnpack";

/** The boot header in low memory (arch/x86_64/mbr.S loads it there). */
const BOOT_HEADER: usize = 0x7e00;
const HEADER_ARCHIVE_LBA: usize = 0x40;
const HEADER_ARCHIVE_BYTES: usize = 0x48;
const HEADER_ARCHIVE_CRC: usize = 0x50;
/** Largest archive read from disk (the direct map's first 4 GiB hold it). */
const ARCHIVE_MAX: u64 = 1 << 30;

/** Where an archive read from the disk is, to free it (0: none, or a module). */
let diskArchive: usize = 0;
let diskArchivePages: usize = 0;

/** Is the WISPBOOT header (version 1) in low memory, i.e. did the MBR loader boot us? */
function bootHeaderPresent(): bool {
  // "WISPBOOT" as a little-endian u64.
  return load<u64>(BOOT_HEADER) == 0x544f4f4250534957 && load<u16>(BOOT_HEADER, 8) == 1;
}

const crcTable = memory.data(256 * 4, 4);
let crcReady = false;

/** CRC-32 (IEEE 802.3, as zlib and scripts/image/crc32.ts). */
function crc32(address: usize, size: usize): u32 {
  if (!crcReady) {
    for (let n: u32 = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      store<u32>(crcTable + <usize>n * 4, c);
    }
    crcReady = true;
  }
  let crc: u32 = 0xffffffff;
  for (let i: usize = 0; i < size; i++) {
    crc = load<u32>(crcTable + <usize>((crc ^ load<u8>(address + i)) & 0xff) * 4) ^ (crc >>> 8);
  }
  return crc ^ 0xffffffff;
}

/** The block device whose sector 1 is the boot header in memory, or -1. */
function bootDisk(scratch: usize): i32 {
  for (let i: u32 = 0; i < blockDeviceCount(); i++) {
    let dev = blockDevice(i);
    if (dev === null || dev.sectors < 2) continue;
    if (blockRead(dev, 1, 1, scratch) != 0) continue;
    if (memory.compare(scratch, BOOT_HEADER, SECTOR_SIZE) == 0) return <i32>i;
  }
  return -1;
}

function readFromDisk(out: usize): i32 {
  let lba = load<u64>(BOOT_HEADER, HEADER_ARCHIVE_LBA);
  let bytes = load<u64>(BOOT_HEADER, HEADER_ARCHIVE_BYTES);
  if (lba == 0 || bytes == 0) return -ENOENT;
  if (bytes > ARCHIVE_MAX) return -EINVAL;
  let sectors = (bytes + SECTOR_SIZE - 1) / SECTOR_SIZE;
  let pages = <usize>((sectors * SECTOR_SIZE + PAGE_SIZE - 1) / PAGE_SIZE);
  let buffer = allocContiguous(pages);
  if (buffer == 0) return -ENOMEM;
  let disk = bootDisk(buffer);
  if (disk < 0) {
    freeContiguous(buffer, pages);
    Log.line("wisp: root archive: the boot disk is not among the block devices (boot it as virtio-blk)");
    return -ENOENT;
  }
  let dev = blockDevice(<u32>disk)!;
  if (lba + sectors > dev.sectors || blockRead(dev, lba, <u32>sectors, buffer) != 0) {
    freeContiguous(buffer, pages);
    return -EIO;
  }
  if (crc32(buffer, <usize>bytes) != load<u32>(BOOT_HEADER, HEADER_ARCHIVE_CRC) || !cpioIsArchive(buffer, bytes)) {
    freeContiguous(buffer, pages);
    Log.line("wisp: root archive: CRC-32 or format mismatch on disk");
    return -EIO;
  }
  diskArchive = buffer;
  diskArchivePages = pages;
  store<usize>(out, buffer);
  store<usize>(out, <usize>bytes, sizeof<usize>());
  return 0;
}

/**
 * Finds the root archive: out[0] = its address (an AS pointer), out[1] =
 * its size (two usize words). 0, -ENOENT when the boot brought none, or
 * -errno when reading it from the disk failed. Call once drivers are up.
 */
export function rootArchive(out: usize): i32 {
  if (BootInfo.modules > 0) {
    let address = <usize>BootInfo.moduleAddress(0);
    let size = BootInfo.moduleSize(0);
    if (cpioIsArchive(address, size)) {
      store<usize>(out, address);
      store<usize>(out, <usize>size, sizeof<usize>());
      return 0;
    }
  }
  if (!bootHeaderPresent()) return -ENOENT;
  return readFromDisk(out);
}

/** Frees an archive that rootArchive read from the disk (a boot module stays). */
export function rootArchiveRelease(): void {
  if (diskArchive == 0) return;
  freeContiguous(diskArchive, diskArchivePages);
  diskArchive = 0;
  diskArchivePages = 0;
}

/**
 * rootArchive, saying where the archive came from ("wisp: root archive: N
 * bytes from boot module 0" or "... from the boot disk") or why it could
 * not be read.
 */
export function rootArchiveReport(out: usize): i32 {
  let result = rootArchive(out);
  if (result == -ENOENT) return result;
  Log.str("wisp: root archive: ");
  if (result < 0) {
    Log.str("cannot be read, error ");
    Log.dec(<u64>(-result));
    Log.newline();
    return result;
  }
  Log.dec(<u64>load<usize>(out, sizeof<usize>()));
  Log.line(diskArchive != 0 ? " bytes from the boot disk (CRC-32 checked)" : " bytes from boot module 0");
  return result;
}
