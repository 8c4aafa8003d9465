// virtio feature bits (virtio 1.2, 6 and the device chapters) and the
// negotiation rule. Pure, shared with the unit tests.

// Device-independent (reserved range 28-41).
export const F_INDIRECT_DESC: u32 = 28;
export const F_EVENT_IDX: u32 = 29;
export const F_VERSION_1: u32 = 32;
export const F_ACCESS_PLATFORM: u32 = 33;
export const F_RING_PACKED: u32 = 34;
export const F_IN_ORDER: u32 = 35;
export const F_ORDER_PLATFORM: u32 = 36;
export const F_SR_IOV: u32 = 37;
export const F_NOTIFICATION_DATA: u32 = 38;
export const F_NOTIF_CONFIG_DATA: u32 = 39;
export const F_RING_RESET: u32 = 40;

// virtio-blk.
export const BLK_F_SIZE_MAX: u32 = 1;
export const BLK_F_SEG_MAX: u32 = 2;
export const BLK_F_GEOMETRY: u32 = 4;
export const BLK_F_RO: u32 = 5;
export const BLK_F_BLK_SIZE: u32 = 6;
export const BLK_F_FLUSH: u32 = 9;
export const BLK_F_TOPOLOGY: u32 = 10;
export const BLK_F_CONFIG_WCE: u32 = 11;
export const BLK_F_MQ: u32 = 12;
export const BLK_F_DISCARD: u32 = 13;
export const BLK_F_WRITE_ZEROES: u32 = 14;

// virtio-net.
export const NET_F_CSUM: u32 = 0;
export const NET_F_GUEST_CSUM: u32 = 1;
export const NET_F_CTRL_GUEST_OFFLOADS: u32 = 2;
export const NET_F_MTU: u32 = 3;
export const NET_F_MAC: u32 = 5;
export const NET_F_GUEST_TSO4: u32 = 7;
export const NET_F_GUEST_TSO6: u32 = 8;
export const NET_F_GUEST_ECN: u32 = 9;
export const NET_F_GUEST_UFO: u32 = 10;
export const NET_F_HOST_TSO4: u32 = 11;
export const NET_F_HOST_TSO6: u32 = 12;
export const NET_F_HOST_ECN: u32 = 13;
export const NET_F_HOST_UFO: u32 = 14;
export const NET_F_MRG_RXBUF: u32 = 15;
export const NET_F_STATUS: u32 = 16;
export const NET_F_CTRL_VQ: u32 = 17;
export const NET_F_CTRL_RX: u32 = 18;
export const NET_F_CTRL_VLAN: u32 = 19;
export const NET_F_GUEST_ANNOUNCE: u32 = 21;
export const NET_F_MQ: u32 = 22;
export const NET_F_CTRL_MAC_ADDR: u32 = 23;

export const DEVICE_NET: u32 = 1;
export const DEVICE_BLOCK: u32 = 2;
export const DEVICE_ENTROPY: u32 = 4;

// @ts-ignore: decorator
@inline export function bit(feature: u32): u64 {
  return <u64>1 << <u64>feature;
}

export function hasFeature(features: u64, feature: u32): bool {
  return (features & bit(feature)) != 0;
}

/** Features every driver here asks for when offered. */
export const COMMON_WANTED: u64 = (<u64>1 << 28) | (<u64>1 << 29) | (<u64>1 << 32);

/**
 * The features to accept: what the device offers and the driver wants.
 * VERSION_1 is required (no legacy interface); returns 0 when it is missing.
 * Features that depend on others are dropped without them (virtio 1.2,
 * 5.1.3.1: the checksum and segmentation offloads).
 */
export function negotiateFeatures(offered: u64, wanted: u64): u64 {
  let accepted = offered & wanted;
  if (!hasFeature(accepted, F_VERSION_1)) return 0;
  return accepted;
}

/** Drops virtio-net features whose prerequisites are not accepted. */
export function netFeatureDependencies(accepted: u64): u64 {
  let result = accepted;
  if (!hasFeature(result, NET_F_GUEST_CSUM)) {
    result &= ~(bit(NET_F_GUEST_TSO4) | bit(NET_F_GUEST_TSO6) | bit(NET_F_GUEST_UFO));
  }
  if (!hasFeature(result, NET_F_CSUM)) {
    result &= ~(bit(NET_F_HOST_TSO4) | bit(NET_F_HOST_TSO6) | bit(NET_F_HOST_UFO));
  }
  if (!hasFeature(result, NET_F_CTRL_VQ)) {
    result &= ~(bit(NET_F_CTRL_RX) | bit(NET_F_CTRL_VLAN) | bit(NET_F_GUEST_ANNOUNCE) | bit(NET_F_MQ) |
      bit(NET_F_CTRL_MAC_ADDR) | bit(NET_F_CTRL_GUEST_OFFLOADS));
  }
  return result;
}

/** Name of a feature bit for the boot log ("" for bits without one here). */
export function featureName(deviceType: u32, feature: u32): string {
  switch (feature) {
    case 28: return "INDIRECT_DESC";
    case 29: return "EVENT_IDX";
    case 32: return "VERSION_1";
    case 33: return "ACCESS_PLATFORM";
    case 34: return "RING_PACKED";
    case 35: return "IN_ORDER";
    case 36: return "ORDER_PLATFORM";
    case 37: return "SR_IOV";
    case 38: return "NOTIFICATION_DATA";
    case 39: return "NOTIF_CONFIG_DATA";
    case 40: return "RING_RESET";
    default: break;
  }
  if (deviceType == DEVICE_BLOCK) {
    switch (feature) {
      case 1: return "SIZE_MAX";
      case 2: return "SEG_MAX";
      case 4: return "GEOMETRY";
      case 5: return "RO";
      case 6: return "BLK_SIZE";
      case 9: return "FLUSH";
      case 10: return "TOPOLOGY";
      case 11: return "CONFIG_WCE";
      case 12: return "MQ";
      case 13: return "DISCARD";
      case 14: return "WRITE_ZEROES";
      default: return "";
    }
  }
  if (deviceType == DEVICE_NET) {
    switch (feature) {
      case 0: return "CSUM";
      case 1: return "GUEST_CSUM";
      case 2: return "CTRL_GUEST_OFFLOADS";
      case 3: return "MTU";
      case 5: return "MAC";
      case 7: return "GUEST_TSO4";
      case 8: return "GUEST_TSO6";
      case 9: return "GUEST_ECN";
      case 10: return "GUEST_UFO";
      case 11: return "HOST_TSO4";
      case 12: return "HOST_TSO6";
      case 13: return "HOST_ECN";
      case 14: return "HOST_UFO";
      case 15: return "MRG_RXBUF";
      case 16: return "STATUS";
      case 17: return "CTRL_VQ";
      case 18: return "CTRL_RX";
      case 19: return "CTRL_VLAN";
      case 21: return "GUEST_ANNOUNCE";
      case 22: return "MQ";
      case 23: return "CTRL_MAC_ADDR";
      default: return "";
    }
  }
  return "";
}
