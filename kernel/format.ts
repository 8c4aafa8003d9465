// Number formatting into caller-provided memory: no allocation, usable in a
// panic. Each function writes ASCII at `out` and returns the byte count.

const DIGITS = "0123456789abcdef";

/** Longest output of any function here (a u64 in binary would be 64; we
 * format base 10 and 16 only: 20 digits, plus sign and "0x"). */
export const FORMAT_MAX_BYTES: u32 = 24;

/** `value` in `base` (2..16), at least `minDigits` digits, zero-padded. */
export function formatUnsigned(value: u64, base: u32, minDigits: u32, out: usize): u32 {
  if (base < 2 || base > 16) base = 10;
  if (minDigits > 20) minDigits = 20;
  // Digits come out least significant first; write them backwards from the end.
  let digits: u32 = 0;
  let scratch = value;
  do {
    digits++;
    scratch /= <u64>base;
  } while (scratch != 0);
  if (digits < minDigits) digits = minDigits;
  let pos = digits;
  scratch = value;
  while (pos > 0) {
    pos--;
    store<u8>(out + pos, <u8>DIGITS.charCodeAt(<i32>(scratch % <u64>base)));
    scratch /= <u64>base;
  }
  return digits;
}

export function formatDecimal(value: u64, out: usize): u32 {
  return formatUnsigned(value, 10, 1, out);
}

export function formatSigned(value: i64, out: usize): u32 {
  if (value >= 0) return formatUnsigned(<u64>value, 10, 1, out);
  store<u8>(out, 0x2d); // '-'
  // Negate as unsigned so that i64.MIN_VALUE formats correctly.
  return 1 + formatUnsigned(<u64>0 - <u64>value, 10, 1, out + 1);
}

/** "0x" and exactly `digits` hex digits (1..16), e.g. 0x00000000deadbeef. */
export function formatHex(value: u64, digits: u32, out: usize): u32 {
  if (digits < 1) digits = 1;
  if (digits > 16) digits = 16;
  store<u8>(out, 0x30); // '0'
  store<u8>(out + 1, 0x78); // 'x'
  return 2 + formatUnsigned(value, 16, digits, out + 2);
}

/** A value in thousandths (e.g. microseconds) as "<integer>.<fraction>" with
 * `fractionDigits` (0..3) digits, truncated: 1234 -> "1.23" for 2 digits. */
export function formatMilli(thousandths: u64, fractionDigits: u32, out: usize): u32 {
  if (fractionDigits > 3) fractionDigits = 3;
  let n = formatDecimal(thousandths / 1000, out);
  if (fractionDigits == 0) return n;
  store<u8>(out + n, 0x2e); // '.'
  n++;
  let fraction = thousandths % 1000;
  for (let dropped = 3 - fractionDigits; dropped > 0; dropped--) fraction /= 10;
  return n + formatUnsigned(fraction, 10, fractionDigits, out + n);
}
