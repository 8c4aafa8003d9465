// The root archive: a cpio "newc" archive (magic 070701, as Linux's
// initramfs) unpacked into ramfs at boot. Regular files, directories and
// symbolic links with their permissions and mtimes; device nodes, FIFOs
// and sockets are skipped (/dev is the kernel's). A corrupt archive stops
// the unpacking with one log line; what came before it stays.
import { Log } from "../log";
import { NANOS_PER_SECOND } from "../time/clock";
import { makeDirectory, makeFile, makeSymlink } from "./populate";

const HEADER_BYTES: u64 = 110;
const S_IFMT: u32 = 0xf000;
const S_IFREG: u32 = 0x8000;
const S_IFDIR: u32 = 0x4000;
const S_IFLNK: u32 = 0xa000;

export function cpioIsArchive(address: usize, size: u64): bool {
  if (size < 6) return false;
  // "070701"
  return load<u32>(address) == 0x37303730 && load<u16>(address, 4) == 0x3130;
}

/** Field `index` (8 hex digits after the magic), or -1 when it is not hex. */
function field(header: usize, index: u32): i64 {
  let value: i64 = 0;
  let at = header + 6 + <usize>index * 8;
  for (let i: usize = 0; i < 8; i++) {
    let c = <u32>load<u8>(at + i);
    let digit: u32;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) digit = c - 0x37;
    else return -1;
    value = (value << 4) | <i64>digit;
  }
  return value;
}

@inline function pad4(n: u64): u64 {
  return (n + 3) & ~<u64>3;
}

function corrupt(offset: u64, reason: string, entries: u32): void {
  Log.str("wisp: initrd: corrupt cpio archive at offset ");
  Log.dec(offset);
  Log.str(" (");
  Log.str(reason);
  Log.str("); kept the ");
  Log.dec(entries);
  Log.line(" entries before it");
}

/** Unpacks the archive at [address, address + size): the number of entries made. */
export function cpioUnpack(address: usize, size: u64): u32 {
  let offset: u64 = 0;
  let entries: u32 = 0;
  let skipped: u32 = 0;
  while (offset < size) {
    // Zero padding between concatenated archives.
    if (load<u8>(address + <usize>offset) == 0) {
      offset++;
      continue;
    }
    if (size - offset < HEADER_BYTES) {
      corrupt(offset, "truncated header", entries);
      return entries;
    }
    let header = address + <usize>offset;
    if (!cpioIsArchive(header, HEADER_BYTES)) {
      corrupt(offset, "bad magic", entries);
      return entries;
    }
    let values = memory.data(13 * 8, 8);
    let bad = false;
    for (let i: u32 = 0; i < 13; i++) {
      let v = field(header, i);
      if (v < 0) bad = true;
      store<i64>(values + <usize>i * 8, v);
    }
    if (bad) {
      corrupt(offset, "header field is not hexadecimal", entries);
      return entries;
    }
    let mode = <u32>load<i64>(values, 8);
    let mtime = <u64>load<i64>(values, 40);
    let fileSize = <u64>load<i64>(values, 48);
    let nameSize = <u64>load<i64>(values, 88);
    let nameStart = offset + HEADER_BYTES;
    let dataStart = pad4(nameStart + nameSize);
    if (nameSize < 1 || nameSize > 4096 || dataStart > size || fileSize > size - dataStart) {
      corrupt(offset, "entry runs past the end", entries);
      return entries;
    }
    let name = address + <usize>nameStart;
    let nameLength = <u32>nameSize - 1;
    if (load<u8>(name + nameLength) != 0) {
      corrupt(offset, "name is not NUL-terminated", entries);
      return entries;
    }
    let data = address + <usize>dataStart;
    offset = pad4(dataStart + fileSize);
    if (nameLength == 10 && memory.compare(name, TRAILER, 10) == 0) {
      continue; // another archive may follow
    }
    // "./a/b" and "a/b" are the same entry; "." is the root, already there.
    while (nameLength > 0 && (load<u8>(name) == 0x2f || (load<u8>(name) == 0x2e && nameLength > 1 && load<u8>(name, 1) == 0x2f))) {
      name++;
      nameLength--;
    }
    if (nameLength == 0 || (nameLength == 1 && load<u8>(name) == 0x2e)) continue;
    // Made from the root: the names are relative, the VFS wants absolute paths.
    let path = pathBuffer;
    store<u8>(path, 0x2f);
    memory.copy(path + 1, name, nameLength);
    let pathLength = nameLength + 1;
    let nanos = mtime * NANOS_PER_SECOND;
    let result: i32 = 0;
    switch (mode & S_IFMT) {
      case S_IFDIR:
        result = makeDirectory(path, pathLength, mode & 0o7777, nanos);
        break;
      case S_IFREG:
        result = makeFile(path, pathLength, mode & 0o7777, data, fileSize, nanos);
        break;
      case S_IFLNK:
        result = fileSize == 0 || fileSize > 4095 ? -22 : makeSymlink(path, pathLength, data, <u32>fileSize, nanos);
        break;
      default:
        skipped++;
        continue;
    }
    if (result < 0) {
      Log.str("wisp: initrd: cannot make ");
      Log.bytes(path, pathLength);
      Log.str(" (error ");
      Log.signed(result);
      Log.line(")");
      continue;
    }
    entries++;
  }
  Log.str("wisp: initrd: ");
  Log.dec(entries);
  Log.str(" entries unpacked");
  if (skipped > 0) {
    Log.str(", ");
    Log.dec(skipped);
    Log.str(" device nodes or FIFOs skipped");
  }
  Log.newline();
  return entries;
}

const pathBuffer = memory.data(4200);
const TRAILER = memory.data<u8>([0x54, 0x52, 0x41, 0x49, 0x4c, 0x45, 0x52, 0x21, 0x21, 0x21]); // "TRAILER!!!"
