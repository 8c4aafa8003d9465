// A pcap writer (nanosecond timestamps, Ethernet link type) into a bounded
// memory buffer, and a device wrapper that records every frame it sends and
// receives. Whoever owns the buffer saves it: tests write it to a file from
// Node for tshark or wireshark. When the buffer is full, later frames are
// counted and not recorded.
import { netAlloc, netFree } from "../mem";
import { Device, DeadlineFn, ReceiveFn, TransmitFn, deviceInit } from "./device";

const GLOBAL_HEADER: u32 = 24;
const RECORD_HEADER: u32 = 16;
const SNAPLEN: u32 = 65535;
const LINKTYPE_ETHERNET: u32 = 1;

@final @unmanaged
export class PcapWriter {
  buf: usize;
  cap: u32;
  len: u32;
  records: u32;
  missed: u32;
}

/** A writer with `bytes` of buffer (at least the 24-byte file header); null when out of memory. */
export function pcapCreate(bytes: u32): PcapWriter | null {
  if (bytes < GLOBAL_HEADER) bytes = GLOBAL_HEADER;
  let w = changetype<PcapWriter>(netAlloc(offsetof<PcapWriter>()));
  if (changetype<usize>(w) == 0) return null;
  w.buf = netAlloc(bytes);
  if (w.buf == 0) {
    netFree(changetype<usize>(w));
    return null;
  }
  w.cap = bytes;
  let p = w.buf;
  store<u32>(p, 0xa1b23c4d); // nanosecond resolution
  store<u16>(p, 2, 4);
  store<u16>(p, 4, 6);
  store<u32>(p, 0, 8);
  store<u32>(p, 0, 12);
  store<u32>(p, SNAPLEN, 16);
  store<u32>(p, LINKTYPE_ETHERNET, 20);
  w.len = GLOBAL_HEADER;
  return w;
}

export function pcapDestroy(w: PcapWriter): void {
  netFree(w.buf);
  netFree(changetype<usize>(w));
}

/** Records one frame at time `now` (ns). */
export function pcapRecord(w: PcapWriter, frame: usize, len: u32, now: u64): void {
  let caplen = len < SNAPLEN ? len : SNAPLEN;
  if (w.len + RECORD_HEADER + caplen > w.cap) {
    w.missed++;
    return;
  }
  let p = w.buf + w.len;
  store<u32>(p, <u32>(now / 1000000000));
  store<u32>(p, <u32>(now % 1000000000), 4);
  store<u32>(p, caplen, 8);
  store<u32>(p, len, 12);
  memory.copy(p + RECORD_HEADER, frame, caplen);
  w.len += RECORD_HEADER + caplen;
  w.records++;
}

/** Forgets the records (the file header stays), after the owner saved them. */
export function pcapClear(w: PcapWriter): void {
  w.len = GLOBAL_HEADER;
}

@final @unmanaged
class PcapTap {
  inner: Device;
  writer: PcapWriter;
}

function tapTransmit(state: usize, frame: usize, len: u32, csumStart: u32, csumOffset: u32, now: u64): i32 {
  let t = changetype<PcapTap>(state);
  pcapRecord(t.writer, frame, len, now);
  return changetype<TransmitFn>(t.inner.transmitFn)(t.inner.state, frame, len, csumStart, csumOffset, now);
}

function tapReceive(state: usize, buf: usize, cap: u32, now: u64, flagsOut: usize): i32 {
  let t = changetype<PcapTap>(state);
  let n = changetype<ReceiveFn>(t.inner.receiveFn)(t.inner.state, buf, cap, now, flagsOut);
  if (n > 0) pcapRecord(t.writer, buf, <u32>n, now);
  return n;
}

function tapDeadline(state: usize): u64 {
  let inner = changetype<PcapTap>(state).inner;
  return changetype<DeadlineFn>(inner.deadlineFn)(inner.state);
}

/** Wraps `inner` so every frame through it is recorded in `writer`; null when out of memory. */
export function pcapDeviceCreate(inner: Device, writer: PcapWriter): Device | null {
  let dev = changetype<Device>(netAlloc(offsetof<Device>()));
  let t = changetype<PcapTap>(netAlloc(offsetof<PcapTap>()));
  if (changetype<usize>(dev) == 0 || changetype<usize>(t) == 0) {
    netFree(changetype<usize>(t));
    netFree(changetype<usize>(dev));
    return null;
  }
  t.inner = inner;
  t.writer = writer;
  deviceInit(dev, inner.mtu, inner.caps, inner.mac, changetype<usize>(t), changetype<usize>(tapTransmit),
    inner.receiveFn != 0 ? changetype<usize>(tapReceive) : 0, inner.deadlineFn != 0 ? changetype<usize>(tapDeadline) : 0);
  return dev;
}

export function pcapDeviceDestroy(dev: Device): void {
  netFree(dev.state);
  netFree(changetype<usize>(dev));
}
