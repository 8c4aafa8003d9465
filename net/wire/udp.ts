// UDP (RFC 768). UdpPacket views a datagram whose length field UdpPacket.check
// accepted (at least 8, at most the IP payload; bytes after it are ignored).
// A zero checksum means none was computed; one computed as zero goes out as
// 0xffff.
import { EBADMSG } from "../errno";
import { be16, setBe16 } from "./bytes";
import { checksumAdd, checksumFinish, checksumFold, checksumValid, pseudoHeaderSum } from "./checksum";
import { IP_PROTO_UDP } from "./ipv4";

export const UDP_HEADER_LEN: u32 = 8;

@final @unmanaged
export class UdpPacket {
  static check(p: usize, len: u32): i32 {
    if (len < UDP_HEADER_LEN) return -EBADMSG;
    let ulen = be16(p + 4);
    return ulen >= UDP_HEADER_LEN && ulen <= len ? 0 : -EBADMSG;
  }

  // @ts-ignore: decorator
  @inline static at(p: usize): UdpPacket { return changetype<UdpPacket>(p); }

  // @ts-ignore: decorator
  @inline get srcPort(): u32 { return be16(changetype<usize>(this)); }
  // @ts-ignore: decorator
  @inline get dstPort(): u32 { return be16(changetype<usize>(this) + 2); }
  // @ts-ignore: decorator
  @inline get length(): u32 { return be16(changetype<usize>(this) + 4); }
  // @ts-ignore: decorator
  @inline get checksumField(): u32 { return be16(changetype<usize>(this) + 6); }
  // @ts-ignore: decorator
  @inline get payload(): usize { return changetype<usize>(this) + UDP_HEADER_LEN; }

  verifyChecksum(src: u32, dst: u32): bool {
    if (this.checksumField == 0) return true;
    let len = this.length;
    return checksumValid(changetype<usize>(this), len, pseudoHeaderSum(src, dst, IP_PROTO_UDP, len));
  }
}

@final @unmanaged
export class UdpRepr {
  srcPort: u32;
  dstPort: u32;
  payload: usize;
  payloadLen: u32;

  parse(packet: UdpPacket, src: u32, dst: u32, checksumTrusted: bool): i32 {
    if (!checksumTrusted && !packet.verifyChecksum(src, dst)) return -EBADMSG;
    if (packet.dstPort == 0) return -EBADMSG;
    this.srcPort = packet.srcPort;
    this.dstPort = packet.dstPort;
    this.payload = packet.payload;
    this.payloadLen = packet.length - UDP_HEADER_LEN;
    return 0;
  }

  /**
   * Writes the header before the payloadLen bytes already at p + 8. With
   * `offload`, the checksum field gets the pseudo-header sum for the device
   * to complete; `checksum` false leaves it zero.
   */
  emit(p: usize, src: u32, dst: u32, checksum: bool, offload: bool): void {
    let len = UDP_HEADER_LEN + this.payloadLen;
    setBe16(p, this.srcPort);
    setBe16(p + 2, this.dstPort);
    setBe16(p + 4, len);
    store<u16>(p, 0, 6);
    if (!checksum) return;
    let pseudo = pseudoHeaderSum(src, dst, IP_PROTO_UDP, len);
    if (offload) {
      store<u16>(p, <u16>checksumFold(pseudo), 6);
      return;
    }
    let sum = checksumFinish(checksumAdd(pseudo, p, len));
    store<u16>(p, <u16>(sum == 0 ? 0xffff : sum), 6);
  }
}
