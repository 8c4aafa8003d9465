// A processing context: the transmit buffer frames are built in and the
// parsed representations of the packet being received. Processing never
// allocates: everything it needs is here. The stack owns one context for
// poll and input; in phase 2 each thread that processes a net channel
// (TCP segments of its own connections) brings its own, so contexts are
// never shared between CPUs.
import { netAlloc, netFree } from "./mem";
import { ArpRepr } from "./wire/arp";
import { DhcpRepr } from "./wire/dhcp";
import { ETH_MAX_FRAME, EthernetRepr } from "./wire/ethernet";
import { IcmpRepr } from "./wire/icmp";
import { Ipv4Repr } from "./wire/ipv4";
import { TcpRepr } from "./wire/tcp";
import { UdpRepr } from "./wire/udp";

/** Transmit buffer: the largest frame plus room to save bytes while fragmenting. */
export const TX_BUFFER_BYTES: u32 = ETH_MAX_FRAME + 64;

@final @unmanaged
export class NetCtx {
  txBuf: usize;
  eth: EthernetRepr;
  arp: ArpRepr;
  ip: Ipv4Repr;
  icmp: IcmpRepr;
  udp: UdpRepr;
  tcp: TcpRepr;
  dhcp: DhcpRepr;
  /** Segments being sent (input processing sends while `tcp` holds the segment received). */
  out: TcpRepr;
  /** The packet being received: interface, device flags, IPv4 header. */
  iface: usize;
  rxFlags: u32;
  checksumTrusted: bool;
  ipPacket: usize;
  /** ipRoute's answer: interface, next hop, source address. */
  routeIface: usize;
  nextHop: u32;
  routeSrc: u32;
}

function alloc<T>(): T {
  return changetype<T>(netAlloc(offsetof<T>()));
}

export function ctxCreate(): NetCtx | null {
  let c = alloc<NetCtx>();
  if (changetype<usize>(c) == 0) return null;
  c.txBuf = netAlloc(TX_BUFFER_BYTES);
  c.eth = alloc<EthernetRepr>();
  c.arp = alloc<ArpRepr>();
  c.ip = alloc<Ipv4Repr>();
  c.icmp = alloc<IcmpRepr>();
  c.udp = alloc<UdpRepr>();
  c.tcp = alloc<TcpRepr>();
  c.dhcp = alloc<DhcpRepr>();
  c.out = alloc<TcpRepr>();
  if (c.txBuf == 0 || changetype<usize>(c.eth) == 0 || changetype<usize>(c.arp) == 0 ||
      changetype<usize>(c.ip) == 0 || changetype<usize>(c.icmp) == 0 || changetype<usize>(c.udp) == 0 ||
      changetype<usize>(c.tcp) == 0 || changetype<usize>(c.dhcp) == 0 || changetype<usize>(c.out) == 0) {
    ctxDestroy(c);
    return null;
  }
  return c;
}

export function ctxDestroy(c: NetCtx): void {
  netFree(c.txBuf);
  netFree(changetype<usize>(c.eth));
  netFree(changetype<usize>(c.arp));
  netFree(changetype<usize>(c.ip));
  netFree(changetype<usize>(c.icmp));
  netFree(changetype<usize>(c.udp));
  netFree(changetype<usize>(c.tcp));
  netFree(changetype<usize>(c.dhcp));
  netFree(changetype<usize>(c.out));
  netFree(changetype<usize>(c));
}
