// Packet views and representations (net/wire): parse and emit round trips,
// checksum vectors, and malformed inputs rejected without an abort.
import { beforeAll, describe, expect, it } from "vitest";
import { Bench, bench, ip, mac, macBytes, netModule, prng } from "./harness.ts";

let net: Bench;
let inp: number;
let out: number;
let pkt: number;

beforeAll(async () => {
  await netModule();
  net = await bench();
  inp = net.ex.testAlloc(4096);
  out = net.ex.testAlloc(4096);
  pkt = net.ex.testAlloc(70_000);
}, 120_000);

function fields(count: number): number[] {
  return Array.from({ length: count }, (_, i) => net.u32(out, i));
}

function setFields(values: number[]): void {
  values.forEach((v, i) => net.setU32(inp, i, v));
}

/** Internet checksum computed in TypeScript (RFC 1071), as the value read big-endian. */
function refChecksum(data: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length & 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudo(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

describe("checksum", () => {
  it("matches RFC 1071's example and a reference over random buffers of every alignment", () => {
    // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d.
    net.write(pkt, Buffer.from("0001f203f4f5f6f7", "hex"));
    const value = net.ex.testChecksum(pkt, 8);
    expect(Buffer.from([value & 0xff, value >>> 8]).readUInt16BE(0)).toBe(0x220d);
    const rand = prng(7);
    for (let n = 0; n < 300; n++) {
      const len = rand(3000);
      const data = Buffer.from(Array.from({ length: len }, () => rand(256)));
      net.write(pkt, data);
      const v = net.ex.testChecksum(pkt, len);
      expect(Buffer.from([v & 0xff, v >>> 8]).readUInt16BE(0)).toBe(refChecksum(data));
    }
  });

  it("SipHash-2-4 matches the reference vector", () => {
    // Key 00..0f, message 00..0f: the reference implementation's 16-byte vector (a345 24b1 ...).
    const k0 = 0x0706050403020100n;
    const k1 = 0x0f0e0d0c0b0a0908n;
    const h = BigInt.asUintN(64, net.ex.testSiphash(k0, k1, 0x0706050403020100n, 0x0f0e0d0c0b0a0908n));
    expect(h.toString(16)).toBe("3f2acc7f57c29bdb");
  });
});

describe("ARP", () => {
  it("round-trips a request and rejects other hardware or protocol types", () => {
    setFields([1, 0x00005e00, 0x0201, ip("10.0.0.1"), 0, 0, ip("10.0.0.2")]);
    expect(net.ex.testArpEmit(inp, pkt)).toBe(28);
    expect(net.read(pkt, 8).toString("hex")).toBe("0001080006040001");
    expect(net.ex.testArpParse(pkt, 28, out)).toBe(0);
    expect(fields(7)).toEqual([1, 0x00005e00, 0x0201, ip("10.0.0.1"), 0, 0, ip("10.0.0.2")]);
    expect(net.ex.testArpParse(pkt, 27, out)).toBeLessThan(0);
    const bad = net.read(pkt, 28);
    bad[1] = 6; // htype 6
    net.write(pkt, bad);
    expect(net.ex.testArpParse(pkt, 28, out)).toBeLessThan(0);
    bad[1] = 1;
    bad[7] = 9; // op 9
    net.write(pkt, bad);
    expect(net.ex.testArpParse(pkt, 28, out)).toBeLessThan(0);
  });
});

describe("IPv4", () => {
  const base = [ip("192.168.1.2"), ip("10.1.2.3"), 17, 100, 20, 64, 0, 0x1234, 1, 0, 0];

  it("round-trips a header with a valid checksum", () => {
    setFields(base);
    net.ex.testIpv4Emit(inp, pkt);
    const header = net.read(pkt, 20);
    expect(refChecksum(header)).toBe(0);
    expect(header.readUInt16BE(2)).toBe(120);
    expect(net.ex.testIpv4Parse(pkt, 120, false, out)).toBe(0);
    expect(fields(11)).toEqual(base.map((v, i) => (i === 3 ? 100 : v)));
    // Fragment fields.
    setFields([...base.slice(0, 8), 0, 1, 1480]);
    net.ex.testIpv4Emit(inp, pkt);
    expect(net.ex.testIpv4Parse(pkt, 120, false, out)).toBe(0);
    expect(fields(11).slice(8)).toEqual([0, 1, 1480]);
  });

  it("rejects truncation, bad lengths, versions, checksums and options, and skips good options", () => {
    setFields(base);
    net.ex.testIpv4Emit(inp, pkt);
    const good = net.read(pkt, 120);
    const check = (mutate: (b: Buffer) => void, len = 120, trusted = false): number => {
      const b = Buffer.from(good);
      mutate(b);
      net.write(pkt, b);
      return net.ex.testIpv4Parse(pkt, len, trusted, out);
    };
    expect(check(() => {}, 19)).toBeLessThan(0); // shorter than a header
    expect(check(() => {}, 119)).toBeLessThan(0); // total length beyond the buffer
    expect(check((b) => { b[0] = 0x65; })).toBeLessThan(0); // version 6
    expect(check((b) => { b[0] = 0x44; })).toBeLessThan(0); // IHL 16 bytes
    expect(check((b) => { b.writeUInt16BE(19, 2); })).toBeLessThan(0); // total < header
    expect(check((b) => { b[10] ^= 1; })).toBeLessThan(0); // checksum
    expect(check((b) => { b[10] ^= 1; }, 120, true)).toBe(0); // checksum trusted (device verified)
    // Options: a header of 28 bytes with NOP, a 6-byte option and END.
    const withOptions = (opts: number[]): number => {
      const b = Buffer.alloc(128);
      good.copy(b, 0, 0, 20);
      b[0] = 0x47;
      b.writeUInt16BE(128, 2);
      Buffer.from(opts).copy(b, 20);
      b.writeUInt16BE(0, 10);
      b.writeUInt16BE(refChecksum(b.subarray(0, 28)), 10);
      net.write(pkt, b);
      return net.ex.testIpv4Parse(pkt, 128, false, out);
    };
    expect(withOptions([1, 0x44, 6, 5, 0, 0, 0, 0])).toBe(0);
    expect(net.u32(out, 4)).toBe(28); // header length
    expect(net.u32(out, 3)).toBe(100); // payload after the options
    expect(withOptions([1, 0x44, 9, 5, 0, 0, 0, 0])).toBeLessThan(0); // option runs past the header
    expect(withOptions([1, 0x44, 1, 5, 0, 0, 0, 0])).toBeLessThan(0); // option length 1
    expect(withOptions([1, 1, 1, 1, 1, 1, 1, 0x83])).toBeLessThan(0); // type with no room for a length
  });
});

describe("ICMP", () => {
  it("round-trips echo and parses the errors the stack reads", () => {
    net.write(pkt + 8, Buffer.from("hello, wisp"));
    const len = net.ex.testIcmpEmitEcho(8, 0x1234, 7, 11, pkt);
    expect(refChecksum(net.read(pkt, len))).toBe(0);
    expect(net.ex.testIcmpParse(pkt, len, out)).toBe(0);
    expect(fields(6)).toEqual([8, 0, 0x1234, 7, 0, 11]);
    // An error quoting a UDP datagram 10.0.0.1:5000 -> 10.0.0.2:53.
    setFields([ip("10.0.0.1"), ip("10.0.0.2"), 17, 20, 20, 64, 0, 1, 0, 0, 0]);
    const orig = pkt + 1000;
    net.ex.testIpv4Emit(inp, orig);
    net.write(orig + 20, Buffer.from([0x13, 0x88, 0x00, 0x35, 0, 20, 0, 0]));
    const elen = net.ex.testIcmpEmitError(3, 3, 0, orig, pkt);
    expect(elen).toBe(8 + 20 + 8);
    expect(net.ex.testIcmpParse(pkt, elen, out)).toBe(0);
    expect(fields(12)).toEqual([3, 3, 0, 0, 0, 28, 17, ip("10.0.0.1"), ip("10.0.0.2"), 5000, 53, 0x00140000]);
    // Fragmentation needed carries the MTU.
    const flen = net.ex.testIcmpEmitError(3, 4, 1400, orig, pkt);
    expect(net.ex.testIcmpParse(pkt, flen, out)).toBe(0);
    expect(net.u32(out, 4)).toBe(1400);
  });

  it("rejects bad checksums, unknown types, nonzero echo codes and short quotes", () => {
    net.write(pkt + 8, Buffer.from("abcd"));
    const len = net.ex.testIcmpEmitEcho(8, 1, 1, 4, pkt);
    const good = net.read(pkt, len);
    const check = (mutate: (b: Buffer) => void, l = len, fix = false): number => {
      const b = Buffer.from(good);
      mutate(b);
      if (fix) {
        b.writeUInt16BE(0, 2);
        b.writeUInt16BE(refChecksum(b.subarray(0, l)), 2);
      }
      net.write(pkt, b);
      return net.ex.testIcmpParse(pkt, l, out);
    };
    expect(check(() => {}, 7)).toBeLessThan(0);
    expect(check((b) => { b[9] ^= 0x40; })).toBeLessThan(0);
    expect(check((b) => { b[0] = 42; }, len, true)).toBeLessThan(0);
    expect(check((b) => { b[1] = 1; }, len, true)).toBeLessThan(0);
    expect(check((b) => { b[0] = 3; }, len, true)).toBeLessThan(0); // unreachable quoting 4 bytes
  });
});

describe("UDP", () => {
  const src = ip("10.0.2.15");
  const dst = ip("10.0.2.2");

  it("round-trips with the pseudo-header checksum, and accepts a zero (absent) checksum", () => {
    const payload = Buffer.from("datagram payload!");
    net.write(pkt + 8, payload);
    const len = net.ex.testUdpEmit(5353, 53, payload.length, src, dst, true, pkt);
    const d = net.read(pkt, len);
    expect(refChecksum(d, pseudo(src, dst, 17, len))).toBe(0);
    expect(net.ex.testUdpParse(pkt, len, src, dst, false, out)).toBe(0);
    expect(fields(4)).toEqual([5353, 53, payload.length, 8]);
    expect(net.ex.testUdpParse(pkt, len, src, ip("10.0.2.3"), false, out)).toBeLessThan(0); // wrong pseudo-header
    net.ex.testUdpEmit(5353, 53, payload.length, src, dst, false, pkt);
    expect(net.read(pkt + 6, 2).readUInt16BE(0)).toBe(0);
    expect(net.ex.testUdpParse(pkt, len, src, ip("10.9.9.9"), false, out)).toBe(0);
    // Trailing bytes after the UDP length are ignored.
    expect(net.ex.testUdpParse(pkt, len + 5, src, ip("10.9.9.9"), false, out)).toBe(0);
    expect(net.u32(out, 2)).toBe(payload.length);
  });

  it("rejects truncation and bad lengths", () => {
    net.ex.testUdpEmit(1, 2, 10, src, dst, false, pkt);
    expect(net.ex.testUdpParse(pkt, 7, src, dst, false, out)).toBeLessThan(0);
    expect(net.ex.testUdpParse(pkt, 17, src, dst, false, out)).toBeLessThan(0);
    net.write(pkt + 4, Buffer.from([0, 7]));
    expect(net.ex.testUdpParse(pkt, 18, src, dst, false, out)).toBeLessThan(0);
    net.ex.testUdpEmit(1, 0, 10, src, dst, false, pkt);
    expect(net.ex.testUdpParse(pkt, 18, src, dst, false, out)).toBeLessThan(0); // port 0
  });
});

describe("TCP", () => {
  const src = ip("10.0.0.1");
  const dst = ip("10.0.0.2");
  const NONE = 0xff;

  function tcpFields(o: Partial<Record<string, number>>): number[] {
    const f = [o.sport ?? 40000, o.dport ?? 80, o.seq ?? 0x11223344, o.ack ?? 0x55667788, o.flags ?? 0x10,
      o.window ?? 5000, 0, o.mss ?? 0, o.wscale ?? NONE, o.sackp ?? 0, o.ts ?? 0, o.tsval ?? 0, o.tsecr ?? 0,
      o.sacks ?? 0];
    for (let i = 0; i < 8; i++) f.push(o[`s${i}`] ?? 0);
    return f;
  }

  function emit(f: number[], payload = Buffer.alloc(0)): number {
    setFields(f);
    const h = net.ex.testTcpHeaderLen(inp);
    net.write(pkt + h, payload);
    return net.ex.testTcpEmit(inp, payload.length, src, dst, pkt);
  }

  it("round-trips a SYN with MSS, window scale, SACK-permitted and timestamps", () => {
    const f = tcpFields({ flags: 0x02, ack: 0, mss: 1460, wscale: 7, sackp: 1, ts: 1, tsval: 12345, tsecr: 0 });
    const len = emit(f);
    expect(len).toBe(40);
    expect(refChecksum(net.read(pkt, len), pseudo(src, dst, 6, len))).toBe(0);
    expect(net.ex.testTcpParse(pkt, len, src, dst, false, out)).toBe(0);
    expect(fields(14)).toEqual(f.slice(0, 14));
    expect([net.u32(out, 22), net.u32(out, 23), net.u32(out, 24)]).toEqual([40, 40, 0]);
  });

  it("round-trips data segments with timestamps and up to 3 (or 4) SACK blocks", () => {
    const withTs = tcpFields({ ts: 1, tsval: 1, tsecr: 2, sacks: 3, s0: 100, s1: 200, s2: 300, s3: 400, s4: 500, s5: 600 });
    const payload = Buffer.from("some bytes");
    let len = emit(withTs, payload);
    expect(len).toBe(60 + payload.length);
    expect(net.ex.testTcpParse(pkt, len, src, dst, false, out)).toBe(0);
    expect(fields(22)).toEqual([...withTs.slice(0, 20), 0, 0]);
    expect(net.read(pkt + net.u32(out, 23), net.u32(out, 24))).toEqual(payload);
    const noTs = tcpFields({ sacks: 4, s0: 1, s1: 2, s2: 3, s3: 4, s4: 5, s5: 6, s6: 7, s7: 8 });
    len = emit(noTs);
    expect(len).toBe(56);
    expect(net.ex.testTcpParse(pkt, len, src, dst, false, out)).toBe(0);
    expect(fields(22)).toEqual(noTs);
  });

  it("clamps a window scale above 14 and ignores unknown or wrongly sized known options", () => {
    const len = emit(tcpFields({ flags: 0x02, mss: 1000, wscale: 14 }));
    const b = net.read(pkt, len);
    const wsAt = b.indexOf(Buffer.from([3, 3, 14]), 20);
    b[wsAt + 2] = 20;
    net.write(pkt, b);
    expect(net.ex.testTcpParse(pkt, len, src, dst, true, out)).toBe(0);
    expect(net.u32(out, 8)).toBe(14);
    // Options area: unknown kind 30 (length 4), MSS with length 3 (ignored), NOP, NOP, END...
    const seg = Buffer.alloc(32);
    seg.writeUInt16BE(1, 0);
    seg.writeUInt16BE(2, 2);
    seg[12] = 8 << 4;
    seg[13] = 0x10;
    Buffer.from([30, 4, 9, 9, 2, 3, 5, 1, 1, 0, 0, 0]).copy(seg, 20);
    net.write(pkt, seg);
    expect(net.ex.testTcpParse(pkt, 32, src, dst, true, out)).toBe(0);
    expect(net.u32(out, 7)).toBe(0);
  });

  it("rejects bad checksums, data offsets and option lengths", () => {
    const len = emit(tcpFields({ ts: 1, tsval: 9, tsecr: 9 }), Buffer.from("x"));
    const good = net.read(pkt, len);
    const check = (mutate: (b: Buffer) => void, l = len, trusted = false): number => {
      const b = Buffer.from(good);
      mutate(b);
      net.write(pkt, b);
      return net.ex.testTcpParse(pkt, l, src, dst, trusted, out);
    };
    expect(check(() => {}, 19)).toBeLessThan(0);
    expect(check((b) => { b[32] ^= 4; })).toBeLessThan(0); // payload byte vs checksum
    expect(check((b) => { b[12] = 4 << 4; }, len, true)).toBeLessThan(0); // offset 16
    expect(check((b) => { b[12] = 15 << 4; }, len, true)).toBeLessThan(0); // offset 60 > length
    expect(check((b) => { b[23] = 0; }, len, true)).toBeLessThan(0); // timestamp length 0
    expect(check((b) => { b[23] = 40; }, len, true)).toBeLessThan(0); // past the header
    expect(check((b) => { b.writeUInt16BE(0, 0); }, len, true)).toBeLessThan(0); // port 0
  });
});

describe("DHCP", () => {
  it("round-trips client and server messages", () => {
    const client = [1, 3, 0xdeadbeef, 3, 0, 0, 0, 0, 0, 0x00005e02, 0x0301, ip("10.0.2.2"), ip("10.0.2.15"),
      0, 0, 0, 0, 0, 0, 0, 1];
    setFields(client);
    const len = net.ex.testDhcpEmit(inp, pkt);
    expect(len).toBe(300);
    expect(net.read(pkt + 236, 4).toString("hex")).toBe("63825363");
    expect(net.ex.testDhcpParse(pkt, len, out)).toBe(0);
    expect(fields(21)).toEqual([...client.slice(0, 20), 0]);
    const m = net.read(pkt, len);
    expect(m.indexOf(Buffer.from([55, 6, 1, 3, 6, 51, 58, 59]))).toBeGreaterThan(240);
    expect(m.indexOf(Buffer.from([61, 7, 1, ...macBytes(mac("02:5e:00:00:01:03"))]))).toBeGreaterThan(240);
    const server = [2, 5, 7, 0, 1, 0, ip("10.0.2.15"), ip("10.0.2.2"), 0, 1, 2, ip("10.0.2.2"), 0,
      ip("255.255.255.0"), ip("10.0.2.2"), ip("10.0.2.3"), ip("8.8.8.8"), 86400, 43200, 75600, 0];
    setFields(server);
    const slen = net.ex.testDhcpEmit(inp, pkt);
    expect(net.ex.testDhcpParse(pkt, slen, out)).toBe(0);
    expect(fields(21)).toEqual(server);
  });

  it("rejects short messages, a bad cookie, overrunning options and a missing type", () => {
    setFields([2, 2, 1, 0, 0, 0, ip("10.0.2.15"), 0, 0, 1, 2, ip("10.0.2.2"), 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const len = net.ex.testDhcpEmit(inp, pkt);
    const good = net.read(pkt, len);
    const check = (mutate: (b: Buffer) => void, l = len): number => {
      const b = Buffer.from(good);
      mutate(b);
      net.write(pkt, b);
      return net.ex.testDhcpParse(pkt, l, out);
    };
    expect(check(() => {}, 239)).toBeLessThan(0);
    expect(check((b) => { b[236] = 0; })).toBeLessThan(0);
    expect(check((b) => { b[240] = 12; b[241] = 250; })).toBeLessThan(0);
    expect(check((b) => { b[240] = 255; })).toBeLessThan(0); // END before the message type
    expect(check((b) => { b[1] = 6; })).toBeLessThan(0); // not Ethernet
  });
});

describe("Ethernet", () => {
  it("needs 14 bytes", () => {
    expect(net.ex.testEthernetCheck(pkt, 13)).toBeLessThan(0);
    expect(net.ex.testEthernetCheck(pkt, 14)).toBe(0);
  });
});
