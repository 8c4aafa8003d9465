// In-guest driver self-tests and the virtio-blk benchmark:
//   wisp.test=blk    fill the first block device with a seeded xorshift32
//                    pattern, read it back and verify; the host then checks
//                    the image's sha256 (tests/drivers/blk.test.ts)
//   wisp.test=net    resolve the gateway (wisp.gateway, 10.0.2.2) by ARP;
//                    with wisp.arpserve=<s> also wait until 3 ARP requests
//                    for wisp.ip were answered
//   wisp.test=rng    random bytes from the pool, virtio-rng delivered input
//   wisp.bench=blk   sequential write and read MB/s, interrupts and polling
import { rdtsc } from "../arch/x86_64/cpu";
import { BootInfo } from "../kernel/bootinfo";
import { parseDecimal } from "../kernel/cmdline";
import { Log } from "../kernel/log";
import { heapAlloc, heapFree, TAG_DRIVERS } from "../kernel/mm/heap";
import { Options } from "../kernel/options";
import { sleepNanos } from "../kernel/sched/sleep";
import { SelfTest } from "../kernel/selftest/report";
import { Clock } from "../kernel/time/clock";
import { Tsc } from "../kernel/time/tsc";
import {
  BlockDevice, blockDevice, blockFlush, blockRead, blockRequestAlloc, BlockRequest, blockSetPolling, blockSubmit,
  blockWait, BLOCK_READ, BLOCK_WRITE, EINVAL, SECTOR_SIZE,
} from "./block";
import { Entropy, getRandomBytes } from "./entropy";
import { logMac, NetDevice, netdevGet, netdevLinkUp } from "./netdev";
import { Arp, arpLastReplyMac, arpLastRequesterMac, arpSendRequest, DEFAULT_GATEWAY, ipOption } from "./net/arpresponder";
import { rngBytesDelivered, rngFillSync } from "./virtio/rng";

/** The pattern's seed; tests/drivers/pattern.ts generates the same stream. */
export const PATTERN_SEED: u32 = 0x2545f491;
const CHUNK_SECTORS: u32 = 2048; // 1 MiB
const DEPTH: u32 = 8;

let patternState: u32 = PATTERN_SEED;

/** Fills `words` u32s at `buffer` with the next values of the xorshift32 stream. */
function fillPattern(buffer: usize, words: usize): void {
  let x = patternState;
  for (let i: usize = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    store<u32>(buffer + i * 4, x);
  }
  patternState = x;
}

/** Checks `words` u32s against the stream; returns the index of the first mismatch or -1. */
function checkPattern(buffer: usize, words: usize): i64 {
  let x = patternState;
  let bad: i64 = -1;
  for (let i: usize = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (bad < 0 && load<u32>(buffer + i * 4) != x) bad = <i64>i;
  }
  patternState = x;
  return bad;
}

const requests = memory.data(<i32>(DEPTH * 4), 4);
const buffers = memory.data(<i32>(DEPTH * 4), 4);

function allocWorkers(): bool {
  for (let i: u32 = 0; i < DEPTH; i++) {
    let request = blockRequestAlloc();
    let buffer = heapAlloc(<usize>CHUNK_SECTORS * SECTOR_SIZE, TAG_DRIVERS);
    if (request === null || buffer == 0) return false;
    store<usize>(requests + <usize>i * 4, changetype<usize>(request));
    store<usize>(buffers + <usize>i * 4, buffer);
  }
  return true;
}

function freeWorkers(): void {
  for (let i: u32 = 0; i < DEPTH; i++) {
    heapFree(load<usize>(requests + <usize>i * 4));
    heapFree(load<usize>(buffers + <usize>i * 4));
  }
}

function requestAt(i: u32): BlockRequest {
  return changetype<BlockRequest>(load<usize>(requests + <usize>i * 4));
}

function bufferAt(i: u32): usize {
  return load<usize>(buffers + <usize>i * 4);
}

/**
 * Streams the whole device in CHUNK_SECTORS requests, DEPTH in flight.
 * op BLOCK_WRITE: `pattern` fills each chunk first; BLOCK_READ: checks it
 * after. Returns 0, a negative errno, or 1 on a pattern mismatch.
 */
function stream(dev: BlockDevice, op: u32, pattern: bool, depth: u32, chunkSectors: u32): i32 {
  let chunks = <u32>((dev.sectors + <u64>chunkSectors - 1) / <u64>chunkSectors);
  let failure: i32 = 0;
  for (let c: u32 = 0; c < chunks + depth; c++) {
    let slot = c % depth;
    if (c >= depth) {
      // Finish chunk c - depth, which used this slot.
      let request = requestAt(slot);
      let result = blockWait(request);
      if (result != 0 && failure == 0) failure = result;
      if (op == BLOCK_READ && pattern && failure == 0) {
        let bad = checkPattern(bufferAt(slot), <usize>request.count * SECTOR_SIZE / 4);
        if (bad >= 0) {
          Log.str("blk: pattern mismatch at byte ");
          Log.dec(request.sector * SECTOR_SIZE + <u64>bad * 4);
          Log.newline();
          failure = 1;
        }
      }
    }
    if (c >= chunks || failure != 0) continue;
    let request = requestAt(slot);
    let sector = <u64>c * <u64>chunkSectors;
    let count = dev.sectors - sector < <u64>chunkSectors ? <u32>(dev.sectors - sector) : chunkSectors;
    if (op == BLOCK_WRITE && pattern) fillPattern(bufferAt(slot), <usize>count * SECTOR_SIZE / 4);
    request.op = op;
    request.sector = sector;
    request.count = count;
    request.buffer = bufferAt(slot);
    request.callback = 0;
    let result = blockSubmit(dev, request);
    if (result != 0) {
      failure = result;
      request.done = 1; // nothing to wait for
    }
  }
  return failure;
}

function mbPerSecond(bytes: u64, ticks: u64): void {
  let micros = Tsc.toMicros(ticks);
  if (micros == 0) micros = 1;
  Log.milli(bytes * 1000 / micros, 1); // bytes per microsecond = MB/s
  Log.str(" MB/s (");
  Log.dec(bytes >> 20);
  Log.str(" MiB in ");
  Log.milli(micros, 0);
  Log.str(" ms)");
}

export function runBlockSelfTest(): void {
  let dev = blockDevice(0);
  if (!SelfTest.check("blk", "a block device is present", dev !== null)) return;
  let blk = changetype<BlockDevice>(dev);
  SelfTest.check("blk", "capacity is at least 1 MiB", blk.sectors >= 2048);
  if (!SelfTest.check("blk", "request buffers allocated", allocWorkers())) return;
  let start = rdtsc();
  patternState = PATTERN_SEED;
  let written = stream(blk, BLOCK_WRITE, true, DEPTH, CHUNK_SECTORS);
  SelfTest.checkValue("blk", "pattern written to the whole device, 8 requests in flight", written, 0);
  SelfTest.checkValue("blk", "flush", blockFlush(blk), 0);
  let middle = rdtsc();
  patternState = PATTERN_SEED;
  let read = stream(blk, BLOCK_READ, true, DEPTH, CHUNK_SECTORS);
  SelfTest.checkValue("blk", "pattern read back and verified", read, 0);
  let end = rdtsc();
  Log.str("blk: write ");
  mbPerSecond(blk.sectors * SECTOR_SIZE, middle - start);
  Log.str(", read ");
  mbPerSecond(blk.sectors * SECTOR_SIZE, end - middle);
  Log.newline();
  // Synchronous single-sector paths and argument checks.
  let one = bufferAt(0);
  SelfTest.checkValue("blk", "read of the last sector", blockRead(blk, blk.sectors - 1, 1, one), 0);
  let x = PATTERN_SEED;
  let lastWords = (blk.sectors * SECTOR_SIZE / 4) - 128;
  // The last sector's first word is the stream's value at lastWords + 1: replay it.
  for (let i: u64 = 0; i <= lastWords; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  SelfTest.check("blk", "last sector holds the pattern", load<u32>(one) == x);
  SelfTest.checkValue("blk", "read past the end is refused", blockRead(blk, blk.sectors, 1, one), -EINVAL);
  freeWorkers();
}

export function runBlockBenchmark(): void {
  let dev = blockDevice(0);
  if (dev === null) {
    Log.line("blkbench: no block device");
    return;
  }
  if (!allocWorkers()) {
    Log.line("blkbench: out of memory");
    return;
  }
  let blk = changetype<BlockDevice>(dev);
  let bytes = blk.sectors * SECTOR_SIZE;
  for (let mode = 0; mode < 2; mode++) {
    let polling = mode == 1;
    blockSetPolling(blk, polling);
    let label = polling ? "polling" : "interrupts";
    for (let depthIndex = 0; depthIndex < 2; depthIndex++) {
      let depth: u32 = depthIndex == 0 ? 1 : DEPTH;
      let t0 = rdtsc();
      let w = stream(blk, BLOCK_WRITE, false, depth, CHUNK_SECTORS);
      let t1 = rdtsc();
      let r = stream(blk, BLOCK_READ, false, depth, CHUNK_SECTORS);
      let t2 = rdtsc();
      Log.str("blkbench: ");
      Log.str(label);
      Log.str(", 1 MiB requests, ");
      Log.dec(depth);
      Log.str(" in flight: write ");
      mbPerSecond(bytes, t1 - t0);
      Log.str(", read ");
      mbPerSecond(bytes, t2 - t1);
      if (w != 0 || r != 0) Log.str(" (errors)");
      Log.newline();
    }
    // Small requests: 4 KiB reads, one at a time, for latency.
    let n: u32 = 2000;
    let t0 = rdtsc();
    let errors = 0;
    for (let i: u32 = 0; i < n; i++) {
      let sector = (<u64>i * 8) % (blk.sectors - 8);
      if (blockRead(blk, sector, 8, bufferAt(0)) != 0) errors++;
    }
    let t1 = rdtsc();
    Log.str("blkbench: ");
    Log.str(label);
    Log.str(", 4 KiB reads one at a time: ");
    Log.dec(Tsc.toMicros(t1 - t0) * 1000 / <u64>n);
    Log.str(" ns each");
    Log.line(errors != 0 ? " (errors)" : "");
  }
  blockSetPolling(blk, false);
  freeWorkers();
}

export function runNetSelfTest(): void {
  let dev = netdevGet(0);
  if (!SelfTest.check("net", "a network device is present", dev !== null)) return;
  let netdev = changetype<NetDevice>(dev);
  SelfTest.check("net", "link is up", netdevLinkUp(netdev));
  let gateway = ipOption("wisp.gateway", DEFAULT_GATEWAY);
  let before = Arp.repliesSeen;
  let resolved = false;
  for (let attempt = 0; attempt < 5 && !resolved; attempt++) {
    SelfTest.checkValue("net", "ARP request sent", arpSendRequest(netdev, gateway), 0);
    let deadline = Clock.deadlineIn(1_000_000_000);
    while (rdtsc() < deadline && !resolved) {
      resolved = Arp.repliesSeen != before && Arp.lastReplyIp == gateway;
      if (!resolved) sleepNanos(5_000_000);
    }
  }
  if (SelfTest.check("net", "gateway answered ARP", resolved)) {
    Log.str("net: gateway ");
    Log.ipv4(gateway);
    Log.str(" is at ");
    logMac(arpLastReplyMac());
    Log.newline();
  }
  let found = Options.find("wisp.arpserve");
  if (found >= 0) {
    let seconds = parseDecimal(BootInfo.cmdline, <u32>(found >>> 32), <u32>(found & 0xffffffff));
    if (seconds <= 0) seconds = 10;
    Log.str("net: answering ARP for ");
    Log.ipv4(Arp.ip);
    Log.str(" for up to ");
    Log.dec(<u64>seconds);
    Log.line(" s");
    let deadline = Clock.deadlineIn(<u64>seconds * 1_000_000_000);
    while (rdtsc() < deadline && Arp.requestsAnswered < 3) sleepNanos(10_000_000);
    // Stay a moment longer for the asker's last reply and stragglers.
    sleepNanos(500_000_000);
    if (Arp.requestsAnswered > 0) {
      Log.str("net: answered ");
      Log.dec(Arp.requestsAnswered);
      Log.str(" ARP requests, the last from ");
      Log.ipv4(Arp.lastRequesterIp);
      Log.str(" at ");
      logMac(arpLastRequesterMac());
      Log.newline();
    }
    SelfTest.check("net", "answered 3 ARP requests", Arp.requestsAnswered >= 3);
  }
  Log.str("net: rx ");
  Log.dec(netdev.rxPackets);
  Log.str(" packets (");
  Log.dec(netdev.rxDropped);
  Log.str(" dropped), tx ");
  Log.dec(netdev.txPackets);
  Log.str(" packets, ");
  Log.dec(netdev.rxInterrupts);
  Log.line(" receive interrupts");
}

const random1 = memory.data(64, 8);
const random2 = memory.data(64, 8);

export function runRngSelfTest(): void {
  let delivered = rngBytesDelivered();
  if (delivered == 0) rngFillSync(1000);
  SelfTest.check("rng", "virtio-rng delivered bytes to the pool", rngBytesDelivered() > 0);
  getRandomBytes(random1, 64);
  getRandomBytes(random2, 64);
  let same = true;
  let zero = true;
  for (let i: usize = 0; i < 64; i++) {
    if (load<u8>(random1 + i) != load<u8>(random2 + i)) same = false;
    if (load<u8>(random1 + i) != 0) zero = false;
  }
  SelfTest.check("rng", "two random draws differ and are not zero", !same && !zero);
  SelfTest.check("rng", "entropy credited", Entropy.creditedBits >= 64);
}

/** Runs the self-tests wisp.test names (blk, net, rng, or devices: all); true if any ran. */
export function runDriverSelfTests(): bool {
  let all = Options.equals("wisp.test", "devices");
  let ran = false;
  if (all || Options.equals("wisp.test", "rng")) {
    runRngSelfTest();
    ran = true;
  }
  if (all || Options.equals("wisp.test", "blk")) {
    runBlockSelfTest();
    ran = true;
  }
  if (all || Options.equals("wisp.test", "net")) {
    runNetSelfTest();
    ran = true;
  }
  return ran;
}

export function runDriverBenchmarks(): void {
  if (Options.equals("wisp.bench", "blk")) runBlockBenchmark();
}
