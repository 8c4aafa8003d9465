// Interface-level behaviour: ICMP echo and UDP echo through loopback, ARP
// resolution with its pending queue and expiry, IPv4 reassembly, ICMP
// errors, and the DHCP client against a scripted server. Peers are scripted
// in TypeScript through a pipe device.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Bench, CONF, EAGAIN, IP_A, IP_B, MAC_A, MAC_B, MS, SEC, SOCK_DGRAM, SOCK_ICMP, SOCK_STREAM, STAT, TCP, bench, ip, mac,
  macBytes, netModule, randomBytes,
} from "./harness.ts";
import { arp, dhcpReply, ethernet, icmpEcho, ipv4, parse, parseDhcp, udp, u32be } from "./frames.ts";

beforeAll(async () => {
  await netModule();
}, 120_000);

const PEER_MAC = mac("02:00:00:00:00:99");
const PEER_IP = ip("10.0.0.9");
const ECONNREFUSED = 111;

/** One stack on a pipe device (10.0.0.1/24) and, optionally, loopback. */
class Scripted {
  stack: number;
  pipe: number;
  frame: number;
  from: number;

  constructor(readonly net: Bench, withLoopback = true, addr = IP_A) {
    this.stack = net.stack(3);
    this.pipe = net.ex.testPipeCreate(1500, 0, MAC_A, 1 << 20);
    net.ex.testAddDevice(this.stack, this.pipe, addr, ip("255.255.255.0"));
    if (withLoopback) net.ex.testAddLoopback(this.stack);
    this.frame = net.ex.testAlloc(70_000);
    this.from = net.ex.testAlloc(8);
  }

  inject(frame: Buffer): void {
    this.net.write(this.frame, frame);
    expect(this.net.ex.testPipeInject(this.pipe, this.frame, frame.length, 0)).toBeTruthy();
  }

  /** Frames the stack sent. */
  take(): Buffer[] {
    const out: Buffer[] = [];
    for (let n = this.net.ex.testPipeTake(this.pipe, this.frame, 70_000); n > 0;
      n = this.net.ex.testPipeTake(this.pipe, this.frame, 70_000)) out.push(this.net.read(this.frame, n));
    return out;
  }

  run(delta: bigint): void {
    this.net.run(delta, this.stack, 0);
  }

  udpSocket(port: number, addr = 0): number {
    const s = this.net.ex.sockOpen(this.stack, SOCK_DGRAM);
    expect(this.net.ex.sockBind(this.stack, s, addr, port)).toBe(0);
    return s;
  }

  sendTo(sock: number, data: Buffer, addr: number, port: number): number {
    this.net.write(this.net.buf, data);
    return this.net.ex.sockSendTo(this.stack, sock, this.net.buf, data.length, addr, port, this.net.now);
  }

  recvFrom(sock: number): { data: Buffer; addr: number; port: number } | number {
    const r = this.net.ex.sockRecvFrom(this.stack, sock, this.net.buf, this.net.bufSize, 0, this.from, this.net.now);
    if (r < 0) return r;
    return { data: this.net.read(this.net.buf, r), addr: this.net.u32(this.from, 0), port: this.net.u32(this.from, 1) };
  }

  /** The peer answers ARP for itself. */
  resolvePeer(): void {
    this.inject(ethernet(MAC_A, PEER_MAC, 0x0806, arp(2, PEER_MAC, PEER_IP, MAC_A, IP_A)));
  }
}

describe("loopback", () => {
  it("ping 127.0.0.1 and the stack's own address", async () => {
    const net = await bench();
    const h = new Scripted(net);
    const p = net.ex.sockOpen(h.stack, SOCK_ICMP);
    expect(h.sendTo(p, Buffer.from("ping payload"), ip("127.0.0.1"), 0)).toBe(12);
    h.run(1n * MS);
    const r = h.recvFrom(p);
    expect(r).toMatchObject({ data: Buffer.from("ping payload"), addr: ip("127.0.0.1") });
    expect(h.sendTo(p, Buffer.from("to myself"), IP_A, 0)).toBe(9);
    h.run(1n * MS);
    expect(h.recvFrom(p)).toMatchObject({ data: Buffer.from("to myself"), addr: IP_A });
    expect(h.take().length).toBe(0); // nothing went out on the wire
    expect(net.stat(h.stack, STAT.ICMP_ECHO_REPLIES)).toBe(2);
  });

  it("UDP echo, small and fragmented (30 kB over the 16 KiB loopback MTU)", async () => {
    const net = await bench();
    const h = new Scripted(net);
    const server = h.udpSocket(7, ip("127.0.0.1"));
    const client = net.ex.sockOpen(h.stack, SOCK_DGRAM);
    for (const size of [5, 1000, 30_000]) {
      const data = randomBytes(size, size);
      expect(h.sendTo(client, data, ip("127.0.0.1"), 7)).toBe(size);
      h.run(1n * MS);
      const q = h.recvFrom(server);
      if (typeof q === "number") throw new Error(`server recv ${q}`);
      expect(q.data.equals(data)).toBe(true);
      expect(h.sendTo(server, q.data, q.addr, q.port)).toBe(size);
      h.run(1n * MS);
      const r = h.recvFrom(client);
      if (typeof r === "number") throw new Error(`client recv ${r}`);
      expect(r.data.equals(data)).toBe(true);
      expect(r.port).toBe(7);
    }
    expect(net.stat(h.stack, STAT.IP_REASSEMBLED)).toBe(2);
    expect(h.recvFrom(client)).toBe(EAGAIN);
  });

  it("a datagram to a closed port: ICMP port unreachable, ECONNREFUSED on the connected socket", async () => {
    const net = await bench();
    const h = new Scripted(net);
    const c = net.ex.sockOpen(h.stack, SOCK_DGRAM);
    expect(net.ex.sockConnect(h.stack, c, ip("127.0.0.1"), 9999, net.now)).toBe(0);
    net.write(net.buf, Buffer.from("anyone?"));
    expect(net.ex.sockSend(h.stack, c, net.buf, 7, net.now)).toBe(7);
    h.run(1n * MS);
    expect(net.stat(h.stack, STAT.ICMP_UNREACHABLE_SENT)).toBe(1);
    expect(net.ex.sockRecv(h.stack, c, net.buf, 10, 0, net.now)).toBe(-ECONNREFUSED);
  });
});

describe("ARP", () => {
  it("queues packets while resolving, sends them on the reply, answers requests, expires entries", async () => {
    const net = await bench();
    const h = new Scripted(net, false);
    net.configure(h.stack, CONF.ARP_REACHABLE, 5n * SEC);
    const s = h.udpSocket(5000);
    expect(h.sendTo(s, Buffer.from("one"), PEER_IP, 53)).toBe(3);
    expect(h.sendTo(s, Buffer.from("two"), PEER_IP, 53)).toBe(3);
    let out = h.take().map(parse);
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ type: 0x0806, arpOp: 1, arpTargetIp: PEER_IP, arpSenderIp: IP_A });
    expect(out[0]!.dstMac.equals(Buffer.alloc(6, 0xff))).toBe(true);
    h.resolvePeer();
    h.run(1n * MS);
    out = h.take().map(parse);
    expect(out.map((p) => p.data?.toString())).toEqual(["one", "two"]);
    expect(out[0]!.dstMac.equals(macBytes(PEER_MAC))).toBe(true);
    expect(out[0]!.udpOk && out[0]!.ipHeaderOk).toBe(true);
    // Resolved: straight out.
    h.sendTo(s, Buffer.from("three"), PEER_IP, 53);
    expect(h.take().map((f) => parse(f).data?.toString())).toEqual(["three"]);
    // The peer asks for us: a reply, and the peer stays known.
    h.inject(ethernet(mac("ff:ff:ff:ff:ff:ff"), PEER_MAC, 0x0806, arp(1, PEER_MAC, PEER_IP, 0n, IP_A)));
    h.run(1n * MS);
    out = h.take().map(parse);
    expect(out[0]).toMatchObject({ type: 0x0806, arpOp: 2, arpSenderIp: IP_A, arpTargetIp: PEER_IP });
    // After 5 s the entry expires: the next datagram resolves again.
    h.run(6n * SEC);
    expect(net.ex.testArpLookup(h.stack, 0, PEER_IP, net.now)).toBe(0n);
    h.sendTo(s, Buffer.from("four"), PEER_IP, 53);
    expect(h.take().map(parse)[0]).toMatchObject({ type: 0x0806, arpOp: 1 });
  });

  it("retries a request 3 times, then drops the waiting packets", async () => {
    const net = await bench();
    const h = new Scripted(net, false);
    const s = h.udpSocket(5000);
    h.sendTo(s, Buffer.from("lost"), ip("10.0.0.77"), 53);
    h.run(10n * SEC);
    const out = h.take().map(parse);
    expect(out.filter((p) => p.arpOp === 1).length).toBe(3);
    expect(out.filter((p) => p.type === 0x0800).length).toBe(0);
    expect(net.ex.testArpLookup(h.stack, 0, ip("10.0.0.77"), net.now)).toBe(0n);
  });
});

describe("IPv4 reassembly", () => {
  function fragments(data: Buffer, ident: number, cuts: number[]): Buffer[] {
    const whole = udp(PEER_IP, IP_A, 4000, 5000, data);
    const out: Buffer[] = [];
    let start = 0;
    for (const end of [...cuts, whole.length]) {
      out.push(ethernet(MAC_A, PEER_MAC, 0x0800,
        ipv4(PEER_IP, IP_A, 17, whole.subarray(start, end), { ident, offset: start, mf: end < whole.length })));
      start = end;
    }
    return out;
  }

  it("in order, out of order, with duplicates and overlaps (the first copy wins)", async () => {
    const net = await bench();
    const h = new Scripted(net, false);
    const s = h.udpSocket(5000);
    const data = randomBytes(40, 3000);
    const frags = fragments(data, 1, [1480, 2960]);
    const expectDatagram = (d: Buffer): void => {
      h.run(1n * MS);
      const r = h.recvFrom(s);
      if (typeof r === "number") throw new Error(`recv ${r}`);
      expect(r.data.equals(d)).toBe(true);
    };
    frags.forEach((f) => h.inject(f));
    expectDatagram(data);
    const again = fragments(data, 2, [1480, 2960]);
    [2, 0, 1].forEach((i) => h.inject(again[i]!));
    expectDatagram(data);
    const dup = fragments(data, 3, [1480, 2960]);
    [1, 1, 0, 2, 0].forEach((i) => h.inject(dup[i]!));
    expectDatagram(data);
    expect(h.recvFrom(s)).toBe(EAGAIN); // the duplicate of a finished datagram starts a new one, never completed
    // Overlap: [0, 1008) then a different copy of [1000, 2008): bytes 1000-1007 keep the first copy.
    const small = data.subarray(0, 2000);
    const other = Buffer.from(small);
    other.fill(0xee, 992, 1000); // payload bytes 992-999 sit at 1000-1007 of the datagram
    const w1 = udp(PEER_IP, IP_A, 4000, 5000, small);
    const w2 = udp(PEER_IP, IP_A, 4000, 5000, other);
    h.inject(ethernet(MAC_A, PEER_MAC, 0x0800, ipv4(PEER_IP, IP_A, 17, w1.subarray(0, 1008), { ident: 4, mf: true })));
    h.inject(ethernet(MAC_A, PEER_MAC, 0x0800,
      ipv4(PEER_IP, IP_A, 17, w2.subarray(1000), { ident: 4, offset: 1000 })));
    expectDatagram(small);
    expect(net.stat(h.stack, STAT.IP_REASSEMBLED)).toBe(4);
  });

  it("an incomplete datagram times out; at most CONF_FRAG_BUFFERS are held; bad fragments are refused", async () => {
    const net = await bench();
    const h = new Scripted(net, false);
    net.configure(h.stack, CONF.FRAG_TIMEOUT, 2n * SEC);
    const s = h.udpSocket(5000);
    const base = net.ex.netHeapBytes();
    const data = randomBytes(41, 3000);
    for (let id = 10; id < 16; id++) h.inject(fragments(data, id, [1480, 2960])[0]!);
    h.run(1n * MS);
    expect(net.ex.testFragInUse(h.stack)).toBe(4);
    expect(net.stat(h.stack, STAT.IP_REASSEMBLY_FAILED)).toBe(2); // the oldest made room
    expect(net.ex.netHeapBytes() - base).toBeLessThan(4 * 70_000);
    h.run(3n * SEC);
    expect(net.ex.testFragInUse(h.stack)).toBe(0);
    expect(net.ex.netHeapBytes()).toBe(base);
    expect(net.stat(h.stack, STAT.IP_REASSEMBLY_FAILED)).toBe(6);
    // A non-final fragment whose length is not a multiple of 8; one reaching past 65535.
    const whole = udp(PEER_IP, IP_A, 4000, 5000, data);
    h.inject(ethernet(MAC_A, PEER_MAC, 0x0800, ipv4(PEER_IP, IP_A, 17, whole.subarray(0, 1001), { ident: 20, mf: true })));
    h.inject(ethernet(MAC_A, PEER_MAC, 0x0800, ipv4(PEER_IP, IP_A, 17, whole.subarray(0, 1000), { ident: 21, offset: 65000 })));
    h.run(1n * MS);
    expect(net.ex.testFragInUse(h.stack)).toBe(0);
    expect(h.recvFrom(s)).toBe(EAGAIN);
  });

  it("a 20 kB datagram between two stacks is fragmented and reassembled", async () => {
    const net = (await bench()).pair();
    const rx = net.ex.sockOpen(net.b, SOCK_DGRAM);
    expect(net.ex.sockBind(net.b, rx, 0, 9000)).toBe(0);
    const tx = net.ex.sockOpen(net.a, SOCK_DGRAM);
    const data = randomBytes(42, 20_000);
    net.write(net.buf, data);
    expect(net.ex.sockSendTo(net.a, tx, net.buf, data.length, IP_B, 9000, net.now)).toBe(20_000);
    net.run(100n * MS);
    expect(net.ex.sockRecv(net.b, rx, net.buf, 65536, 0, net.now)).toBe(20_000);
    expect(net.read(net.buf, 20_000).equals(data)).toBe(true);
    expect(net.stat(net.b, STAT.IP_FRAGMENTS)).toBe(14);
  });
});

describe("ICMP", () => {
  it("answers echo requests, not broadcast ones, and refuses unknown protocols", async () => {
    const net = await bench();
    const h = new Scripted(net, false);
    h.resolvePeer();
    h.run(1n * MS);
    h.inject(ethernet(MAC_A, PEER_MAC, 0x0800, ipv4(PEER_IP, IP_A, 1, icmpEcho(8, 77, 3, Buffer.from("abc")))));
    h.inject(ethernet(mac("ff:ff:ff:ff:ff:ff"), PEER_MAC, 0x0800,
      ipv4(PEER_IP, ip("10.0.0.255"), 1, icmpEcho(8, 77, 4, Buffer.from("abc")))));
    h.inject(ethernet(MAC_A, PEER_MAC, 0x0800, ipv4(PEER_IP, IP_A, 99, Buffer.from("????"))));
    h.run(1n * MS);
    const out = h.take().map(parse);
    expect(out.length).toBe(2);
    expect(out[0]!.proto).toBe(1);
    expect(out[0]!.l4!.subarray(0, 1)[0]).toBe(0); // echo reply
    expect(out[0]!.l4!.readUInt16BE(6)).toBe(3);
    expect(out[0]!.l4!.subarray(8).toString()).toBe("abc");
    expect(out[1]!.l4!.subarray(0, 2)).toEqual(Buffer.from([3, 2])); // protocol unreachable
  });
});

describe("DHCP client", () => {
  const SERVER = ip("10.0.2.2");
  const SERVER_MAC = mac("52:55:0a:00:02:02");
  const OFFERED = ip("10.0.2.15");

  function serverOptions(lease: number): [number, Buffer][] {
    return [[54, u32be(SERVER)], [1, u32be(ip("255.255.255.0"))], [3, u32be(SERVER)],
      [6, Buffer.concat([u32be(ip("10.0.2.3")), u32be(ip("8.8.8.8"))])], [51, u32be(lease)]];
  }

  function reply(h: Scripted, type: number, xid: number, lease: number, to = 0xffffffff): void {
    const m = dhcpReply(type, xid, macBytes(MAC_A), OFFERED, serverOptions(lease));
    h.inject(ethernet(to === 0xffffffff ? mac("ff:ff:ff:ff:ff:ff") : MAC_A, SERVER_MAC, 0x0800,
      ipv4(SERVER, to, 17, udp(SERVER, to, 67, 68, m))));
  }

  function dhcpOut(h: Scripted): ReturnType<typeof parse>[] {
    return h.take().map(parse).filter((p) => p.dport === 67);
  }

  it("DISCOVER, OFFER, REQUEST, ACK; renews at T1 by unicast; a NAK starts over", async () => {
    const net = await bench();
    const h = new Scripted(net, false, 0);
    expect(net.ex.testDhcpStart(h.stack, 0, net.now)).toBe(0);
    h.run(1n * MS);
    let out = dhcpOut(h);
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ src: 0, dst: 0xffffffff, sport: 68, udpOk: true, ipHeaderOk: true });
    let m = parseDhcp(out[0]!.data!);
    expect(m.type).toBe(1);
    expect(m.chaddr.equals(macBytes(MAC_A))).toBe(true);
    expect(m.options.get(55)).toBeDefined();
    // No answer: DISCOVER again after about 4 s.
    h.run(5n * SEC);
    out = dhcpOut(h);
    expect(out.length).toBe(1);
    const xid = m.xid;
    reply(h, 2, xid + 1, 3600); // wrong transaction: ignored
    reply(h, 2, xid, 3600);
    h.run(1n * MS);
    out = dhcpOut(h);
    expect(out.length).toBe(1);
    m = parseDhcp(out[0]!.data!);
    expect(m.type).toBe(3);
    expect(m.options.get(50)).toEqual(u32be(OFFERED));
    expect(m.options.get(54)).toEqual(u32be(SERVER));
    reply(h, 5, xid, 3600, OFFERED); // slirp may answer to the offered address
    h.run(1n * MS);
    expect(net.ex.testDhcpState(h.stack, 0)).toBe(3); // BOUND
    expect(net.ex.testIfaceField(h.stack, 0, 0) >>> 0).toBe(OFFERED);
    expect(net.ex.testIfaceField(h.stack, 0, 1) >>> 0).toBe(ip("255.255.255.0"));
    expect(net.ex.testIfaceField(h.stack, 0, 2) >>> 0).toBe(SERVER);
    expect(net.ex.testIfaceField(h.stack, 0, 3) >>> 0).toBe(ip("10.0.2.3"));
    expect(net.ex.testIfaceField(h.stack, 0, 4) >>> 0).toBe(ip("8.8.8.8"));
    // The default route works: a datagram to 1.2.3.4 goes to the gateway's MAC (after ARP).
    const s = h.udpSocket(1234);
    h.sendTo(s, Buffer.from("out"), ip("1.2.3.4"), 53);
    let arpOut = h.take().map(parse);
    expect(arpOut[0]).toMatchObject({ arpOp: 1, arpTargetIp: SERVER, arpSenderIp: OFFERED });
    h.inject(ethernet(MAC_A, SERVER_MAC, 0x0806, arp(2, SERVER_MAC, SERVER, MAC_A, OFFERED)));
    h.run(1n * MS);
    arpOut = h.take().map(parse);
    expect(arpOut[0]).toMatchObject({ dst: ip("1.2.3.4"), src: OFFERED });
    expect(arpOut[0]!.dstMac.equals(macBytes(SERVER_MAC))).toBe(true);
    // T1 = 1800 s: a unicast REQUEST (ciaddr set) to the server.
    h.run(1801n * SEC);
    // The gateway's ARP entry expired meanwhile: resolve it again, then the REQUEST follows.
    expect(h.take().map(parse).some((p) => p.arpOp === 1 && p.arpTargetIp === SERVER)).toBe(true);
    h.inject(ethernet(MAC_A, SERVER_MAC, 0x0806, arp(2, SERVER_MAC, SERVER, MAC_A, OFFERED)));
    h.run(1n * MS);
    out = dhcpOut(h);
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ src: OFFERED, dst: SERVER });
    m = parseDhcp(out[0]!.data!);
    expect(m).toMatchObject({ type: 3, ciaddr: OFFERED });
    reply(h, 5, xid, 3600, OFFERED);
    h.run(1n * MS);
    expect(net.ex.testDhcpState(h.stack, 0)).toBe(3);
    // Renew again at the next T1, and this time the server says NAK.
    h.run(1801n * SEC);
    h.take();
    reply(h, 6, xid, 0, OFFERED);
    h.run(1n * MS);
    expect(net.ex.testIfaceField(h.stack, 0, 0)).toBe(0);
    out = dhcpOut(h);
    expect(parseDhcp(out[0]!.data!).type).toBe(1);
  });
});

describe("pcap writer", () => {
  it("records both directions of a device in a file tcpdump and wireshark read", async () => {
    const net = (await bench()).pair({ pcapBytes: 1 << 20 });
    const l = net.listen(net.b, 80);
    const [c] = net.connect(l, 80);
    net.sendSome(net.a, c, Buffer.from("GET / HTTP/1.0\r\n\r\n"), 0);
    net.run(100n * MS);
    expect(net.ex.sockState(net.a, c)).toBe(TCP.ESTABLISHED);
    const path = net.savePcap(net.pcapA, "iface-handshake");
    const file = readFileSync(path);
    expect(file.readUInt32LE(0)).toBe(0xa1b23c4d); // nanosecond pcap
    expect(file.readUInt32LE(20)).toBe(1); // Ethernet
    const frames: Buffer[] = [];
    for (let o = 24; o < file.length;) {
      const len = file.readUInt32LE(o + 8);
      expect(file.readUInt32LE(o + 12)).toBe(len);
      frames.push(file.subarray(o + 16, o + 16 + len));
      o += 16 + len;
    }
    const parsed = frames.map(parse);
    expect(parsed[0]).toMatchObject({ arpOp: 1, arpTargetIp: IP_B }); // a's ARP request
    expect(parsed[1]).toMatchObject({ arpOp: 2 }); // b's reply, as a received it
    const syn = parsed.find((p) => p.proto === 6)!;
    expect(syn.l4![13]).toBe(0x02);
    expect(frames.length).toBeGreaterThanOrEqual(7); // ARP x2, handshake x3, data, ACK
    const tcpdump = spawnSync("tcpdump", ["-nn", "-r", path], { encoding: "utf8" });
    if (tcpdump.error === undefined && tcpdump.status === 0) {
      expect(tcpdump.stdout).toContain("Flags [S]");
      expect(tcpdump.stdout).toContain("Flags [S.]");
      expect(tcpdump.stdout).toContain("ARP, Request who-has 10.0.0.2");
    }
  });
});
