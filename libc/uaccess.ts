// Helpers for system calls that read and write application memory: every
// access goes through arch/x86_64/access.ts and fails with -EFAULT, never a
// kernel fault. Kernel-side buffers come from the calling thread's scratch
// area (kernel/app.ts), which no other thread uses.
import {
  accessCopyIn, accessCopyOut, accessStringLength, accessWrite64,
} from "../arch/x86_64/access";
import { currentApp } from "../kernel/app";
import { EFAULT, ENAMETOOLONG, ENOENT } from "./errno";

// The scratch area (SCRATCH_PAGES pages): a path, a buffer for structures
// and bounced data, and a few words.
export const SCRATCH_PAGES: usize = 2;
export const PATH_MAX: u32 = 4096;
const BUFFER_OFFSET: usize = 4096;
/** Bytes of scratchBuffer(). */
export const BUFFER_BYTES: usize = 4032;
const WORDS_OFFSET: usize = 8128;

/** Where copyPath puts a path (PATH_MAX bytes). */
export function scratchPath(): usize {
  return currentApp().scratch;
}

/** BUFFER_BYTES for one system call's structures or bounced data. */
export function scratchBuffer(): usize {
  return currentApp().scratch + BUFFER_OFFSET;
}

/** 64 bytes for single values. */
export function scratchWords(): usize {
  return currentApp().scratch + WORDS_OFFSET;
}

export function copyIn(dst: usize, src: u64, count: usize): i64 {
  return accessCopyIn(dst, src, <u32>count);
}

export function copyOut(dst: u64, src: usize, count: usize): i64 {
  return accessCopyOut(dst, src, <u32>count);
}

/** Reads a u64 at application address `address` into `*out`: 0 or -EFAULT. */
export function getU64(address: u64, out: usize): i64 {
  return accessCopyIn(out, address, 8);
}

export function putU64(address: u64, value: u64): i64 {
  return accessWrite64(address, value);
}

/** Stores a u32 at application address `address` (any alignment). */
export function putU32(address: u64, value: u32): i64 {
  let word = scratchWords();
  store<u32>(word, value);
  return accessCopyOut(address, word, 4);
}

/**
 * Copies the path at application address `path` into the scratch page as a
 * NUL-terminated string; returns its length, -EFAULT, -ENAMETOOLONG (no NUL
 * within PATH_MAX bytes) or -ENOENT (empty, unless `emptyOk`).
 */
export function copyPath(path: u64, emptyOk: bool): i64 {
  let length = accessStringLength(path, PATH_MAX);
  if (length < 0) return -EFAULT;
  if (length >= <i64>PATH_MAX) return -ENAMETOOLONG;
  if (length == 0 && !emptyOk) return -ENOENT;
  let buffer = scratchPath();
  if (accessCopyIn(buffer, path, <u32>length) < 0) return -EFAULT;
  store<u8>(buffer + <usize>length, 0);
  return length;
}

/** Is the copied path (copyPath) equal to the ASCII `text`? */
export function pathEquals(length: i64, text: string): bool {
  if (length != <i64>text.length) return false;
  let buffer = scratchPath();
  for (let i: i32 = 0; i < text.length; i++) {
    if (<i32>load<u8>(buffer + <usize>i) != text.charCodeAt(i)) return false;
  }
  return true;
}
