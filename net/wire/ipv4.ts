// IPv4 headers (RFC 791). Ipv4Packet is the view over a header that
// Ipv4Packet.check accepted: version 4, header length 20-60 bytes within the
// buffer, total length covering the header and not beyond the buffer (frames
// may carry Ethernet padding after it). Options are walked for well-formed
// lengths and otherwise ignored. Ipv4Repr is what the stack works with; it
// emits 20-byte headers without options.
import { EBADMSG } from "../errno";
import { be16, be32, setBe16, setBe32 } from "./bytes";
import { checksum, checksumValid } from "./checksum";
import { optionLength } from "./options";

export const IPV4_HEADER_LEN: u32 = 20;
export const IPV4_MAX_LEN: u32 = 65535;
export const IP_PROTO_ICMP: u32 = 1;
export const IP_PROTO_TCP: u32 = 6;
export const IP_PROTO_UDP: u32 = 17;
export const IP_DEFAULT_TTL: u32 = 64;

const FLAG_DF: u32 = 0x4000;
const FLAG_MF: u32 = 0x2000;
const OFFSET_MASK: u32 = 0x1fff;


@final @unmanaged
export class Ipv4Packet {
  /** 0 if `len` bytes start with a sound IPv4 header (checksum not checked), else -EBADMSG. */
  static check(p: usize, len: u32): i32 {
    if (len < IPV4_HEADER_LEN) return -EBADMSG;
    let first = <u32>load<u8>(p);
    if ((first >> 4) != 4) return -EBADMSG;
    let hlen = (first & 15) << 2;
    if (hlen < IPV4_HEADER_LEN || hlen > len) return -EBADMSG;
    let total = be16(p + 2);
    if (total < hlen || total > len) return -EBADMSG;
    // Options: type-length-value except END and NOP; all inside the header.
    let o = p + IPV4_HEADER_LEN;
    let end = p + hlen;
    while (o < end) {
      let length = optionLength(o, end);
      if (length < 0) return length;
      if (length == 0) break;
      o += <usize>length;
    }
    return 0;
  }

  // @ts-ignore: decorator
  @inline static at(p: usize): Ipv4Packet { return changetype<Ipv4Packet>(p); }

  // @ts-ignore: decorator
  @inline get version(): u32 { return <u32>load<u8>(changetype<usize>(this)) >> 4; }
  // @ts-ignore: decorator
  @inline get headerLen(): u32 { return (<u32>load<u8>(changetype<usize>(this)) & 15) << 2; }
  // @ts-ignore: decorator
  @inline get tos(): u32 { return <u32>load<u8>(changetype<usize>(this), 1); }
  // @ts-ignore: decorator
  @inline get totalLen(): u32 { return be16(changetype<usize>(this) + 2); }
  // @ts-ignore: decorator
  @inline get ident(): u32 { return be16(changetype<usize>(this) + 4); }
  // @ts-ignore: decorator
  @inline get dontFragment(): bool { return (be16(changetype<usize>(this) + 6) & FLAG_DF) != 0; }
  // @ts-ignore: decorator
  @inline get moreFragments(): bool { return (be16(changetype<usize>(this) + 6) & FLAG_MF) != 0; }
  /** Fragment offset in bytes. */
  // @ts-ignore: decorator
  @inline get fragOffset(): u32 { return (be16(changetype<usize>(this) + 6) & OFFSET_MASK) << 3; }
  // @ts-ignore: decorator
  @inline get ttl(): u32 { return <u32>load<u8>(changetype<usize>(this), 8); }
  // @ts-ignore: decorator
  @inline get protocol(): u32 { return <u32>load<u8>(changetype<usize>(this), 9); }
  // @ts-ignore: decorator
  @inline get checksumField(): u32 { return be16(changetype<usize>(this) + 10); }
  // @ts-ignore: decorator
  @inline get src(): u32 { return be32(changetype<usize>(this) + 12); }
  // @ts-ignore: decorator
  @inline get dst(): u32 { return be32(changetype<usize>(this) + 16); }
  // @ts-ignore: decorator
  @inline get payload(): usize { return changetype<usize>(this) + this.headerLen; }
  // @ts-ignore: decorator
  @inline get payloadLen(): u32 { return this.totalLen - this.headerLen; }

  verifyChecksum(): bool {
    return checksumValid(changetype<usize>(this), this.headerLen, 0);
  }

  // @ts-ignore: decorator
  @inline set totalLen(v: u32) { setBe16(changetype<usize>(this) + 2, v); }
  // @ts-ignore: decorator
  @inline set ttl(v: u32) { store<u8>(changetype<usize>(this), <u8>v, 8); }
  // @ts-ignore: decorator
  @inline set src(v: u32) { setBe32(changetype<usize>(this) + 12, v); }
  // @ts-ignore: decorator
  @inline set dst(v: u32) { setBe32(changetype<usize>(this) + 16, v); }

  /** Sets flags and offset (bytes, a multiple of 8). */
  setFragment(df: bool, mf: bool, offset: u32): void {
    setBe16(changetype<usize>(this) + 6, (df ? FLAG_DF : 0) | (mf ? FLAG_MF : 0) | ((offset >> 3) & OFFSET_MASK));
  }

  fillChecksum(): void {
    let p = changetype<usize>(this);
    store<u16>(p, 0, 10);
    store<u16>(p, <u16>checksum(p, this.headerLen), 10);
  }
}

@final @unmanaged
export class Ipv4Repr {
  src: u32;
  dst: u32;
  protocol: u32;
  /** Bytes after the header (total length - header length). */
  payloadLen: u32;
  headerLen: u32;
  ttl: u32;
  tos: u32;
  ident: u32;
  dontFragment: bool;
  moreFragments: bool;
  /** Bytes. */
  fragOffset: u32;

  /** Fills the representation; -EBADMSG on a bad header checksum unless `checksumTrusted`. */
  parse(packet: Ipv4Packet, checksumTrusted: bool): i32 {
    if (!checksumTrusted && !packet.verifyChecksum()) return -EBADMSG;
    this.src = packet.src;
    this.dst = packet.dst;
    this.protocol = packet.protocol;
    this.headerLen = packet.headerLen;
    this.payloadLen = packet.payloadLen;
    this.ttl = packet.ttl;
    this.tos = packet.tos;
    this.ident = packet.ident;
    this.dontFragment = packet.dontFragment;
    this.moreFragments = packet.moreFragments;
    this.fragOffset = packet.fragOffset;
    return 0;
  }

  get isFragment(): bool {
    return this.moreFragments || this.fragOffset != 0;
  }

  /** Writes a 20-byte header with its checksum for `payloadLen` bytes of payload. */
  emit(packet: Ipv4Packet): void {
    ipv4EmitHeader(changetype<usize>(packet), this.src, this.dst, this.protocol, this.payloadLen, this.ttl,
      this.ident, this.dontFragment, this.moreFragments, this.fragOffset, this.tos);
  }
}

/** Writes a 20-byte header with checksum at `p`. */
export function ipv4EmitHeader(p: usize, src: u32, dst: u32, protocol: u32, payloadLen: u32, ttl: u32, ident: u32,
  df: bool, mf: bool, fragOffset: u32, tos: u32): void {
  store<u8>(p, 0x45);
  store<u8>(p, <u8>tos, 1);
  setBe16(p + 2, IPV4_HEADER_LEN + payloadLen);
  setBe16(p + 4, ident);
  setBe16(p + 6, (df ? FLAG_DF : 0) | (mf ? FLAG_MF : 0) | ((fragOffset >> 3) & OFFSET_MASK));
  store<u8>(p, <u8>ttl, 8);
  store<u8>(p, <u8>protocol, 9);
  store<u16>(p, 0, 10);
  setBe32(p + 12, src);
  setBe32(p + 16, dst);
  store<u16>(p, <u16>checksum(p, IPV4_HEADER_LEN), 10);
}
