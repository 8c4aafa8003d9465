// TCP segments (RFC 9293 3.1) with the options the stack speaks: MSS, window
// scale and timestamps (RFC 7323), SACK-permitted and SACK blocks (RFC 2018).
// TcpPacket views a segment whose data offset TcpPacket.check accepted;
// TcpRepr holds the header, the parsed options and where the payload is.
// Options with an illegal length (below 2, past the header) make the segment
// malformed; known options of the wrong size are ignored, like unknown ones.
import { EBADMSG } from "../errno";
import { be16, be32, setBe16, setBe32 } from "./bytes";
import { checksumAdd, checksumFinish, checksumFold, checksumValid, pseudoHeaderSum } from "./checksum";
import { IP_PROTO_TCP } from "./ipv4";
import { optionLength, OPTION_NOP } from "./options";

export const TCP_HEADER_LEN: u32 = 20;
export const TCP_MAX_OPTIONS: u32 = 40;

export const TCP_FIN: u32 = 0x01;
export const TCP_SYN: u32 = 0x02;
export const TCP_RST: u32 = 0x04;
export const TCP_PSH: u32 = 0x08;
export const TCP_ACK: u32 = 0x10;
export const TCP_URG: u32 = 0x20;

const OPT_MSS: u32 = 2;
const OPT_WSCALE: u32 = 3;
const OPT_SACK_PERMITTED: u32 = 4;
const OPT_SACK: u32 = 5;
const OPT_TIMESTAMP: u32 = 8;

/** RFC 7323 2.3: larger shifts are taken as 14. */
export const TCP_MAX_WSCALE: u32 = 14;
/** TcpRepr.wscale when the option is absent. */
export const TCP_NO_WSCALE: u32 = 0xff;
export const TCP_MAX_SACK_BLOCKS: u32 = 4;

@final @unmanaged
export class TcpPacket {
  static check(p: usize, len: u32): i32 {
    if (len < TCP_HEADER_LEN) return -EBADMSG;
    let off = (<u32>load<u8>(p, 12) >> 4) << 2;
    return off >= TCP_HEADER_LEN && off <= len ? 0 : -EBADMSG;
  }

  // @ts-ignore: decorator
  @inline static at(p: usize): TcpPacket { return changetype<TcpPacket>(p); }

  // @ts-ignore: decorator
  @inline get srcPort(): u32 { return be16(changetype<usize>(this)); }
  // @ts-ignore: decorator
  @inline get dstPort(): u32 { return be16(changetype<usize>(this) + 2); }
  // @ts-ignore: decorator
  @inline get seq(): u32 { return be32(changetype<usize>(this) + 4); }
  // @ts-ignore: decorator
  @inline get ack(): u32 { return be32(changetype<usize>(this) + 8); }
  // @ts-ignore: decorator
  @inline get headerLen(): u32 { return (<u32>load<u8>(changetype<usize>(this), 12) >> 4) << 2; }
  // @ts-ignore: decorator
  @inline get flags(): u32 { return <u32>load<u8>(changetype<usize>(this), 13); }
  // @ts-ignore: decorator
  @inline get window(): u32 { return be16(changetype<usize>(this) + 14); }
  // @ts-ignore: decorator
  @inline get checksumField(): u32 { return be16(changetype<usize>(this) + 16); }
  // @ts-ignore: decorator
  @inline get urgent(): u32 { return be16(changetype<usize>(this) + 18); }

  verifyChecksum(src: u32, dst: u32, len: u32): bool {
    return checksumValid(changetype<usize>(this), len, pseudoHeaderSum(src, dst, IP_PROTO_TCP, len));
  }
}

@final @unmanaged
export class TcpRepr {
  srcPort: u32;
  dstPort: u32;
  seq: u32;
  ack: u32;
  flags: u32;
  /** As on the wire (not scaled). */
  window: u32;
  urgent: u32;
  /** Options; mss 0 and wscale TCP_NO_WSCALE when absent. */
  mss: u32;
  wscale: u32;
  sackPermitted: bool;
  tsPresent: bool;
  tsVal: u32;
  tsEcr: u32;
  sackCount: u32;
  sackStart0: u32;
  sackEnd0: u32;
  sackStart1: u32;
  sackEnd1: u32;
  sackStart2: u32;
  sackEnd2: u32;
  sackStart3: u32;
  sackEnd3: u32;
  headerLen: u32;
  payload: usize;
  payloadLen: u32;

  // @ts-ignore: decorator
  @inline sackStart(i: u32): u32 {
    return load<u32>(changetype<usize>(this) + offsetof<TcpRepr>("sackStart0") + (<usize>i << 3));
  }
  // @ts-ignore: decorator
  @inline sackEnd(i: u32): u32 {
    return load<u32>(changetype<usize>(this) + offsetof<TcpRepr>("sackStart0") + (<usize>i << 3) + 4);
  }
  setSack(i: u32, start: u32, end: u32): void {
    let p = changetype<usize>(this) + offsetof<TcpRepr>("sackStart0") + (<usize>i << 3);
    store<u32>(p, start);
    store<u32>(p, end, 4);
  }

  /** Sequence space the segment occupies: payload plus SYN and FIN. */
  get segLen(): u32 {
    return this.payloadLen + ((this.flags & TCP_SYN) != 0 ? 1 : 0) + ((this.flags & TCP_FIN) != 0 ? 1 : 0);
  }

  clearOptions(): void {
    this.mss = 0;
    this.wscale = TCP_NO_WSCALE;
    this.sackPermitted = false;
    this.tsPresent = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
  }

  /** Parses the `len`-byte segment; -EBADMSG on a bad checksum (unless trusted) or malformed options. */
  parse(packet: TcpPacket, len: u32, src: u32, dst: u32, checksumTrusted: bool): i32 {
    if (!checksumTrusted && !packet.verifyChecksum(src, dst, len)) return -EBADMSG;
    let p = changetype<usize>(packet);
    this.srcPort = packet.srcPort;
    this.dstPort = packet.dstPort;
    if (this.srcPort == 0 || this.dstPort == 0) return -EBADMSG;
    this.seq = packet.seq;
    this.ack = packet.ack;
    this.flags = packet.flags;
    this.window = packet.window;
    this.urgent = packet.urgent;
    let hlen = packet.headerLen;
    this.headerLen = hlen;
    this.payload = p + hlen;
    this.payloadLen = len - hlen;
    this.clearOptions();
    let o = p + TCP_HEADER_LEN;
    let end = p + hlen;
    while (o < end) {
      let length = optionLength(o, end);
      if (length < 0) return length;
      if (length == 0) break;
      let kind = <u32>load<u8>(o);
      let olen = <u32>length;
      if (kind == OPT_MSS && olen == 4) {
        this.mss = be16(o + 2);
      } else if (kind == OPT_WSCALE && olen == 3) {
        let shift = <u32>load<u8>(o, 2);
        this.wscale = shift > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : shift;
      } else if (kind == OPT_SACK_PERMITTED && olen == 2) {
        this.sackPermitted = true;
      } else if (kind == OPT_TIMESTAMP && olen == 10) {
        this.tsPresent = true;
        this.tsVal = be32(o + 2);
        this.tsEcr = be32(o + 6);
      } else if (kind == OPT_SACK && olen >= 10 && ((olen - 2) & 7) == 0) {
        let n = (olen - 2) >> 3;
        if (n > TCP_MAX_SACK_BLOCKS) n = TCP_MAX_SACK_BLOCKS;
        for (let i: u32 = 0; i < n; i++) this.setSack(i, be32(o + 2 + (i << 3)), be32(o + 6 + (i << 3)));
        this.sackCount = n;
      }
      o += olen;
    }
    return 0;
  }

  /** Bytes of options emit() writes (a multiple of 4). */
  optionsLen(): u32 {
    let n: u32 = 0;
    if ((this.flags & TCP_SYN) != 0) {
      if (this.mss != 0) n += 4;
      if (this.sackPermitted || this.tsPresent) n += this.tsPresent ? 12 : 4;
      if (this.wscale != TCP_NO_WSCALE) n += 4;
    } else {
      if (this.tsPresent) n += 12;
      if (this.sackCount != 0) n += 4 + (this.sackCount << 3);
    }
    return n;
  }

  /** Writes header and options at `p` (payload follows at p + the returned header length). */
  emit(p: usize): u32 {
    let hlen = TCP_HEADER_LEN + this.optionsLen();
    setBe16(p, this.srcPort);
    setBe16(p + 2, this.dstPort);
    setBe32(p + 4, this.seq);
    setBe32(p + 8, this.ack);
    store<u8>(p, <u8>((hlen >> 2) << 4), 12);
    store<u8>(p, <u8>this.flags, 13);
    setBe16(p + 14, this.window);
    store<u16>(p, 0, 16);
    setBe16(p + 18, this.urgent);
    let o = p + TCP_HEADER_LEN;
    if ((this.flags & TCP_SYN) != 0) {
      if (this.mss != 0) {
        store<u8>(o, <u8>OPT_MSS);
        store<u8>(o, 4, 1);
        setBe16(o + 2, this.mss);
        o += 4;
      }
      if (this.tsPresent) {
        if (this.sackPermitted) {
          store<u8>(o, <u8>OPT_SACK_PERMITTED);
          store<u8>(o, 2, 1);
        } else {
          store<u8>(o, <u8>OPTION_NOP);
          store<u8>(o, <u8>OPTION_NOP, 1);
        }
        o = emitTimestamp(o + 2, this.tsVal, this.tsEcr);
      } else if (this.sackPermitted) {
        store<u8>(o, <u8>OPTION_NOP);
        store<u8>(o, <u8>OPTION_NOP, 1);
        store<u8>(o, <u8>OPT_SACK_PERMITTED, 2);
        store<u8>(o, 2, 3);
        o += 4;
      }
      if (this.wscale != TCP_NO_WSCALE) {
        store<u8>(o, <u8>OPTION_NOP);
        store<u8>(o, <u8>OPT_WSCALE, 1);
        store<u8>(o, 3, 2);
        store<u8>(o, <u8>this.wscale, 3);
        o += 4;
      }
    } else {
      if (this.tsPresent) {
        store<u8>(o, <u8>OPTION_NOP);
        store<u8>(o, <u8>OPTION_NOP, 1);
        o = emitTimestamp(o + 2, this.tsVal, this.tsEcr);
      }
      let n = this.sackCount;
      if (n != 0) {
        store<u8>(o, <u8>OPTION_NOP);
        store<u8>(o, <u8>OPTION_NOP, 1);
        store<u8>(o, <u8>OPT_SACK, 2);
        store<u8>(o, <u8>(2 + (n << 3)), 3);
        o += 4;
        for (let i: u32 = 0; i < n; i++) {
          setBe32(o, this.sackStart(i));
          setBe32(o + 4, this.sackEnd(i));
          o += 8;
        }
      }
    }
    return hlen;
  }
}

function emitTimestamp(o: usize, val: u32, ecr: u32): usize {
  store<u8>(o, <u8>OPT_TIMESTAMP);
  store<u8>(o, 10, 1);
  setBe32(o + 2, val);
  setBe32(o + 6, ecr);
  return o + 10;
}

/**
 * Fills the checksum of the `len`-byte segment at `p` (header and payload in
 * place). With `offload`, writes the pseudo-header sum for the device.
 */
export function tcpFillChecksum(p: usize, len: u32, src: u32, dst: u32, offload: bool): void {
  let pseudo = pseudoHeaderSum(src, dst, IP_PROTO_TCP, len);
  store<u16>(p, 0, 16);
  if (offload) store<u16>(p, <u16>checksumFold(pseudo), 16);
  else store<u16>(p, <u16>checksumFinish(checksumAdd(pseudo, p, len)), 16);
}
