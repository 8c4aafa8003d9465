// Parsing of virtio-mmio device descriptions, pure so the unit tests can run
// it: the Linux command-line form QEMU's microvm appends without ACPI,
//   virtio_mmio.device=<size>@<base>:<irq>[:<id>]   (size and base may end in K, M or G)
// and the ACPI form, a DSDT device with _HID "LNRO0005" whose _CRS holds a
// Memory32Fixed and an Extended Interrupt descriptor.

/** Parsed description: base u64 @0, size u64 @8, gsi u32 @16, mode u32 @20 (ioapic IRQ_* bits). */
export const MMIO_ENTRY_BYTES: usize = 24;
export const MODE_LEVEL: u32 = 1;
export const MODE_ACTIVE_LOW: u32 = 2;
/** No trigger mode was given (the command line): the caller picks one. */
export const MODE_UNKNOWN: u32 = 0x80;

const PREFIX = "virtio_mmio.device=";

/** Parses a number (0x hex or decimal, optional K/M/G) in [start, end); returns
 * (value, next offset) through `out` (u64 @0, u32 @8); false when there is no digit. */
function parseNumber(line: usize, start: u32, end: u32, out: usize): bool {
  let i = start;
  let value: u64 = 0;
  let digits: u32 = 0;
  if (i + 1 < end && load<u8>(line + i) == 0x30 && (load<u8>(line + i + 1) | 0x20) == 0x78) {
    i += 2;
    while (i < end) {
      let c = <u32>load<u8>(line + i);
      let d: u32 = 0;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x61 + 10;
      else break;
      value = (value << 4) | <u64>d;
      digits++;
      i++;
    }
  } else {
    while (i < end) {
      let c = <u32>load<u8>(line + i);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + <u64>(c - 0x30);
      digits++;
      i++;
    }
  }
  if (digits == 0 || digits > 16) return false;
  if (i < end) {
    let c = <u32>load<u8>(line + i) | 0x20;
    if (c == 0x6b) { value <<= 10; i++; } // k
    else if (c == 0x6d) { value <<= 20; i++; } // m
    else if (c == 0x67) { value <<= 30; i++; } // g
  }
  store<u64>(out, value);
  store<u32>(out, i, 8);
  return true;
}

const scratch = memory.data(16, 8);

/** Parses the value of one virtio_mmio.device= token, [start, end) of `line`, into `out`. */
export function parseMmioDeviceValue(line: usize, start: u32, end: u32, out: usize): bool {
  if (!parseNumber(line, start, end, scratch)) return false;
  let size = load<u64>(scratch);
  let i = load<u32>(scratch, 8);
  if (i >= end || load<u8>(line + i) != 0x40) return false; // '@'
  if (!parseNumber(line, i + 1, end, scratch)) return false;
  let base = load<u64>(scratch);
  i = load<u32>(scratch, 8);
  if (i >= end || load<u8>(line + i) != 0x3a) return false; // ':'
  if (!parseNumber(line, i + 1, end, scratch)) return false;
  let irq = load<u64>(scratch);
  i = load<u32>(scratch, 8);
  // An optional ":<platform device id>" follows; nothing else may.
  if (i < end && load<u8>(line + i) != 0x3a) return false;
  if (size == 0 || base == 0 || irq > 255) return false;
  store<u64>(out, base);
  store<u64>(out, size, 8);
  store<u32>(out, <u32>irq, 16);
  store<u32>(out, MODE_UNKNOWN, 20);
  return true;
}

function isSeparator(c: u8): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

/** Every virtio_mmio.device= entry of the kernel options (before a lone "--"), at most `max`,
 * written to `out` (MMIO_ENTRY_BYTES each); returns how many. */
export function parseMmioCommandLine(line: usize, length: u32, out: usize, max: u32): u32 {
  let count: u32 = 0;
  let i: u32 = 0;
  let prefixLength = <u32>PREFIX.length;
  while (i < length && count < max) {
    while (i < length && isSeparator(load<u8>(line + i))) i++;
    let start = i;
    while (i < length && !isSeparator(load<u8>(line + i))) i++;
    let end = i;
    if (end - start == 2 && load<u8>(line + start) == 0x2d && load<u8>(line + start + 1) == 0x2d) break;
    if (end - start <= prefixLength) continue;
    let match = true;
    for (let k: u32 = 0; k < prefixLength; k++) {
      if (<u32>load<u8>(line + start + k) != <u32>PREFIX.charCodeAt(<i32>k)) {
        match = false;
        break;
      }
    }
    if (match && parseMmioDeviceValue(line, start + prefixLength, end, out + <usize>count * MMIO_ENTRY_BYTES)) count++;
  }
  return count;
}

const HID = "LNRO0005";

function matchesHid(table: usize, at: u32): bool {
  for (let k: u32 = 0; k < 8; k++) {
    if (<u32>load<u8>(table + at + k) != <u32>HID.charCodeAt(<i32>k)) return false;
  }
  return true;
}

/**
 * virtio-mmio devices described in an AML table of `length` bytes (the
 * DSDT): for each "LNRO0005", the next Memory32Fixed (0x86) and Extended
 * Interrupt (0x89) resource descriptors before the next such device.
 * Written to `out` like parseMmioCommandLine; returns how many.
 */
export function parseMmioDsdt(table: usize, length: u32, out: usize, max: u32): u32 {
  let count: u32 = 0;
  let i: u32 = 0;
  while (i + 8 <= length && count < max) {
    if (!matchesHid(table, i)) {
      i++;
      continue;
    }
    let base: u64 = 0;
    let size: u64 = 0;
    let gsi: u32 = 0xffffffff;
    let mode: u32 = 0;
    let j = i + 8;
    let limit = j + 256 < length ? j + 256 : length;
    while (j < limit && (base == 0 || gsi == 0xffffffff)) {
      if (j + 8 <= length && matchesHid(table, j)) break;
      let tag = load<u8>(table + j);
      if (tag == 0x86 && j + 12 <= length && load<u16>(table + j + 1) == 9) {
        base = <u64>load<u32>(table + j + 4);
        size = <u64>load<u32>(table + j + 8);
        j += 12;
        continue;
      }
      if (tag == 0x89 && j + 9 <= length && load<u16>(table + j + 1) >= 6 && load<u8>(table + j + 4) >= 1) {
        let flags = <u32>load<u8>(table + j + 3);
        gsi = load<u32>(table + j + 5);
        mode = ((flags & 2) == 0 ? MODE_LEVEL : 0) | ((flags & 4) != 0 ? MODE_ACTIVE_LOW : 0);
        j += 9;
        continue;
      }
      j++;
    }
    if (base != 0 && size != 0 && gsi != 0xffffffff) {
      let entry = out + <usize>count * MMIO_ENTRY_BYTES;
      store<u64>(entry, base);
      store<u64>(entry, size, 8);
      store<u32>(entry, gsi, 16);
      store<u32>(entry, mode, 20);
      count++;
    }
    i += 8;
  }
  return count;
}
