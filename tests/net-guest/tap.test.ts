// The kernel's stack on a tap device in a network namespace this test
// creates (root, ip, ping and curl needed; skipped otherwise): the
// namespace's tap0 is 10.0.2.2/24, the guest is configured statically
// (wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.2). ping the guest, curl its HTTP
// responder. All traffic stays inside the namespace.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceArgs } from "../../scripts/run/devices.ts";
import { qemuArgs } from "../../scripts/run/qemu.ts";

const KERNEL = "build/kernel.elf";

function have(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const usable = process.getuid?.() === 0 && have("ip") && have("ping") && have("curl");
const namespace = `wisp-ng-${process.pid}`;
let namespaceCreated = false;
let qemu: ChildProcess | null = null;
let output = "";

function inNamespace(command: string, args: string[], timeout = 30_000): string {
  return execFileSync("ip", ["netns", "exec", namespace, command, ...args], { encoding: "utf8", timeout });
}

describe.skipIf(!usable)("the stack on a tap in a test namespace", () => {
  beforeAll(async () => {
    if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
    execFileSync("ip", ["netns", "add", namespace], { stdio: "pipe" });
    namespaceCreated = true;
    inNamespace("ip", ["link", "set", "lo", "up"]);
    inNamespace("ip", ["tuntap", "add", "dev", "tap0", "mode", "tap"]);
    inNamespace("ip", ["addr", "add", "10.0.2.2/24", "dev", "tap0"]);
    inNamespace("ip", ["link", "set", "tap0", "up"]);
    mkdirSync("build/test-net", { recursive: true });
    const wrapper = `build/test-net/qemu-${namespace}.sh`;
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${namespace} qemu-system-x86_64 "$@"\n`);
    chmodSync(wrapper, 0o755);
    const args = qemuArgs({
      kernel: KERNEL,
      machine: "microvm",
      accelerator: "tcg",
      memory: "256M",
      smp: 1,
      cmdline: "wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.2 wisp.echo=7 wisp.http=80 wisp.runfor=60",
      extraArgs: deviceArgs("microvm", { network: "tap", tapInterface: "tap0", rng: true }),
    });
    qemu = spawn(wrapper, args, { stdio: ["ignore", "pipe", "pipe"] });
    qemu.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
    qemu.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
    const deadline = Date.now() + 30_000;
    while (!output.includes("net: running")) {
      if (Date.now() > deadline || qemu.exitCode !== null) throw new Error(`the guest did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(() => {
    if (qemu !== null && qemu.exitCode === null) qemu.kill("SIGKILL");
    if (namespaceCreated) execFileSync("ip", ["netns", "del", namespace], { stdio: "pipe" });
  });

  it("is configured statically", () => {
    expect(output).toContain("net: 10.0.2.15 mask 255.255.255.0 gateway 10.0.2.2");
  });

  it("answers ping", () => {
    // The first echo waits for ARP both ways; on a loaded host that can take
    // a while, so wait (bounded) for one reply before counting three.
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        inNamespace("ping", ["-c", "1", "-W", "2", "10.0.2.15"]);
        break;
      } catch {
        // not yet
      }
    }
    let text = "";
    try {
      text = inNamespace("ping", ["-c", "3", "-i", "0.2", "-W", "5", "10.0.2.15"]);
    } catch (error) {
      text = `${(error as { stdout?: string }).stdout ?? ""}\nguest console:\n${output}`;
    }
    expect(text).toMatch(/3 packets transmitted, 3 received/);
  });

  it("answers curl through the tap", () => {
    const text = inNamespace("curl", ["-sS", "-m", "10", "-i", "http://10.0.2.15/"]);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text.endsWith("\r\n\r\nHello from Wisp\n")).toBe(true);
  });
});
