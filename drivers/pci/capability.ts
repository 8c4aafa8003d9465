// PCI configuration-space parsing over a snapshot in memory (256 bytes read
// from the device, or a fake one in the unit tests): the capability list,
// BAR encodings, MSI-X and virtio's vendor capabilities. No device access
// here, so this compiles for Node as well.

export const PCI_VENDOR: u32 = 0x00;
export const PCI_DEVICE: u32 = 0x02;
export const PCI_COMMAND: u32 = 0x04;
export const PCI_STATUS: u32 = 0x06;
export const PCI_CLASS_REVISION: u32 = 0x08;
export const PCI_HEADER_TYPE: u32 = 0x0e;
export const PCI_BAR0: u32 = 0x10;
export const PCI_SECONDARY_BUS: u32 = 0x19;
export const PCI_SUBSYSTEM_VENDOR: u32 = 0x2c;
export const PCI_SUBSYSTEM: u32 = 0x2e;
export const PCI_CAPABILITIES: u32 = 0x34;
export const PCI_INTERRUPT_LINE: u32 = 0x3c;
export const PCI_INTERRUPT_PIN: u32 = 0x3d;

export const PCI_COMMAND_IO: u32 = 1 << 0;
export const PCI_COMMAND_MEMORY: u32 = 1 << 1;
export const PCI_COMMAND_MASTER: u32 = 1 << 2;
export const PCI_COMMAND_INTX_DISABLE: u32 = 1 << 10;
export const PCI_STATUS_CAPABILITIES: u32 = 1 << 4;

export const PCI_CAP_MSI: u32 = 0x05;
export const PCI_CAP_VENDOR: u32 = 0x09;
export const PCI_CAP_MSIX: u32 = 0x11;

export const CONFIG_SNAPSHOT_BYTES: u32 = 256;
const CAPABILITY_WALK_MAX: u32 = 48; // (256 - 64) / 4: more means a loop

/** Offset of the capability after the one at `offset` (0: start of the list); 0 at the end. */
export function pciNextCapability(config: usize, offset: u32): u32 {
  let next: u32;
  if (offset == 0) {
    if ((<u32>load<u16>(config + PCI_STATUS) & PCI_STATUS_CAPABILITIES) == 0) return 0;
    next = <u32>load<u8>(config + PCI_CAPABILITIES);
  } else {
    next = <u32>load<u8>(config + offset + 1);
  }
  next &= 0xfc;
  // Capabilities live after the standard header; anything else is corrupt.
  if (next < 0x40 || next > CONFIG_SNAPSHOT_BYTES - 4) return 0;
  return next;
}

/** Offset of the first capability with id `id`, or 0. Stops on loops. */
export function pciFindCapability(config: usize, id: u32): u32 {
  let offset = pciNextCapability(config, 0);
  for (let steps: u32 = 0; offset != 0 && steps < CAPABILITY_WALK_MAX; steps++) {
    if (<u32>load<u8>(config + offset) == id) return offset;
    offset = pciNextCapability(config, offset);
  }
  return 0;
}

// ---- BARs ----

export function barIsIo(value: u32): bool {
  return (value & 1) != 0;
}

/** A memory BAR whose address takes two registers. */
export function barIs64(value: u32): bool {
  return (value & 1) == 0 && ((value >> 1) & 3) == 2;
}

export function barIsPrefetchable(value: u32): bool {
  return (value & 1) == 0 && (value & 8) != 0;
}

/** Size from the value read back after writing all ones (both halves for 64-bit BARs). */
export function barSizeFromMask(mask: u64, io: bool): u64 {
  let cleared = io ? mask & ~(<u64>3) : mask & ~(<u64>0xf);
  if (io) cleared |= 0xffffffffffff0000; // I/O BARs decode 16 bits
  if (cleared == 0) return 0;
  return (~cleared) + 1;
}

// ---- MSI-X ----

/** Table entries of the MSI-X capability at `cap`. */
export function msixTableSize(config: usize, cap: u32): u32 {
  return (<u32>load<u16>(config + cap + 2) & 0x7ff) + 1;
}

/** BAR index (BIR) of the MSI-X table. */
export function msixTableBar(config: usize, cap: u32): u32 {
  return load<u32>(config + cap + 4) & 7;
}

export function msixTableOffset(config: usize, cap: u32): u32 {
  return load<u32>(config + cap + 4) & ~(<u32>7);
}

// ---- virtio PCI capabilities (virtio 1.2, 4.1.4) ----

export const VIRTIO_PCI_CAP_COMMON: u32 = 1;
export const VIRTIO_PCI_CAP_NOTIFY: u32 = 2;
export const VIRTIO_PCI_CAP_ISR: u32 = 3;
export const VIRTIO_PCI_CAP_DEVICE: u32 = 4;
export const VIRTIO_PCI_CAP_PCI_CFG: u32 = 5;

/**
 * Offset of the first virtio vendor capability of `cfgType` whose BAR index
 * is valid (0-5), or 0. The spec lets a device offer several of one type,
 * in order of preference: the driver takes the first it can use.
 */
export function virtioFindCapability(config: usize, cfgType: u32): u32 {
  let offset = pciNextCapability(config, 0);
  for (let steps: u32 = 0; offset != 0 && steps < CAPABILITY_WALK_MAX; steps++) {
    if (<u32>load<u8>(config + offset) == PCI_CAP_VENDOR) {
      let length = <u32>load<u8>(config + offset + 2);
      let type = <u32>load<u8>(config + offset + 3);
      let bar = <u32>load<u8>(config + offset + 4);
      if (type == cfgType && length >= 16 && bar <= 5) {
        if (cfgType != VIRTIO_PCI_CAP_NOTIFY || length >= 20) return offset;
      }
    }
    offset = pciNextCapability(config, offset);
  }
  return 0;
}

export function virtioCapBar(config: usize, cap: u32): u32 {
  return <u32>load<u8>(config + cap + 4);
}

export function virtioCapOffset(config: usize, cap: u32): u32 {
  return load<u32>(config + cap + 8);
}

export function virtioCapLength(config: usize, cap: u32): u32 {
  return load<u32>(config + cap + 12);
}

/** notify_off_multiplier of a notify capability. */
export function virtioCapNotifyMultiplier(config: usize, cap: u32): u32 {
  return load<u32>(config + cap + 16);
}

/** The virtio device type of a PCI function (vendor 0x1af4), or 0. Transitional
 * devices (0x1000-0x103f) name it in the subsystem id; modern ones as 0x1040 + type. */
export function virtioPciDeviceType(vendor: u32, device: u32, subsystem: u32): u32 {
  if (vendor != 0x1af4) return 0;
  if (device >= 0x1040 && device <= 0x107f) return device - 0x1040;
  if (device >= 0x1000 && device <= 0x103f) return subsystem;
  return 0;
}
