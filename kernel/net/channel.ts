// Net channels (Van Jacobson): the driver's receive path only classifies a
// frame; frames of an established TCP connection whose owner attached a
// channel are copied into that connection's ring, and the owner's thread
// (the one that reads, writes or polls the socket) runs TCP on them when it
// next enters the stack. Everything else takes the normal path
// (stackInput in the driver's thread).
//
// Order: a connection's frames are processed in arrival order. When a ring
// is full the receive path first processes the queued frames itself, then
// the new one, so a frame never overtakes an earlier one of its connection.
// Frames of a connection that classification sends to the normal path
// (SYN, RST, fragments) may overtake queued ones; TCP handles that as it
// handles reordering in the network.
//
// Locking: rings are filled and drained with the stack lock held, like every
// other stack entry; the network thread drains every ring when it runs, so
// an owner that does not come back soon does not stall the ACK clock
// beyond the stack's own timers.
//
// Switch: wisp.netchannels=on|off. Off by default: on this project's test
// machine (QEMU TCG, 2 vCPUs) the in-kernel echo measured faster without
// channels (docs/networking.md has the figures): the copy into the ring and
// the hand-off to the owner's thread cost more than the cache locality
// gains under one stack lock.
import { Log } from "../log";
import { heapAlloc, heapFree, TAG_NET } from "../mm/heap";
import { Options } from "../options";
import { Stack, stackInput, tcpChannelInput, tcpClassify } from "../../net/index";
import { socketById } from "../../net/socket/table";

/** Frames a channel holds. */
const SLOTS: u32 = 32;
/** Bytes per slot: a full Ethernet frame (1514) with room to spare. */
const SLOT_BYTES: u32 = 2048;
const SLOT_DATA: u32 = SLOT_BYTES - 16;

/** Called with the stack lock held when a channel goes non-empty: wake the owner (no sleeping). */
export type ChannelNotify = (arg: usize) => void;

@unmanaged
export class Channel {
  id: i32;
  head: u32;
  count: u32;
  notifyFn: usize;
  notifyArg: usize;
  /** Frames ever queued here and processed by the receive path because the ring was full. */
  queued: u64;
  overflowed: u64;
  slots: usize;
}

export class Channels {
  static enabled: bool = false;
  /** Per socket id, the attached Channel (0: none). */
  static table: usize = 0;
  static size: u32 = 0;
  static attached: u32 = 0;
  static queued: u64 = 0;
  static processed: u64 = 0;
  static overflowed: u64 = 0;
}

/** Reads wisp.netchannels and allocates the id table; logs which path is in use. */
export function channelsInit(maxSockets: u32): void {
  if (Options.equals("wisp.netchannels", "off")) Channels.enabled = false;
  else if (Options.equals("wisp.netchannels", "on")) Channels.enabled = true;
  else if (Options.has("wisp.netchannels")) Log.line("net: wisp.netchannels is not on or off, using the default");
  if (Channels.enabled) {
    let bytes = <usize>maxSockets * sizeof<usize>();
    let t = heapAlloc(bytes, TAG_NET);
    if (t == 0) Channels.enabled = false;
    else {
      memory.fill(t, 0, bytes);
      Channels.table = t;
      Channels.size = maxSockets;
    }
  }
  Log.line(Channels.enabled ? "net: net channels on" : "net: net channels off");
}

function entry(id: i32): usize {
  return Channels.table + (<usize>id << alignof<usize>());
}

function slot(ch: Channel, index: u32): usize {
  return ch.slots + <usize>(index % SLOTS) * SLOT_BYTES;
}

/**
 * Gives socket `id` a channel (stack lock held); `notify(arg)` runs when the
 * ring goes non-empty. Does nothing when channels are off or memory is short
 * (the socket then keeps the normal path).
 */
export function channelAttach(id: i32, notify: ChannelNotify, arg: usize): void {
  if (!Channels.enabled || id < 0 || <u32>id >= Channels.size) return;
  if (load<usize>(entry(id)) != 0) return;
  let ch = changetype<Channel>(heapAlloc(offsetof<Channel>(), TAG_NET));
  if (changetype<usize>(ch) == 0) return;
  let slots = heapAlloc(<usize>SLOTS * SLOT_BYTES, TAG_NET);
  if (slots == 0) {
    heapFree(changetype<usize>(ch));
    return;
  }
  ch.id = id;
  ch.head = 0;
  ch.count = 0;
  ch.notifyFn = changetype<usize>(notify);
  ch.notifyArg = arg;
  ch.queued = 0;
  ch.overflowed = 0;
  ch.slots = slots;
  store<usize>(entry(id), changetype<usize>(ch));
  Channels.attached++;
}

/** Processes what is queued for socket `id` in order (stack lock held): TCP runs in the caller's thread. */
export function channelDrain(stack: Stack, id: i32, now: u64): void {
  if (Channels.table == 0 || id < 0 || <u32>id >= Channels.size) return;
  let p = load<usize>(entry(id));
  if (p == 0) return;
  drain(stack, changetype<Channel>(p), now);
}

function drain(stack: Stack, ch: Channel, now: u64): void {
  while (ch.count != 0) {
    let at = slot(ch, ch.head);
    let len = load<u32>(at);
    let flags = load<u32>(at, 4);
    let ifIndex = load<u32>(at, 8);
    ch.head = (ch.head + 1) % SLOTS;
    ch.count--;
    Channels.processed++;
    let s = socketById(stack, ch.id);
    // The connection may have left the table's slot or changed; the frame then goes the normal way.
    if (s === null || !tcpChannelInput(stack, stack.ctx, s, at + 16, len, flags, now)) {
      stackInput(stack, ifIndex, at + 16, len, flags, now);
    }
  }
}

/** Processes what is queued and removes the channel (stack lock held; before the socket is closed). */
export function channelDetach(stack: Stack, id: i32, now: u64): void {
  if (Channels.table == 0 || id < 0 || <u32>id >= Channels.size) return;
  let p = load<usize>(entry(id));
  if (p == 0) return;
  let ch = changetype<Channel>(p);
  drain(stack, ch, now);
  store<usize>(entry(id), 0);
  Channels.attached--;
  heapFree(ch.slots);
  heapFree(p);
}

/** The network thread's pass over every channel (stack lock held). */
export function channelDrainAll(stack: Stack, now: u64): void {
  if (Channels.table == 0 || Channels.attached == 0) return;
  for (let id: u32 = 0; id < Channels.size; id++) {
    let p = load<usize>(entry(<i32>id));
    if (p != 0 && changetype<Channel>(p).count != 0) drain(stack, changetype<Channel>(p), now);
  }
}

/**
 * The receive path (stack lock held): true if the frame went to a channel
 * (copied; the caller's buffer is free again), false for the normal path.
 */
export function channelReceive(stack: Stack, ifIndex: u32, frame: usize, len: u32, flags: u32, now: u64): bool {
  if (!Channels.enabled || Channels.attached == 0 || len > SLOT_DATA) return false;
  let id = tcpClassify(stack, frame, len);
  if (id < 0 || <u32>id >= Channels.size) return false;
  let p = load<usize>(entry(id));
  if (p == 0) return false;
  let ch = changetype<Channel>(p);
  if (ch.count == SLOTS) {
    // Full: catch up here, in order, before this frame.
    ch.overflowed++;
    Channels.overflowed++;
    drain(stack, ch, now);
    return false;
  }
  let at = slot(ch, ch.head + ch.count);
  store<u32>(at, len);
  store<u32>(at, flags, 4);
  store<u32>(at, ifIndex, 8);
  memory.copy(at + 16, frame, len);
  ch.count++;
  ch.queued++;
  Channels.queued++;
  if (ch.count == 1) changetype<ChannelNotify>(ch.notifyFn)(ch.notifyArg);
  return true;
}

/** Logs the channel counters (wisp.runfor's summary). */
export function channelsLog(): void {
  if (!Channels.enabled) return;
  Log.str("net: channels queued ");
  Log.dec(Channels.queued);
  Log.str(", processed ");
  Log.dec(Channels.processed);
  Log.str(", ring full ");
  Log.dec(Channels.overflowed);
  Log.newline();
}
