// ARP over Ethernet for IPv4 (RFC 826): frame parsing and building, pure so
// the unit tests can run it. IPv4 addresses are u32 in numeric order
// (10.0.2.15 is 0x0a00020f) and go on the wire big-endian.

export const ETHERTYPE_ARP: u32 = 0x0806;
export const ETHERTYPE_IPV4: u32 = 0x0800;
export const ARP_REQUEST: u32 = 1;
export const ARP_REPLY: u32 = 2;
/** Ethernet header (14) + ARP (28), padded to Ethernet's 60-byte minimum. */
export const ARP_FRAME_BYTES: u32 = 60;
const ARP_END: u32 = 42;

export function readBe16(p: usize): u32 {
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p, 1);
}

export function readBe32(p: usize): u32 {
  return (<u32>load<u8>(p) << 24) | (<u32>load<u8>(p, 1) << 16) | (<u32>load<u8>(p, 2) << 8) | <u32>load<u8>(p, 3);
}

export function writeBe16(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >> 8));
  store<u8>(p, <u8>v, 1);
}

export function writeBe32(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >> 24));
  store<u8>(p, <u8>(v >> 16), 1);
  store<u8>(p, <u8>(v >> 8), 2);
  store<u8>(p, <u8>v, 3);
}

export function ethertype(frame: usize): u32 {
  return readBe16(frame + 12);
}

/** The operation (ARP_REQUEST, ARP_REPLY) of an Ethernet/IPv4 ARP frame, or 0 if it is not one. */
export function arpParse(frame: usize, length: u32): u32 {
  if (length < ARP_END || ethertype(frame) != ETHERTYPE_ARP) return 0;
  let arp = frame + 14;
  if (readBe16(arp) != 1 || readBe16(arp + 2) != ETHERTYPE_IPV4) return 0;
  if (load<u8>(arp, 4) != 6 || load<u8>(arp, 5) != 4) return 0;
  let op = readBe16(arp + 6);
  return op == ARP_REQUEST || op == ARP_REPLY ? op : 0;
}

export function arpSenderMac(frame: usize): usize {
  return frame + 22;
}

export function arpSenderIp(frame: usize): u32 {
  return readBe32(frame + 28);
}

export function arpTargetMac(frame: usize): usize {
  return frame + 32;
}

export function arpTargetIp(frame: usize): u32 {
  return readBe32(frame + 38);
}

/**
 * Writes an ARP frame to `out` (ARP_FRAME_BYTES): Ethernet destination
 * `ethDst` (6 bytes; 0 for broadcast), source `mac`, operation `op`, sender
 * (mac, ip), target (targetMac or zeros when 0, targetIp). Returns its length.
 */
export function arpBuild(out: usize, op: u32, mac: usize, ip: u32, ethDst: usize, targetMac: usize, targetIp: u32): u32 {
  memory.fill(out, 0, ARP_FRAME_BYTES);
  if (ethDst != 0) memory.copy(out, ethDst, 6);
  else memory.fill(out, 0xff, 6);
  memory.copy(out + 6, mac, 6);
  writeBe16(out + 12, ETHERTYPE_ARP);
  let arp = out + 14;
  writeBe16(arp, 1);
  writeBe16(arp + 2, ETHERTYPE_IPV4);
  store<u8>(arp, 6, 4);
  store<u8>(arp, 4, 5);
  writeBe16(arp + 6, op);
  memory.copy(arp + 8, mac, 6);
  writeBe32(arp + 14, ip);
  if (targetMac != 0) memory.copy(arp + 18, targetMac, 6);
  writeBe32(arp + 24, targetIp);
  return ARP_FRAME_BYTES;
}

/** The reply to ARP request `request` from the host with (mac, ip). */
export function arpBuildReply(out: usize, request: usize, mac: usize, ip: u32): u32 {
  return arpBuild(out, ARP_REPLY, mac, ip, arpSenderMac(request), arpSenderMac(request), arpSenderIp(request));
}

/** A broadcast "who has targetIp, tell ip". */
export function arpBuildRequest(out: usize, mac: usize, ip: u32, targetIp: u32): u32 {
  return arpBuild(out, ARP_REQUEST, mac, ip, 0, 0, targetIp);
}

/** A dotted-quad IPv4 address in [offset, offset + count) of `text`, or -1. */
export function parseIpv4(text: usize, offset: u32, count: u32): i64 {
  let value: u32 = 0;
  let part: u32 = 0;
  let digits: u32 = 0;
  let dots: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    let c = <u32>load<u8>(text + offset + i);
    if (c == 0x2e) {
      if (digits == 0 || dots == 3) return -1;
      value = (value << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      part = part * 10 + (c - 0x30);
      digits++;
      if (part > 255 || digits > 3) return -1;
    } else {
      return -1;
    }
  }
  if (dots != 3 || digits == 0) return -1;
  return <i64>((value << 8) | part);
}
