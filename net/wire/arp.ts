// ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet after the
// Ethernet header. ArpPacket is the view, ArpRepr the parsed form.
import { EBADMSG } from "../errno";
import { be16, be32, loadMac, setBe16, setBe32, storeMac } from "./bytes";
import { ETHERTYPE_IPV4 } from "./ethernet";

export const ARP_LEN: u32 = 28;
export const ARP_REQUEST: u32 = 1;
export const ARP_REPLY: u32 = 2;
const HTYPE_ETHERNET: u32 = 1;

@final @unmanaged
export class ArpPacket {
  static check(p: usize, len: u32): i32 {
    return len >= ARP_LEN ? 0 : -EBADMSG;
  }

  // @ts-ignore: decorator
  @inline static at(p: usize): ArpPacket { return changetype<ArpPacket>(p); }

  // @ts-ignore: decorator
  @inline get htype(): u32 { return be16(changetype<usize>(this)); }
  // @ts-ignore: decorator
  @inline get ptype(): u32 { return be16(changetype<usize>(this) + 2); }
  // @ts-ignore: decorator
  @inline get hlen(): u32 { return <u32>load<u8>(changetype<usize>(this), 4); }
  // @ts-ignore: decorator
  @inline get plen(): u32 { return <u32>load<u8>(changetype<usize>(this), 5); }
  // @ts-ignore: decorator
  @inline get op(): u32 { return be16(changetype<usize>(this) + 6); }
  // @ts-ignore: decorator
  @inline get senderMac(): u64 { return loadMac(changetype<usize>(this) + 8); }
  // @ts-ignore: decorator
  @inline get senderIp(): u32 { return be32(changetype<usize>(this) + 14); }
  // @ts-ignore: decorator
  @inline get targetMac(): u64 { return loadMac(changetype<usize>(this) + 18); }
  // @ts-ignore: decorator
  @inline get targetIp(): u32 { return be32(changetype<usize>(this) + 24); }

  setHeader(op: u32): void {
    let p = changetype<usize>(this);
    setBe16(p, HTYPE_ETHERNET);
    setBe16(p + 2, ETHERTYPE_IPV4);
    store<u8>(p, 6, 4);
    store<u8>(p, 4, 5);
    setBe16(p + 6, op);
  }
  // @ts-ignore: decorator
  @inline set senderMac(v: u64) { storeMac(changetype<usize>(this) + 8, v); }
  // @ts-ignore: decorator
  @inline set senderIp(v: u32) { setBe32(changetype<usize>(this) + 14, v); }
  // @ts-ignore: decorator
  @inline set targetMac(v: u64) { storeMac(changetype<usize>(this) + 18, v); }
  // @ts-ignore: decorator
  @inline set targetIp(v: u32) { setBe32(changetype<usize>(this) + 24, v); }
}

@final @unmanaged
export class ArpRepr {
  op: u32;
  senderMac: u64;
  senderIp: u32;
  targetMac: u64;
  targetIp: u32;

  /** 0, or -EBADMSG unless it is an Ethernet/IPv4 request or reply. */
  parse(packet: ArpPacket): i32 {
    if (packet.htype != HTYPE_ETHERNET || packet.ptype != ETHERTYPE_IPV4) return -EBADMSG;
    if (packet.hlen != 6 || packet.plen != 4) return -EBADMSG;
    let op = packet.op;
    if (op != ARP_REQUEST && op != ARP_REPLY) return -EBADMSG;
    this.op = op;
    this.senderMac = packet.senderMac;
    this.senderIp = packet.senderIp;
    this.targetMac = packet.targetMac;
    this.targetIp = packet.targetIp;
    return 0;
  }

  emit(packet: ArpPacket): void {
    packet.setHeader(this.op);
    packet.senderMac = this.senderMac;
    packet.senderIp = this.senderIp;
    packet.targetMac = this.targetMac;
    packet.targetIp = this.targetIp;
  }
}
