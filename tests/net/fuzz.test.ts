// Random and mutated frames into a stack with sockets open: it must never
// abort or trap, must keep working, and must give back all memory. Bounded
// and seeded: the same frames every run.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Bench, IP_A, IP_B, MAC_A, MAC_B, MS, SOCK_DGRAM, SOCK_ICMP, SOCK_STREAM, STAT, TCP, bench, ip, mac, netModule, prng,
} from "./harness.ts";
import { arp, checksum, dhcpReply, ethernet, icmpEcho, ipv4, udp, u32be } from "./frames.ts";

const ITERATIONS = 120_000;

beforeAll(async () => {
  await netModule();
}, 120_000);

/** Recomputes the IPv4 header checksum and the TCP/UDP/ICMP checksum of a frame, if it has them. */
function fixChecksums(f: Buffer): void {
  if (f.length < 34 || f.readUInt16BE(12) !== 0x0800) return;
  const hl = (f[14]! & 15) * 4;
  if (hl < 20 || 14 + hl > f.length) return;
  f.writeUInt16BE(0, 24);
  f.writeUInt16BE(checksum(f.subarray(14, 14 + hl)), 24);
  const total = Math.min(f.readUInt16BE(16), f.length - 14);
  if (total < hl || (f.readUInt16BE(20) & 0x3fff) !== 0) return;
  const l4 = f.subarray(14 + hl, 14 + total);
  const proto = f[23]!;
  const src = f.readUInt32BE(26);
  const dst = f.readUInt32BE(30);
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4.length;
  if (proto === 6 && l4.length >= 20) {
    l4.writeUInt16BE(0, 16);
    l4.writeUInt16BE(checksum(l4, pseudo), 16);
  } else if (proto === 17 && l4.length >= 8) {
    l4.writeUInt16BE(0, 6);
    const c = checksum(l4.subarray(0, Math.min(l4.length, l4.readUInt16BE(4))), pseudo - l4.length + Math.min(l4.length, l4.readUInt16BE(4)));
    l4.writeUInt16BE(c, 6);
  } else if (proto === 1 && l4.length >= 8) {
    l4.writeUInt16BE(0, 2);
    l4.writeUInt16BE(checksum(l4), 2);
  }
}

function tcpSegment(src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number,
  options: Buffer, data: Buffer): Buffer {
  const optLen = (options.length + 3) & ~3;
  const h = Buffer.alloc(20 + optLen);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = ((20 + optLen) / 4) << 4;
  h[13] = flags;
  h.writeUInt16BE(8192, 14);
  options.copy(h, 20);
  return ipv4(src, dst, 6, Buffer.concat([h, data]), { df: true });
}

describe("fuzz", () => {
  it(`${ITERATIONS} random and mutated frames never abort, and the stack keeps working and frees everything`, async () => {
    const net: Bench = await bench();
    const base = net.ex.netHeapBytes();
    const a = net.stack(21);
    const b = net.stack(22);
    const pa = net.ex.testPipeCreate(1500, 0, MAC_A, 1 << 20);
    const pb = net.ex.testPipeCreate(1500, 0, MAC_B, 1 << 20);
    net.ex.testAddDevice(a, pa, IP_A, ip("255.255.255.0"));
    net.ex.testAddDevice(b, pb, IP_B, ip("255.255.255.0"));
    net.ex.testAddLoopback(a);
    const dhcpDev = net.ex.testPipeCreate(1500, 0, mac("02:00:00:00:03:01"), 1 << 16);
    const dhcpIf = net.ex.testAddDevice(a, dhcpDev, 0, 0);
    net.ex.testDhcpStart(a, dhcpIf, net.now);
    const frame = net.ex.testAlloc(70_000);
    const carry = (): void => {
      for (let n = net.ex.testPipeTake(pa, frame, 70_000); n > 0; n = net.ex.testPipeTake(pa, frame, 70_000)) {
        net.ex.stackInput(b, 0, frame, n, 0, net.now);
      }
      for (let n = net.ex.testPipeTake(pb, frame, 70_000); n > 0; n = net.ex.testPipeTake(pb, frame, 70_000)) {
        net.ex.stackInput(a, 0, frame, n, 0, net.now);
      }
      while (net.ex.testPipeTake(dhcpDev, frame, 70_000) > 0);
    };
    const tick = (delta: bigint): void => {
      net.now += delta;
      net.ex.stackPoll(a, net.now);
      net.ex.stackPoll(b, net.now);
      carry();
    };
    // Sockets of every kind on a: listeners, connections both ways, UDP, ping.
    const la = net.listen(a, 80);
    net.listen(b, 90);
    const udpA = net.ex.sockOpen(a, SOCK_DGRAM);
    net.ex.sockBind(a, udpA, 0, 53);
    const ping = net.ex.sockOpen(a, SOCK_ICMP);
    const cb = net.ex.sockOpen(b, SOCK_STREAM);
    net.ex.sockConnect(b, cb, IP_A, 80, net.now);
    const ca = net.ex.sockOpen(a, SOCK_STREAM);
    net.ex.sockConnect(a, ca, IP_B, 90, net.now);
    for (let i = 0; i < 5; i++) tick(1n * MS);
    const sa = net.ex.sockAccept(a, la, 0);
    expect(sa).toBeGreaterThanOrEqual(0);
    expect(net.ex.sockState(a, ca)).toBe(TCP.ESTABLISHED);
    const field = (sock: number, f: number): number => net.ex.testSocketField(a, sock, f) >>> 0;

    const rand = prng(2024);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => rand(256)));
    const pick = <T>(xs: T[]): T => xs[rand(xs.length)]!;
    const tcpOptions = (): Buffer => pick([
      Buffer.alloc(0),
      Buffer.from([2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]),
      Buffer.from([1, 1, 8, 10, ...u32be(rand(1 << 30)), ...u32be(0)]),
      Buffer.from([1, 1, 5, 18, ...u32be(field(sa, 14) + rand(5000)), ...u32be(field(sa, 14) + 6000),
        ...u32be(rand(1 << 30)), ...u32be(rand(1 << 30))]),
      bytes(rand(40)),
    ]);
    const seeds = (): Buffer[] => {
      const rcv = field(sa, 12);
      const snd = field(sa, 13);
      const port = field(sa, 15);
      void port;
      const peerPort = net.ex.testSocketField(b, cb, 15) >>> 0;
      return [
        ethernet(MAC_A, MAC_B, 0x0806, arp(1, MAC_B, IP_B, 0n, IP_A)),
        ethernet(MAC_A, MAC_B, 0x0806, arp(2, MAC_B, IP_B, MAC_A, IP_A)),
        ethernet(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 1, icmpEcho(8, rand(65536), rand(65536), bytes(rand(64))))),
        ethernet(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 1, icmpEcho(0, field(ping, 15), 1, bytes(8)))),
        ethernet(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 17, udp(IP_B, IP_A, 1000 + rand(100), pick([53, 54, 68]), bytes(rand(200))))),
        ethernet(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 17, udp(IP_B, IP_A, 1000, 53, bytes(64)).subarray(0, 48),
          { ident: rand(8), mf: rand(2) === 0, offset: rand(4) * 48 })),
        ethernet(MAC_A, MAC_B, 0x0800, tcpSegment(IP_B, IP_A, 1024 + rand(60000), 80, rand(1 << 30), 0, 0x02,
          tcpOptions(), Buffer.alloc(0))),
        ethernet(MAC_A, MAC_B, 0x0800, tcpSegment(IP_B, IP_A, peerPort, 80, rcv + rand(3) * 1000 - 500, snd - rand(2),
          pick([0x10, 0x18, 0x11, 0x14, 0x04, 0x12, 0x02, 0x01, 0x19, rand(256)]), tcpOptions(), bytes(rand(1400)))),
        ethernet(mac("ff:ff:ff:ff:ff:ff"), mac("52:55:0a:00:02:02"), 0x0800,
          ipv4(ip("10.0.3.2"), 0xffffffff, 17, udp(ip("10.0.3.2"), 0xffffffff, 67, 68, dhcpReply(pick([2, 5, 6]),
            net.ex.testDhcpXid(a, dhcpIf) >>> 0, Buffer.from([2, 0, 0, 0, 3, 1]), ip("10.0.3.15"),
            [[54, u32be(ip("10.0.3.2"))], [1, u32be(ip("255.255.255.0"))], [3, u32be(ip("10.0.3.2"))],
              [51, u32be(rand(100000))], [rand(256), bytes(rand(8))]])))),
      ];
    };

    let corpus = seeds();
    for (let i = 0; i < ITERATIONS; i++) {
      if (i % 64 === 0) corpus = seeds();
      let f: Buffer;
      const mode = rand(10);
      if (mode === 0) {
        f = bytes(rand(1514));
      } else {
        f = Buffer.from(pick(corpus));
        const mutations = mode < 4 ? 0 : 1 + rand(4);
        for (let m = 0; m < mutations; m++) {
          const kind = rand(5);
          if (kind === 0 && f.length > 0) f[rand(f.length)] ^= 1 << rand(8);
          else if (kind === 1 && f.length > 0) f[rand(f.length)] = rand(256);
          else if (kind === 2) f = f.subarray(0, rand(f.length + 1));
          else if (kind === 3) f = Buffer.concat([f, bytes(rand(64))]);
          else if (f.length > 18) f.writeUInt16BE(rand(65536), 14 + rand(Math.min(f.length - 16, 40)));
        }
        if (rand(3) !== 0) fixChecksums(f);
      }
      if (f.length > 1514) f = f.subarray(0, 1514);
      net.write(frame, f);
      const target = rand(16) === 0 ? dhcpIf : 0;
      net.ex.stackInput(a, target, frame, f.length, rand(8) === 0 ? 1 : 0, net.now);
      if (i % 50 === 0) {
        // Traffic of its own, and time passing (timers run).
        net.write(net.buf, bytes(100));
        net.ex.sockSend(a, ca, net.buf, 100, net.now);
        net.ex.sockRecv(a, sa, net.buf, 4096, 0, net.now);
        net.ex.sockSendTo(a, ping, net.buf, 16, IP_B, 0, net.now);
        tick(BigInt(rand(200)) * MS);
      }
    }
    // Still working: a UDP echo through loopback.
    const u = net.ex.sockOpen(a, SOCK_DGRAM);
    net.ex.sockBind(a, u, ip("127.0.0.1"), 7777);
    net.write(net.buf, Buffer.from("still alive"));
    expect(net.ex.sockSendTo(a, udpA, net.buf, 11, ip("127.0.0.1"), 7777, net.now)).toBe(11);
    tick(1n * MS);
    expect(net.ex.sockRecv(a, u, net.buf, 64, 0, net.now)).toBe(11);
    if (process.env.NET_FUZZ_STATS) {
      for (const [k, v] of Object.entries(STAT)) console.log(k, net.stat(a, v));
      console.log("dhcp state", net.ex.testDhcpState(a, dhcpIf), "sockets", net.ex.sockCount(a));
    }
    // Everything is given back.
    const loDev = net.ex.testInterfaceDevice(a, 1);
    net.ex.stackDestroy(a);
    net.ex.stackDestroy(b);
    net.ex.testPipeDestroy(pa);
    net.ex.testPipeDestroy(pb);
    net.ex.testPipeDestroy(dhcpDev);
    net.ex.testLoopbackDestroy(loDev);
    expect(net.ex.netHeapBytes()).toBe(base);
  }, 120_000);
});
