// I/O APICs: found in the ACPI MADT (type 1 entries, each with the first
// global system interrupt (GSI) it serves) together with the interrupt source
// overrides (type 2) that move ISA IRQs to other GSIs or change their
// polarity and trigger mode. Drivers route a GSI to a vector on the boot CPU;
// every pin starts masked. microvm's virtio-mmio devices and PCI INTx lines
// arrive here; PCI devices with MSI-X bypass the I/O APIC.
import { memoryFence } from "./atomic";
import { findTable } from "../../kernel/acpi";
import { spinLock, spinUnlock } from "../../kernel/sync/spinlock";
import { Log } from "../../kernel/log";

const SIGNATURE_APIC: u32 = 0x43495041; // "APIC": the MADT
const MADT_IOAPIC: u8 = 1;
const MADT_OVERRIDE: u8 = 2;

const REG_SELECT: usize = 0x00;
const REG_WINDOW: usize = 0x10;
const REG_VERSION: u32 = 0x01;
const REG_REDIRECTION: u32 = 0x10;

const ENTRY_ACTIVE_LOW: u32 = 1 << 13;
const ENTRY_LEVEL: u32 = 1 << 15;
const ENTRY_MASKED: u32 = 1 << 16;

/** Trigger and polarity of a GSI, as ioapicIsaIrq returns them. */
export const IRQ_EDGE: u32 = 0;
export const IRQ_LEVEL: u32 = 1;
export const IRQ_ACTIVE_HIGH: u32 = 0;
export const IRQ_ACTIVE_LOW: u32 = 2;

const MAX_IOAPICS: u32 = 8;
const MAX_OVERRIDES: u32 = 16;
// Per I/O APIC: base u32, first GSI u32, pin count u32, id u32.
const ioapics = memory.data(<i32>(MAX_IOAPICS * 16), 8);
// Per override: ISA IRQ u32, GSI u32, MADT flags u32, unused u32.
const overrides = memory.data(<i32>(MAX_OVERRIDES * 16), 8);
const lock = memory.data(4, 4);

export class IoApic {
  static count: u32 = 0;
  static overrideCount: u32 = 0;
  static initialized: bool = false;
}

function base(i: u32): usize {
  return <usize>load<u32>(ioapics + <usize>i * 16);
}
function firstGsi(i: u32): u32 {
  return load<u32>(ioapics + <usize>i * 16, 4);
}
function pins(i: u32): u32 {
  return load<u32>(ioapics + <usize>i * 16, 8);
}

// The registers are uncached MMIO: fences keep the compiler from merging or
// caching these accesses (AS loads and stores are plain memory to gcc).
function readRegister(ioapic: usize, register: u32): u32 {
  memoryFence();
  store<u32>(ioapic + REG_SELECT, register);
  memoryFence();
  let value = load<u32>(ioapic + REG_WINDOW);
  memoryFence();
  return value;
}

function writeRegister(ioapic: usize, register: u32, value: u32): void {
  memoryFence();
  store<u32>(ioapic + REG_SELECT, register);
  memoryFence();
  store<u32>(ioapic + REG_WINDOW, value);
  memoryFence();
}

/** Reads the MADT's I/O APICs and overrides and masks every pin. Safe to call twice. */
export function ioapicInit(): u32 {
  if (IoApic.initialized) return IoApic.count;
  IoApic.initialized = true;
  let madt = findTable(SIGNATURE_APIC);
  if (madt == 0) return 0;
  let length = load<u32>(madt, 4);
  let offset: u32 = 44;
  while (offset + 2 <= length) {
    let entry = madt + offset;
    let type = load<u8>(entry);
    let entryLength = <u32>load<u8>(entry, 1);
    if (entryLength < 2) break;
    if (type == MADT_IOAPIC && entryLength >= 12 && IoApic.count < MAX_IOAPICS) {
      let address = load<u32>(entry, 4);
      let record = ioapics + <usize>IoApic.count * 16;
      store<u32>(record, address);
      store<u32>(record, load<u32>(entry, 8), 4);
      store<u32>(record, ((readRegister(<usize>address, REG_VERSION) >> 16) & 0xff) + 1, 8);
      store<u32>(record, <u32>load<u8>(entry, 2), 12);
      IoApic.count++;
    } else if (type == MADT_OVERRIDE && entryLength >= 10 && IoApic.overrideCount < MAX_OVERRIDES) {
      let record = overrides + <usize>IoApic.overrideCount * 16;
      store<u32>(record, <u32>load<u8>(entry, 3));
      store<u32>(record, load<u32>(entry, 4), 4);
      store<u32>(record, <u32>load<u16>(entry, 8), 8);
      IoApic.overrideCount++;
    }
    offset += entryLength;
  }
  for (let i: u32 = 0; i < IoApic.count; i++) {
    for (let pin: u32 = 0; pin < pins(i); pin++) {
      writeRegister(base(i), REG_REDIRECTION + pin * 2, ENTRY_MASKED);
      writeRegister(base(i), REG_REDIRECTION + pin * 2 + 1, 0);
    }
  }
  return IoApic.count;
}

/** Index of the I/O APIC serving `gsi`, or -1. */
function ioapicFor(gsi: u32): i32 {
  for (let i: u32 = 0; i < IoApic.count; i++) {
    if (gsi >= firstGsi(i) && gsi < firstGsi(i) + pins(i)) return <i32>i;
  }
  return -1;
}

/**
 * GSI and mode (IRQ_LEVEL | IRQ_ACTIVE_LOW bits) of ISA IRQ `irq`: edge and
 * active high on the same GSI unless the MADT overrides it. Returns
 * (mode << 32) | gsi.
 */
export function ioapicIsaIrq(irq: u32): u64 {
  for (let i: u32 = 0; i < IoApic.overrideCount; i++) {
    let record = overrides + <usize>i * 16;
    if (load<u32>(record) != irq) continue;
    let flags = load<u32>(record, 8);
    let mode: u32 = 0;
    if ((flags & 3) == 3) mode |= IRQ_ACTIVE_LOW;
    if (((flags >> 2) & 3) == 3) mode |= IRQ_LEVEL;
    return (<u64>mode << 32) | <u64>load<u32>(record, 4);
  }
  return <u64>irq;
}

/**
 * Routes `gsi` to `vector` on the CPU with local APIC id `apicId`, fixed
 * delivery, physical destination; `mode` is IRQ_LEVEL/IRQ_ACTIVE_LOW bits.
 * Leaves it masked when `masked`. False if no I/O APIC serves `gsi`.
 */
export function ioapicRoute(gsi: u32, vector: u32, mode: u32, apicId: u32, masked: bool): bool {
  let index = ioapicFor(gsi);
  if (index < 0) return false;
  let pin = gsi - firstGsi(<u32>index);
  let low = vector & 0xff;
  if (mode & IRQ_LEVEL) low |= ENTRY_LEVEL;
  if (mode & IRQ_ACTIVE_LOW) low |= ENTRY_ACTIVE_LOW;
  if (masked) low |= ENTRY_MASKED;
  let flags = spinLock(lock);
  let address = base(<u32>index);
  writeRegister(address, REG_REDIRECTION + pin * 2, ENTRY_MASKED);
  writeRegister(address, REG_REDIRECTION + pin * 2 + 1, apicId << 24);
  writeRegister(address, REG_REDIRECTION + pin * 2, low);
  spinUnlock(lock, flags);
  return true;
}

/** Masks or unmasks `gsi` (routed before with ioapicRoute). */
export function ioapicSetMasked(gsi: u32, masked: bool): void {
  let index = ioapicFor(gsi);
  if (index < 0) return;
  let pin = gsi - firstGsi(<u32>index);
  let flags = spinLock(lock);
  let address = base(<u32>index);
  let low = readRegister(address, REG_REDIRECTION + pin * 2);
  low = masked ? low | ENTRY_MASKED : low & ~ENTRY_MASKED;
  writeRegister(address, REG_REDIRECTION + pin * 2, low);
  spinUnlock(lock, flags);
}

export function ioapicLog(): void {
  for (let i: u32 = 0; i < IoApic.count; i++) {
    Log.str("ioapic: id ");
    Log.dec(load<u32>(ioapics + <usize>i * 16, 12));
    Log.str(" at ");
    Log.hexWidth(base(i), 8);
    Log.str(", GSI ");
    Log.dec(firstGsi(i));
    Log.str("-");
    Log.dec(firstGsi(i) + pins(i) - 1);
    Log.newline();
  }
}
