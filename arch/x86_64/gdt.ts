// The kernel's final GDT (flat code and data, ring 0) and its TSS, whose
// interrupt stack table gives double faults, NMIs and machine checks stacks
// of their own: a kernel stack overflow must still produce a report.
import { loadGdt, loadTaskRegister } from "./cpu";
import { physToDirectMap } from "./layout";

export const TSS_SELECTOR: u32 = 0x18;
export const IST_DOUBLE_FAULT: u32 = 1;
export const IST_NMI: u32 = 2;
export const IST_MACHINE_CHECK: u32 = 3;

const GDT_ENTRIES: u32 = 5; // null, code, data, TSS (two slots)
const TSS_BYTES: u32 = 104;
const IST_STACK_BYTES: u32 = 16 * 1024;
const IST_STACKS: u32 = 3;

const gdt = memory.data(<i32>(GDT_ENTRIES * 8), 16);
const tss = memory.data(<i32>TSS_BYTES, 16);
const istStacks = memory.data(<i32>(IST_STACKS * IST_STACK_BYTES), 16);

export function gdtInit(): void {
  store<u64>(gdt, 0);
  store<u64>(gdt, 0x00af9a000000ffff, 8); // 0x08: 64-bit code
  store<u64>(gdt, 0x00cf92000000ffff, 16); // 0x10: data

  memory.fill(tss, 0, TSS_BYTES);
  for (let i: u32 = 0; i < IST_STACKS; i++) {
    let top = physToDirectMap(istStacks + (i + 1) * IST_STACK_BYTES);
    store<u64>(tss + 36 + <usize>i * 8, top); // IST1..IST3
  }
  store<u16>(tss, <u16>TSS_BYTES, 102); // I/O map base past the end: no bitmap

  let base = physToDirectMap(tss);
  let limit = <u64>(TSS_BYTES - 1);
  let low: u64 =
    (limit & 0xffff) |
    ((base & 0xffffff) << 16) |
    (<u64>0x89 << 40) | // present, 64-bit TSS (available)
    (((limit >> 16) & 0xf) << 48) |
    (((base >> 24) & 0xff) << 56);
  store<u64>(gdt, low, 24);
  store<u64>(gdt, base >> 32, 32);

  loadGdt(gdt, GDT_ENTRIES * 8 - 1);
  loadTaskRegister(TSS_SELECTOR);
}
