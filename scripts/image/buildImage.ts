/** Puts MBR, boot header and kernel together and writes the disk image. */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { BOOT_HEADER_OFFSET, SECTOR_SIZE, encodeBootHeader, encodeCmdline } from "./bootHeader.js";
import { crc32 } from "./crc32.js";
import type { DiskFormat } from "./diskFile.js";
import { ImageError } from "./errors.js";
import { loadKernelImage, type KernelImage } from "./elf.js";
import { planLayout, type DiskLayout } from "./layout.js";
import { DATA_PARTITION_TYPE, assembleMbr, checkMbrCode } from "./mbrPartition.js";
import { writeQcow2 } from "./qcow2.js";
import type { SparseDisk } from "./sparse.js";

export interface ComposedDisk {
  disk: SparseDisk;
  kernel: KernelImage;
  layout: DiskLayout;
}

/** The whole disk as a sparse description; nothing is written. `archive`
 * is the root file system (cpio newc), stored after the kernel. */
export function composeDisk(
  kernel: KernelImage, mbrCode: Uint8Array, cmdline: string, diskBytes: number, archive: Uint8Array | null = null,
): ComposedDisk {
  encodeCmdline(cmdline); // the command line error is clearer than a layout one
  const archiveBytes = archive?.length ?? 0;
  const layout = planLayout(kernel.blob.length, diskBytes, archiveBytes);
  const kernelCrc32 = crc32(kernel.blob);
  const header = encodeBootHeader({
    kernelLba: layout.kernelLba,
    kernelSectors: layout.kernelSectors,
    kernelBytes: kernel.blob.length,
    kernelCrc32,
    loadAddr: kernel.loadAddr,
    entryAddr: kernel.entry,
    cmdline,
    archiveLba: layout.archiveLba,
    archiveBytes,
    archiveCrc32: archive !== null && archiveBytes > 0 ? crc32(archive) : 0,
  });
  // A stable disk signature: the same kernel gives the same disk id.
  const mbr = assembleMbr(mbrCode, kernelCrc32 || 1, [
    { bootable: false, type: DATA_PARTITION_TYPE, firstLba: layout.dataLba, sectors: layout.dataSectors },
  ]);
  return {
    disk: {
      size: diskBytes,
      extents: [
        { offset: 0, data: mbr },
        { offset: BOOT_HEADER_OFFSET, data: header },
        { offset: layout.kernelLba * SECTOR_SIZE, data: kernel.blob },
        ...(archive !== null && archiveBytes > 0 ? [{ offset: layout.archiveLba * SECTOR_SIZE, data: archive }] : []),
      ],
    },
    kernel,
    layout,
  };
}

export function writeRaw(path: string, disk: SparseDisk): void {
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, disk.size);
    for (const e of disk.extents) {
      let done = 0;
      while (done < e.data.length) done += writeSync(fd, e.data, done, e.data.length - done, e.offset + done);
    }
  } finally {
    closeSync(fd);
  }
}

export interface BuildImageOptions {
  kernelPath: string;
  mbrPath: string;
  outPath: string;
  cmdline: string;
  diskBytes: number;
  format: DiskFormat;
  /** The root archive (cpio newc) to store after the kernel, if any. */
  archive?: Uint8Array | null;
}

export interface BuildImageResult extends ComposedDisk {
  fileBytes: number;
}

function readInput(path: string, what: string): Uint8Array {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new ImageError(`${what} ${path} not found`);
  }
  if (!isFile) throw new ImageError(`${what} ${path} is not a regular file`);
  return readFileSync(path);
}

/** Builds the image; writes a temporary file and renames it into place. */
export function buildImage(o: BuildImageOptions): BuildImageResult {
  const kernelFile = readInput(o.kernelPath, "kernel");
  const mbrCode = readInput(o.mbrPath, "MBR loader");
  let kernel: KernelImage;
  try {
    kernel = loadKernelImage(kernelFile);
  } catch (e) {
    throw e instanceof ImageError ? new ImageError(`${o.kernelPath}: ${e.message}`) : e;
  }
  try {
    checkMbrCode(mbrCode);
  } catch (e) {
    throw e instanceof ImageError ? new ImageError(`${o.mbrPath}: ${e.message}`) : e;
  }
  const composed = composeDisk(kernel, mbrCode, o.cmdline, o.diskBytes, o.archive ?? null);
  mkdirSync(dirname(o.outPath), { recursive: true });
  const tmp = `${o.outPath}.tmp-${process.pid}`;
  try {
    if (o.format === "qcow2") writeQcow2(tmp, composed.disk);
    else writeRaw(tmp, composed.disk);
    renameSync(tmp, o.outPath);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { ...composed, fileBytes: statSync(o.outPath).size };
}
