// Kernel options from the boot command line, looked up by string literal.
import { BootInfo } from "./bootinfo";
import { cmdlineFind } from "./cmdline";
import { Log } from "./log";

const KEY_MAX: i32 = 64;
const keyBytes = memory.data(KEY_MAX);

function keyToBytes(key: string): u32 {
  let n = key.length < KEY_MAX ? key.length : KEY_MAX;
  for (let i = 0; i < n; i++) store<u8>(keyBytes + i, <u8>key.charCodeAt(i));
  return <u32>n;
}

function find(key: string): i64 {
  return Options.find(key);
}

function findRaw(key: string): i64 {
  return cmdlineFind(BootInfo.cmdline, BootInfo.cmdlineLength, keyBytes, keyToBytes(key));
}

export class Options {
  /** (valueOffset << 32) | valueLength into BootInfo.cmdline, or -1. */
  static find(key: string): i64 {
    return findRaw(key);
  }

  static has(key: string): bool {
    return find(key) >= 0;
  }

  /** Is option `key` present with exactly `value`? */
  static equals(key: string, value: string): bool {
    let found = find(key);
    if (found < 0) return false;
    let offset = <u32>(found >>> 32);
    let length = <u32>(found & 0xffffffff);
    if (length != <u32>value.length) return false;
    for (let i: u32 = 0; i < length; i++) {
      if (<i32>load<u8>(BootInfo.cmdline + offset + i) != value.charCodeAt(<i32>i)) return false;
    }
    return true;
  }

  /** Prints the value of `key` (nothing when absent). */
  static logValue(key: string): void {
    let found = find(key);
    if (found < 0) return;
    Log.bytes(BootInfo.cmdline + <usize>(found >>> 32), <usize>(found & 0xffffffff));
  }
}
