// The network the network benchmarks use, and nothing else:
//  - tap (default): a network namespace of our own, "wisp-bench-<pid>", with
//    a tap device (host end 10.0.2.1/24) that QEMU opens. QEMU and the
//    clients run inside it (ip netns exec), so no load ever leaves it; the
//    namespace and its tap go away when the harness ends.
//  - user: QEMU's user networking with host forwards on 127.0.0.1 (no root
//    needed; slirp caps throughput, so its figures are not comparable to tap's).
// The guest is 10.0.2.15/24 with a fixed MAC either way, and its NIC is the
// one scripts/run/devices.ts gives Wisp guests (virtio-net-device, modern
// virtio-mmio), so that both systems will face the same device.
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { ECHO_PORT } from "../linux-guest/echoGuest.ts";
import { GUEST_ADDRESS, GUEST_MAC, IPERF_PORT, RR_PORT } from "../linux-guest/netGuest.ts";
import { deviceArgs, type DeviceOptions } from "../run/devices.ts";

export type NetMode = "tap" | "user";

export interface BenchNet {
  mode: NetMode;
  /** Address and ports the host-side clients connect to. */
  host: string;
  iperfPort: number;
  rrPort: number;
  /** The guest's echo server (Linux's tcp_echo, Wisp's wisp.echo). */
  echoPort: number;
  /** The guest's default gateway: the tap's host end or slirp's. */
  gateway: string;
  /** QEMU arguments for the guest's NIC. */
  qemuArgs: string[];
  /** A command to run where the guest is reachable (inside the namespace for tap). */
  wrap(command: string, args: string[]): [string, string[]];
  close(): void;
}

export const TAP_HOST_ADDRESS = "10.0.2.1";

function ip(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.error) throw new Error(`cannot run ip: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** The NIC exactly as runGuest({ devices }) gives a Wisp guest on microvm (scripts/run/devices.ts). */
function nicArgs(options: DeviceOptions): string[] {
  return deviceArgs("microvm", { ...options, mac: GUEST_MAC });
}

export function createTapNet(name = `wisp-bench-${process.pid}`): BenchNet {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error("a network namespace with a tap device needs root (or use --net user)");
  }
  ip(["netns", "add", name]);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    process.removeListener("exit", close);
    spawnSync("ip", ["netns", "delete", name]);
  };
  // Whatever happens to the harness, the namespace goes with it.
  process.on("exit", close);
  try {
    ip(["-n", name, "link", "set", "lo", "up"]);
    ip(["-n", name, "tuntap", "add", "dev", "tap0", "mode", "tap"]);
    ip(["-n", name, "addr", "add", `${TAP_HOST_ADDRESS}/24`, "dev", "tap0"]);
    ip(["-n", name, "link", "set", "tap0", "up"]);
    // The guest's MAC is fixed: no ARP round before the first SYN, so the
    // first-reply probe sees the guest the moment its server listens.
    ip(["-n", name, "neigh", "add", GUEST_ADDRESS, "lladdr", GUEST_MAC, "dev", "tap0", "nud", "permanent"]);
  } catch (error) {
    close();
    throw error;
  }
  return {
    mode: "tap",
    host: GUEST_ADDRESS,
    iperfPort: IPERF_PORT,
    rrPort: RR_PORT,
    echoPort: ECHO_PORT,
    gateway: TAP_HOST_ADDRESS,
    qemuArgs: nicArgs({ network: "tap", tapInterface: "tap0" }),
    wrap: (command, args) => ["ip", ["netns", "exec", name, command, ...args]],
    close,
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function createUserNet(): Promise<BenchNet> {
  const iperfPort = await freeLoopbackPort();
  let rrPort = await freeLoopbackPort();
  while (rrPort === iperfPort) rrPort = await freeLoopbackPort();
  let echoPort = await freeLoopbackPort();
  while (echoPort === iperfPort || echoPort === rrPort) echoPort = await freeLoopbackPort();
  return {
    mode: "user",
    host: "127.0.0.1",
    iperfPort,
    rrPort,
    echoPort,
    gateway: "10.0.2.2",
    qemuArgs: nicArgs({
      network: "user",
      hostForwards: [
        { protocol: "tcp", hostPort: iperfPort, guestPort: IPERF_PORT },
        { protocol: "tcp", hostPort: rrPort, guestPort: RR_PORT },
        { protocol: "tcp", hostPort: echoPort, guestPort: ECHO_PORT },
      ],
    }),
    wrap: (command, args) => [command, args],
    close: () => {},
  };
}

export function createBenchNet(mode: NetMode): Promise<BenchNet> {
  return mode === "tap" ? Promise.resolve(createTapNet()) : createUserNet();
}
