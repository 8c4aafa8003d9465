// DHCP messages (RFC 2131, options RFC 2132) over BOOTP: the fixed 236-byte
// header, the magic cookie and the options a client and QEMU's slirp server
// exchange. DhcpPacket views a message DhcpPacket.check accepted; DhcpRepr is
// the parsed form and emits client (and, for tests, server) messages.
import { EBADMSG } from "../errno";
import { be16, be32, loadMac, setBe16, setBe32, storeMac } from "./bytes";

export const DHCP_SERVER_PORT: u32 = 67;
export const DHCP_CLIENT_PORT: u32 = 68;
export const DHCP_FIXED_LEN: u32 = 236;
export const DHCP_MIN_LEN: u32 = 240;
/** BOOTP's minimum message (RFC 1542): shorter ones are zero-padded. */
export const DHCP_PADDED_LEN: u32 = 300;
/** Largest message DhcpRepr.emit writes. */
export const DHCP_MAX_EMIT: u32 = 340;
const MAGIC: u32 = 0x63825363;

export const BOOTREQUEST: u32 = 1;
export const BOOTREPLY: u32 = 2;

export const DHCPDISCOVER: u32 = 1;
export const DHCPOFFER: u32 = 2;
export const DHCPREQUEST: u32 = 3;
export const DHCPDECLINE: u32 = 4;
export const DHCPACK: u32 = 5;
export const DHCPNAK: u32 = 6;
export const DHCPRELEASE: u32 = 7;

const OPT_PAD: u32 = 0;
const OPT_SUBNET_MASK: u32 = 1;
const OPT_ROUTER: u32 = 3;
const OPT_DNS: u32 = 6;
const OPT_REQUESTED_IP: u32 = 50;
const OPT_LEASE_TIME: u32 = 51;
const OPT_MESSAGE_TYPE: u32 = 53;
const OPT_SERVER_ID: u32 = 54;
const OPT_PARAM_REQUEST: u32 = 55;
const OPT_MAX_SIZE: u32 = 57;
const OPT_RENEWAL_TIME: u32 = 58;
const OPT_REBINDING_TIME: u32 = 59;
const OPT_CLIENT_ID: u32 = 61;
const OPT_END: u32 = 255;

const FLAG_BROADCAST: u32 = 0x8000;

@final @unmanaged
export class DhcpPacket {
  static check(p: usize, len: u32): i32 {
    if (len < DHCP_MIN_LEN) return -EBADMSG;
    return be32(p + DHCP_FIXED_LEN) == MAGIC ? 0 : -EBADMSG;
  }

  // @ts-ignore: decorator
  @inline static at(p: usize): DhcpPacket { return changetype<DhcpPacket>(p); }

  // @ts-ignore: decorator
  @inline get op(): u32 { return <u32>load<u8>(changetype<usize>(this)); }
  // @ts-ignore: decorator
  @inline get htype(): u32 { return <u32>load<u8>(changetype<usize>(this), 1); }
  // @ts-ignore: decorator
  @inline get hlen(): u32 { return <u32>load<u8>(changetype<usize>(this), 2); }
  // @ts-ignore: decorator
  @inline get xid(): u32 { return be32(changetype<usize>(this) + 4); }
  // @ts-ignore: decorator
  @inline get secs(): u32 { return be16(changetype<usize>(this) + 8); }
  // @ts-ignore: decorator
  @inline get flags(): u32 { return be16(changetype<usize>(this) + 10); }
  // @ts-ignore: decorator
  @inline get ciaddr(): u32 { return be32(changetype<usize>(this) + 12); }
  // @ts-ignore: decorator
  @inline get yiaddr(): u32 { return be32(changetype<usize>(this) + 16); }
  // @ts-ignore: decorator
  @inline get siaddr(): u32 { return be32(changetype<usize>(this) + 20); }
  // @ts-ignore: decorator
  @inline get giaddr(): u32 { return be32(changetype<usize>(this) + 24); }
  // @ts-ignore: decorator
  @inline get chaddr(): u64 { return loadMac(changetype<usize>(this) + 28); }
  // @ts-ignore: decorator
  @inline get options(): usize { return changetype<usize>(this) + DHCP_MIN_LEN; }
}

@final @unmanaged
export class DhcpRepr {
  op: u32;
  messageType: u32;
  xid: u32;
  secs: u32;
  broadcast: bool;
  ciaddr: u32;
  yiaddr: u32;
  siaddr: u32;
  giaddr: u32;
  clientMac: u64;
  /** Options; 0 when absent. */
  serverId: u32;
  requestedIp: u32;
  subnetMask: u32;
  router: u32;
  dns0: u32;
  dns1: u32;
  /** Seconds; 0 when absent. */
  leaseTime: u32;
  renewalTime: u32;
  rebindingTime: u32;
  /** Emit: add the parameter request list and client identifier (client messages). */
  clientOptions: bool;

  clear(): void {
    memory.fill(changetype<usize>(this), 0, offsetof<DhcpRepr>());
  }

  /** Parses `len` bytes; -EBADMSG unless an Ethernet DHCP message with sound options and a type. */
  parse(packet: DhcpPacket, len: u32): i32 {
    this.clear();
    if (packet.htype != 1 || packet.hlen != 6) return -EBADMSG;
    let op = packet.op;
    if (op != BOOTREQUEST && op != BOOTREPLY) return -EBADMSG;
    this.op = op;
    this.xid = packet.xid;
    this.secs = packet.secs;
    this.broadcast = (packet.flags & FLAG_BROADCAST) != 0;
    this.ciaddr = packet.ciaddr;
    this.yiaddr = packet.yiaddr;
    this.siaddr = packet.siaddr;
    this.giaddr = packet.giaddr;
    this.clientMac = packet.chaddr;
    let o = packet.options;
    let end = changetype<usize>(packet) + len;
    while (o < end) {
      let code = <u32>load<u8>(o);
      if (code == OPT_END) break;
      if (code == OPT_PAD) {
        o++;
        continue;
      }
      if (o + 2 > end) return -EBADMSG;
      let olen = <u32>load<u8>(o, 1);
      let v = o + 2;
      if (v + olen > end) return -EBADMSG;
      if (code == OPT_MESSAGE_TYPE && olen == 1) this.messageType = <u32>load<u8>(v);
      else if (olen >= 4) {
        let word = be32(v);
        if (code == OPT_SUBNET_MASK) this.subnetMask = word;
        else if (code == OPT_ROUTER) this.router = word;
        else if (code == OPT_DNS) {
          this.dns0 = word;
          if (olen >= 8) this.dns1 = be32(v + 4);
        } else if (code == OPT_REQUESTED_IP) this.requestedIp = word;
        else if (code == OPT_LEASE_TIME) this.leaseTime = word;
        else if (code == OPT_SERVER_ID) this.serverId = word;
        else if (code == OPT_RENEWAL_TIME) this.renewalTime = word;
        else if (code == OPT_REBINDING_TIME) this.rebindingTime = word;
      }
      o = v + olen;
    }
    if (this.messageType < DHCPDISCOVER || this.messageType > DHCPRELEASE) return -EBADMSG;
    return 0;
  }

  /** Writes the message at `p` (DHCP_MAX_EMIT bytes of room); returns its length. */
  emit(p: usize): u32 {
    memory.fill(p, 0, DHCP_MAX_EMIT);
    store<u8>(p, <u8>this.op);
    store<u8>(p, 1, 1);
    store<u8>(p, 6, 2);
    setBe32(p + 4, this.xid);
    setBe16(p + 8, this.secs);
    setBe16(p + 10, this.broadcast ? FLAG_BROADCAST : 0);
    setBe32(p + 12, this.ciaddr);
    setBe32(p + 16, this.yiaddr);
    setBe32(p + 20, this.siaddr);
    setBe32(p + 24, this.giaddr);
    storeMac(p + 28, this.clientMac);
    setBe32(p + DHCP_FIXED_LEN, MAGIC);
    let o = p + DHCP_MIN_LEN;
    store<u8>(o, <u8>OPT_MESSAGE_TYPE);
    store<u8>(o, 1, 1);
    store<u8>(o, <u8>this.messageType, 2);
    o += 3;
    if (this.clientOptions) {
      store<u8>(o, <u8>OPT_CLIENT_ID);
      store<u8>(o, 7, 1);
      store<u8>(o, 1, 2);
      storeMac(o + 3, this.clientMac);
      o += 9;
      store<u8>(o, <u8>OPT_MAX_SIZE);
      store<u8>(o, 2, 1);
      setBe16(o + 2, 576);
      o += 4;
    }
    o = option32(o, OPT_REQUESTED_IP, this.requestedIp);
    o = option32(o, OPT_SERVER_ID, this.serverId);
    o = option32(o, OPT_SUBNET_MASK, this.subnetMask);
    o = option32(o, OPT_ROUTER, this.router);
    if (this.dns0 != 0) {
      store<u8>(o, <u8>OPT_DNS);
      store<u8>(o, this.dns1 != 0 ? 8 : 4, 1);
      setBe32(o + 2, this.dns0);
      o += 6;
      if (this.dns1 != 0) {
        setBe32(o, this.dns1);
        o += 4;
      }
    }
    o = option32(o, OPT_LEASE_TIME, this.leaseTime);
    o = option32(o, OPT_RENEWAL_TIME, this.renewalTime);
    o = option32(o, OPT_REBINDING_TIME, this.rebindingTime);
    if (this.clientOptions) {
      store<u8>(o, <u8>OPT_PARAM_REQUEST);
      store<u8>(o, 6, 1);
      store<u8>(o, <u8>OPT_SUBNET_MASK, 2);
      store<u8>(o, <u8>OPT_ROUTER, 3);
      store<u8>(o, <u8>OPT_DNS, 4);
      store<u8>(o, <u8>OPT_LEASE_TIME, 5);
      store<u8>(o, <u8>OPT_RENEWAL_TIME, 6);
      store<u8>(o, <u8>OPT_REBINDING_TIME, 7);
      o += 8;
    }
    store<u8>(o, <u8>OPT_END);
    o++;
    let len = <u32>(o - p);
    return len < DHCP_PADDED_LEN ? DHCP_PADDED_LEN : len;
  }
}

function option32(o: usize, code: u32, value: u32): usize {
  if (value == 0) return o;
  store<u8>(o, <u8>code);
  store<u8>(o, 4, 1);
  setBe32(o + 2, value);
  return o + 6;
}
