// Ethernet II frames (IEEE 802.3 with an EtherType; no FCS, no VLAN tags).
// EthernetFrame is a typed view: the object pointer is the frame's first
// byte, valid once EthernetFrame.check accepted its length.
import { EBADMSG } from "../errno";
import { be16, loadMac, setBe16, storeMac } from "./bytes";

export const ETH_HEADER_LEN: u32 = 14;
/** Largest frame the stack builds or accepts: 14 + a 65535-byte IPv4 packet. */
export const ETH_MAX_FRAME: u32 = ETH_HEADER_LEN + 65535;
export const ETHERTYPE_IPV4: u32 = 0x0800;
export const ETHERTYPE_ARP: u32 = 0x0806;

@final @unmanaged
export class EthernetFrame {
  /** 0 if `len` bytes can hold an Ethernet II header, else -EBADMSG. */
  static check(p: usize, len: u32): i32 {
    return p != 0 && len >= ETH_HEADER_LEN ? 0 : -EBADMSG;
  }

  // @ts-ignore: decorator
  @inline static at(p: usize): EthernetFrame {
    return changetype<EthernetFrame>(p);
  }

  // @ts-ignore: decorator
  @inline get dst(): u64 { return loadMac(changetype<usize>(this)); }
  // @ts-ignore: decorator
  @inline set dst(v: u64) { storeMac(changetype<usize>(this), v); }
  // @ts-ignore: decorator
  @inline get src(): u64 { return loadMac(changetype<usize>(this) + 6); }
  // @ts-ignore: decorator
  @inline set src(v: u64) { storeMac(changetype<usize>(this) + 6, v); }
  // @ts-ignore: decorator
  @inline get ethertype(): u32 { return be16(changetype<usize>(this) + 12); }
  // @ts-ignore: decorator
  @inline set ethertype(v: u32) { setBe16(changetype<usize>(this) + 12, v); }
  // @ts-ignore: decorator
  @inline get payload(): usize { return changetype<usize>(this) + ETH_HEADER_LEN; }
}

/** The parsed header. */
@final @unmanaged
export class EthernetRepr {
  dst: u64;
  src: u64;
  ethertype: u32;

  parse(frame: EthernetFrame): void {
    this.dst = frame.dst;
    this.src = frame.src;
    this.ethertype = frame.ethertype;
  }

  /** Writes the 14-byte header. */
  emit(frame: EthernetFrame): void {
    frame.dst = this.dst;
    frame.src = this.src;
    frame.ethertype = this.ethertype;
  }
}

/** Writes a header in one call (the output path's shortcut). */
export function ethernetEmit(p: usize, dst: u64, src: u64, ethertype: u32): void {
  storeMac(p, dst);
  storeMac(p + 6, src);
  setBe16(p + 12, ethertype);
}
