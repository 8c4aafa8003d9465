// Each CPU's GDT (flat code and data, ring 0) and TSS, whose interrupt stack
// table gives double faults, NMIs and machine checks stacks of their own: a
// kernel stack overflow must still produce a report.
import { loadGdt, loadTaskRegister } from "./cpu";
import { physToDirectMap } from "./layout";

export const TSS_SELECTOR: u32 = 0x18;
export const IST_DOUBLE_FAULT: u32 = 1;
export const IST_NMI: u32 = 2;
export const IST_MACHINE_CHECK: u32 = 3;
/** Where every other vector enters once applications run (idt.ts idtUseEntryStack). */
export const IST_ENTRY: u32 = 4;
/** Bytes of IST stacks a CPU needs (four stacks). */
export const IST_STACK_BYTES: u32 = 16 * 1024;
export const IST_STACKS: u32 = 4;
export const IST_AREA_BYTES: u32 = IST_STACKS * IST_STACK_BYTES;
const MAX_CPUS: u32 = 64;

const GDT_ENTRIES: u32 = 5; // null, code, data, TSS (two slots)
const GDT_BYTES: u32 = GDT_ENTRIES * 8;
const TSS_BYTES: u32 = 104;
const TSS_SLOT: u32 = 112;

const gdts = memory.data(<i32>(MAX_CPUS * GDT_BYTES), 16);
const tsses = memory.data(<i32>(MAX_CPUS * TSS_SLOT), 16);
/** The boot CPU's IST stacks; other CPUs get theirs from the page allocator. */
export const bootIstArea = memory.data(<i32>IST_AREA_BYTES, 16);

/** Builds and loads CPU `cpu`'s GDT and TSS with IST stacks in [istArea, istArea + IST_AREA_BYTES). */
export function gdtInit(cpu: u32, istArea: usize): void {
  let gdt = gdts + <usize>(cpu * GDT_BYTES);
  let tss = tsses + <usize>(cpu * TSS_SLOT);
  store<u64>(gdt, 0);
  store<u64>(gdt, 0x00af9a000000ffff, 8); // 0x08: 64-bit code
  store<u64>(gdt, 0x00cf92000000ffff, 16); // 0x10: data

  memory.fill(tss, 0, TSS_BYTES);
  for (let i: u32 = 0; i < IST_STACKS; i++) {
    let top = physToDirectMap(istArea + (i + 1) * IST_STACK_BYTES);
    store<u64>(tss + 36 + <usize>i * 8, top); // IST1..IST4
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

  loadGdt(gdt, GDT_BYTES - 1);
  loadTaskRegister(TSS_SELECTOR);
}
