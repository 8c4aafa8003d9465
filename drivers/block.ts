// The block-device interface the file systems use. Sectors are 512 bytes
// whatever the device's preferred block size. Requests are asynchronous
// underneath (blockSubmit, then blockWait or a completion callback), and
// blockRead/blockWrite/blockFlush are the synchronous forms: the calling
// thread sleeps on the request's wait queue until the device completes it
// (or spins on the driver's poll function in polling mode). Results are 0
// or a negative errno. Buffers are AS pointers (physically contiguous).
import { heapAlloc, heapFree, TAG_DRIVERS } from "../kernel/mm/heap";
import { WaitQueue, waitQueueLock, waitQueueSleepLocked, waitQueueUnlock, waitQueueWakeLocked } from "../kernel/sync/waitqueue";
import { pause } from "../arch/x86_64/cpu";
import { EIO, ENOMEM, EINVAL, EROFS, EOPNOTSUPP } from "../kernel/errno";
export { EIO, ENOMEM, EINVAL, EROFS, EOPNOTSUPP };

export const SECTOR_SIZE: u32 = 512;
export const BLOCK_READ: u32 = 0;
export const BLOCK_WRITE: u32 = 1;
export const BLOCK_FLUSH: u32 = 2;


const MAX_DEVICES: u32 = 16;
const devices = memory.data(<i32>(MAX_DEVICES * 4), 4);
let deviceCount: u32 = 0;

@unmanaged
export class BlockDevice {
  /** Capacity in 512-byte sectors. */
  sectors: u64;
  /** The device's preferred (logical) block size in bytes. */
  blockSize: u32;
  /** Largest request in bytes (blockRead/blockWrite split larger ones). */
  maxTransfer: u32;
  readOnly: u32;
  /** The device has a volatile cache that blockFlush writes back. */
  canFlush: u32;
  /** blockWait spins on the driver's poll function instead of sleeping. */
  polling: u32;
  unit: u32;
  driver: usize;
  /** (driver, request) => 0 | -errno: queue the request. */
  submitFunction: usize;
  /** (driver) => void: reap completions (polling mode). */
  pollFunction: usize;
  /** (driver, on) => void: switch interrupts off for polling, or back on. */
  pollingFunction: usize;
  name: usize;
  reads: u64;
  writes: u64;
  bytesRead: u64;
  bytesWritten: u64;
}

@unmanaged
export class BlockRequest {
  // The WaitQueue fields first: the request is its own wait queue.
  lock: u32;
  head: usize;
  tail: usize;
  op: u32;
  result: i32;
  done: u32;
  /** Sectors (512 bytes) to transfer. */
  count: u32;
  sector: u64;
  buffer: usize;
  device: usize;
  /** Optional: callback(arg, request) in interrupt context instead of a waiter. */
  callback: usize;
  callbackArg: usize;
  /** For the driver: a link while completing, and its request header and status. */
  next: usize;
  driverHeader0: u64;
  driverHeader1: u64;
  driverStatus: u32;
}

export function blockRegister(dev: BlockDevice): u32 {
  if (deviceCount >= MAX_DEVICES) return 0xffffffff;
  dev.unit = deviceCount;
  store<usize>(devices + <usize>deviceCount * 4, changetype<usize>(dev));
  return deviceCount++;
}

export function blockDeviceCount(): u32 {
  return deviceCount;
}

export function blockDevice(index: u32): BlockDevice | null {
  if (index >= deviceCount) return null;
  return changetype<BlockDevice>(load<usize>(devices + <usize>index * 4));
}

/** Bytes of capacity. */
export function blockCapacityBytes(dev: BlockDevice): u64 {
  return dev.sectors * <u64>SECTOR_SIZE;
}

export function blockRequestAlloc(): BlockRequest | null {
  let address = heapAlloc(offsetof<BlockRequest>(), TAG_DRIVERS);
  return address == 0 ? null : changetype<BlockRequest>(address);
}

export function blockRequestFree(request: BlockRequest): void {
  heapFree(changetype<usize>(request));
}

/**
 * Queues `request` (op, sector, count, buffer set by the caller; at most
 * dev.maxTransfer bytes). Completion is signalled through blockComplete.
 */
export function blockSubmit(dev: BlockDevice, request: BlockRequest): i32 {
  request.device = changetype<usize>(dev);
  request.done = 0;
  request.result = 0;
  if (request.op == BLOCK_FLUSH) {
    if (dev.canFlush == 0) {
      blockComplete(request, 0); // no volatile cache: nothing to write back
      return 0;
    }
  } else {
    if (request.op != BLOCK_READ && request.op != BLOCK_WRITE) return -EINVAL;
    if (request.count == 0 || <u64>request.count * <u64>SECTOR_SIZE > <u64>dev.maxTransfer) return -EINVAL;
    if (request.sector >= dev.sectors || <u64>request.count > dev.sectors - request.sector) return -EINVAL;
    if (request.op == BLOCK_WRITE && dev.readOnly != 0) return -EROFS;
  }
  return changetype<(driver: usize, request: usize) => i32>(dev.submitFunction)(dev.driver, changetype<usize>(request));
}

/** Called by drivers when `request` is finished (any context). */
export function blockComplete(request: BlockRequest, result: i32): void {
  let dev = changetype<BlockDevice>(request.device);
  if (result == 0) {
    let bytes = <u64>request.count * <u64>SECTOR_SIZE;
    if (request.op == BLOCK_READ) {
      dev.reads++;
      dev.bytesRead += bytes;
    } else if (request.op == BLOCK_WRITE) {
      dev.writes++;
      dev.bytesWritten += bytes;
    }
  }
  if (request.callback != 0) {
    request.result = result;
    request.done = 1;
    changetype<(arg: usize, request: usize) => void>(request.callback)(request.callbackArg, changetype<usize>(request));
    return;
  }
  let queue = changetype<WaitQueue>(changetype<usize>(request));
  let flags = waitQueueLock(queue);
  request.result = result;
  request.done = 1;
  waitQueueWakeLocked(queue, 1, 0);
  // The waiter may free the request as soon as the lock is released.
  waitQueueUnlock(queue, flags);
}

/** Waits for a submitted request (without a callback) and returns its result. */
export function blockWait(request: BlockRequest): i32 {
  let dev = changetype<BlockDevice>(request.device);
  if (dev.polling != 0) {
    while (true) {
      let queue = changetype<WaitQueue>(changetype<usize>(request));
      let flags = waitQueueLock(queue);
      let done = request.done != 0;
      waitQueueUnlock(queue, flags);
      if (done) return request.result;
      changetype<(driver: usize) => void>(dev.pollFunction)(dev.driver);
      pause();
    }
  }
  let queue = changetype<WaitQueue>(changetype<usize>(request));
  let flags = waitQueueLock(queue);
  while (request.done == 0) {
    waitQueueSleepLocked(queue, flags, 0);
    flags = waitQueueLock(queue);
  }
  let result = request.result;
  waitQueueUnlock(queue, flags);
  return result;
}

/** Switches `dev` between interrupts (the default) and polling, e.g. for benchmarks. */
export function blockSetPolling(dev: BlockDevice, on: bool): void {
  dev.polling = on ? 1 : 0;
  changetype<(driver: usize, on: bool) => void>(dev.pollingFunction)(dev.driver, on);
}

function transfer(dev: BlockDevice, op: u32, sector: u64, count: u32, buffer: usize): i32 {
  if (count == 0) return 0;
  let request = blockRequestAlloc();
  if (request === null) return -ENOMEM;
  let perRequest = dev.maxTransfer / SECTOR_SIZE;
  let result: i32 = 0;
  let done: u32 = 0;
  while (done < count && result == 0) {
    let n = count - done < perRequest ? count - done : perRequest;
    request.op = op;
    request.sector = sector + <u64>done;
    request.count = n;
    request.buffer = buffer + <usize>done * <usize>SECTOR_SIZE;
    request.callback = 0;
    result = blockSubmit(dev, request);
    if (result == 0) result = blockWait(request);
    done += n;
  }
  blockRequestFree(request);
  return result;
}

/** Reads `count` sectors from `sector` into `buffer`; 0 or -errno. */
export function blockRead(dev: BlockDevice, sector: u64, count: u32, buffer: usize): i32 {
  return transfer(dev, BLOCK_READ, sector, count, buffer);
}

/** Writes `count` sectors at `sector` from `buffer`; 0 or -errno. */
export function blockWrite(dev: BlockDevice, sector: u64, count: u32, buffer: usize): i32 {
  return transfer(dev, BLOCK_WRITE, sector, count, buffer);
}

/** Makes every completed write durable; 0 or -errno. */
export function blockFlush(dev: BlockDevice): i32 {
  let request = blockRequestAlloc();
  if (request === null) return -ENOMEM;
  request.op = BLOCK_FLUSH;
  let result = blockSubmit(dev, request);
  if (result == 0) result = blockWait(request);
  blockRequestFree(request);
  return result;
}
