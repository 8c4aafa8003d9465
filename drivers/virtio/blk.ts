// virtio-blk (virtio 1.2, 5.2): one request queue, each request a header
// (type, sector), the data buffer and a status byte, as one indirect
// descriptor when VIRTIO_F_INDIRECT_DESC is on (so a queue of N entries
// holds N requests in flight). Completions come by interrupt (or polling)
// and are handed to drivers/block.ts.
import { Log } from "../../kernel/log";
import { heapAlloc, TAG_DRIVERS } from "../../kernel/mm/heap";
import { WaitQueue, waitQueueLock, waitQueueSleepLocked, waitQueueUnlock, waitQueueWakeLocked } from "../../kernel/sync/waitqueue";
import {
  BlockDevice, BlockRequest, blockComplete, blockRegister, BLOCK_FLUSH, BLOCK_READ, EIO, EOPNOTSUPP, SECTOR_SIZE,
} from "../block";
import {
  BLK_F_BLK_SIZE, BLK_F_FLUSH, BLK_F_RO, BLK_F_SEG_MAX, BLK_F_SIZE_MAX, BLK_F_TOPOLOGY, bit, COMMON_WANTED, hasFeature,
} from "./features";
import {
  logDeviceName, virtioConfig32, virtioConfig64, virtioCreateQueue, virtioDriverOk, virtioFail, virtioNegotiate,
  virtioSetupInterrupts, VirtioDevice,
} from "./device";
import {
  SEGMENT_BYTES, SEG_WRITE, Virtqueue, vqAdd, vqDescriptorsNeeded, vqDisableInterrupts, vqEnableInterrupts,
  vqGetUsed, vqKick, vqLock, vqUnlock,
} from "./virtqueue";

const TYPE_IN: u32 = 0;
const TYPE_OUT: u32 = 1;
const TYPE_FLUSH: u32 = 4;
const STATUS_OK: u32 = 0;
const STATUS_UNSUPPORTED: u32 = 2;

const QUEUE_CAP: u32 = 256;
/** Our cap on one request's data: 4 MiB, one descriptor (QEMU sets no size_max). */
const TRANSFER_CAP: u32 = 4 << 20;

let units: u32 = 0;

@unmanaged
class VirtioBlk {
  device: usize;
  queue: usize;
  block: usize;
  /** Threads waiting for free descriptors: a WaitQueue (lock, head, tail). */
  slotLock: u32;
  slotHead: usize;
  slotTail: usize;
  /** Three segments for vqAdd, used with the queue lock held. */
  segments: usize;
}

function slotQueue(blk: VirtioBlk): WaitQueue {
  return changetype<WaitQueue>(changetype<usize>(blk) + offsetof<VirtioBlk>("slotLock"));
}

function setSegment(segments: usize, index: u32, address: usize, length: u32, flags: u32): void {
  let s = segments + <usize>index * SEGMENT_BYTES;
  store<u64>(s, <u64>address);
  store<u32>(s, length, 8);
  store<u32>(s, flags, 12);
}

/** Reaps completed requests; called from the interrupt handler and when polling. */
function reap(blk: VirtioBlk): void {
  let vq = changetype<Virtqueue>(blk.queue);
  let finished: usize = 0;
  let flags = vqLock(vq);
  while (true) {
    let token = vqGetUsed(vq);
    if (token == 0) {
      if (vq.interruptsOff != 0 || !vqEnableInterrupts(vq)) break;
      continue;
    }
    let request = changetype<BlockRequest>(token);
    request.next = finished;
    finished = token;
  }
  vqUnlock(vq, flags);
  if (finished == 0) return;
  // Completions outside the queue lock: waiters may submit again at once.
  while (finished != 0) {
    let request = changetype<BlockRequest>(finished);
    finished = request.next;
    let status = request.driverStatus & 0xff;
    blockComplete(request, status == STATUS_OK ? 0 : status == STATUS_UNSUPPORTED ? -EOPNOTSUPP : -EIO);
  }
  let queue = slotQueue(blk);
  let slotFlags = waitQueueLock(queue);
  waitQueueWakeLocked(queue, 0xffffffff, 0);
  waitQueueUnlock(queue, slotFlags);
}

function onInterrupt(arg: usize): void {
  reap(changetype<VirtioBlk>(arg));
}

function poll(driver: usize): void {
  reap(changetype<VirtioBlk>(driver));
}

function setPolling(driver: usize, on: bool): void {
  let blk = changetype<VirtioBlk>(driver);
  let vq = changetype<Virtqueue>(blk.queue);
  let flags = vqLock(vq);
  if (on) vqDisableInterrupts(vq);
  else vqEnableInterrupts(vq);
  vqUnlock(vq, flags);
  if (!on) reap(blk);
}

function submit(driver: usize, requestAddress: usize): i32 {
  let blk = changetype<VirtioBlk>(driver);
  let request = changetype<BlockRequest>(requestAddress);
  let vq = changetype<Virtqueue>(blk.queue);
  let dev = changetype<BlockDevice>(blk.block);
  let type = request.op == BLOCK_FLUSH ? TYPE_FLUSH : request.op == BLOCK_READ ? TYPE_IN : TYPE_OUT;
  // The device reads the header from the request record: type, reserved, sector.
  request.driverHeader0 = <u64>type;
  request.driverHeader1 = request.op == BLOCK_FLUSH ? 0 : request.sector;
  request.driverStatus = 0xff;
  let header = requestAddress + offsetof<BlockRequest>("driverHeader0");
  let status = requestAddress + offsetof<BlockRequest>("driverStatus");
  while (true) {
    let flags = vqLock(vq);
    let segments = blk.segments;
    let count: u32 = 0;
    setSegment(segments, count++, header, 16, 0);
    if (request.op != BLOCK_FLUSH) {
      let bytes = request.count * SECTOR_SIZE;
      setSegment(segments, count++, request.buffer, bytes, request.op == BLOCK_READ ? SEG_WRITE : 0);
    }
    setSegment(segments, count++, status, 1, SEG_WRITE);
    if (vq.freeCount >= vqDescriptorsNeeded(vq, count)) {
      let result = vqAdd(vq, segments, count, requestAddress);
      vqKick(vq);
      vqUnlock(vq, flags);
      return result;
    }
    vqUnlock(vq, flags);
    // The ring is full: reap (polling) or sleep until a completion frees room.
    if (dev.polling != 0) {
      reap(blk);
      continue;
    }
    let queue = slotQueue(blk);
    let slotFlags = waitQueueLock(queue);
    if (vq.freeCount < vqDescriptorsNeeded(vq, count)) waitQueueSleepLocked(queue, slotFlags, 0);
    else waitQueueUnlock(queue, slotFlags);
  }
}

const WANTED: u64 = COMMON_WANTED | bit(BLK_F_SIZE_MAX) | bit(BLK_F_SEG_MAX) | bit(BLK_F_BLK_SIZE) |
  bit(BLK_F_FLUSH) | bit(BLK_F_RO) | bit(BLK_F_TOPOLOGY);

/** Sets up a virtio-blk device and registers it as a block device; 0 or -errno. */
export function virtioBlkAttach(dev: VirtioDevice): i32 {
  dev.unit = units++;
  let result = virtioNegotiate(dev, WANTED);
  if (result < 0) return result;
  let blkAddress = heapAlloc(offsetof<VirtioBlk>() + 3 * SEGMENT_BYTES, TAG_DRIVERS);
  let blockAddress = heapAlloc(offsetof<BlockDevice>(), TAG_DRIVERS);
  if (blkAddress == 0 || blockAddress == 0) {
    virtioFail(dev);
    return -12;
  }
  let blk = changetype<VirtioBlk>(blkAddress);
  blk.segments = blkAddress + offsetof<VirtioBlk>();
  blk.device = changetype<usize>(dev);
  dev.driver = blkAddress;
  let interrupts = virtioSetupInterrupts(dev, 1);
  let vq = virtioCreateQueue(dev, 0, QUEUE_CAP, onInterrupt, blkAddress);
  if (vq === null) {
    virtioFail(dev);
    return -EIO;
  }
  blk.queue = changetype<usize>(vq);
  let block = changetype<BlockDevice>(blockAddress);
  block.sectors = virtioConfig64(dev, 0);
  block.blockSize = hasFeature(dev.features, BLK_F_BLK_SIZE) ? virtioConfig32(dev, 20) : SECTOR_SIZE;
  if (block.blockSize < SECTOR_SIZE || (block.blockSize & (block.blockSize - 1)) != 0) block.blockSize = SECTOR_SIZE;
  let maxTransfer = TRANSFER_CAP;
  if (hasFeature(dev.features, BLK_F_SIZE_MAX)) {
    let sizeMax = virtioConfig32(dev, 8) & ~(SECTOR_SIZE - 1);
    if (sizeMax >= SECTOR_SIZE && sizeMax < maxTransfer) maxTransfer = sizeMax;
  }
  block.maxTransfer = maxTransfer;
  block.readOnly = hasFeature(dev.features, BLK_F_RO) ? 1 : 0;
  block.canFlush = hasFeature(dev.features, BLK_F_FLUSH) ? 1 : 0;
  block.driver = blkAddress;
  block.submitFunction = changetype<usize>(submit);
  block.pollFunction = changetype<usize>(poll);
  block.pollingFunction = changetype<usize>(setPolling);
  blk.block = blockAddress;
  if (!interrupts) {
    block.polling = 1;
    vqDisableInterrupts(vq);
  }
  virtioDriverOk(dev);
  blockRegister(block);
  return 0;
}

/** "virtio-blk0: 131072 sectors (64 MiB), block size 512, ...". */
export function virtioBlkLog(dev: VirtioDevice): void {
  let block = changetype<BlockDevice>(changetype<VirtioBlk>(dev.driver).block);
  logDeviceName(dev);
  Log.str(": ");
  Log.dec(block.sectors);
  Log.str(" sectors (");
  Log.dec((block.sectors * <u64>SECTOR_SIZE) >> 20);
  Log.str(" MiB), block size ");
  Log.dec(block.blockSize);
  Log.str(block.readOnly != 0 ? ", read-only" : "");
  Log.str(block.canFlush != 0 ? ", write cache (flush)" : "");
  Log.str(", max request ");
  Log.dec(block.maxTransfer >> 10);
  Log.line(" KiB");
}
