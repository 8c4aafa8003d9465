// Test entry: the split virtqueue (drivers/virtio/virtqueue.ts) on the real
// page allocator and heap, for a simulated device in Node (AssemblyScript;
// excluded from the host type-check).
export { physicalInit, physicalAddFree } from "../../../kernel/mm/physical";
export {
  vqAdd, vqCreate, vqDisableInterrupts, vqEnableInterrupts, vqGetUsed, vqHasUsed, vqInFlight, vqNeedsNotify,
} from "../../../drivers/virtio/virtqueue";
import { Virtqueue } from "../../../drivers/virtio/virtqueue";

export function vqDesc(vq: Virtqueue): usize { return vq.desc; }
export function vqAvail(vq: Virtqueue): usize { return vq.avail; }
export function vqUsed(vq: Virtqueue): usize { return vq.used; }
export function vqSize(vq: Virtqueue): u32 { return vq.size; }
export function vqFreeCount(vq: Virtqueue): u32 { return vq.freeCount; }
export function vqLastLength(vq: Virtqueue): u32 { return vq.lastLength; }

const area = memory.data(4096, 16);

export function scratch(): usize {
  return area;
}
