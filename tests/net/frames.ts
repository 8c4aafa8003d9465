// Frames built and read in TypeScript, independently of net/: what the
// scripted peers (ARP, DHCP server, fragment senders) send, and parsers for
// what the stack sends them.
import { macBytes } from "./harness.ts";

export function checksum(data: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length & 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudo(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

export function ethernet(dst: bigint, src: bigint, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  macBytes(dst).copy(h, 0);
  macBytes(src).copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

export interface IpOptions {
  ident?: number;
  mf?: boolean;
  df?: boolean;
  /** Bytes, a multiple of 8. */
  offset?: number;
  ttl?: number;
  /** Total length to claim (default: header + payload). */
  totalLength?: number;
}

export function ipv4(src: number, dst: number, proto: number, payload: Buffer, o: IpOptions = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(o.totalLength ?? 20 + payload.length, 2);
  h.writeUInt16BE(o.ident ?? 1, 4);
  h.writeUInt16BE((o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.offset ?? 0) >> 3), 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  h.writeUInt32BE(src >>> 0, 12);
  h.writeUInt32BE(dst >>> 0, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

export function udp(src: number, dst: number, sport: number, dport: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + data.length, 4);
  const d = Buffer.concat([h, data]);
  const c = checksum(d, pseudo(src, dst, 17, d.length));
  d.writeUInt16BE(c === 0 ? 0xffff : c, 6);
  return d;
}

export function icmpEcho(type: number, id: number, seq: number, data: Buffer): Buffer {
  const d = Buffer.concat([Buffer.alloc(8), data]);
  d[0] = type;
  d.writeUInt16BE(id, 4);
  d.writeUInt16BE(seq, 6);
  d.writeUInt16BE(checksum(d), 2);
  return d;
}

export function arp(op: number, senderMac: bigint, senderIp: number, targetMac: bigint, targetIp: number): Buffer {
  const d = Buffer.alloc(28);
  d.writeUInt16BE(1, 0);
  d.writeUInt16BE(0x0800, 2);
  d[4] = 6;
  d[5] = 4;
  d.writeUInt16BE(op, 6);
  macBytes(senderMac).copy(d, 8);
  d.writeUInt32BE(senderIp >>> 0, 14);
  macBytes(targetMac).copy(d, 18);
  d.writeUInt32BE(targetIp >>> 0, 24);
  return d;
}

export interface Parsed {
  dstMac: Buffer;
  srcMac: Buffer;
  type: number;
  /** IPv4 */
  src?: number;
  dst?: number;
  proto?: number;
  ipHeaderOk?: boolean;
  mf?: boolean;
  offset?: number;
  ident?: number;
  /** after the IPv4 header, total length respected */
  l4?: Buffer;
  /** UDP */
  sport?: number;
  dport?: number;
  udpOk?: boolean;
  data?: Buffer;
  /** ARP */
  arpOp?: number;
  arpTargetIp?: number;
  arpSenderIp?: number;
}

export function parse(frame: Buffer): Parsed {
  const p: Parsed = { dstMac: frame.subarray(0, 6), srcMac: frame.subarray(6, 12), type: frame.readUInt16BE(12) };
  if (p.type === 0x0806) {
    p.arpOp = frame.readUInt16BE(20);
    p.arpSenderIp = frame.readUInt32BE(28);
    p.arpTargetIp = frame.readUInt32BE(38);
    return p;
  }
  if (p.type !== 0x0800) return p;
  const ip = frame.subarray(14);
  const hl = (ip[0]! & 15) * 4;
  const total = ip.readUInt16BE(2);
  p.src = ip.readUInt32BE(12);
  p.dst = ip.readUInt32BE(16);
  p.proto = ip[9];
  p.ipHeaderOk = checksum(ip.subarray(0, hl)) === 0;
  const fl = ip.readUInt16BE(6);
  p.mf = (fl & 0x2000) !== 0;
  p.offset = (fl & 0x1fff) * 8;
  p.ident = ip.readUInt16BE(4);
  p.l4 = ip.subarray(hl, total);
  if (p.proto === 17 && p.offset === 0 && !p.mf) {
    p.sport = p.l4.readUInt16BE(0);
    p.dport = p.l4.readUInt16BE(2);
    const len = p.l4.readUInt16BE(4);
    p.udpOk = p.l4.readUInt16BE(6) === 0 || checksum(p.l4.subarray(0, len), pseudo(p.src, p.dst, 17, len)) === 0;
    p.data = p.l4.subarray(8, len);
  }
  return p;
}

// ---- DHCP (server side) ----

export interface DhcpMessage {
  op: number;
  xid: number;
  ciaddr: number;
  yiaddr: number;
  chaddr: Buffer;
  type: number;
  options: Map<number, Buffer>;
}

export function parseDhcp(data: Buffer): DhcpMessage {
  const options = new Map<number, Buffer>();
  let o = 240;
  while (o < data.length && data[o] !== 255) {
    if (data[o] === 0) {
      o++;
      continue;
    }
    options.set(data[o]!, data.subarray(o + 2, o + 2 + data[o + 1]!));
    o += 2 + data[o + 1]!;
  }
  return {
    op: data[0]!, xid: data.readUInt32BE(4), ciaddr: data.readUInt32BE(12), yiaddr: data.readUInt32BE(16),
    chaddr: data.subarray(28, 34), type: options.get(53)?.[0] ?? 0, options,
  };
}

export function dhcpReply(type: number, xid: number, chaddr: Buffer, yiaddr: number, options: [number, Buffer][]): Buffer {
  const m = Buffer.alloc(240);
  m[0] = 2;
  m[1] = 1;
  m[2] = 6;
  m.writeUInt32BE(xid >>> 0, 4);
  m.writeUInt32BE(yiaddr >>> 0, 16);
  chaddr.copy(m, 28);
  m.writeUInt32BE(0x63825363, 236);
  const opts: Buffer[] = [Buffer.from([53, 1, type])];
  for (const [code, value] of options) opts.push(Buffer.from([code, value.length]), value);
  opts.push(Buffer.from([255]));
  return Buffer.concat([m, ...opts]);
}

export function u32be(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
