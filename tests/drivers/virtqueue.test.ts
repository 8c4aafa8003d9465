// The split virtqueue against a device simulated in JS: descriptor chains
// and indirect tables as the device walks them, free-list accounting, ring
// full, completions out of order, u16 index wrap-around, event-index
// notification and interrupt suppression. The queue code runs on the real
// page allocator and heap with the arch imports mocked (one JS thread).
import asc from "assemblyscript/asc";
import { beforeAll, describe, expect, it } from "vitest";
import { atomicImports, newArchState } from "../support/archMock.ts";

const MiB = 1 << 20;
const MEMORY = 16 * MiB;

interface Vq {
  memory: WebAssembly.Memory;
  physicalInit(metadata: number, max: bigint): void;
  physicalAddFree(start: bigint, end: bigint): void;
  vqCreate(index: number, size: number, indirect: number, eventIdx: number): number;
  vqAdd(vq: number, segments: number, count: number, token: number): number;
  vqGetUsed(vq: number): number;
  vqHasUsed(vq: number): number;
  vqInFlight(vq: number): number;
  vqNeedsNotify(vq: number): number;
  vqEnableInterrupts(vq: number): number;
  vqDisableInterrupts(vq: number): void;
  vqDesc(vq: number): number;
  vqAvail(vq: number): number;
  vqUsed(vq: number): number;
  vqSize(vq: number): number;
  vqFreeCount(vq: number): number;
  vqLastLength(vq: number): number;
  scratch(): number;
}

let module: WebAssembly.Module;

beforeAll(async () => {
  let binary: Uint8Array<ArrayBuffer> | undefined;
  const stderr: string[] = [];
  const { error } = await asc.main(
    ["tests/drivers/entries/virtqueueEntry.ts", "-O3", "--runtime", "stub", "--initialMemory", String(MEMORY >> 16),
      "--outFile", "vq.wasm"],
    {
      writeFile: (name: string, contents: Uint8Array | string) => {
        if (name.endsWith(".wasm") && typeof contents !== "string") binary = new Uint8Array(contents);
      },
      stderr: { write: (s: string | Uint8Array) => { stderr.push(String(s)); return true; } } as never,
    },
  );
  if (error || !binary) throw new Error(`asc failed: ${error?.message}\n${stderr.join("")}`);
  module = await WebAssembly.compile(binary);
}, 60_000);

async function instantiate(): Promise<Vq> {
  let memory: WebAssembly.Memory | undefined;
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(_m: number, _f: number, line: number, column: number): never {
        throw new Error(`AS abort at ${line}:${column}`);
      },
    },
    arch: atomicImports(() => memory!, newArchState()),
  });
  const vq = instance.exports as unknown as Vq;
  memory = vq.memory;
  vq.physicalInit(MiB, BigInt(MEMORY));
  vq.physicalAddFree(BigInt(2 * MiB), BigInt(MEMORY));
  return vq;
}

/** The device side: reads what the driver made available, completes it. */
class Device {
  seenAvail = 0;
  usedIdx = 0;
  constructor(private readonly m: Vq, private readonly vq: number) {}
  get dv(): DataView { return new DataView(this.m.memory.buffer); }
  get size(): number { return this.m.vqSize(this.vq); }

  /** Pending requests as [head, segments[{address, length, write}]]. */
  take(): Array<{ head: number; segments: Array<{ address: number; length: number; write: boolean }> }> {
    const avail = this.m.vqAvail(this.vq);
    const idx = this.dv.getUint16(avail + 2, true);
    const out = [];
    while (this.seenAvail !== idx) {
      const head = this.dv.getUint16(avail + 4 + 2 * (this.seenAvail % this.size), true);
      this.seenAvail = (this.seenAvail + 1) & 0xffff;
      out.push({ head, segments: this.walk(head) });
    }
    return out;
  }

  walk(head: number): Array<{ address: number; length: number; write: boolean }> {
    const table = this.m.vqDesc(this.vq);
    const read = (base: number, i: number) => ({
      address: Number(this.dv.getBigUint64(base + i * 16, true)),
      length: this.dv.getUint32(base + i * 16 + 8, true),
      flags: this.dv.getUint16(base + i * 16 + 12, true),
      next: this.dv.getUint16(base + i * 16 + 14, true),
    });
    let d = read(table, head);
    let base = table;
    let i = head;
    if (d.flags & 4) {
      expect(d.length % 16).toBe(0);
      base = d.address;
      i = 0;
      d = read(base, 0);
      expect(d.flags & 4).toBe(0); // no nested indirect tables
    }
    const segments = [];
    for (let n = 0; n < 64; n++) {
      segments.push({ address: d.address, length: d.length, write: (d.flags & 2) !== 0 });
      if (!(d.flags & 1)) return segments;
      i = d.next;
      d = read(base, i);
    }
    throw new Error("descriptor chain does not end");
  }

  complete(head: number, written: number): void {
    const used = this.m.vqUsed(this.vq);
    const slot = used + 4 + 8 * (this.usedIdx % this.size);
    this.dv.setUint32(slot, head, true);
    this.dv.setUint32(slot + 4, written, true);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.dv.setUint16(used + 2, this.usedIdx, true);
  }

  /** Where the driver wants its next interrupt (used_event). */
  usedEvent(): number {
    return this.dv.getUint16(this.m.vqAvail(this.vq) + 4 + 2 * this.size, true);
  }

  setAvailEvent(value: number): void {
    this.dv.setUint16(this.m.vqUsed(this.vq) + 4 + 8 * this.size, value, true);
  }
}

function segments(m: Vq, list: Array<[number, number, boolean]>): number {
  const base = m.scratch();
  const dv = new DataView(m.memory.buffer);
  list.forEach(([address, length, write], i) => {
    dv.setBigUint64(base + i * 16, BigInt(address), true);
    dv.setUint32(base + i * 16 + 8, length, true);
    dv.setUint32(base + i * 16 + 12, write ? 2 : 0, true);
  });
  return base;
}

const REQUEST: Array<[number, number, boolean]> = [[0x1000, 16, false], [0x200000, 4096, true], [0x3000, 1, true]];

describe("split virtqueue with a simulated device", () => {
  it("uses one indirect descriptor per multi-segment request, and fills to the ring size", async () => {
    const m = await instantiate();
    const vq = m.vqCreate(0, 8, 1, 1);
    const device = new Device(m, vq);
    for (let t = 1; t <= 8; t++) expect(m.vqAdd(vq, segments(m, REQUEST), 3, t)).toBe(0);
    expect(m.vqFreeCount(vq)).toBe(0);
    expect(m.vqAdd(vq, segments(m, REQUEST), 3, 9)).toBe(-28);
    const taken = device.take();
    expect(taken).toHaveLength(8);
    for (const request of taken) {
      expect(request.segments).toEqual([
        { address: 0x1000, length: 16, write: false },
        { address: 0x200000, length: 4096, write: true },
        { address: 0x3000, length: 1, write: true },
      ]);
    }
    // Complete out of order; tokens come back in completion order.
    const order = [3, 0, 7, 1, 2, 6, 5, 4];
    for (const i of order) device.complete(taken[i].head, 4097);
    const tokens = [];
    for (let token = m.vqGetUsed(vq); token !== 0; token = m.vqGetUsed(vq)) {
      tokens.push(token);
      expect(m.vqLastLength(vq)).toBe(4097);
    }
    expect(tokens).toEqual(order.map((i) => i + 1));
    expect(m.vqFreeCount(vq)).toBe(8);
    expect(m.vqInFlight(vq)).toBe(0);
  });

  it("chains direct descriptors without indirect tables and frees whole chains", async () => {
    const m = await instantiate();
    const vq = m.vqCreate(0, 8, 0, 0);
    const device = new Device(m, vq);
    expect(m.vqAdd(vq, segments(m, REQUEST), 3, 1)).toBe(0);
    expect(m.vqAdd(vq, segments(m, REQUEST), 3, 2)).toBe(0);
    expect(m.vqFreeCount(vq)).toBe(2);
    expect(m.vqAdd(vq, segments(m, REQUEST), 3, 3)).toBe(-28);
    expect(m.vqAdd(vq, segments(m, [[0x5000, 100, false]]), 1, 3)).toBe(0);
    const taken = device.take();
    expect(taken.map((r) => r.segments.length)).toEqual([3, 3, 1]);
    device.complete(taken[1].head, 0);
    expect(m.vqGetUsed(vq)).toBe(2);
    expect(m.vqFreeCount(vq)).toBe(4);
    device.complete(taken[0].head, 0);
    device.complete(taken[2].head, 0);
    expect(m.vqGetUsed(vq)).toBe(1);
    expect(m.vqGetUsed(vq)).toBe(3);
    expect(m.vqGetUsed(vq)).toBe(0);
    expect(m.vqFreeCount(vq)).toBe(8);
  });

  it("keeps its accounting through u16 wrap-around with random completion order", async () => {
    const m = await instantiate();
    const vq = m.vqCreate(0, 16, 1, 1);
    const device = new Device(m, vq);
    let next = 1;
    const outstanding: number[] = [];
    let completed = 0;
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pending: Array<{ head: number; token: number }> = [];
    const tokenOfHead = new Map<number, number>();
    while (completed < 70_000) {
      while (m.vqFreeCount(vq) > 0 && random(3) !== 0) {
        const count = 1 + random(4);
        expect(m.vqAdd(vq, segments(m, REQUEST.concat(REQUEST).slice(0, count)), count, next)).toBe(0);
        outstanding.push(next);
        next = next >= 1_000_000 ? 1 : next + 1;
      }
      for (const r of device.take()) pending.push({ head: r.head, token: outstanding.shift()! });
      for (const p of pending) tokenOfHead.set(p.head, p.token);
      // The device completes a random subset in random order.
      let n = random(pending.length + 1);
      const done: number[] = [];
      while (n-- > 0) {
        const [p] = pending.splice(random(pending.length), 1);
        device.complete(p.head, 1);
        done.push(p.token);
      }
      const got = [];
      for (let token = m.vqGetUsed(vq); token !== 0; token = m.vqGetUsed(vq)) got.push(token);
      expect(got).toEqual(done);
      completed += got.length;
      expect(m.vqFreeCount(vq) + pending.length + outstanding.length).toBe(16);
    }
    expect(new DataView(m.memory.buffer).getUint16(m.vqUsed(vq) + 2, true)).toBe(device.usedIdx);
  });

  it("notifies only when avail_event is crossed, and moves used_event", async () => {
    const m = await instantiate();
    const vq = m.vqCreate(0, 8, 1, 1);
    const device = new Device(m, vq);
    device.setAvailEvent(0); // wants to hear about entry 0
    m.vqAdd(vq, segments(m, REQUEST), 3, 1);
    expect(m.vqNeedsNotify(vq)).toBe(1);
    expect(m.vqNeedsNotify(vq)).toBe(0); // nothing new
    m.vqAdd(vq, segments(m, REQUEST), 3, 2); // idx 1 -> 2; device still asks for 0
    expect(m.vqNeedsNotify(vq)).toBe(0);
    device.setAvailEvent(2);
    m.vqAdd(vq, segments(m, REQUEST), 3, 3); // crosses 2
    expect(m.vqNeedsNotify(vq)).toBe(1);
    // Interrupt wanted at the next completion after each one consumed.
    const taken = device.take();
    device.complete(taken[0].head, 0);
    expect(m.vqEnableInterrupts(vq)).toBe(1); // a completion is already waiting
    expect(m.vqGetUsed(vq)).toBe(1);
    expect(device.usedEvent()).toBe(1);
    m.vqDisableInterrupts(vq);
    expect(device.usedEvent()).toBe((1 + 0x8000) & 0xffff);
    expect(m.vqEnableInterrupts(vq)).toBe(0);
    expect(device.usedEvent()).toBe(1);
  });

  it("kicks a device that asked for an event after the driver had looked (lost-notification race)", async () => {
    // Under QEMU 7.2 TCG with one vCPU the guest's fences are dropped: the
    // driver can read avail_event before its avail->idx store is visible,
    // while the device, going to sleep, re-arms avail_event and reads the old
    // avail->idx. Both think the other will act; the next look must kick.
    const m = await instantiate();
    const vq = m.vqCreate(0, 8, 1, 1);
    const device = new Device(m, vq);
    device.setAvailEvent(0);
    m.vqAdd(vq, segments(m, REQUEST), 3, 1);
    expect(m.vqNeedsNotify(vq)).toBe(1);
    device.complete(device.take()[0].head, 0);
    // Entry 1 added, judged with the device's old avail_event: no kick.
    m.vqAdd(vq, segments(m, REQUEST), 3, 2);
    expect(m.vqNeedsNotify(vq)).toBe(0);
    // The device saw only entry 0, asks to hear about entry 1 and sleeps.
    device.setAvailEvent(1);
    expect(m.vqNeedsNotify(vq)).toBe(1); // nothing new, but the device waits for entry 1
    expect(m.vqNeedsNotify(vq)).toBe(0); // that notification covered it
    // The same race found by the next add instead of a later look.
    device.complete(device.take()[0].head, 0);
    m.vqAdd(vq, segments(m, REQUEST), 3, 3);
    expect(m.vqNeedsNotify(vq)).toBe(0); // old avail_event (1): no kick
    device.setAvailEvent(2);
    m.vqAdd(vq, segments(m, REQUEST), 3, 4);
    expect(m.vqNeedsNotify(vq)).toBe(1);
    // A busy device (avail_event behind what it consumed) gets no kicks.
    for (const t of device.take()) device.complete(t.head, 0);
    m.vqAdd(vq, segments(m, REQUEST), 3, 5);
    expect(m.vqNeedsNotify(vq)).toBe(0);
  });

  it("without event index, honours VRING_USED_F_NO_NOTIFY", async () => {
    const m = await instantiate();
    const vq = m.vqCreate(0, 8, 1, 0);
    const dv = new DataView(m.memory.buffer);
    m.vqAdd(vq, segments(m, REQUEST), 3, 1);
    expect(m.vqNeedsNotify(vq)).toBe(1);
    dv.setUint16(m.vqUsed(vq), 1, true);
    m.vqAdd(vq, segments(m, REQUEST), 3, 2);
    expect(m.vqNeedsNotify(vq)).toBe(0);
    m.vqDisableInterrupts(vq);
    expect(dv.getUint16(m.vqAvail(vq), true) & 1).toBe(1);
  });
});
