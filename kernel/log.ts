// The kernel log: strings and numbers to the console without allocating.
// Calls compose a line: Log.str("x = "); Log.dec(x); Log.newline();
import { consoleWrite, consoleWriteByte } from "./console";
import { formatDecimal, formatHex, formatMilli, formatSigned, FORMAT_MAX_BYTES } from "./format";

const scratch = memory.data(<i32>FORMAT_MAX_BYTES);

export class Log {
  /** A string literal; characters outside ASCII print as '?'. */
  static str(text: string): void {
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      consoleWriteByte(c < 0x80 ? <u8>c : 0x3f);
    }
  }

  /** Characters [start, end) of a string literal. */
  static strSlice(text: string, start: i32, end: i32): void {
    for (let i = start; i < end && i < text.length; i++) {
      let c = text.charCodeAt(i);
      consoleWriteByte(c < 0x80 ? <u8>c : 0x3f);
    }
  }

  /** Raw bytes, e.g. a slice of the command line. */
  static bytes(bytes: usize, length: usize): void {
    consoleWrite(bytes, length);
  }

  static char(c: u8): void {
    consoleWriteByte(c);
  }

  static dec(value: u64): void {
    consoleWrite(scratch, formatDecimal(value, scratch));
  }

  static signed(value: i64): void {
    consoleWrite(scratch, formatSigned(value, scratch));
  }

  /** 0x and 16 hex digits. */
  static hex(value: u64): void {
    consoleWrite(scratch, formatHex(value, 16, scratch));
  }

  /** 0x and as many hex digits as `digits`. */
  static hexWidth(value: u64, digits: u32): void {
    consoleWrite(scratch, formatHex(value, digits, scratch));
  }

  /** Thousandths as a decimal with `fractionDigits` digits (1234, 2 -> 1.23). */
  static milli(thousandths: u64, fractionDigits: u32): void {
    consoleWrite(scratch, formatMilli(thousandths, fractionDigits, scratch));
  }

  /** An IPv4 address held as a u32 in numeric order: 10.0.2.15. */
  static ipv4(ip: u32): void {
    Log.dec(ip >> 24);
    Log.char(0x2e);
    Log.dec((ip >> 16) & 0xff);
    Log.char(0x2e);
    Log.dec((ip >> 8) & 0xff);
    Log.char(0x2e);
    Log.dec(ip & 0xff);
  }

  static newline(): void {
    consoleWriteByte(0x0a);
  }

  /** A whole line: text then newline. */
  static line(text: string): void {
    Log.str(text);
    Log.newline();
  }
}
