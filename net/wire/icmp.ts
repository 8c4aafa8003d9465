// ICMPv4 (RFC 792): echo request and reply, and the error messages the stack
// sends (destination unreachable) and reads (unreachable, time exceeded,
// fragmentation needed). IcmpPacket is the view, IcmpRepr the parsed form.
import { EBADMSG } from "../errno";
import { be16, setBe16 } from "./bytes";
import { checksum, checksumValid } from "./checksum";
import { IPV4_HEADER_LEN, Ipv4Packet } from "./ipv4";

export const ICMP_HEADER_LEN: u32 = 8;
export const ICMP_ECHO_REPLY: u32 = 0;
export const ICMP_DEST_UNREACHABLE: u32 = 3;
export const ICMP_ECHO_REQUEST: u32 = 8;
export const ICMP_TIME_EXCEEDED: u32 = 11;
export const ICMP_PARAMETER_PROBLEM: u32 = 12;

export const ICMP_UNREACH_NET: u32 = 0;
export const ICMP_UNREACH_HOST: u32 = 1;
export const ICMP_UNREACH_PROTOCOL: u32 = 2;
export const ICMP_UNREACH_PORT: u32 = 3;
export const ICMP_UNREACH_NEEDFRAG: u32 = 4;

/** Bytes of the offending datagram an error quotes after its IP header (RFC 792). */
export const ICMP_QUOTE_BYTES: u32 = 8;

@final @unmanaged
export class IcmpPacket {
  static check(p: usize, len: u32): i32 {
    return len >= ICMP_HEADER_LEN ? 0 : -EBADMSG;
  }

  // @ts-ignore: decorator
  @inline static at(p: usize): IcmpPacket { return changetype<IcmpPacket>(p); }

  // @ts-ignore: decorator
  @inline get type(): u32 { return <u32>load<u8>(changetype<usize>(this)); }
  // @ts-ignore: decorator
  @inline get code(): u32 { return <u32>load<u8>(changetype<usize>(this), 1); }
  // @ts-ignore: decorator
  @inline get echoId(): u32 { return be16(changetype<usize>(this) + 4); }
  // @ts-ignore: decorator
  @inline get echoSeq(): u32 { return be16(changetype<usize>(this) + 6); }
  /** Next-hop MTU of a fragmentation-needed message (RFC 1191). */
  // @ts-ignore: decorator
  @inline get nextHopMtu(): u32 { return be16(changetype<usize>(this) + 6); }
  // @ts-ignore: decorator
  @inline get data(): usize { return changetype<usize>(this) + ICMP_HEADER_LEN; }

  verifyChecksum(len: u32): bool {
    return checksumValid(changetype<usize>(this), len, 0);
  }

  fillChecksum(len: u32): void {
    let p = changetype<usize>(this);
    store<u16>(p, 0, 2);
    store<u16>(p, <u16>checksum(p, len), 2);
  }
}

@final @unmanaged
export class IcmpRepr {
  type: u32;
  code: u32;
  /** Echo identifier and sequence number. */
  id: u32;
  seq: u32;
  /** Fragmentation needed: the next-hop MTU (0 if the router did not say). */
  mtu: u32;
  /** After the 8-byte header: echo data, or the quoted datagram of an error. */
  data: usize;
  dataLen: u32;
  /** Errors: the quoted IPv4 header (checked) and its transport bytes. */
  quotedProtocol: u32;
  quotedSrc: u32;
  quotedDst: u32;
  quotedSrcPort: u32;
  quotedDstPort: u32;
  /** TCP errors: the quoted sequence number. */
  quotedSeq: u32;

  /** Parses `len` bytes; -EBADMSG on a bad checksum, unknown shape or a truncated quote. */
  parse(packet: IcmpPacket, len: u32): i32 {
    if (!packet.verifyChecksum(len)) return -EBADMSG;
    this.type = packet.type;
    this.code = packet.code;
    this.data = packet.data;
    this.dataLen = len - ICMP_HEADER_LEN;
    this.id = 0;
    this.seq = 0;
    this.mtu = 0;
    let type = this.type;
    if (type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY) {
      if (this.code != 0) return -EBADMSG;
      this.id = packet.echoId;
      this.seq = packet.echoSeq;
      return 0;
    }
    if (type == ICMP_DEST_UNREACHABLE || type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETER_PROBLEM) {
      if (type == ICMP_DEST_UNREACHABLE && this.code == ICMP_UNREACH_NEEDFRAG) this.mtu = packet.nextHopMtu;
      // The quote: an IPv4 header (its total length may exceed what was quoted) and 8 bytes.
      let q = this.data;
      let qlen = this.dataLen;
      if (qlen < IPV4_HEADER_LEN) return -EBADMSG;
      let first = <u32>load<u8>(q);
      let hlen = (first & 15) << 2;
      if ((first >> 4) != 4 || hlen < IPV4_HEADER_LEN || hlen + ICMP_QUOTE_BYTES > qlen) return -EBADMSG;
      let ip = Ipv4Packet.at(q);
      this.quotedProtocol = ip.protocol;
      this.quotedSrc = ip.src;
      this.quotedDst = ip.dst;
      this.quotedSrcPort = be16(q + hlen);
      this.quotedDstPort = be16(q + hlen + 2);
      this.quotedSeq = bswap<u32>(load<u32>(q + hlen + 4));
      return 0;
    }
    return -EBADMSG;
  }

  /** Echo request or reply header at `p`; the data (dataLen bytes) must already follow it. */
  emitEcho(p: usize): void {
    store<u8>(p, <u8>this.type);
    store<u8>(p, 0, 1);
    setBe16(p + 4, this.id);
    setBe16(p + 6, this.seq);
    IcmpPacket.at(p).fillChecksum(ICMP_HEADER_LEN + this.dataLen);
  }
}

/**
 * Writes an error message at `p`: type, code, `word` (the 32 bits after the
 * checksum, e.g. the next-hop MTU), then the offending IPv4 header and up to
 * 8 bytes of its payload from `original`. Returns the ICMP length.
 */
export function icmpEmitError(p: usize, type: u32, code: u32, word: u32, original: usize): u32 {
  let ip = Ipv4Packet.at(original);
  let hlen = ip.headerLen;
  let quote = ip.payloadLen < ICMP_QUOTE_BYTES ? ip.payloadLen : ICMP_QUOTE_BYTES;
  store<u8>(p, <u8>type);
  store<u8>(p, <u8>code, 1);
  store<u32>(p, bswap<u32>(word), 4);
  memory.copy(p + ICMP_HEADER_LEN, original, hlen + quote);
  let len = ICMP_HEADER_LEN + hlen + quote;
  IcmpPacket.at(p).fillChecksum(len);
  return len;
}
