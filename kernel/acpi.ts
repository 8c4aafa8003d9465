// Just enough ACPI to power off: RSDP -> RSDT/XSDT -> FADT, the S5 sleep type
// from the DSDT's \_S5 package, then PM1a_CNT (legacy: pc, q35) or the sleep
// control register (hardware-reduced ACPI: microvm).
import { outb, outw } from "../arch/x86_64/cpu";
import { BootInfo } from "./bootinfo";

const SIGNATURE_RSDP_LOW: u32 = 0x20445352; // "RSD "
const SIGNATURE_RSDP_HIGH: u32 = 0x20525450; // "PTR "
const SIGNATURE_FACP: u32 = 0x50434146; // "FACP"
const SIGNATURE_S5: u32 = 0x5f35535f; // "_S5_"
const FADT_HW_REDUCED: u32 = 1 << 20;

function isRsdp(address: usize): bool {
  return load<u32>(address) == SIGNATURE_RSDP_LOW && load<u32>(address, 4) == SIGNATURE_RSDP_HIGH;
}

function scanForRsdp(start: usize, end: usize): usize {
  for (let a = start; a + 20 <= end; a += 16) if (isRsdp(a)) return a;
  return 0;
}

/** Finds the RSDP; must run while physical page 0 (the BIOS data area) is
 * still mapped. kernel/main.ts caches the result in BootInfo.rsdp. */
export function findRsdp(): usize {
  if (BootInfo.rsdp != 0 && BootInfo.rsdp < 0x100000000 && isRsdp(<usize>BootInfo.rsdp)) {
    return <usize>BootInfo.rsdp;
  }
  let ebda = <usize>load<u16>(0x40e) << 4;
  if (ebda >= 0x80000 && ebda < 0xa0000) {
    let found = scanForRsdp(ebda, ebda + 1024);
    if (found != 0) return found;
  }
  return scanForRsdp(0xe0000, 0x100000);
}

/** Physical address of the first table with `signature`, or 0 (also when
 * the machine has no ACPI). Uses the RSDP that boot found (BootInfo.rsdp). */
export function findTable(signature: u32): usize {
  let rsdp = <usize>BootInfo.rsdp;
  if (rsdp == 0 || !isRsdp(rsdp)) return 0;
  let revision = load<u8>(rsdp, 15);
  let xsdt = revision >= 2 ? load<u64>(rsdp, 24) : 0;
  let useXsdt = xsdt != 0 && xsdt < 0x100000000;
  let root: usize = useXsdt ? <usize>xsdt : <usize>load<u32>(rsdp, 16);
  if (root == 0) return 0;
  let length = load<u32>(root, 4);
  let entrySize: u32 = useXsdt ? 8 : 4;
  if (length < 36 || length > 0x10000) return 0;
  for (let off: u32 = 36; off + entrySize <= length; off += entrySize) {
    let table: u64 = useXsdt ? load<u64>(root + off) : <u64>load<u32>(root + off);
    if (table == 0 || table >= 0x100000000) continue;
    if (load<u32>(<usize>table) == signature) return <usize>table;
  }
  return 0;
}

/** SLP_TYPa for S5 from the DSDT's \_S5 package; -1 when not found. */
function sleepTypeS5(dsdt: usize): i32 {
  let length = load<u32>(dsdt, 4);
  if (length > 0x100000) return -1;
  for (let i: u32 = 36; i + 8 < length; i++) {
    if (load<u32>(dsdt + i) != SIGNATURE_S5) continue;
    let p = dsdt + i + 4;
    if (load<u8>(p) != 0x12) continue; // PackageOp
    p++;
    p += 1 + (load<u8>(p) >> 6); // PkgLength: extra bytes in the top 2 bits
    p++; // NumElements
    let op = load<u8>(p);
    if (op == 0x0a) return load<u8>(p + 1); // BytePrefix
    if (op == 0x00) return 0; // ZeroOp
    if (op == 0x01) return 1; // OneOp
    return <i32>op; // some tables store the small integer directly
  }
  return -1;
}

/** Requests S5 through ACPI; false when there is no way to. QEMU acts on the
 * request asynchronously, so the caller waits a little before giving up. */
export function acpiPowerOff(): bool {
  let fadt = findTable(SIGNATURE_FACP);
  if (fadt == 0) return false;
  let fadtLength = load<u32>(fadt, 4);
  let dsdt: usize = <usize>load<u32>(fadt, 40);
  if (fadtLength >= 148) {
    let xDsdt = load<u64>(fadt, 140);
    if (xDsdt != 0 && xDsdt < 0x100000000) dsdt = <usize>xDsdt;
  }
  let slpTyp = dsdt != 0 ? sleepTypeS5(dsdt) : -1;
  let flags = fadtLength >= 116 ? load<u32>(fadt, 112) : 0;
  if (flags & FADT_HW_REDUCED) {
    if (fadtLength < 256) return false;
    let space = load<u8>(fadt, 244);
    let address = load<u64>(fadt, 248);
    if (slpTyp < 0) slpTyp = 5; // QEMU's GED uses 5 for S5
    let value = <u8>(((slpTyp & 7) << 2) | (1 << 5)); // SLP_TYP, SLP_EN
    if (space == 0 && address != 0 && address < 0x100000000) store<u8>(<usize>address, value);
    else if (space == 1) outb(<u32>address, value);
    else return false;
  } else {
    let pm1a = load<u32>(fadt, 64);
    if (pm1a == 0 || slpTyp < 0) return false;
    outw(pm1a, ((<u32>slpTyp & 7) << 10) | (1 << 13));
    let pm1b = load<u32>(fadt, 68);
    if (pm1b != 0) outw(pm1b, ((<u32>slpTyp & 7) << 10) | (1 << 13));
  }
  return true;
}

const SIGNATURE_APIC: u32 = 0x43495041; // "APIC" (the MADT)

/**
 * Local APIC ids of the usable CPUs from the MADT, written as u32s at `out`
 * (at most `max`); returns how many. 0 when there is no MADT.
 */
export function madtCpus(out: usize, max: u32): u32 {
  let madt = findTable(SIGNATURE_APIC);
  if (madt == 0) return 0;
  let length = load<u32>(madt, 4);
  let count: u32 = 0;
  let offset: u32 = 44;
  while (offset + 2 <= length && count < max) {
    let type = load<u8>(madt + offset);
    let entryLength = <u32>load<u8>(madt + offset + 1);
    if (entryLength < 2) break;
    if (type == 0 && entryLength >= 8) {
      let flags = load<u32>(madt + offset + 4);
      // Enabled, or online-capable (may be brought up).
      if ((flags & 3) != 0) {
        store<u32>(out + <usize>count * 4, <u32>load<u8>(madt + offset + 3));
        count++;
      }
    }
    offset += entryLength;
  }
  return count;
}
