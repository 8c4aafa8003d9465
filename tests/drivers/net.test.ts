// virtio-net end to end. QEMU user networking: the guest (wisp.test=net)
// broadcasts an ARP request for the gateway 10.0.2.2 and must receive
// slirp's reply. A tap device in a network namespace this test creates:
// the namespace's tap0 is 10.0.2.2/24, the guest resolves it, and arping
// from the namespace must get 3 replies from the guest's 10.0.2.15. All
// traffic stays inside the namespace.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceArgs } from "../../scripts/run/devices.ts";
import { runGuest } from "../../scripts/run/guest.ts";
import type { Machine } from "../../scripts/run/qemu.ts";
import { KERNEL } from "./harness.ts";

const SLIRP_GATEWAY_MAC = "52:55:0a:00:02:02";

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
});

function failures(output: string): string[] {
  return output.split("\n").filter((line) => line.includes(": FAIL"));
}

describe.each(["microvm", "q35"] as Machine[])("virtio-net on %s with user networking", (machine) => {
  it("sends an ARP request and receives the gateway's reply", async () => {
    const result = await runGuest({
      kernel: KERNEL,
      machine,
      accel: "tcg",
      memory: "256M",
      cmdline: "wisp.test=net",
      extraArgs: deviceArgs(machine, { network: "user", rng: true }),
      timeoutMs: 60_000,
    });
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toMatch(/virtio-net0 \(.*\): features .*MAC.*VERSION_1/);
    expect(result.output).toMatch(/virtio-net0: MAC 52:54:00:12:34:56, link up, MTU 1500/);
    expect(result.output).toContain(`net: gateway 10.0.2.2 is at ${SLIRP_GATEWAY_MAC}`);
    expect(failures(result.output)).toEqual([]);
    expect(result.status, result.output).toBe(0);
  }, 90_000);
});

function have(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const tapUsable = process.getuid?.() === 0 && have("ip") && have("arping");
const namespace = `wisp-net-${process.pid}`;
let namespaceCreated = false;

function ip(...args: string[]): void {
  execFileSync("ip", ["netns", "exec", namespace, "ip", ...args], { stdio: "pipe" });
}

describe.skipIf(!tapUsable)("virtio-net on a tap device in a network namespace", () => {
  beforeAll(() => {
    execFileSync("ip", ["netns", "add", namespace], { stdio: "pipe" });
    namespaceCreated = true;
    ip("link", "set", "lo", "up");
    ip("tuntap", "add", "dev", "tap0", "mode", "tap");
    ip("addr", "add", "10.0.2.2/24", "dev", "tap0");
    ip("link", "set", "tap0", "up");
  });

  afterAll(() => {
    if (namespaceCreated) execFileSync("ip", ["netns", "del", namespace], { stdio: "pipe" });
  });

  it.each(["microvm", "q35"] as Machine[])("on %s: the guest answers arping and resolves the namespace's address", async (machine) => {
    // QEMU must open tap0 inside the namespace: run it through `ip netns exec`.
    mkdirSync("build/test-net", { recursive: true });
    const wrapper = `build/test-net/qemu-${namespace}.sh`;
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${namespace} qemu-system-x86_64 "$@"\n`);
    chmodSync(wrapper, 0o755);
    const guest = runGuest({
      kernel: KERNEL,
      machine,
      accel: "tcg",
      memory: "256M",
      cmdline: "wisp.test=net wisp.arpserve=40",
      extraArgs: deviceArgs(machine, { network: "tap", tapInterface: "tap0" }),
      timeoutMs: 80_000,
      qemuBinary: wrapper,
    });
    // The guest is ready once it has asked for 10.0.2.2: the namespace's
    // kernel then holds a neighbour entry for 10.0.2.15.
    const readyBy = Date.now() + 60_000;
    while (Date.now() < readyBy) {
      const neighbours = execFileSync("ip", ["netns", "exec", namespace, "ip", "neigh", "show", "10.0.2.15"], { encoding: "utf8" });
      if (neighbours.includes("lladdr")) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    let arping = "";
    let arpingOk = true;
    try {
      arping = execFileSync("ip", ["netns", "exec", namespace, "arping", "-c", "3", "-w", "10", "-I", "tap0", "10.0.2.15"], {
        encoding: "utf8",
        timeout: 60_000,
      });
    } catch (error) {
      arpingOk = false;
      arping = String((error as { stdout?: string }).stdout ?? error);
    }
    const result = await guest;
    expect(arpingOk, `${arping}\n${result.output}`).toBe(true);
    expect(arping).toMatch(/Unicast reply from 10\.0\.2\.15 \[52:54:00:12:34:56\]/i);
    expect(arping).toMatch(/Received [3-9] response/);
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toContain("selftest: net: gateway answered ARP: ok");
    expect(result.output).toContain("selftest: net: answered 3 ARP requests: ok");
    expect(failures(result.output)).toEqual([]);
    expect(result.status, result.output).toBe(0);
  }, 120_000);
});
