// ramfs file data: a table of page pointers indexed by page number, grown
// on demand; a 0 slot is a hole that reads as zeros (sparse files). Pages
// come from the physical allocator, zeroed.
import { heapAlloc, heapFree, TAG_FS } from "../../kernel/mm/heap";
import { allocPageZeroed, freePage, PAGE_SIZE } from "../../kernel/mm/physical";
import { EFBIG, ENOSPC, ENXIO } from "../../kernel/errno";
import { Inode, RamFs } from "./inode";

/** Largest file size ramfs keeps (its page table stays below 4 MiB). */
export const RAMFS_MAX_BYTES: u64 = 1 << 32;
const PAGE: u64 = <u64>PAGE_SIZE;

@inline function slot(inode: Inode, index: u32): usize {
  return inode.data + (<usize>index << alignof<usize>());
}

/** The page holding byte `index * PAGE_SIZE`, or 0 for a hole. */
export function dataPage(inode: Inode, index: u32): usize {
  if (index >= inode.slots) return 0;
  return load<usize>(slot(inode, index));
}

/** The page for `index`, allocated (zeroed) if it is a hole; 0 when out of memory. */
export function dataPageForWrite(inode: Inode, index: u32): usize {
  if (index >= inode.slots) {
    let count: u32 = inode.slots == 0 ? 4 : inode.slots;
    while (count <= index) count <<= 1;
    let bytes = <usize>count << alignof<usize>();
    let grown = heapAlloc(bytes, TAG_FS);
    if (grown == 0) return 0;
    memory.fill(grown, 0, bytes);
    if (inode.data != 0) {
      memory.copy(grown, inode.data, <usize>inode.slots << alignof<usize>());
      heapFree(inode.data);
    }
    inode.data = grown;
    inode.slots = count;
  }
  let page = load<usize>(slot(inode, index));
  if (page == 0) {
    page = allocPageZeroed();
    if (page == 0) return 0;
    store<usize>(slot(inode, index), page);
    inode.pages++;
    changetype<RamFs>(inode.fs).pages++;
  }
  return page;
}

/** A page of zeros: what a hole reads as. */
export const dataZeroPage = memory.data(<i32>PAGE_SIZE, 16);

/**
 * Moves `bytes` between file memory at `filePage` (a hole reads from
 * dataZeroPage) and the caller's buffer at `buffer`: 0 or -errno. Kernel
 * callers copy with memory.copy; the system calls through ioCopyIn/Out,
 * which check application addresses (`flags` is theirs).
 */
export type DataCopy = (filePage: usize, buffer: u64, bytes: usize, flags: u32) => i32;

/** Reads up to `count` bytes at `offset` through `copy`, page by page:
 * bytes read, or the copy's -errno when nothing was. */
export function dataReadThrough(inode: Inode, offset: u64, buffer: u64, count: u64, copy: DataCopy, flags: u32): i64 {
  if (offset >= inode.size) return 0;
  if (count > inode.size - offset) count = inode.size - offset;
  let done: u64 = 0;
  while (done < count) {
    let at = offset + done;
    let within = at & (PAGE - 1);
    let chunk = PAGE - within;
    if (chunk > count - done) chunk = count - done;
    let page = dataPage(inode, <u32>(at / PAGE));
    let result = copy(page != 0 ? page + <usize>within : dataZeroPage, buffer + done, <usize>chunk, flags);
    if (result < 0) return done > 0 ? <i64>done : <i64>result;
    done += chunk;
  }
  return <i64>done;
}

/**
 * Writes `count` bytes at `offset` through `copy`, filling holes with new
 * pages and growing the file: bytes written (short when memory runs out or
 * a copy fails after some), or -errno (-EFBIG past the size limit, -ENOSPC
 * out of pages, the copy's) when nothing was.
 */
export function dataWriteThrough(inode: Inode, offset: u64, buffer: u64, count: u64, copy: DataCopy, flags: u32, now: u64): i64 {
  if (offset >= RAMFS_MAX_BYTES) return count == 0 ? 0 : -EFBIG;
  if (count > RAMFS_MAX_BYTES - offset) count = RAMFS_MAX_BYTES - offset;
  let done: u64 = 0;
  let result: i32 = 0;
  while (done < count) {
    let at = offset + done;
    let within = at & (PAGE - 1);
    let chunk = PAGE - within;
    if (chunk > count - done) chunk = count - done;
    let page = dataPageForWrite(inode, <u32>(at / PAGE));
    if (page == 0) {
      result = -ENOSPC;
      break;
    }
    result = copy(page + <usize>within, buffer + done, <usize>chunk, flags);
    if (result < 0) break;
    done += chunk;
  }
  if (done > 0) dataWritten(inode, offset + done, now);
  return done > 0 || count == 0 ? <i64>done : <i64>result;
}

function kernelCopyOut(filePage: usize, buffer: u64, bytes: usize, flags: u32): i32 {
  memory.copy(<usize>buffer, filePage, bytes);
  return 0;
}

function kernelCopyIn(filePage: usize, buffer: u64, bytes: usize, flags: u32): i32 {
  memory.copy(filePage, <usize>buffer, bytes);
  return 0;
}

/** Reads up to `count` bytes at `offset` into kernel memory: bytes read. */
export function dataRead(inode: Inode, offset: u64, out: usize, count: u64): u64 {
  return <u64>dataReadThrough(inode, offset, <u64>out, count, kernelCopyOut, 0);
}

/** Writes `count` bytes of kernel memory at `offset`, growing the file:
 * bytes written (short when memory runs out after some), or -errno. */
export function dataWrite(inode: Inode, offset: u64, source: usize, count: u64, now: u64): i64 {
  return dataWriteThrough(inode, offset, <u64>source, count, kernelCopyIn, 0, now);
}

/** After a write that ended at `end`: size and times. */
export function dataWritten(inode: Inode, end: u64, now: u64): void {
  if (end > inode.size) inode.size = end;
  inode.mtime = now;
  inode.ctime = now;
}

/** Sets the size: pages past the end are freed, the tail of the last page zeroed. 0 or -errno. */
export function dataTruncate(inode: Inode, size: u64, now: u64): i32 {
  if (size > RAMFS_MAX_BYTES) return -EFBIG;
  if (size < inode.size) {
    let keep = <u32>((size + PAGE - 1) / PAGE);
    for (let i = keep; i < inode.slots; i++) {
      let page = load<usize>(slot(inode, i));
      if (page != 0) {
        freePage(page);
        store<usize>(slot(inode, i), 0);
        inode.pages--;
        changetype<RamFs>(inode.fs).pages--;
      }
    }
    let within = size & (PAGE - 1);
    if (within != 0) {
      let page = dataPage(inode, <u32>(size / PAGE));
      if (page != 0) memory.fill(page + <usize>within, 0, <usize>(PAGE - within));
    }
  }
  inode.size = size;
  inode.mtime = now;
  inode.ctime = now;
  return 0;
}

/** SEEK_DATA (`hole` false) or SEEK_HOLE from `offset`: the offset or -ENXIO.
 * Every allocated page counts as data; the end of the file is a hole. */
export function dataSeek(inode: Inode, offset: u64, hole: bool): i64 {
  if (offset >= inode.size) return -ENXIO;
  let index = <u32>(offset / PAGE);
  let lastIndex = <u32>((inode.size - 1) / PAGE);
  while (index <= lastIndex) {
    let present = dataPage(inode, index) != 0;
    if (present != hole) {
      let at = <u64>index * PAGE;
      return <i64>(at > offset ? at : offset);
    }
    index++;
  }
  return hole ? <i64>inode.size : -ENXIO;
}

export function dataRelease(inode: Inode): void {
  if (inode.data == 0) return;
  dataTruncate(inode, 0, inode.mtime);
  heapFree(inode.data);
  inode.data = 0;
  inode.slots = 0;
}
