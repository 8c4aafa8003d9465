/** Opens a raw or qcow2 disk image for reading and in-place patching. */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { ImageError } from "./errors.js";
import { Qcow2File, hasQcow2Magic } from "./qcow2.js";

export type DiskFormat = "raw" | "qcow2";

export interface DiskFile {
  format: DiskFormat;
  /** Virtual disk size in bytes. */
  size: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
  close(): void;
}

export function openDiskFile(path: string, writable: boolean): DiskFile {
  const fd = openSync(path, writable ? "r+" : "r");
  try {
    const magic = new Uint8Array(4);
    readSync(fd, magic, 0, 4, 0);
    if (hasQcow2Magic(magic)) {
      const q = new Qcow2File(fd);
      return {
        format: "qcow2",
        size: q.header.size,
        read: (o, n) => q.read(o, n),
        write: (o, d) => q.write(o, d),
        close: () => closeSync(fd),
      };
    }
    const size = fstatSync(fd).size;
    const inRange = (o: number, n: number): void => {
      if (o < 0 || o + n > size) throw new ImageError(`bytes ${o}..${o + n} lie past the end of the ${size}-byte raw image`);
    };
    return {
      format: "raw",
      size,
      read: (o, n) => {
        inRange(o, n);
        const b = new Uint8Array(n);
        readSync(fd, b, 0, n, o);
        return b;
      },
      write: (o, d) => {
        inRange(o, d.length);
        writeSync(fd, d, 0, d.length, o);
      },
      close: () => closeSync(fd),
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
