// A growable byte buffer for the text the special files generate at open
// time (/proc/self/maps, /proc/cpuinfo ...): ASCII appends without
// allocating strings. A failed growth sets `failed` and drops later appends.
import { heapAlloc, heapFree, TAG_FS } from "../mm/heap";

@unmanaged
export class Text {
  data: usize;
  length: u32;
  capacity: u32;
  failed: u32;
}

export function textCreate(): Text | null {
  let address = heapAlloc(offsetof<Text>(), TAG_FS);
  if (address == 0) return null;
  let text = changetype<Text>(address);
  text.data = heapAlloc(512, TAG_FS);
  text.length = 0;
  text.capacity = 512;
  text.failed = text.data == 0 ? 1 : 0;
  if (text.data == 0) text.capacity = 0;
  return text;
}

export function textFree(text: Text): void {
  if (text.data != 0) heapFree(text.data);
  heapFree(changetype<usize>(text));
}

function reserve(text: Text, extra: u32): bool {
  if (text.failed != 0) return false;
  if (text.length + extra <= text.capacity) return true;
  let capacity = text.capacity;
  while (capacity < text.length + extra) capacity <<= 1;
  let grown = heapAlloc(capacity, TAG_FS);
  if (grown == 0) {
    text.failed = 1;
    return false;
  }
  memory.copy(grown, text.data, text.length);
  heapFree(text.data);
  text.data = grown;
  text.capacity = capacity;
  return true;
}

export function textBytes(text: Text, bytes: usize, length: u32): void {
  if (!reserve(text, length)) return;
  memory.copy(text.data + text.length, bytes, length);
  text.length += length;
}

export function textChar(text: Text, c: u32): void {
  if (!reserve(text, 1)) return;
  store<u8>(text.data + text.length, <u8>c);
  text.length++;
}

export function textStr(text: Text, s: string): void {
  if (!reserve(text, <u32>s.length)) return;
  for (let i = 0; i < s.length; i++) store<u8>(text.data + text.length + <u32>i, <u8>s.charCodeAt(i));
  text.length += <u32>s.length;
}

/** Decimal, at least `width` digits (zero padded when `zeros`, else space padded). */
export function textDec(text: Text, value: u64, width: u32 = 0, zeros: bool = false): void {
  let digits = memory.data(24);
  let n: u32 = 0;
  do {
    store<u8>(digits + n, <u8>(0x30 + <u32>(value % 10)));
    value /= 10;
    n++;
  } while (value != 0);
  while (n < width) {
    textChar(text, zeros ? 0x30 : 0x20);
    width--;
  }
  while (n > 0) {
    n--;
    textChar(text, load<u8>(digits + n));
  }
}

/** Lower-case hexadecimal, at least `width` digits, zero padded. */
export function textHex(text: Text, value: u64, width: u32 = 0): void {
  let n: u32 = 1;
  while (n < 16 && (value >> (<u64>n * 4)) != 0) n++;
  if (n < width) n = width;
  for (let i = n; i > 0; i--) {
    let d = <u32>((value >> (<u64>(i - 1) * 4)) & 15);
    textChar(text, d < 10 ? 0x30 + d : 0x57 + d);
  }
}

/** Pads with spaces up to column `column` of the current line. */
export function textPadTo(text: Text, column: u32): void {
  let lineStart = text.length;
  while (lineStart > 0 && load<u8>(text.data + lineStart - 1) != 0x0a) lineStart--;
  while (text.length - lineStart < column && text.failed == 0) textChar(text, 0x20);
}
