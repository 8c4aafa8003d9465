// A virtio device behind either transport: PCI with the modern (virtio 1.x)
// capabilities, which QEMU's transitional devices offer next to their legacy
// I/O BAR, or virtio-mmio version 2. The initialization sequence (virtio
// 1.2, 3.1.1), feature negotiation, queue set-up, configuration reads, and
// interrupts: MSI-X with one vector per queue plus one for configuration
// changes when the PCI function has enough table entries, else one shared
// vector through the I/O APIC (PCI INTx or the virtio-mmio line).
import { Lapic } from "../../arch/x86_64/lapic";
import { ioapicIsaIrq, ioapicRoute, IRQ_ACTIVE_LOW, IRQ_LEVEL } from "../../arch/x86_64/ioapic";
import { rdtsc, pause } from "../../arch/x86_64/cpu";
import { irqAllocateVector, irqRegister } from "../../kernel/irq";
import { Log } from "../../kernel/log";
import { heapAlloc, TAG_DRIVERS } from "../../kernel/mm/heap";
import { Options } from "../../kernel/options";
import { perCpu } from "../../kernel/sched/percpu";
import { Tsc } from "../../kernel/time/tsc";
import { mmioRead16, mmioRead32, mmioRead8, mmioWrite16, mmioWrite32, mmioWrite64, mmioWrite8 } from "../mmio";
import {
  logLocation, PciDevice, pciBarPointer, pciConfig, pciEnableDevice, pciMsixEnable, pciMsixProbe, pciMsixSetEntry,
} from "../pci/pci";
import {
  virtioCapBar, virtioCapNotifyMultiplier, virtioCapOffset, virtioFindCapability, virtioPciDeviceType,
  VIRTIO_PCI_CAP_COMMON, VIRTIO_PCI_CAP_DEVICE, VIRTIO_PCI_CAP_ISR, VIRTIO_PCI_CAP_NOTIFY,
} from "../pci/capability";
import { DEVICE_BLOCK, DEVICE_ENTROPY, DEVICE_NET, F_EVENT_IDX, F_INDIRECT_DESC, featureName, hasFeature, negotiateFeatures } from "./features";
import { MODE_UNKNOWN } from "./mmioparse";
import { chooseQueueSize } from "./ring";
import { Virtqueue, vqCreate } from "./virtqueue";
import { ENODEV, EIO, ENOMEM } from "../../kernel/errno";
export { ENODEV, EIO, ENOMEM };

export const TRANSPORT_PCI: u32 = 1;
export const TRANSPORT_MMIO: u32 = 2;

export const STATUS_ACKNOWLEDGE: u32 = 1;
export const STATUS_DRIVER: u32 = 2;
export const STATUS_DRIVER_OK: u32 = 4;
export const STATUS_FEATURES_OK: u32 = 8;
export const STATUS_NEEDS_RESET: u32 = 64;
export const STATUS_FAILED: u32 = 128;


export const MAX_QUEUES: u32 = 8;
const NO_VECTOR: u32 = 0xffff;

// virtio-pci common configuration (virtio 1.2, 4.1.4.3).
const COMMON_DEVICE_FEATURE_SELECT: usize = 0;
const COMMON_DEVICE_FEATURE: usize = 4;
const COMMON_DRIVER_FEATURE_SELECT: usize = 8;
const COMMON_DRIVER_FEATURE: usize = 12;
const COMMON_CONFIG_MSIX_VECTOR: usize = 16;
const COMMON_NUM_QUEUES: usize = 18;
const COMMON_DEVICE_STATUS: usize = 20;
const COMMON_CONFIG_GENERATION: usize = 21;
const COMMON_QUEUE_SELECT: usize = 22;
const COMMON_QUEUE_SIZE: usize = 24;
const COMMON_QUEUE_MSIX_VECTOR: usize = 26;
const COMMON_QUEUE_ENABLE: usize = 28;
const COMMON_QUEUE_NOTIFY_OFF: usize = 30;
const COMMON_QUEUE_DESC: usize = 32;
const COMMON_QUEUE_DRIVER: usize = 40;
const COMMON_QUEUE_DEVICE: usize = 48;

// virtio-mmio registers (virtio 1.2, 4.2.2).
const MMIO_MAGIC: usize = 0x000;
const MMIO_VERSION: usize = 0x004;
const MMIO_DEVICE_ID: usize = 0x008;
const MMIO_DEVICE_FEATURES: usize = 0x010;
const MMIO_DEVICE_FEATURES_SEL: usize = 0x014;
const MMIO_DRIVER_FEATURES: usize = 0x020;
const MMIO_DRIVER_FEATURES_SEL: usize = 0x024;
const MMIO_QUEUE_SEL: usize = 0x030;
const MMIO_QUEUE_NUM_MAX: usize = 0x034;
const MMIO_QUEUE_NUM: usize = 0x038;
const MMIO_QUEUE_READY: usize = 0x044;
const MMIO_QUEUE_NOTIFY: usize = 0x050;
const MMIO_INTERRUPT_STATUS: usize = 0x060;
const MMIO_INTERRUPT_ACK: usize = 0x064;
const MMIO_STATUS: usize = 0x070;
const MMIO_QUEUE_DESC: usize = 0x080;
const MMIO_QUEUE_DRIVER: usize = 0x090;
const MMIO_QUEUE_DEVICE: usize = 0x0a0;
const MMIO_CONFIG_GENERATION: usize = 0x0fc;
const MMIO_CONFIG: usize = 0x100;
export const MMIO_MAGIC_VALUE: u32 = 0x74726976; // "virt"

@unmanaged
export class VirtioDevice {
  transport: u32;
  deviceType: u32;
  /** MMIO: the register block; PCI: the common configuration structure. */
  base: usize;
  isr: usize;
  deviceConfig: usize;
  notifyBase: usize;
  notifyMultiplier: u32;
  pci: usize;
  /** The I/O APIC input of the shared interrupt (MMIO, PCI INTx), and its mode. */
  gsi: u32;
  gsiMode: u32;
  msix: u32;
  /** The shared vector (0: none), or with MSI-X the configuration-change vector. */
  vector: u32;
  offered: u64;
  features: u64;
  /** MAX_QUEUES Virtqueue pointers. */
  queues: usize;
  queueCount: u32;
  configCallback: usize;
  configArg: usize;
  /** The driver's own record. */
  driver: usize;
  /** Number among the devices of its type (virtio-blk0, 1, ...). */
  unit: u32;
  interrupts: u64;
  /** The next device sharing this one's I/O APIC line (PCI INTx is often shared). */
  nextShared: usize;
}

// GSIs already routed for virtio devices: gsi u32, first device u32 (usize).
const MAX_SHARED: u32 = 16;
const sharedLines = memory.data(<i32>(MAX_SHARED * 8), 4);
let sharedCount: u32 = 0;

// ---- register access ----

export function virtioStatus(dev: VirtioDevice): u32 {
  return dev.transport == TRANSPORT_PCI ? mmioRead8(dev.base + COMMON_DEVICE_STATUS) : mmioRead32(dev.base + MMIO_STATUS);
}

function setStatus(dev: VirtioDevice, status: u32): void {
  if (dev.transport == TRANSPORT_PCI) mmioWrite8(dev.base + COMMON_DEVICE_STATUS, status);
  else mmioWrite32(dev.base + MMIO_STATUS, status);
}

function addStatus(dev: VirtioDevice, bits: u32): void {
  setStatus(dev, virtioStatus(dev) | bits);
}

/** Resets the device and waits (up to 100 ms) until it reads back 0. */
export function virtioReset(dev: VirtioDevice): bool {
  setStatus(dev, 0);
  let deadline = rdtsc() + Tsc.hz / 10;
  while (virtioStatus(dev) != 0) {
    if (rdtsc() > deadline) return false;
    pause();
  }
  return true;
}

function deviceFeatures(dev: VirtioDevice): u64 {
  let low: u32, high: u32;
  if (dev.transport == TRANSPORT_PCI) {
    mmioWrite32(dev.base + COMMON_DEVICE_FEATURE_SELECT, 0);
    low = mmioRead32(dev.base + COMMON_DEVICE_FEATURE);
    mmioWrite32(dev.base + COMMON_DEVICE_FEATURE_SELECT, 1);
    high = mmioRead32(dev.base + COMMON_DEVICE_FEATURE);
  } else {
    mmioWrite32(dev.base + MMIO_DEVICE_FEATURES_SEL, 0);
    low = mmioRead32(dev.base + MMIO_DEVICE_FEATURES);
    mmioWrite32(dev.base + MMIO_DEVICE_FEATURES_SEL, 1);
    high = mmioRead32(dev.base + MMIO_DEVICE_FEATURES);
  }
  return (<u64>high << 32) | <u64>low;
}

function writeDriverFeatures(dev: VirtioDevice, features: u64): void {
  if (dev.transport == TRANSPORT_PCI) {
    mmioWrite32(dev.base + COMMON_DRIVER_FEATURE_SELECT, 0);
    mmioWrite32(dev.base + COMMON_DRIVER_FEATURE, <u32>features);
    mmioWrite32(dev.base + COMMON_DRIVER_FEATURE_SELECT, 1);
    mmioWrite32(dev.base + COMMON_DRIVER_FEATURE, <u32>(features >> 32));
  } else {
    mmioWrite32(dev.base + MMIO_DRIVER_FEATURES_SEL, 0);
    mmioWrite32(dev.base + MMIO_DRIVER_FEATURES, <u32>features);
    mmioWrite32(dev.base + MMIO_DRIVER_FEATURES_SEL, 1);
    mmioWrite32(dev.base + MMIO_DRIVER_FEATURES, <u32>(features >> 32));
  }
}

function configBase(dev: VirtioDevice): usize {
  return dev.transport == TRANSPORT_PCI ? dev.deviceConfig : dev.base + MMIO_CONFIG;
}

function configGeneration(dev: VirtioDevice): u32 {
  return dev.transport == TRANSPORT_PCI
    ? mmioRead8(dev.base + COMMON_CONFIG_GENERATION)
    : mmioRead32(dev.base + MMIO_CONFIG_GENERATION);
}

export function virtioConfig8(dev: VirtioDevice, offset: u32): u32 {
  return mmioRead8(configBase(dev) + offset);
}

export function virtioConfig16(dev: VirtioDevice, offset: u32): u32 {
  return mmioRead16(configBase(dev) + offset);
}

export function virtioConfig32(dev: VirtioDevice, offset: u32): u32 {
  return mmioRead32(configBase(dev) + offset);
}

/** A 64-bit field read as two halves, retried while the configuration generation changes. */
export function virtioConfig64(dev: VirtioDevice, offset: u32): u64 {
  for (let tries = 0; tries < 100; tries++) {
    let before = configGeneration(dev);
    let low = mmioRead32(configBase(dev) + offset);
    let high = mmioRead32(configBase(dev) + offset + 4);
    if (configGeneration(dev) == before) return (<u64>high << 32) | <u64>low;
  }
  return 0;
}

// ---- names and logging ----

export function deviceTypeName(type: u32): string {
  if (type == DEVICE_NET) return "virtio-net";
  if (type == DEVICE_BLOCK) return "virtio-blk";
  if (type == DEVICE_ENTROPY) return "virtio-rng";
  return "virtio";
}

/** "virtio-blk0". */
export function logDeviceName(dev: VirtioDevice): void {
  Log.str(deviceTypeName(dev.deviceType));
  Log.dec(dev.unit);
}

function logWhere(dev: VirtioDevice): void {
  if (dev.transport == TRANSPORT_PCI) {
    logLocation(changetype<PciDevice>(dev.pci));
  } else {
    Log.str("mmio ");
    Log.hexWidth(dev.base, 8);
    Log.str(" gsi ");
    Log.dec(dev.gsi);
  }
}

/** "virtio-blk0 (pci 00:02.0): features VERSION_1 EVENT_IDX ... (offered 0x..., accepted 0x...)". */
export function virtioLogFeatures(dev: VirtioDevice): void {
  logDeviceName(dev);
  Log.str(" (");
  logWhere(dev);
  Log.str("): features");
  for (let b: u32 = 0; b < 64; b++) {
    if (!hasFeature(dev.features, b)) continue;
    let name = featureName(dev.deviceType, b);
    Log.str(" ");
    if (name.length > 0) Log.str(name);
    else Log.dec(b);
  }
  Log.str(" (offered ");
  Log.hexWidth(dev.offered, 1);
  Log.str(", accepted ");
  Log.hexWidth(dev.features, 1);
  Log.line(")");
}

// ---- discovery ----

function newDevice(transport: u32): VirtioDevice | null {
  let record = heapAlloc(offsetof<VirtioDevice>() + <usize>MAX_QUEUES * 4, TAG_DRIVERS);
  if (record == 0) return null;
  let dev = changetype<VirtioDevice>(record);
  dev.transport = transport;
  dev.queues = record + offsetof<VirtioDevice>();
  return dev;
}

/** A virtio device on a PCI function with the modern interface, or null. */
export function virtioPciProbe(pci: PciDevice): VirtioDevice | null {
  let type = virtioPciDeviceType(pci.vendor, pci.device, pci.subsystem);
  if (type == 0) return null;
  let config = pciConfig(pci);
  let common = virtioFindCapability(config, VIRTIO_PCI_CAP_COMMON);
  let notify = virtioFindCapability(config, VIRTIO_PCI_CAP_NOTIFY);
  let isr = virtioFindCapability(config, VIRTIO_PCI_CAP_ISR);
  let device = virtioFindCapability(config, VIRTIO_PCI_CAP_DEVICE);
  if (common == 0 || notify == 0 || isr == 0) {
    logLocation(pci);
    Log.line(": virtio device without the modern (1.x) interface: not used");
    return null;
  }
  let commonBar = pciBarPointer(pci, virtioCapBar(config, common));
  let notifyBar = pciBarPointer(pci, virtioCapBar(config, notify));
  let isrBar = pciBarPointer(pci, virtioCapBar(config, isr));
  let deviceBar: usize = device != 0 ? pciBarPointer(pci, virtioCapBar(config, device)) : 0;
  if (commonBar == 0 || notifyBar == 0 || isrBar == 0 || (device != 0 && deviceBar == 0)) {
    logLocation(pci);
    Log.line(": virtio structures in a BAR that is not mapped: not used");
    return null;
  }
  let dev = newDevice(TRANSPORT_PCI);
  if (dev === null) return null;
  dev.deviceType = type;
  dev.pci = changetype<usize>(pci);
  dev.base = commonBar + <usize>virtioCapOffset(config, common);
  dev.notifyBase = notifyBar + <usize>virtioCapOffset(config, notify);
  dev.notifyMultiplier = virtioCapNotifyMultiplier(config, notify);
  dev.isr = isrBar + <usize>virtioCapOffset(config, isr);
  dev.deviceConfig = device != 0 ? deviceBar + <usize>virtioCapOffset(config, device) : 0;
  // INTx: the firmware's interrupt line is an ISA IRQ number (PIRQ routing
  // on pc and q35): through the MADT overrides to a GSI, level triggered.
  let line = pci.interruptLine;
  if (pci.interruptPin == 0 || line == 0 || line >= 0xff) {
    dev.gsi = 0;
  } else if (line < 16) {
    let routed = ioapicIsaIrq(line);
    dev.gsi = <u32>routed;
    dev.gsiMode = (<u32>(routed >> 32) & IRQ_ACTIVE_LOW) | IRQ_LEVEL;
  } else {
    dev.gsi = line;
    dev.gsiMode = IRQ_LEVEL;
  }
  pciEnableDevice(pci);
  return dev;
}

/** A virtio-mmio (version 2) device at `base`, or null when the slot is empty or legacy. */
export function virtioMmioProbe(base: usize, gsi: u32, mode: u32): VirtioDevice | null {
  if (mmioRead32(base + MMIO_MAGIC) != MMIO_MAGIC_VALUE) return null;
  let type = mmioRead32(base + MMIO_DEVICE_ID);
  if (type == 0) return null; // an empty transport
  let version = mmioRead32(base + MMIO_VERSION);
  if (version != 2) {
    Log.str("virtio-mmio at ");
    Log.hexWidth(base, 8);
    Log.str(": version ");
    Log.dec(version);
    Log.line(" (legacy) is not supported; QEMU: -global virtio-mmio.force-legacy=false");
    return null;
  }
  let dev = newDevice(TRANSPORT_MMIO);
  if (dev === null) return null;
  dev.deviceType = type;
  dev.base = base;
  dev.gsi = gsi;
  if (mode == MODE_UNKNOWN) {
    // The command line names no trigger mode: ISA lines as the MADT says, else level.
    mode = gsi < 16 ? <u32>(ioapicIsaIrq(gsi) >> 32) : IRQ_LEVEL;
    if (gsi < 16) dev.gsi = <u32>ioapicIsaIrq(gsi);
  }
  dev.gsiMode = mode;
  return dev;
}

// ---- initialization ----

/**
 * Steps 1-6 of the initialization: reset, ACKNOWLEDGE, DRIVER, feature
 * negotiation (VERSION_1 required), FEATURES_OK and its check. Returns 0 or
 * a negative errno (the device is then marked FAILED).
 */
export function virtioNegotiate(dev: VirtioDevice, wanted: u64): i32 {
  if (!virtioReset(dev)) return -EIO;
  addStatus(dev, STATUS_ACKNOWLEDGE);
  addStatus(dev, STATUS_DRIVER);
  dev.offered = deviceFeatures(dev);
  let accepted = negotiateFeatures(dev.offered, wanted);
  if (accepted == 0) {
    logDeviceName(dev);
    Log.line(": no VERSION_1 feature (legacy-only device): not used");
    setStatus(dev, STATUS_FAILED);
    return -ENODEV;
  }
  writeDriverFeatures(dev, accepted);
  addStatus(dev, STATUS_FEATURES_OK);
  if ((virtioStatus(dev) & STATUS_FEATURES_OK) == 0) {
    logDeviceName(dev);
    Log.line(": the device did not accept our features (FEATURES_OK cleared)");
    setStatus(dev, STATUS_FAILED);
    return -ENODEV;
  }
  dev.features = accepted;
  return 0;
}

export function virtioFail(dev: VirtioDevice): void {
  setStatus(dev, virtioStatus(dev) | STATUS_FAILED);
}

export function virtioDriverOk(dev: VirtioDevice): void {
  addStatus(dev, STATUS_DRIVER_OK);
}

export function virtioQueue(dev: VirtioDevice, index: u32): Virtqueue {
  return changetype<Virtqueue>(load<usize>(dev.queues + <usize>index * 4));
}

/** Number of queues the device has (PCI), or MAX_QUEUES (MMIO: probe each). */
export function virtioQueueLimit(dev: VirtioDevice): u32 {
  if (dev.transport == TRANSPORT_PCI) return mmioRead16(dev.base + COMMON_NUM_QUEUES);
  return MAX_QUEUES;
}

function bootApicId(): u32 {
  let id = perCpu(0).apicId;
  return id != 0 || Lapic.id() == 0 ? id : Lapic.id();
}

function vqInterrupt(arg: usize): void {
  let vq = changetype<Virtqueue>(arg);
  vq.interrupts++;
  if (vq.callback != 0) changetype<(arg: usize) => void>(vq.callback)(vq.callbackArg);
}

function configInterrupt(arg: usize): void {
  let dev = changetype<VirtioDevice>(arg);
  dev.interrupts++;
  if (dev.configCallback != 0) changetype<(arg: usize) => void>(dev.configCallback)(dev.configArg);
}

/** The line interrupt (INTx, virtio-mmio) of every device on it: read and
 * acknowledge each one's ISR, then run the callbacks of its queues. */
function lineInterrupt(arg: usize): void {
  let address = arg;
  while (address != 0) {
    let dev = changetype<VirtioDevice>(address);
    address = dev.nextShared;
    deviceInterrupt(dev);
  }
}

function deviceInterrupt(dev: VirtioDevice): void {
  let status: u32;
  if (dev.transport == TRANSPORT_PCI) {
    status = mmioRead8(dev.isr); // reading clears it
  } else {
    status = mmioRead32(dev.base + MMIO_INTERRUPT_STATUS);
    if (status != 0) mmioWrite32(dev.base + MMIO_INTERRUPT_ACK, status);
  }
  if (status == 0) return;
  dev.interrupts++;
  if ((status & 1) != 0) {
    for (let i: u32 = 0; i < dev.queueCount; i++) {
      let address = load<usize>(dev.queues + <usize>i * 4);
      if (address != 0) vqInterrupt(address);
    }
  }
  if ((status & 2) != 0 && dev.configCallback != 0) {
    changetype<(arg: usize) => void>(dev.configCallback)(dev.configArg);
  }
}

/**
 * Chooses how the device interrupts, before its queues are created: MSI-X
 * when the PCI function has an entry per queue plus one (and wisp.nomsix is
 * not given), else one vector through the I/O APIC. Returns false when the
 * device cannot interrupt at all (the driver must poll).
 */
export function virtioSetupInterrupts(dev: VirtioDevice, queues: u32): bool {
  let apic = bootApicId();
  if (dev.transport == TRANSPORT_PCI && !Options.has("wisp.nomsix")) {
    let pci = changetype<PciDevice>(dev.pci);
    if (pciMsixProbe(pci) >= queues + 1) {
      let vector = irqAllocateVector();
      if (vector != 0) {
        pciMsixEnable(pci, true);
        pciMsixSetEntry(pci, 0, vector, apic);
        irqRegister(vector, configInterrupt, changetype<usize>(dev));
        mmioWrite16(dev.base + COMMON_CONFIG_MSIX_VECTOR, 0);
        if (mmioRead16(dev.base + COMMON_CONFIG_MSIX_VECTOR) == 0) {
          dev.msix = 1;
          dev.vector = vector;
          return true;
        }
        pciMsixEnable(pci, false);
      }
    }
  }
  if (dev.gsi == 0 || dev.gsi >= 0xff) return false; // INTx not routed by the firmware
  // Another device on the same line: join its handler chain.
  for (let i: u32 = 0; i < sharedCount; i++) {
    let entry = sharedLines + <usize>i * 8;
    if (load<u32>(entry) != dev.gsi) continue;
    let first = changetype<VirtioDevice>(load<usize>(entry, 4));
    dev.vector = first.vector;
    dev.nextShared = first.nextShared;
    first.nextShared = changetype<usize>(dev);
    return true;
  }
  if (sharedCount >= MAX_SHARED) return false;
  let vector = irqAllocateVector();
  if (vector == 0) return false;
  dev.vector = vector;
  irqRegister(vector, lineInterrupt, changetype<usize>(dev));
  if (!ioapicRoute(dev.gsi, vector, dev.gsiMode, apic, false)) {
    dev.vector = 0;
    return false;
  }
  let entry = sharedLines + <usize>sharedCount * 8;
  store<u32>(entry, dev.gsi);
  store<usize>(entry, changetype<usize>(dev), 4);
  sharedCount++;
  return true;
}

/**
 * Creates queue `index` with at most `cap` entries and makes it live; its
 * interrupts call callback(arg). Null when the device has no such queue or
 * memory ran out.
 */
export function virtioCreateQueue(dev: VirtioDevice, index: u32, cap: u32, callback: (arg: usize) => void, arg: usize): Virtqueue | null {
  if (index >= MAX_QUEUES) return null;
  let max: u32;
  if (dev.transport == TRANSPORT_PCI) {
    mmioWrite16(dev.base + COMMON_QUEUE_SELECT, index);
    max = mmioRead16(dev.base + COMMON_QUEUE_SIZE);
  } else {
    mmioWrite32(dev.base + MMIO_QUEUE_SEL, index);
    if (mmioRead32(dev.base + MMIO_QUEUE_READY) != 0) return null;
    max = mmioRead32(dev.base + MMIO_QUEUE_NUM_MAX);
  }
  let size = chooseQueueSize(max, cap);
  if (size == 0) return null;
  let vq = vqCreate(index, size, hasFeature(dev.features, F_INDIRECT_DESC), hasFeature(dev.features, F_EVENT_IDX));
  if (vq === null) return null;
  vq.device = changetype<usize>(dev);
  vq.callback = changetype<usize>(callback);
  vq.callbackArg = arg;
  if (dev.transport == TRANSPORT_PCI) {
    mmioWrite16(dev.base + COMMON_QUEUE_SIZE, size);
    if (dev.msix != 0) {
      let vector = irqAllocateVector();
      if (vector != 0) {
        pciMsixSetEntry(changetype<PciDevice>(dev.pci), index + 1, vector, bootApicId());
        irqRegister(vector, vqInterrupt, changetype<usize>(vq));
        mmioWrite16(dev.base + COMMON_QUEUE_MSIX_VECTOR, index + 1);
        if (mmioRead16(dev.base + COMMON_QUEUE_MSIX_VECTOR) == index + 1) vq.vector = vector;
      }
      if (vq.vector == 0) mmioWrite16(dev.base + COMMON_QUEUE_MSIX_VECTOR, NO_VECTOR);
    }
    mmioWrite64(dev.base + COMMON_QUEUE_DESC, <u64>vq.desc);
    mmioWrite64(dev.base + COMMON_QUEUE_DRIVER, <u64>vq.avail);
    mmioWrite64(dev.base + COMMON_QUEUE_DEVICE, <u64>vq.used);
    let notifyOff = mmioRead16(dev.base + COMMON_QUEUE_NOTIFY_OFF);
    vq.notifyAddress = dev.notifyBase + <usize>notifyOff * <usize>dev.notifyMultiplier;
    vq.notifyWidth = 2;
    mmioWrite16(dev.base + COMMON_QUEUE_ENABLE, 1);
  } else {
    mmioWrite32(dev.base + MMIO_QUEUE_NUM, size);
    mmioWrite64(dev.base + MMIO_QUEUE_DESC, <u64>vq.desc);
    mmioWrite64(dev.base + MMIO_QUEUE_DRIVER, <u64>vq.avail);
    mmioWrite64(dev.base + MMIO_QUEUE_DEVICE, <u64>vq.used);
    mmioWrite32(dev.base + MMIO_QUEUE_READY, 1);
    vq.notifyAddress = dev.base + MMIO_QUEUE_NOTIFY;
    vq.notifyWidth = 4;
    vq.vector = dev.vector;
  }
  if (dev.msix == 0) vq.vector = dev.vector;
  store<usize>(dev.queues + <usize>index * 4, changetype<usize>(vq));
  if (index + 1 > dev.queueCount) dev.queueCount = index + 1;
  return vq;
}

/** "virtio-blk0: 1 queue of 256, MSI-X vectors 0x31-0x32" and the like. */
export function virtioLogQueues(dev: VirtioDevice): void {
  logDeviceName(dev);
  Log.str(": ");
  Log.dec(dev.queueCount);
  Log.str(dev.queueCount == 1 ? " queue of " : " queues of ");
  Log.dec(dev.queueCount > 0 ? virtioQueue(dev, 0).size : 0);
  if (dev.msix != 0) {
    Log.str(", MSI-X vectors ");
    Log.hexWidth(dev.vector, 2);
    for (let i: u32 = 0; i < dev.queueCount; i++) {
      Log.str(",");
      Log.hexWidth(virtioQueue(dev, i).vector, 2);
    }
  } else if (dev.vector != 0) {
    Log.str(dev.transport == TRANSPORT_PCI ? ", INTx GSI " : ", GSI ");
    Log.dec(dev.gsi);
    Log.str(dev.gsiMode & IRQ_LEVEL ? " level" : " edge");
    Log.str(" vector ");
    Log.hexWidth(dev.vector, 2);
  } else {
    Log.str(", no interrupt: polled");
  }
  Log.newline();
}
