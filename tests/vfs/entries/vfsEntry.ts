// Test entry: open files, the descriptor table and readiness hooks
// (kernel/vfs/file.ts, fdtable.ts, poll.ts) on the page allocator and heap,
// with a test file type whose operations count what happens to them.
import {
  File, FileIoctl, FilePoll, FileReadWrite, fileCreate, fileGet, fileIoctl, fileNotify, filePoll, filePollHead, filePut,
  fileRead, fileSeek, fileStat, fileWrite, IO_KERNEL,
} from "../../../kernel/vfs/file";
import { fdClose, fdGet, fdGetCloexec, fdInstall, fdInstallAt, fdOpenCount, fdSetCloexec } from "../../../kernel/vfs/fdtable";
import { PollHook, pollHookAdd, pollHookInit, pollHookRemove, POLL_FREE } from "../../../kernel/vfs/poll";
import { heapAlloc, heapBytesInUse, heapFree, TAG_FS } from "../../../kernel/mm/heap";
export { physicalInit, physicalAddFree } from "../../../kernel/mm/physical";
export { heapBytesInUse, fdClose, fdGetCloexec, fdOpenCount, fdSetCloexec, fileSeek, POLL_FREE };

/** Files released so far, and the last release's `node`. */
let released: u32 = 0;
let lastReleasedNode: usize = 0;
let readiness: u32 = 0;

function testRead(file: File, buffer: u64, count: u64, position: usize, flags: u32): i64 {
  // Reports the position it was given and the flags: lets the test check the plumbing.
  if (position != 0) store<u64>(position, load<u64>(position) + count);
  return <i64>count;
}

function testPoll(file: File): u32 {
  return readiness;
}

function testIoctl(file: File, request: u32, argument: u64): i64 {
  return <i64>request;
}

function testRelease(file: File): void {
  released++;
  lastReleasedNode = file.node;
}

const TEST_OPS: StaticArray<usize> = [
  changetype<usize>(<FileReadWrite>testRead),
  changetype<usize>(<FileReadWrite>testRead),
  changetype<usize>(<FilePoll>testPoll),
  changetype<usize>(<FileIoctl>testIoctl),
  0, 0, 0, 0,
  changetype<usize>(<(file: File) => void>testRelease),
];

export function makeFile(status: u32, node: usize): usize {
  let file = fileCreate(TEST_OPS, status, node, 0);
  return file === null ? 0 : changetype<usize>(file);
}

export function refs(file: usize): u32 {
  return changetype<File>(file).refs;
}

export function get(file: usize): void {
  fileGet(changetype<File>(file));
}

export function put(file: usize): void {
  filePut(changetype<File>(file));
}

export function releasedCount(): u32 {
  return released;
}

export function lastReleased(): usize {
  return lastReleasedNode;
}

export function setReadiness(events: u32): void {
  readiness = events;
}

export function poll(file: usize): u32 {
  return filePoll(changetype<File>(file));
}

export function install(file: usize, cloexec: bool, lowest: u32, limit: u32): i64 {
  return fdInstall(changetype<File>(file), cloexec, lowest, limit);
}

export function installAt(fd: u32, file: usize, cloexec: bool, limit: u32): i64 {
  return fdInstallAt(fd, changetype<File>(file), cloexec, limit);
}

/** fdGet then filePut: the File's address, or 0 when the descriptor is not open. */
export function lookup(fd: u64): usize {
  let file = fdGet(fd);
  if (file === null) return 0;
  filePut(file);
  return changetype<usize>(file);
}

/** read through fileRead with a local position; returns the result, the position moves by it. */
export function readAt(file: usize, count: u64, positionAddress: usize): i64 {
  return fileRead(changetype<File>(file), 0, count, positionAddress, IO_KERNEL);
}

export function write(file: usize, count: u64): i64 {
  return fileWrite(changetype<File>(file), 0, count, 0, IO_KERNEL);
}

export function ioctl(file: usize, request: u32): i64 {
  return fileIoctl(changetype<File>(file), request, 0);
}

export function stat(file: usize, out: usize): i64 {
  return fileStat(changetype<File>(file), out);
}

/** Zeroed heap bytes (an offset word for readAt). */
export function allocZeroed(bytes: usize): usize {
  let address = heapAlloc(bytes, TAG_FS);
  memory.fill(address, 0, bytes);
  return address;
}

// Hooks: each records the OR of the events it was told and how many times.
const HOOK_BYTES: usize = offsetof<PollHook>() + 8;

function recordEvents(hook: PollHook, events: u32): void {
  let record = hook.context;
  store<u32>(record, load<u32>(record) | events);
  store<u32>(record, load<u32>(record, 4) + 1, 4);
}

export function hookCreate(): usize {
  let hook = heapAlloc(HOOK_BYTES, TAG_FS);
  let record = hook + offsetof<PollHook>();
  store<u64>(record, 0);
  pollHookInit(changetype<PollHook>(hook), recordEvents, record);
  return hook;
}

export function hookAdd(file: usize, hook: usize): void {
  pollHookAdd(filePollHead(changetype<File>(file)), changetype<PollHook>(hook));
}

export function hookRemove(hook: usize): void {
  pollHookRemove(changetype<PollHook>(hook));
}

export function hookEvents(hook: usize): u32 {
  return load<u32>(hook + offsetof<PollHook>());
}

export function hookCalls(hook: usize): u32 {
  return load<u32>(hook + offsetof<PollHook>(), 4);
}

export function hookOnHead(hook: usize): bool {
  return changetype<PollHook>(hook).head != 0;
}

export function hookFree(hook: usize): void {
  heapFree(hook);
}

export function notify(file: usize, events: u32): void {
  fileNotify(changetype<File>(file), events);
}

