// Device discovery and driver start-up, called once from kmain after the
// scheduler runs (drivers sleep on wait queues and start threads): the I/O
// APICs, PCI functions (virtio over PCI), and virtio-mmio devices named on
// the command line (virtio_mmio.device=, QEMU microvm without ACPI) or in
// the ACPI DSDT (microvm with ACPI).
import { ioapicInit, ioapicLog } from "../arch/x86_64/ioapic";
import { findTable } from "../kernel/acpi";
import { BootInfo } from "../kernel/bootinfo";
import { Log } from "../kernel/log";
import { Options } from "../kernel/options";
import { blockDeviceCount } from "./block";
import { entropyAddTimestamp } from "./entropy";
import { netdevCount, netdevGet } from "./netdev";
import { arpResponderStart } from "./net/arpresponder";
import { pciDevice, pciDeviceCount, pciLogDevices, pciScan } from "./pci/pci";
import { virtioBlkAttach, virtioBlkLog } from "./virtio/blk";
import { deviceTypeName, virtioLogFeatures, virtioLogQueues, virtioMmioProbe, virtioPciProbe, VirtioDevice } from "./virtio/device";
import { DEVICE_BLOCK, DEVICE_ENTROPY, DEVICE_NET } from "./virtio/features";
import { MMIO_ENTRY_BYTES, parseMmioCommandLine, parseMmioDsdt } from "./virtio/mmioparse";
import { virtioNetAttach, virtioNetLog } from "./virtio/net";
import { virtioRngAttach } from "./virtio/rng";

const SIGNATURE_FACP: u32 = 0x50434146;
const MAX_MMIO: u32 = 32;
const mmioEntries = memory.data(<i32>(MAX_MMIO * <u32>MMIO_ENTRY_BYTES), 8);
const MAX_ATTACHED: u32 = 32;
const attached = memory.data(<i32>(MAX_ATTACHED * 4), 4);

export class Drivers {
  static virtioDevices: u32 = 0;
  static pciFunctions: u32 = 0;
  static mmioSlots: u32 = 0;
}

function attach(dev: VirtioDevice): void {
  let result: i32 = 0;
  if (dev.deviceType == DEVICE_BLOCK) result = virtioBlkAttach(dev);
  else if (dev.deviceType == DEVICE_NET) result = virtioNetAttach(dev);
  else if (dev.deviceType == DEVICE_ENTROPY) result = virtioRngAttach(dev);
  else {
    Log.str("virtio: device type ");
    Log.dec(dev.deviceType);
    Log.line(" has no driver");
    return;
  }
  if (result < 0) {
    Log.str(deviceTypeName(dev.deviceType));
    Log.str(": set-up failed, error ");
    Log.signed(result);
    Log.newline();
    return;
  }
  if (Drivers.virtioDevices < MAX_ATTACHED) store<usize>(attached + <usize>Drivers.virtioDevices * 4, changetype<usize>(dev));
  Drivers.virtioDevices++;
}

/** The DSDT's address from the FADT, or 0. */
function findDsdt(): usize {
  let fadt = findTable(SIGNATURE_FACP);
  if (fadt == 0) return 0;
  let length = load<u32>(fadt, 4);
  if (length >= 148) {
    let x = load<u64>(fadt, 140);
    if (x != 0 && x < 0x100000000) return <usize>x;
  }
  return <usize>load<u32>(fadt, 40);
}

function mmioDevices(): u32 {
  let count = parseMmioCommandLine(BootInfo.cmdline, BootInfo.cmdlineLength, mmioEntries, MAX_MMIO);
  let dsdt = findDsdt();
  if (dsdt != 0) {
    let length = load<u32>(dsdt, 4);
    if (length > 36 && length < 0x100000) {
      let extra = mmioEntries + <usize>count * MMIO_ENTRY_BYTES;
      let found = parseMmioDsdt(dsdt + 36, length - 36, extra, MAX_MMIO - count);
      // Keep the first description of each base.
      for (let i: u32 = 0; i < found; i++) {
        let entry = extra + <usize>i * MMIO_ENTRY_BYTES;
        let duplicate = false;
        for (let k: u32 = 0; k < count; k++) {
          if (load<u64>(mmioEntries + <usize>k * MMIO_ENTRY_BYTES) == load<u64>(entry)) duplicate = true;
        }
        if (!duplicate) {
          memory.copy(mmioEntries + <usize>count * MMIO_ENTRY_BYTES, entry, MMIO_ENTRY_BYTES);
          count++;
        }
      }
    }
  }
  return count;
}

/** Finds and starts every supported device. */
export function driversInit(): void {
  entropyAddTimestamp();
  ioapicInit();
  let functions = pciScan();
  for (let i: u32 = 0; i < pciDeviceCount(); i++) {
    let dev = virtioPciProbe(pciDevice(i));
    if (dev !== null) attach(dev);
  }
  let count = mmioDevices();
  for (let i: u32 = 0; i < count; i++) {
    let entry = mmioEntries + <usize>i * MMIO_ENTRY_BYTES;
    let base = load<u64>(entry);
    if (base == 0 || base + load<u64>(entry, 8) > 0x100000000) continue;
    let dev = virtioMmioProbe(<usize>base, load<u32>(entry, 16), load<u32>(entry, 20));
    if (dev !== null) attach(dev);
  }
  // Until the network stack takes over, every interface answers ARP.
  for (let i: u32 = 0; i < netdevCount(); i++) {
    let dev = netdevGet(i);
    if (dev !== null) arpResponderStart(dev);
  }
  entropyAddTimestamp();
  Drivers.pciFunctions = functions;
  Drivers.mmioSlots = count;
}

/**
 * Prints what driversInit found: each device's negotiated features, queues
 * and interrupts, and its own summary. kmain calls it after the boot line:
 * console output under emulation costs milliseconds.
 */
export function driversLog(): void {
  if (Options.has("wisp.devices")) {
    ioapicLog();
    if (Drivers.pciFunctions > 0) pciLogDevices();
  }
  let count = Drivers.virtioDevices < MAX_ATTACHED ? Drivers.virtioDevices : MAX_ATTACHED;
  for (let i: u32 = 0; i < count; i++) {
    let dev = changetype<VirtioDevice>(load<usize>(attached + <usize>i * 4));
    virtioLogFeatures(dev);
    virtioLogQueues(dev);
    if (dev.deviceType == DEVICE_BLOCK) virtioBlkLog(dev);
    else if (dev.deviceType == DEVICE_NET) virtioNetLog(dev);
  }
  Log.str("drivers: ");
  Log.dec(Drivers.pciFunctions);
  Log.str(" PCI functions, ");
  Log.dec(Drivers.mmioSlots);
  Log.str(" virtio-mmio slots, ");
  Log.dec(Drivers.virtioDevices);
  Log.str(" virtio devices: ");
  Log.dec(blockDeviceCount());
  Log.str(" block, ");
  Log.dec(netdevCount());
  Log.line(" network");
}
