// The "newc" cpio format (magic 070701) that the Linux kernel unpacks as an
// initramfs: a writer that builds an archive in memory and a reader that
// parses one back (for tests and for inspecting what the build wrote).
//
// Each entry is a 110-byte ASCII header (the magic and 13 fields of 8 hex
// digits), the NUL-terminated name padded so that header + name is a multiple
// of 4, then the data padded to a multiple of 4. A symlink's data is its
// target. The archive ends with an entry named "TRAILER!!!".

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

const MAGIC = "070701";
const HEADER_BYTES = 110;
const TRAILER = "TRAILER!!!";

export type CpioEntry =
  | { type: "dir"; path: string; mode: number }
  | { type: "file"; path: string; mode: number; data: Uint8Array }
  | { type: "symlink"; path: string; target: string }
  | { type: "chardev" | "blockdev"; path: string; mode: number; major: number; minor: number };

/** An entry as read back from an archive. */
export interface CpioRecord {
  name: string;
  ino: number;
  /** File type and permission bits together, as in st_mode. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  data: Buffer;
}

/** "/usr/bin/x", "usr/bin/x/" and "./usr//bin/x" all become "usr/bin/x". */
export function normalizePath(path: string): string {
  const parts = path.split("/").filter((part) => part.length > 0 && part !== ".");
  if (parts.length === 0) throw new Error(`cpio: empty path '${path}'`);
  if (parts.includes("..")) throw new Error(`cpio: '..' in path '${path}'`);
  return parts.join("/");
}

function checkMode(path: string, mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new Error(`cpio: ${path}: permission bits must be within 0o7777, got 0o${mode.toString(8)}`);
  }
}

function hex8(value: number, what: string): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`cpio: ${what} ${value} does not fit the header`);
  return value.toString(16).padStart(8, "0");
}

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/**
 * Builds a newc archive. Paths are relative to the archive root; missing
 * parent directories are added (mode 0755) before their first child, as the
 * kernel's unpacker needs parents first. Every entry belongs to root:root and
 * has one fixed mtime, so the same inputs give the same bytes.
 */
export class CpioWriter {
  private readonly entries: CpioEntry[] = [];
  private readonly byPath = new Map<string, CpioEntry>();

  constructor(private readonly mtime = 0) {}

  get size(): number {
    return this.entries.length;
  }

  has(path: string): boolean {
    return this.byPath.has(normalizePath(path));
  }

  dir(path: string, mode = 0o755): this {
    const name = normalizePath(path);
    const existing = this.byPath.get(name);
    if (existing !== undefined) {
      if (existing.type !== "dir") throw new Error(`cpio: ${name} exists and is not a directory`);
      return this;
    }
    checkMode(name, mode);
    return this.add({ type: "dir", path: name, mode });
  }

  file(path: string, data: Uint8Array | string, mode = 0o644): this {
    checkMode(path, mode);
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    return this.add({ type: "file", path: normalizePath(path), mode, data: bytes });
  }

  symlink(path: string, target: string): this {
    if (target.length === 0) throw new Error(`cpio: ${path}: empty symlink target`);
    return this.add({ type: "symlink", path: normalizePath(path), target });
  }

  charDevice(path: string, major: number, minor: number, mode = 0o600): this {
    checkMode(path, mode);
    return this.add({ type: "chardev", path: normalizePath(path), mode, major, minor });
  }

  blockDevice(path: string, major: number, minor: number, mode = 0o600): this {
    checkMode(path, mode);
    return this.add({ type: "blockdev", path: normalizePath(path), mode, major, minor });
  }

  private add(entry: CpioEntry): this {
    if (this.byPath.has(entry.path)) throw new Error(`cpio: duplicate entry ${entry.path}`);
    const slash = entry.path.lastIndexOf("/");
    if (slash > 0) this.dir(entry.path.slice(0, slash));
    this.entries.push(entry);
    this.byPath.set(entry.path, entry);
    return this;
  }

  /** The archive's bytes, trailer included. */
  toBuffer(): Buffer {
    const chunks: Buffer[] = [];
    let ino = 1;
    for (const entry of this.entries) {
      let mode: number;
      let data: Uint8Array = new Uint8Array(0);
      let rdevMajor = 0;
      let rdevMinor = 0;
      let nlink = 1;
      switch (entry.type) {
        case "dir":
          mode = S_IFDIR | entry.mode;
          nlink = 2;
          break;
        case "file":
          mode = S_IFREG | entry.mode;
          data = entry.data;
          break;
        case "symlink":
          mode = S_IFLNK | 0o777;
          data = Buffer.from(entry.target, "utf8");
          break;
        case "chardev":
        case "blockdev":
          mode = (entry.type === "chardev" ? S_IFCHR : S_IFBLK) | entry.mode;
          rdevMajor = entry.major;
          rdevMinor = entry.minor;
          break;
      }
      chunks.push(...encodeEntry(entry.path, { ino: ino++, mode, nlink, mtime: this.mtime, rdevMajor, rdevMinor }, data));
    }
    chunks.push(...encodeEntry(TRAILER, { ino: 0, mode: 0, nlink: 1, mtime: 0, rdevMajor: 0, rdevMinor: 0 }, new Uint8Array(0)));
    return Buffer.concat(chunks);
  }
}

interface HeaderFields {
  ino: number;
  mode: number;
  nlink: number;
  mtime: number;
  rdevMajor: number;
  rdevMinor: number;
}

function encodeEntry(name: string, h: HeaderFields, data: Uint8Array): Buffer[] {
  const nameBytes = Buffer.from(name + "\0", "utf8");
  const fields = [
    h.ino, h.mode, 0 /* uid */, 0 /* gid */, h.nlink, h.mtime, data.length,
    0 /* devmajor */, 0 /* devminor */, h.rdevMajor, h.rdevMinor, nameBytes.length, 0 /* check */,
  ];
  const names = ["ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check"];
  const header = MAGIC + fields.map((value, i) => hex8(value, `${name}: ${names[i]}`)).join("");
  const out: Buffer[] = [Buffer.from(header, "ascii"), nameBytes, Buffer.alloc(pad4(HEADER_BYTES + nameBytes.length))];
  if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.alloc(pad4(data.length)));
  return out;
}

/**
 * Parses a newc archive up to its trailer. Several archives may be
 * concatenated (the kernel accepts that, with zero padding between them);
 * this reads all of them and returns every entry but the trailers.
 */
export function readCpio(archive: Uint8Array): CpioRecord[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const records: CpioRecord[] = [];
  let offset = 0;
  while (offset < buf.length) {
    // Zero padding between concatenated archives.
    if (buf[offset] === 0) {
      offset++;
      continue;
    }
    if (offset + HEADER_BYTES > buf.length) throw new Error(`cpio: truncated header at offset ${offset}`);
    const magic = buf.toString("ascii", offset, offset + 6);
    if (magic !== MAGIC) throw new Error(`cpio: bad magic '${magic}' at offset ${offset} (only newc, 070701, is read)`);
    const at = offset;
    const field = (i: number): number => {
      const text = buf.toString("ascii", at + 6 + i * 8, at + 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new Error(`cpio: bad header field '${text}' at offset ${at}`);
      return parseInt(text, 16);
    };
    const fileSize = field(6);
    const nameSize = field(11);
    if (nameSize < 1) throw new Error(`cpio: empty name at offset ${offset}`);
    const nameStart = offset + HEADER_BYTES;
    const dataStart = nameStart + nameSize + pad4(HEADER_BYTES + nameSize);
    const dataEnd = dataStart + fileSize;
    if (dataEnd > buf.length) throw new Error(`cpio: entry at offset ${offset} runs past the end`);
    if (buf[nameStart + nameSize - 1] !== 0) throw new Error(`cpio: name at offset ${offset} is not NUL-terminated`);
    const name = buf.toString("utf8", nameStart, nameStart + nameSize - 1);
    offset = dataEnd + pad4(fileSize);
    if (name === TRAILER) continue;
    records.push({
      name,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      nlink: field(4),
      mtime: field(5),
      devMajor: field(7),
      devMinor: field(8),
      rdevMajor: field(9),
      rdevMinor: field(10),
      data: Buffer.from(buf.subarray(dataStart, dataEnd)),
    });
  }
  return records;
}
