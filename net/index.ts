// The network stack's public surface, for the kernel (phase 2) and the
// tests: stack lifecycle and driving, interfaces and routes, DHCP, the
// socket API, net-channel entry points, and the devices.
export {
  CONF_ARP_REACHABLE, CONF_ARP_RETRIES, CONF_ARP_RETRY, CONF_DATA_RETRIES, CONF_DELAYED_ACK, CONF_FIN_TIMEOUT,
  CONF_FRAG_BUFFERS, CONF_FRAG_TIMEOUT, CONF_INITIAL_RTO, CONF_KEEPCNT, CONF_KEEPIDLE, CONF_KEEPINTVL,
  CONF_MAX_BUF, CONF_MAX_HALF_OPEN, CONF_MAX_RTO, CONF_MIN_RTO, CONF_MSL, CONF_RCVBUF, CONF_SNDBUF,
  CONF_SYNACK_RETRIES, CONF_SYN_BACKLOG, CONF_SYN_RETRIES, CONF_TCP_FEATURES, CONF_TTL, CONF_UDP_RCVBUF,
  Stack, stackAddInterface, stackConfigure, stackCreate, stackDestroy, stackInput, stackInterface,
  stackNextDeadline, stackPoll, stackStat,
} from "./stack";
export { NetCtx, ctxCreate, ctxDestroy } from "./ctx";
export { IF_LOOPBACK, Interface, ifaceArpLookup, ifaceSetAddress } from "./iface/interface";
export { routeAdd, routeDelete } from "./iface/route";
export { dhcpStart, dhcpState } from "./iface/dhcp";
export {
  sockAccept, sockBind, sockClose, sockConnect, sockCount, sockGetOption, sockListen, sockLocalName, sockOpen,
  sockPeerName, sockPoll, sockReadable, sockRecv, sockRecvFrom, sockSend, sockSendTo, sockSetOption, sockSetWake,
  sockShutdown, sockState, sockUnsent,
} from "./socket/api";
export { tcpChannelInput, tcpClassify } from "./socket/tcp";
export {
  DEV_NOARP, DEV_RX_CHECKSUM, DEV_RX_CHECKSUM_PARTIAL, DEV_RX_CHECKSUM_VALID, DEV_TX_CHECKSUM, Device, NEVER,
  deviceInit,
} from "./phy/device";
export { LOOPBACK_MTU, LOOPBACK_QUEUE_BYTES, loopbackCreate, loopbackDestroy } from "./phy/loopback";
export { PcapWriter, pcapClear, pcapCreate, pcapDestroy, pcapDeviceCreate, pcapDeviceDestroy } from "./phy/pcap";
