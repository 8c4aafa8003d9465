// The kernel command line: space-separated kernel options (`key=value` or a
// bare `flag`) and, after a lone `--`, the application and its arguments.
// Functions take the line as bytes (`line`, `length`) and never allocate;
// results are byte offsets into the line.

const SPACE: u8 = 0x20;
const TAB: u8 = 0x09;
const EQUALS: u8 = 0x3d;
const DASH: u8 = 0x2d;

function isSeparator(c: u8): bool {
  return c == SPACE || c == TAB || c == 0x0a || c == 0x0d;
}

/** Length of the line up to its NUL (at most `max` bytes). */
export function cmdlineLength(line: usize, max: u32): u32 {
  let n: u32 = 0;
  while (n < max && load<u8>(line + n) != 0) n++;
  return n;
}

/** Offset of the first byte after the token starting at `start`. */
function tokenEnd(line: usize, length: u32, start: u32): u32 {
  let i = start;
  while (i < length && !isSeparator(load<u8>(line + i))) i++;
  return i;
}

function skipSeparators(line: usize, length: u32, start: u32): u32 {
  let i = start;
  while (i < length && isSeparator(load<u8>(line + i))) i++;
  return i;
}

function isDoubleDash(line: usize, start: u32, end: u32): bool {
  return end - start == 2 && load<u8>(line + start) == DASH && load<u8>(line + start + 1) == DASH;
}

/** Does the token [start, end) begin with `key` followed by '=' or its end? */
function tokenHasKey(line: usize, start: u32, end: u32, key: usize, keyLength: u32): bool {
  if (keyLength == 0 || end - start < keyLength) return false;
  for (let i: u32 = 0; i < keyLength; i++) {
    if (load<u8>(line + start + i) != load<u8>(key + i)) return false;
  }
  return start + keyLength == end || load<u8>(line + start + keyLength) == EQUALS;
}

/**
 * Finds kernel option `key` (bytes at `key`, `keyLength`) before any `--`.
 * Returns -1 when absent, else (valueOffset << 32) | valueLength; a bare flag
 * has length 0. The last occurrence wins, as on Linux.
 */
export function cmdlineFind(line: usize, length: u32, key: usize, keyLength: u32): i64 {
  let found: i64 = -1;
  let i = skipSeparators(line, length, 0);
  while (i < length) {
    let end = tokenEnd(line, length, i);
    if (isDoubleDash(line, i, end)) break;
    if (tokenHasKey(line, i, end, key, keyLength)) {
      let valueStart = i + keyLength < end ? i + keyLength + 1 : end;
      found = (<i64>valueStart << 32) | <i64>(end - valueStart);
    }
    i = skipSeparators(line, length, end);
  }
  return found;
}

/** Offset of the application part (the first token after a lone `--`), or -1. */
export function cmdlineApplication(line: usize, length: u32): i32 {
  let i = skipSeparators(line, length, 0);
  while (i < length) {
    let end = tokenEnd(line, length, i);
    if (isDoubleDash(line, i, end)) {
      let app = skipSeparators(line, length, end);
      return app < length ? <i32>app : -1;
    }
    i = skipSeparators(line, length, end);
  }
  return -1;
}

/** Decimal value of `[offset, offset + count)`, or -1 if it is not a number. */
export function parseDecimal(line: usize, offset: u32, count: u32): i64 {
  if (count == 0 || count > 18) return -1;
  let value: i64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    let c = load<u8>(line + offset + i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + <i64>(c - 0x30);
  }
  return value;
}
