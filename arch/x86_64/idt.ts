// The IDT: every one of the 256 vectors enters through its stub in isr.S and
// reaches kernel/trap.ts. Double fault, NMI and machine check switch to
// their own stacks (IST).
import { loadIdt, trapStubAddress } from "./cpu";
import { GDT_KERNEL_CODE } from "./layout";
import { IST_DOUBLE_FAULT, IST_ENTRY, IST_MACHINE_CHECK, IST_NMI } from "./gdt";

const VECTORS: u32 = 256;
const GATE_BYTES: u32 = 16;
const INTERRUPT_GATE: u64 = 0x8e; // present, DPL 0, 64-bit interrupt gate

const idt = memory.data(<i32>(VECTORS * GATE_BYTES), 16);

function setGate(vector: u32, handler: u64, ist: u32): void {
  let gate = idt + <usize>(vector * GATE_BYTES);
  let low: u64 =
    (handler & 0xffff) |
    (<u64>GDT_KERNEL_CODE << 16) |
    (<u64>(ist & 7) << 32) |
    (INTERRUPT_GATE << 40) |
    (((handler >> 16) & 0xffff) << 48);
  store<u64>(gate, low);
  store<u64>(gate, handler >> 32, 8);
}

export function idtInit(): void {
  for (let vector: u32 = 0; vector < VECTORS; vector++) {
    let ist: u32 = 0;
    if (vector == 8) ist = IST_DOUBLE_FAULT;
    else if (vector == 2) ist = IST_NMI;
    else if (vector == 18) ist = IST_MACHINE_CHECK;
    setGate(vector, trapStubAddress(vector), ist);
  }
  idtLoad();
}

/**
 * Once applications run (kernel/app.ts): every vector but NMI, #DF and #MC
 * enters on the CPU's entry stack, and isr.S trap_entry moves the frame to
 * the kernel stack it belongs on. Applications run at ring 0, where the CPU
 * would otherwise push the frame on the application's stack: over its red
 * zone, or on memory not yet mapped. Each gate changes with one 8-byte store.
 */
export function idtUseEntryStack(): void {
  for (let vector: u32 = 0; vector < VECTORS; vector++) {
    if (vector == 8 || vector == 2 || vector == 18) continue;
    setGate(vector, trapStubAddress(vector), IST_ENTRY);
  }
}

/** Loads the (shared) IDT on this CPU. */
export function idtLoad(): void {
  loadIdt(idt, VECTORS * GATE_BYTES - 1);
}
