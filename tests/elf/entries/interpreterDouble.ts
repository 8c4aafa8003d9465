// Test double for kernel/elf/interpreterSource.ts: the interpreter's bytes
// come from the test (a host file, or garbage, or an error).
const AREA_BYTES: u32 = 4 << 20;
const area = memory.data(<i32>AREA_BYTES, 16);

@external("test", "readWholeFile") declare function readWholeFile(path: usize, length: u32, area: usize, capacity: u32): i32;

export function vfsReadWholeFile(path: usize, length: u32, out: usize): i32 {
  let result = readWholeFile(path, length, area, AREA_BYTES);
  if (result < 0) return result;
  store<u64>(out, <u64>area);
  store<u64>(out, <u64>result, 8);
  return 0;
}
