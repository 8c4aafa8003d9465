// Test entry: the drivers' pure parts (ring arithmetic, feature negotiation,
// PCI capability parsing, virtio-mmio descriptions, ARP frames, ChaCha20)
// compiled on their own for Node (AssemblyScript; excluded from the host
// type-check).
export {
  availRingBytes, chooseQueueSize, descTableBytes, queueSizeValid, ringDistance, usedRingBytes, vringNeedEvent,
} from "../../../drivers/virtio/ring";
export { negotiateFeatures, netFeatureDependencies } from "../../../drivers/virtio/features";
export {
  barIs64, barIsIo, barSizeFromMask, msixTableBar, msixTableOffset, msixTableSize, pciFindCapability,
  pciNextCapability, virtioCapBar, virtioCapLength, virtioCapNotifyMultiplier, virtioCapOffset, virtioFindCapability,
  virtioPciDeviceType,
} from "../../../drivers/pci/capability";
export {
  arpBuildReply, arpBuildRequest, arpParse, arpSenderIp, arpTargetIp, parseIpv4,
} from "../../../drivers/net/arp";
export { parseMmioCommandLine, parseMmioDsdt } from "../../../drivers/virtio/mmioparse";
export { chacha20Block } from "../../../drivers/chacha20";

const area = memory.data(65536, 16);

/** 64 KiB of scratch memory for the tests to fill and pass around. */
export function scratch(): usize {
  return area;
}
