// PCI: configuration access through ECAM (the ACPI MCFG table, on q35) or
// the legacy 0xcf8/0xcfc ports (pc, and anything without MCFG), a scan of
// every bus reachable from bus 0 through bridges, BAR sizing, and MSI-X.
// BARs stay where the firmware put them; memory below 4 GiB is reached
// through the direct map (uncached from 3 GiB), 64-bit BARs above 4 GiB are
// reported and left unused.
import { inb, inl, inw, outb, outl, outw } from "../../arch/x86_64/cpu";
import { findTable } from "../../kernel/acpi";
import { Log } from "../../kernel/log";
import { heapAlloc, TAG_DRIVERS } from "../../kernel/mm/heap";
import { spinLock, spinUnlock } from "../../kernel/sync/spinlock";
import { mmioRead16, mmioRead32, mmioRead8, mmioWrite16, mmioWrite32, mmioWrite8 } from "../mmio";
import {
  barIs64, barIsIo, barIsPrefetchable, barSizeFromMask, CONFIG_SNAPSHOT_BYTES, msixTableBar, msixTableOffset,
  msixTableSize, pciFindCapability, PCI_BAR0, PCI_CAP_MSIX, PCI_CLASS_REVISION, PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_DEVICE, PCI_HEADER_TYPE,
  PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, PCI_SECONDARY_BUS, PCI_SUBSYSTEM, PCI_VENDOR,
} from "./capability";

const SIGNATURE_MCFG: u32 = 0x4746434d; // "MCFG"
const CONFIG_ADDRESS: u32 = 0xcf8;
const CONFIG_DATA: u32 = 0xcfc;
const MAX_DEVICES: u32 = 64;
const FOUR_GIB: u64 = 0x100000000;

const BAR_FLAG_IO: u32 = 1;
const BAR_FLAG_64: u32 = 2;
const BAR_FLAG_PREFETCH: u32 = 4;
/** The BAR's address is usable through the direct map (memory below 4 GiB). */
const BAR_FLAG_MAPPED: u32 = 8;
const BAR_RECORD: usize = 24; // address u64, size u64, flags u32, pad

/** The standard header every function has; capabilities follow it. */
const PCI_HEADER_BYTES: u32 = 0x40;

@unmanaged
export class PciDevice {
  bus: u32;
  slot: u32;
  func: u32;
  vendor: u32;
  device: u32;
  /** class << 16 | subclass << 8 | programming interface. */
  classCode: u32;
  subsystemVendor: u32;
  subsystem: u32;
  headerType: u32;
  interruptLine: u32;
  interruptPin: u32;
  msixCap: u32;
  msixCount: u32;
  msixTable: usize;
  /** 256-byte copy of the configuration space: the 64-byte header at scan
   * time, the rest (capabilities) when a driver first asks (pciConfig). */
  config: usize;
  /** Six BAR records (BAR_RECORD bytes each). */
  bars: usize;
  /** Claimed by a driver. */
  claimed: u32;
  /** The full snapshot is read and the BARs sized. */
  detailed: u32;
}

export class Pci {
  static ecamBase: usize = 0;
  static ecamStartBus: u32 = 0;
  static ecamEndBus: u32 = 0;
  static deviceCount: u32 = 0;
  static scanned: bool = false;
}

const devices = memory.data(<i32>(MAX_DEVICES * 4), 4);
const portLock = memory.data(4, 4);
const busSeen = memory.data(256);

// ---- configuration access ----

function ecamAddress(bus: u32, slot: u32, func: u32, offset: u32): usize {
  return Pci.ecamBase + ((<usize>(bus - Pci.ecamStartBus) << 20) | (<usize>slot << 15) | (<usize>func << 12) | <usize>offset);
}

function useEcam(bus: u32): bool {
  return Pci.ecamBase != 0 && bus >= Pci.ecamStartBus && bus <= Pci.ecamEndBus;
}

function portAddress(bus: u32, slot: u32, func: u32, offset: u32): u32 {
  return 0x80000000 | (bus << 16) | (slot << 11) | (func << 8) | (offset & 0xfc);
}

export function pciRead32(bus: u32, slot: u32, func: u32, offset: u32): u32 {
  if (useEcam(bus)) return mmioRead32(ecamAddress(bus, slot, func, offset));
  let flags = spinLock(portLock);
  outl(CONFIG_ADDRESS, portAddress(bus, slot, func, offset));
  let value = inl(CONFIG_DATA);
  spinUnlock(portLock, flags);
  return value;
}

export function pciRead16(bus: u32, slot: u32, func: u32, offset: u32): u32 {
  if (useEcam(bus)) return mmioRead16(ecamAddress(bus, slot, func, offset));
  let flags = spinLock(portLock);
  outl(CONFIG_ADDRESS, portAddress(bus, slot, func, offset));
  let value = inw(CONFIG_DATA + (offset & 2));
  spinUnlock(portLock, flags);
  return value;
}

export function pciRead8(bus: u32, slot: u32, func: u32, offset: u32): u32 {
  if (useEcam(bus)) return mmioRead8(ecamAddress(bus, slot, func, offset));
  let flags = spinLock(portLock);
  outl(CONFIG_ADDRESS, portAddress(bus, slot, func, offset));
  let value = inb(CONFIG_DATA + (offset & 3));
  spinUnlock(portLock, flags);
  return value;
}

export function pciWrite32(bus: u32, slot: u32, func: u32, offset: u32, value: u32): void {
  if (useEcam(bus)) {
    mmioWrite32(ecamAddress(bus, slot, func, offset), value);
    return;
  }
  let flags = spinLock(portLock);
  outl(CONFIG_ADDRESS, portAddress(bus, slot, func, offset));
  outl(CONFIG_DATA, value);
  spinUnlock(portLock, flags);
}

export function pciWrite16(bus: u32, slot: u32, func: u32, offset: u32, value: u32): void {
  if (useEcam(bus)) {
    mmioWrite16(ecamAddress(bus, slot, func, offset), value);
    return;
  }
  let flags = spinLock(portLock);
  outl(CONFIG_ADDRESS, portAddress(bus, slot, func, offset));
  outw(CONFIG_DATA + (offset & 2), value);
  spinUnlock(portLock, flags);
}

export function pciWrite8(bus: u32, slot: u32, func: u32, offset: u32, value: u32): void {
  if (useEcam(bus)) {
    mmioWrite8(ecamAddress(bus, slot, func, offset), value);
    return;
  }
  let flags = spinLock(portLock);
  outl(CONFIG_ADDRESS, portAddress(bus, slot, func, offset));
  outb(CONFIG_DATA + (offset & 3), value);
  spinUnlock(portLock, flags);
}

export function pciDeviceRead16(dev: PciDevice, offset: u32): u32 {
  return pciRead16(dev.bus, dev.slot, dev.func, offset);
}

export function pciDeviceWrite16(dev: PciDevice, offset: u32, value: u32): void {
  pciWrite16(dev.bus, dev.slot, dev.func, offset, value);
}

// ---- ECAM from the MCFG ----

function findEcam(): void {
  let mcfg = findTable(SIGNATURE_MCFG);
  if (mcfg == 0) return;
  let length = load<u32>(mcfg, 4);
  for (let offset: u32 = 44; offset + 16 <= length; offset += 16) {
    let entry = mcfg + offset;
    let base = load<u64>(entry);
    let segment = <u32>load<u16>(entry, 8);
    if (segment != 0) continue;
    let start = <u32>load<u8>(entry, 10);
    let end = <u32>load<u8>(entry, 11);
    let bytes = <u64>(end - start + 1) << 20;
    if (base == 0 || base + bytes > FOUR_GIB || end < start) {
      Log.str("pci: ECAM at ");
      Log.hex(base);
      Log.line(" is beyond the direct map: using port I/O");
      continue;
    }
    Pci.ecamBase = <usize>base;
    Pci.ecamStartBus = start;
    Pci.ecamEndBus = end;
    return;
  }
}

// ---- BARs ----

function barRecord(dev: PciDevice, index: u32): usize {
  pciLoadDetails(dev);
  return dev.bars + <usize>index * BAR_RECORD;
}

/**
 * Reads the rest of the configuration space and sizes the BARs, once. The
 * scan reads only each function's header: most functions (host bridge, LPC,
 * SATA...) have no Wisp driver, and every config access is a trap to the
 * hypervisor.
 */
export function pciLoadDetails(dev: PciDevice): void {
  if (dev.detailed != 0) return;
  dev.detailed = 1;
  for (let offset: u32 = PCI_HEADER_BYTES; offset < CONFIG_SNAPSHOT_BYTES; offset += 4) {
    store<u32>(dev.config + offset, pciRead32(dev.bus, dev.slot, dev.func, offset));
  }
  sizeBars(dev);
}

/** The configuration-space snapshot with capabilities (pciLoadDetails). */
export function pciConfig(dev: PciDevice): usize {
  pciLoadDetails(dev);
  return dev.config;
}

export function pciBarAddress(dev: PciDevice, index: u32): u64 {
  return index < 6 ? load<u64>(barRecord(dev, index)) : 0;
}

export function pciBarSize(dev: PciDevice, index: u32): u64 {
  return index < 6 ? load<u64>(barRecord(dev, index), 8) : 0;
}

export function pciBarIsIo(dev: PciDevice, index: u32): bool {
  return index < 6 && (load<u32>(barRecord(dev, index), 16) & BAR_FLAG_IO) != 0;
}

/** The AS pointer of memory BAR `index`, or 0 when it is absent, I/O, or beyond the direct map. */
export function pciBarPointer(dev: PciDevice, index: u32): usize {
  if (index >= 6) return 0;
  let record = barRecord(dev, index);
  if ((load<u32>(record, 16) & BAR_FLAG_MAPPED) == 0) return 0;
  return <usize>load<u64>(record);
}

function sizeBars(dev: PciDevice): void {
  let count: u32 = (dev.headerType & 0x7f) == 0 ? 6 : (dev.headerType & 0x7f) == 1 ? 2 : 0;
  let command = pciDeviceRead16(dev, PCI_COMMAND);
  // No decoding while a BAR holds all ones.
  pciDeviceWrite16(dev, PCI_COMMAND, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
  let i: u32 = 0;
  while (i < count) {
    let offset = PCI_BAR0 + i * 4;
    let original = pciRead32(dev.bus, dev.slot, dev.func, offset);
    pciWrite32(dev.bus, dev.slot, dev.func, offset, 0xffffffff);
    let mask = <u64>pciRead32(dev.bus, dev.slot, dev.func, offset);
    pciWrite32(dev.bus, dev.slot, dev.func, offset, original);
    let io = barIsIo(original);
    let wide = barIs64(original) && i + 1 < count;
    let address: u64 = io ? <u64>(original & ~(<u32>3)) : <u64>(original & ~(<u32>0xf));
    if (wide) {
      let highOffset = offset + 4;
      let high = pciRead32(dev.bus, dev.slot, dev.func, highOffset);
      pciWrite32(dev.bus, dev.slot, dev.func, highOffset, 0xffffffff);
      let highMask = pciRead32(dev.bus, dev.slot, dev.func, highOffset);
      pciWrite32(dev.bus, dev.slot, dev.func, highOffset, high);
      mask |= <u64>highMask << 32;
      address |= <u64>high << 32;
    } else if (!io && mask != 0) {
      mask |= 0xffffffff00000000;
    }
    let size = mask == 0 ? 0 : barSizeFromMask(mask, io);
    let flags: u32 = 0;
    if (io) flags |= BAR_FLAG_IO;
    if (wide) flags |= BAR_FLAG_64;
    if (barIsPrefetchable(original)) flags |= BAR_FLAG_PREFETCH;
    if (!io && size != 0 && address != 0) {
      if (address + size <= FOUR_GIB) {
        flags |= BAR_FLAG_MAPPED;
      } else {
        logLocation(dev);
        Log.str(" BAR");
        Log.dec(i);
        Log.str(" at ");
        Log.hex(address);
        Log.line(" is above 4 GiB, beyond the direct map: not used");
      }
    }
    let record = barRecord(dev, i);
    store<u64>(record, size != 0 ? address : 0);
    store<u64>(record, size, 8);
    store<u32>(record, flags, 16);
    i += wide ? 2 : 1;
  }
  pciDeviceWrite16(dev, PCI_COMMAND, command);
}

// ---- scan ----

function addFunction(bus: u32, slot: u32, func: u32): PciDevice | null {
  if (Pci.deviceCount >= MAX_DEVICES) return null;
  let record = heapAlloc(offsetof<PciDevice>() + CONFIG_SNAPSHOT_BYTES + 6 * BAR_RECORD, TAG_DRIVERS);
  if (record == 0) return null;
  let dev = changetype<PciDevice>(record);
  dev.bus = bus;
  dev.slot = slot;
  dev.func = func;
  dev.config = record + offsetof<PciDevice>();
  dev.bars = dev.config + CONFIG_SNAPSHOT_BYTES;
  for (let offset: u32 = 0; offset < PCI_HEADER_BYTES; offset += 4) {
    store<u32>(dev.config + offset, pciRead32(bus, slot, func, offset));
  }
  dev.vendor = <u32>load<u16>(dev.config + PCI_VENDOR);
  dev.device = <u32>load<u16>(dev.config + PCI_DEVICE);
  dev.classCode = load<u32>(dev.config + PCI_CLASS_REVISION) >> 8;
  dev.headerType = <u32>load<u8>(dev.config + PCI_HEADER_TYPE);
  if ((dev.headerType & 0x7f) == 0) {
    dev.subsystemVendor = <u32>load<u16>(dev.config + 0x2c);
    dev.subsystem = <u32>load<u16>(dev.config + PCI_SUBSYSTEM);
  }
  dev.interruptLine = <u32>load<u8>(dev.config + PCI_INTERRUPT_LINE);
  dev.interruptPin = <u32>load<u8>(dev.config + PCI_INTERRUPT_PIN);
  store<usize>(devices + <usize>Pci.deviceCount * 4, record);
  Pci.deviceCount++;
  return dev;
}

function scanBus(bus: u32, depth: u32): void {
  if (load<u8>(busSeen + bus) != 0 || depth > 8) return;
  store<u8>(busSeen + bus, 1);
  for (let slot: u32 = 0; slot < 32; slot++) {
    if (pciRead16(bus, slot, 0, PCI_VENDOR) == 0xffff) continue;
    let multi = (pciRead8(bus, slot, 0, PCI_HEADER_TYPE) & 0x80) != 0;
    let funcs: u32 = multi ? 8 : 1;
    for (let func: u32 = 0; func < funcs; func++) {
      if (pciRead16(bus, slot, func, PCI_VENDOR) == 0xffff) continue;
      let dev = addFunction(bus, slot, func);
      if (dev === null) return;
      if ((dev.headerType & 0x7f) == 1) {
        let secondary = <u32>load<u8>(dev.config + PCI_SECONDARY_BUS);
        if (secondary > bus) scanBus(secondary, depth + 1);
      }
    }
  }
}

/** Scans every bus reachable from bus 0; returns the number of functions found. */
export function pciScan(): u32 {
  if (Pci.scanned) return Pci.deviceCount;
  Pci.scanned = true;
  findEcam();
  // No host bridge answering means no PCI at all (microvm without pcie=on).
  if (!useEcam(0) && pciRead16(0, 0, 0, PCI_VENDOR) == 0xffff) {
    let anything = false;
    for (let slot: u32 = 0; slot < 32 && !anything; slot++) anything = pciRead16(0, slot, 0, PCI_VENDOR) != 0xffff;
    if (!anything) return 0;
  }
  scanBus(0, 0);
  return Pci.deviceCount;
}

export function pciDeviceCount(): u32 {
  return Pci.deviceCount;
}

export function pciDevice(index: u32): PciDevice {
  return changetype<PciDevice>(load<usize>(devices + <usize>index * 4));
}

// ---- bus mastering, MSI-X ----

/** Turns on memory and I/O decoding and bus mastering (DMA). */
export function pciEnableDevice(dev: PciDevice): void {
  let command = pciDeviceRead16(dev, PCI_COMMAND);
  pciDeviceWrite16(dev, PCI_COMMAND, command | PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
}

/** Finds and maps the MSI-X table; returns its entry count (0: no usable MSI-X). */
export function pciMsixProbe(dev: PciDevice): u32 {
  let cap = pciFindCapability(pciConfig(dev), PCI_CAP_MSIX);
  if (cap == 0) return 0;
  let table = pciBarPointer(dev, msixTableBar(dev.config, cap));
  if (table == 0) return 0;
  dev.msixCap = cap;
  dev.msixCount = msixTableSize(dev.config, cap);
  dev.msixTable = table + <usize>msixTableOffset(dev.config, cap);
  return dev.msixCount;
}

/** Points MSI-X entry `entry` at `vector` on the CPU with APIC id `apicId` (fixed, edge) and unmasks it. */
export function pciMsixSetEntry(dev: PciDevice, entry: u32, vector: u32, apicId: u32): void {
  let address = dev.msixTable + <usize>entry * 16;
  mmioWrite32(address + 12, 1); // masked while we change it
  mmioWrite32(address, 0xfee00000 | ((apicId & 0xff) << 12));
  mmioWrite32(address + 4, 0);
  mmioWrite32(address + 8, vector & 0xff);
  mmioWrite32(address + 12, 0);
}

/** Enables MSI-X (and with it disables INTx) or turns it off again. */
export function pciMsixEnable(dev: PciDevice, on: bool): void {
  let control = pciDeviceRead16(dev, dev.msixCap + 2);
  control = on ? (control | 0x8000) & ~(<u32>0x4000) : control & ~(<u32>0x8000);
  pciDeviceWrite16(dev, dev.msixCap + 2, control);
  let command = pciDeviceRead16(dev, PCI_COMMAND);
  command = on ? command | PCI_COMMAND_INTX_DISABLE : command & ~PCI_COMMAND_INTX_DISABLE;
  pciDeviceWrite16(dev, PCI_COMMAND, command);
}

// ---- log ----

function hex2(value: u32): void {
  let digits = "0123456789abcdef";
  Log.strSlice(digits, <i32>((value >> 4) & 0xf), <i32>((value >> 4) & 0xf) + 1);
  Log.strSlice(digits, <i32>(value & 0xf), <i32>(value & 0xf) + 1);
}

/** "pci 00:02.0". */
export function logLocation(dev: PciDevice): void {
  Log.str("pci ");
  hex2(dev.bus);
  Log.str(":");
  hex2(dev.slot);
  Log.str(".");
  Log.dec(dev.func);
}

export function pciLogDevices(): void {
  Log.str("pci: ");
  Log.dec(Pci.deviceCount);
  Log.str(" functions, configuration through ");
  if (Pci.ecamBase != 0) {
    Log.str("ECAM at ");
    Log.hexWidth(Pci.ecamBase, 8);
    Log.newline();
  } else {
    Log.line("ports 0xcf8/0xcfc");
  }
  for (let i: u32 = 0; i < Pci.deviceCount; i++) {
    let dev = pciDevice(i);
    logLocation(dev);
    Log.str(": ");
    hex2(dev.vendor >> 8);
    hex2(dev.vendor & 0xff);
    Log.str(":");
    hex2(dev.device >> 8);
    hex2(dev.device & 0xff);
    Log.str(" class ");
    hex2(dev.classCode >> 16);
    hex2((dev.classCode >> 8) & 0xff);
    for (let b: u32 = 0; b < 6; b++) {
      let size = pciBarSize(dev, b);
      if (size == 0) continue;
      Log.str(" BAR");
      Log.dec(b);
      Log.str(pciBarIsIo(dev, b) ? " io " : " mem ");
      Log.hexWidth(pciBarAddress(dev, b), 1);
      Log.str("+");
      Log.hexWidth(size, 1);
    }
    Log.newline();
  }
}
