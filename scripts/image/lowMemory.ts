/**
 * Low memory as the MBR loader leaves it for the kernel (mirrors the .set
 * constants of arch/x86_64/mbr.S; tests/image/lowMemory.test.ts keeps them
 * in step). Everything the kernel reads sits in the page 0x7000..0x7fff.
 */
export const LOW_MEMORY = {
  /** struct hvm_start_info, 56 bytes; EBX points here at entry. */
  startInfo: 0x7000,
  /** e820 table: 24-byte entries (u64 addr, u64 size, u32 type, u32 zero). */
  e820Map: 0x7040,
  /** At most this many e820 entries are stored. */
  e820MaxEntries: 96,
  /** The loader's real-mode stack grows down from here (below startInfo). */
  stackTop: 0x7000,
  /** The MBR itself (dead once the kernel runs). */
  mbr: 0x7c00,
  /** Boot header sector; the command line is at bootHeader + 0x80. */
  bootHeader: 0x7e00,
  /** 32 KiB bounce buffer for disk reads (dead once the kernel runs). */
  bounce: 0x8000,
  bounceBytes: 0x8000,
} as const;
