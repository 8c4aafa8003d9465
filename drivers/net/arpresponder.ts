// A minimal ARP responder on a NetDevice, until the network stack (net/)
// takes over the receive callback: answers "who has <our IP>" and records
// the replies it sees, so a self-test can resolve the gateway. The address
// comes from wisp.ip (default 10.0.2.15, QEMU user networking's guest).
import { BootInfo } from "../../kernel/bootinfo";
import { Options } from "../../kernel/options";
import { NetDevice, netdevMacAddress, netdevSend, netdevSetReceive } from "../netdev";
import {
  arpBuildReply, arpBuildRequest, arpParse, arpSenderIp, arpSenderMac, arpTargetIp, ARP_FRAME_BYTES, ARP_REPLY,
  ARP_REQUEST, parseIpv4,
} from "./arp";

export const DEFAULT_IP: u32 = 0x0a00020f; // 10.0.2.15
export const DEFAULT_GATEWAY: u32 = 0x0a000202; // 10.0.2.2

// One frame buffer for replies (receive thread) and one for requests (callers).
const replyFrame = memory.data(<i32>ARP_FRAME_BYTES, 8);
const requestFrame = memory.data(<i32>ARP_FRAME_BYTES, 8);
const lastMac = memory.data(8, 8);
const lastRequesterMac = memory.data(8, 8);

export class Arp {
  static ip: u32 = DEFAULT_IP;
  static requestsAnswered: u32 = 0;
  static repliesSeen: u32 = 0;
  static lastReplyIp: u32 = 0;
  static lastRequesterIp: u32 = 0;
}

/** An IPv4 option (wisp.ip=a.b.c.d), or `fallback`. */
export function ipOption(key: string, fallback: u32): u32 {
  let found = Options.find(key);
  if (found < 0) return fallback;
  let parsed = parseIpv4(BootInfo.cmdline, <u32>(found >>> 32), <u32>(found & 0xffffffff));
  return parsed < 0 ? fallback : <u32>parsed;
}

function onReceive(arg: usize, devAddress: usize, data: usize, length: u32, flags: u32): void {
  let dev = changetype<NetDevice>(devAddress);
  let op = arpParse(data, length);
  if (op == ARP_REQUEST && arpTargetIp(data) == Arp.ip) {
    let n = arpBuildReply(replyFrame, data, netdevMacAddress(dev), Arp.ip);
    if (netdevSend(dev, replyFrame, n) == 0) {
      memory.copy(lastRequesterMac, arpSenderMac(data), 6);
      Arp.lastRequesterIp = arpSenderIp(data);
      Arp.requestsAnswered++;
    }
  } else if (op == ARP_REPLY) {
    // Silent here (this is the receive thread): callers print what they need.
    memory.copy(lastMac, arpSenderMac(data), 6);
    Arp.lastReplyIp = arpSenderIp(data);
    Arp.repliesSeen++;
  }
}

/** Starts answering ARP for wisp.ip on `dev`. */
export function arpResponderStart(dev: NetDevice): void {
  Arp.ip = ipOption("wisp.ip", DEFAULT_IP);
  netdevSetReceive(dev, onReceive, 0);
}

/** Broadcasts "who has `target`"; 0 or -errno. */
export function arpSendRequest(dev: NetDevice, target: u32): i32 {
  let n = arpBuildRequest(requestFrame, netdevMacAddress(dev), Arp.ip, target);
  return netdevSend(dev, requestFrame, n);
}

/** MAC bytes of the host whose request was answered last. */
export function arpLastRequesterMac(): usize {
  return lastRequesterMac;
}

/** MAC bytes of the last ARP reply seen. */
export function arpLastReplyMac(): usize {
  return lastMac;
}
