// The drivers' pure logic compiled from AssemblyScript and run in Node:
// virtqueue index arithmetic, feature negotiation, PCI capability parsing
// over a fake configuration space, virtio-mmio descriptions (command line
// and DSDT), ARP frames, and ChaCha20 against Node's own.
import { createCipheriv } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { drivers, type DriversExports } from "./harness.ts";

let d: DriversExports;
let base = 0;
const bytes = () => new Uint8Array(d.memory.buffer);
const view = () => new DataView(d.memory.buffer);

beforeAll(async () => {
  d = await drivers();
  base = d.scratch();
});

function put(offset: number, data: Uint8Array | number[]): number {
  bytes().set(data, base + offset);
  return base + offset;
}

function putText(offset: number, text: string): number {
  return put(offset, [...Buffer.from(text, "latin1")]);
}

describe("split virtqueue arithmetic", () => {
  it("vring_need_event follows the spec across u16 wrap-around", () => {
    // Device asked to hear once idx passes 5: moving 4 -> 6 crosses it.
    expect(d.vringNeedEvent(5, 6, 4)).toBe(1);
    expect(d.vringNeedEvent(5, 5, 4)).toBe(0);
    expect(d.vringNeedEvent(5, 7, 6)).toBe(0);
    // Event exactly at the old index: the next entry triggers.
    expect(d.vringNeedEvent(4, 5, 4)).toBe(1);
    // Wrap: 0xfffe -> 0x0002 crosses event 0xffff and 0x0000.
    expect(d.vringNeedEvent(0xffff, 0x0002, 0xfffe)).toBe(1);
    expect(d.vringNeedEvent(0x0001, 0x0002, 0xfffe)).toBe(1);
    expect(d.vringNeedEvent(0x0002, 0x0002, 0xfffe)).toBe(0);
    // Brute force against the definition: notify iff event in [old, new).
    for (let trial = 0; trial < 2000; trial++) {
      const old = Math.floor(Math.random() * 65536);
      const added = 1 + Math.floor(Math.random() * 300);
      const now = (old + added) & 0xffff;
      const event = (old + Math.floor(Math.random() * 600) - 150) & 0xffff;
      const offset = (event - old) & 0xffff;
      expect(d.vringNeedEvent(event, now, old)).toBe(offset < added ? 1 : 0);
    }
  });

  it("ring distances, sizes and layout", () => {
    expect(d.ringDistance(0xfff0, 0x0010)).toBe(0x20);
    expect(d.ringDistance(7, 7)).toBe(0);
    expect(d.chooseQueueSize(1024, 256)).toBe(256);
    expect(d.chooseQueueSize(128, 256)).toBe(128);
    expect(d.chooseQueueSize(0, 256)).toBe(0);
    expect(d.chooseQueueSize(100, 256)).toBe(64);
    expect(d.queueSizeValid(256)).toBe(1);
    expect(d.queueSizeValid(96)).toBe(0);
    expect(d.queueSizeValid(65536)).toBe(0);
    expect(d.descTableBytes(256)).toBe(4096);
    // flags + idx + 256 entries + used_event, rounded to 4.
    expect(d.availRingBytes(256)).toBe(520);
    // flags + idx + 256 * 8 + avail_event, rounded to 8.
    expect(d.usedRingBytes(256)).toBe(2056);
  });
});

describe("feature negotiation", () => {
  const bit = (n: number) => 1n << BigInt(n);
  it("accepts the intersection and requires VERSION_1", () => {
    const offered = bit(32) | bit(28) | bit(29) | bit(9) | bit(6) | bit(34);
    const wanted = bit(32) | bit(28) | bit(29) | bit(9) | bit(1);
    expect(d.negotiateFeatures(offered, wanted)).toBe(bit(32) | bit(28) | bit(29) | bit(9));
    expect(d.negotiateFeatures(offered & ~bit(32), wanted)).toBe(0n);
    expect(d.negotiateFeatures(offered, wanted & ~bit(32))).toBe(0n);
  });
  it("drops virtio-net features without their prerequisites", () => {
    const tso = bit(7) | bit(8);
    expect(d.netFeatureDependencies(tso | bit(15))).toBe(bit(15));
    expect(d.netFeatureDependencies(tso | bit(1))).toBe(tso | bit(1));
    expect(d.netFeatureDependencies(bit(22) | bit(5))).toBe(bit(5)); // MQ needs CTRL_VQ
    expect(d.netFeatureDependencies(bit(11) | bit(0))).toBe(bit(11) | bit(0));
  });
});

describe("PCI capabilities over a fake configuration space", () => {
  function fakeConfig(): number {
    const c = new Uint8Array(256);
    const dv = new DataView(c.buffer);
    dv.setUint16(0x00, 0x1af4, true);
    dv.setUint16(0x02, 0x1001, true);
    dv.setUint16(0x06, 0x0010, true); // status: capability list
    dv.setUint16(0x2e, 0x0002, true); // subsystem: block
    c[0x34] = 0x40;
    // MSI-X: 3 entries, table in BAR1 at 0, PBA in BAR1 at 0x800.
    c.set([0x11, 0x50], 0x40);
    dv.setUint16(0x42, 2, true);
    dv.setUint32(0x44, 0x00000001, true);
    dv.setUint32(0x48, 0x00000801, true);
    // virtio: a common cfg in a bad BAR (skipped), then the real ones in BAR4.
    c.set([0x09, 0x60, 16, 1, 7], 0x50);
    c.set([0x09, 0x70, 16, 1, 4], 0x60);
    dv.setUint32(0x68, 0x0000, true);
    dv.setUint32(0x6c, 0x1000, true);
    c.set([0x09, 0x84, 20, 2, 4], 0x70);
    dv.setUint32(0x78, 0x3000, true);
    dv.setUint32(0x7c, 0x1000, true);
    dv.setUint32(0x80, 4, true);
    c.set([0x09, 0x94, 16, 3, 4], 0x84);
    dv.setUint32(0x8c, 0x1000, true);
    c.set([0x09, 0x00, 16, 4, 4], 0x94);
    dv.setUint32(0x9c, 0x2000, true);
    return put(0, c);
  }

  it("walks the list and finds MSI-X and each virtio structure", () => {
    const config = fakeConfig();
    expect(d.pciNextCapability(config, 0)).toBe(0x40);
    expect(d.pciFindCapability(config, 0x11)).toBe(0x40);
    expect(d.pciFindCapability(config, 0x05)).toBe(0);
    expect(d.msixTableSize(config, 0x40)).toBe(3);
    expect(d.msixTableBar(config, 0x40)).toBe(1);
    expect(d.msixTableOffset(config, 0x40)).toBe(0);
    const common = d.virtioFindCapability(config, 1);
    expect(common).toBe(0x60);
    expect(d.virtioCapBar(config, common)).toBe(4);
    expect(d.virtioCapLength(config, common)).toBe(0x1000);
    const notify = d.virtioFindCapability(config, 2);
    expect(d.virtioCapOffset(config, notify)).toBe(0x3000);
    expect(d.virtioCapNotifyMultiplier(config, notify)).toBe(4);
    expect(d.virtioCapOffset(config, d.virtioFindCapability(config, 3))).toBe(0x1000);
    expect(d.virtioCapOffset(config, d.virtioFindCapability(config, 4))).toBe(0x2000);
    expect(d.virtioFindCapability(config, 5)).toBe(0);
    expect(d.virtioPciDeviceType(0x1af4, 0x1001, 2)).toBe(2);
    expect(d.virtioPciDeviceType(0x1af4, 0x1041, 0)).toBe(1);
    expect(d.virtioPciDeviceType(0x8086, 0x1001, 2)).toBe(0);
  });

  it("survives loops, bad pointers and a missing list", () => {
    const config = fakeConfig();
    view().setUint8(config + 0x94 + 1, 0x40); // last capability points back to the first
    expect(d.pciFindCapability(config, 0x99)).toBe(0);
    view().setUint8(config + 0x34, 0x20); // into the header
    expect(d.pciNextCapability(config, 0)).toBe(0);
    view().setUint16(config + 0x06, 0, true); // no capability list
    expect(d.pciFindCapability(config, 0x11)).toBe(0);
  });

  it("decodes BAR types and sizes", () => {
    expect(d.barIsIo(0xc001)).toBe(1);
    expect(d.barIs64(0xfe00000c)).toBe(1);
    expect(d.barIs64(0xfebd1000)).toBe(0);
    expect(d.barSizeFromMask(0xffffffffffffc00cn, 0)).toBe(0x4000n);
    expect(d.barSizeFromMask(0xfffff000n | 0xffffffff00000000n, 0)).toBe(0x1000n);
    expect(d.barSizeFromMask(0xffffff81n, 1)).toBe(0x80n);
  });
});

describe("virtio-mmio descriptions", () => {
  const read = (out: number, i: number) => ({
    base: view().getBigUint64(out + i * 24, true),
    size: view().getBigUint64(out + i * 24 + 8, true),
    gsi: view().getUint32(out + i * 24 + 16, true),
    mode: view().getUint32(out + i * 24 + 20, true),
  });

  it("parses every virtio_mmio.device= entry before --", () => {
    const line = "console=ttyS0 virtio_mmio.device=512@0xfeb00e00:12 virtio_mmio.device=4K@0xd0000000:5:3 " +
      "virtio_mmio.device=junk virtio_mmio.device=1@2 -- virtio_mmio.device=512@0x1000:1";
    const text = putText(0, line);
    const out = base + 4096;
    expect(d.parseMmioCommandLine(text, line.length, out, 8)).toBe(2);
    expect(read(out, 0)).toEqual({ base: 0xfeb00e00n, size: 512n, gsi: 12, mode: 0x80 });
    expect(read(out, 1)).toEqual({ base: 0xd0000000n, size: 4096n, gsi: 5, mode: 0x80 });
  });

  it("finds LNRO0005 devices with their memory and interrupt in AML", () => {
    const device = (base: number, irq: number, flags: number) => {
      const b = Buffer.alloc(40);
      b.write("_HID\x0dLNRO0005\x00", 0, "latin1");
      b.set([0x86, 0x09, 0x00, 0x01], 14);
      b.writeUInt32LE(base, 18);
      b.writeUInt32LE(0x200, 22);
      b.set([0x89, 0x06, 0x00, flags, 0x01], 26);
      b.writeUInt32LE(irq, 31);
      return b;
    };
    const aml = Buffer.concat([Buffer.from("junk\x08"), device(0xfeb00e00, 23, 0x01), device(0xfeb00c00, 22, 0x03)]);
    const table = put(0, aml);
    const out = base + 4096;
    expect(d.parseMmioDsdt(table, aml.length, out, 8)).toBe(2);
    expect(read(out, 0)).toEqual({ base: 0xfeb00e00n, size: 0x200n, gsi: 23, mode: 1 }); // level, high
    expect(read(out, 1)).toEqual({ base: 0xfeb00c00n, size: 0x200n, gsi: 22, mode: 0 }); // edge
  });
});

describe("ARP frames", () => {
  const ourMac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
  const ip = (s: string) => s.split(".").reduce((a, b) => (a * 256 + Number(b)) >>> 0, 0);

  it("builds a broadcast request and parses it back", () => {
    const mac = put(0, ourMac);
    const frame = base + 64;
    expect(d.arpBuildRequest(frame, mac, ip("10.0.2.15"), ip("10.0.2.2"))).toBe(60);
    const f = Buffer.from(d.memory.buffer, frame, 60);
    expect([...f.subarray(0, 6)]).toEqual([255, 255, 255, 255, 255, 255]);
    expect([...f.subarray(6, 12)]).toEqual(ourMac);
    expect(f.readUInt16BE(12)).toBe(0x0806);
    expect(f.readUInt16BE(20)).toBe(1);
    expect(d.arpParse(frame, 60)).toBe(1);
    expect(d.arpSenderIp(frame) >>> 0).toBe(ip("10.0.2.15"));
    expect(d.arpTargetIp(frame) >>> 0).toBe(ip("10.0.2.2"));
  });

  it("answers a request from a peer", () => {
    const peer = [0xa6, 0, 1, 2, 3, 4];
    const request = Buffer.alloc(42);
    request.fill(0xff, 0, 6);
    request.set(peer, 6);
    request.writeUInt16BE(0x0806, 12);
    request.writeUInt16BE(1, 14);
    request.writeUInt16BE(0x0800, 16);
    request[18] = 6;
    request[19] = 4;
    request.writeUInt16BE(1, 20);
    request.set(peer, 22);
    request.writeUInt32BE(ip("10.0.2.2"), 28);
    request.writeUInt32BE(ip("10.0.2.15"), 38);
    const req = put(0, request);
    const mac = put(128, ourMac);
    const out = base + 256;
    expect(d.arpParse(req, 42)).toBe(1);
    expect(d.arpParse(req, 41)).toBe(0);
    expect(d.arpBuildReply(out, req, mac, ip("10.0.2.15"))).toBe(60);
    const r = Buffer.from(d.memory.buffer, out, 60);
    expect([...r.subarray(0, 6)]).toEqual(peer);
    expect(r.readUInt16BE(20)).toBe(2);
    expect([...r.subarray(22, 28)]).toEqual(ourMac);
    expect(r.readUInt32BE(28)).toBe(ip("10.0.2.15"));
    expect([...r.subarray(32, 38)]).toEqual(peer);
    expect(r.readUInt32BE(38)).toBe(ip("10.0.2.2"));
    // Not ARP: an IPv4 frame.
    view().setUint16(req + 12, 0x0008, true);
    expect(d.arpParse(req, 42)).toBe(0);
  });

  it("parses dotted quads and rejects the rest", () => {
    const cases: Array<[string, bigint]> = [
      ["10.0.2.15", BigInt(ip("10.0.2.15"))], ["255.255.255.255", 0xffffffffn], ["0.0.0.0", 0n],
      ["10.0.2", -1n], ["10.0.2.256", -1n], ["10..2.1", -1n], ["1.2.3.4.5", -1n], ["a.b.c.d", -1n], ["", -1n],
      ["0001.2.3.4", -1n],
    ];
    for (const [text, expected] of cases) {
      const p = putText(0, text);
      expect(d.parseIpv4(p, 0, text.length), text).toBe(expected);
    }
  });
});

describe("ChaCha20", () => {
  it("matches Node's chacha20 keystream (RFC 8439 key and nonce)", () => {
    const key = Buffer.from([...Array(32).keys()]);
    const nonce = Buffer.from("000000090000004a00000000", "hex");
    for (const counter of [0, 1, 7, 0xffffffff]) {
      const k = put(0, key);
      const n = put(64, nonce);
      const out = base + 128;
      d.chacha20Block(k, counter, n, out);
      const iv = Buffer.alloc(16);
      iv.writeUInt32LE(counter >>> 0, 0);
      nonce.copy(iv, 4);
      const expected = createCipheriv("chacha20", key, iv).update(Buffer.alloc(64));
      expect(Buffer.from(d.memory.buffer, out, 64).toString("hex")).toBe(expected.toString("hex"));
    }
  });
});
