// QEMU arguments for the guest's devices: a raw data disk (virtio-blk), user
// or tap networking (virtio-net) and an entropy source (virtio-rng). microvm
// gets the virtio-mmio forms (virtio-*-device), q35 and pc the PCI forms
// (virtio-*-pci, QEMU's transitional devices, of which Wisp drives the
// modern interface).
import type { Machine } from "./qemu.ts";

export interface HostForward {
  protocol: "tcp" | "udp";
  hostPort: number;
  guestPort: number;
  /** Host address to listen on (default 127.0.0.1: nothing beyond this machine). */
  hostAddress?: string;
}

export interface DeviceOptions {
  /** A raw image to attach as the data disk (virtio-blk). */
  dataDisk?: string;
  /** Attach the data disk read-only. */
  dataDiskReadOnly?: boolean;
  /** "user" (QEMU's slirp; the guest is 10.0.2.15, the gateway 10.0.2.2), "tap", or "none". */
  network?: "user" | "tap" | "none";
  /** Host forwards for user networking. */
  hostForwards?: HostForward[];
  /** The tap interface for tap networking (it must exist; QEMU runs no scripts). */
  tapInterface?: string;
  /** The guest's MAC address (QEMU's default 52:54:00:12:34:56 otherwise). */
  mac?: string;
  /** A virtio-rng device (feeds the guest's entropy pool). */
  rng?: boolean;
}

/** "device" (virtio-mmio) on microvm, "pci" elsewhere. */
export function virtioSuffix(machine: Machine): "device" | "pci" {
  return machine === "microvm" ? "device" : "pci";
}

/**
 * QEMU 7 makes virtio-mmio devices legacy (version 1) unless told otherwise;
 * Wisp drives version 2 only. Nothing for PCI machines.
 */
export function virtioMmioModernArgs(machine: Machine): string[] {
  return machine === "microvm" ? ["-global", "virtio-mmio.force-legacy=false"] : [];
}

export function dataDiskArgs(machine: Machine, path: string, readOnly = false, id = "data0"): string[] {
  if (/[,=]/.test(id) || path.includes(",")) throw new Error(`data disk path or id must not contain commas: ${path}`);
  const readOnlyFlag = readOnly ? ",read-only=on" : "";
  return [
    "-drive", `file=${path},format=raw,if=none,id=${id},cache=unsafe${readOnlyFlag}`,
    "-device", `virtio-blk-${virtioSuffix(machine)},drive=${id}`,
  ];
}

function netDevice(machine: Machine, id: string, mac?: string): string[] {
  if (mac !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new Error(`bad MAC address: ${mac}`);
  return ["-device", `virtio-net-${virtioSuffix(machine)},netdev=${id}${mac !== undefined ? `,mac=${mac}` : ""}`];
}

export function hostForwardOption(forward: HostForward): string {
  for (const port of [forward.hostPort, forward.guestPort]) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port in host forward: ${port}`);
  }
  return `hostfwd=${forward.protocol}:${forward.hostAddress ?? "127.0.0.1"}:${forward.hostPort}-:${forward.guestPort}`;
}

/** User networking (slirp): guest 10.0.2.15, gateway 10.0.2.2, with host forwards. */
export function userNetArgs(machine: Machine, forwards: HostForward[] = [], mac?: string, id = "net0"): string[] {
  const options = ["user", `id=${id}`, ...forwards.map(hostForwardOption)];
  return ["-netdev", options.join(","), ...netDevice(machine, id, mac)];
}

/** Networking through an existing tap interface (create it with `ip tuntap add <name> mode tap`). */
export function tapNetArgs(machine: Machine, ifname: string, mac?: string, id = "net0"): string[] {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw new Error(`bad tap interface name: ${ifname}`);
  return ["-netdev", `tap,id=${id},ifname=${ifname},script=no,downscript=no`, ...netDevice(machine, id, mac)];
}

export function rngArgs(machine: Machine, id = "rng0"): string[] {
  return ["-object", `rng-random,id=${id},filename=/dev/urandom`, "-device", `virtio-rng-${virtioSuffix(machine)},rng=${id}`];
}

/** Every device argument for `options` on `machine`. */
export function deviceArgs(machine: Machine, options: DeviceOptions): string[] {
  const args: string[] = [];
  const network = options.network ?? "none";
  const any = options.dataDisk !== undefined || network !== "none" || options.rng === true;
  if (any) args.push(...virtioMmioModernArgs(machine));
  if (options.rng) args.push(...rngArgs(machine));
  if (network === "user") args.push(...userNetArgs(machine, options.hostForwards ?? [], options.mac));
  if (network === "tap") {
    if (options.tapInterface === undefined) throw new Error("tap networking needs a tap interface name");
    args.push(...tapNetArgs(machine, options.tapInterface, options.mac));
  }
  if (options.dataDisk !== undefined) args.push(...dataDiskArgs(machine, options.dataDisk, options.dataDiskReadOnly ?? false));
  return args;
}
