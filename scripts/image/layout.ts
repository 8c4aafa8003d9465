/**
 * Where things go on the disk (see docs/disk-image.md):
 *
 *   LBA 0              MBR: loader code, disk signature, partition table
 *   LBA 1              boot header (with the command line)
 *   LBA 2..2047        reserved, zero
 *   LBA 2048..         kernel blob (1 MiB into the disk), zero-padded to a sector
 *   next 1 MiB line..  root archive (cpio newc), when the image has one
 *   next 1 MiB line..  data partition (MBR entry 1, type 0xda) to the end of the disk
 */
import { ImageError } from "./errors.js";
import { SECTOR_SIZE } from "./bootHeader.js";
import { alignUp } from "./bytes.js";

export const KERNEL_LBA = 2048;
/** Partitions start on 1 MiB boundaries. */
export const PARTITION_ALIGN_SECTORS = 2048;
/** The data partition is at least this big (1 MiB). */
export const MIN_DATA_SECTORS = 2048;
/** MBR partition entries count sectors in 32 bits: 2 TiB. */
export const MAX_DISK_BYTES = 2 ** 32 * SECTOR_SIZE;
export const DEFAULT_DISK_BYTES = 64 * 1024 * 1024;

export interface DiskLayout {
  diskBytes: number;
  kernelLba: number;
  kernelSectors: number;
  /** 0 (and 0 sectors) when the image has no root archive. */
  archiveLba: number;
  archiveSectors: number;
  dataLba: number;
  dataSectors: number;
}

export function planLayout(kernelBytes: number, diskBytes: number, archiveBytes = 0): DiskLayout {
  if (diskBytes % SECTOR_SIZE !== 0) throw new ImageError(`image size ${diskBytes} is not a multiple of ${SECTOR_SIZE} bytes`);
  if (diskBytes > MAX_DISK_BYTES) throw new ImageError(`image size ${diskBytes} exceeds the MBR limit of 2 TiB`);
  const kernelSectors = Math.ceil(kernelBytes / SECTOR_SIZE);
  const archiveSectors = Math.ceil(archiveBytes / SECTOR_SIZE);
  const archiveLba = archiveSectors > 0 ? alignUp(KERNEL_LBA + kernelSectors, PARTITION_ALIGN_SECTORS) : 0;
  const dataLba = alignUp(archiveSectors > 0 ? archiveLba + archiveSectors : KERNEL_LBA + kernelSectors, PARTITION_ALIGN_SECTORS);
  const totalSectors = diskBytes / SECTOR_SIZE;
  const dataSectors = totalSectors - dataLba;
  if (dataSectors < MIN_DATA_SECTORS) {
    const need = (dataLba + MIN_DATA_SECTORS) * SECTOR_SIZE;
    throw new ImageError(
      `kernel${archiveSectors > 0 ? " and root archive" : ""} too big for the image: ${kernelBytes + archiveBytes} bytes need an image of at least ${need} bytes (${Math.ceil(need / 2 ** 20)}M), got ${diskBytes}`,
    );
  }
  return { diskBytes, kernelLba: KERNEL_LBA, kernelSectors, archiveLba, archiveSectors, dataLba, dataSectors };
}
