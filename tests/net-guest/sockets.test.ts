// The socket system calls from C programs in the guest (tests/programs/net):
// sockets.c checks loopback TCP/UDP, options and Linux's errno answers
// inside one guest; echo_server.c (blocking TCP with a thread per
// connection, UDP, and a nonblocking TCP server) is driven from the host
// through QEMU user networking with host forwards on 127.0.0.1 (ports
// chosen free per run): 16 MiB with sha256 both ways, 20 concurrent
// clients open at once, datagrams. echo_client.c connects out (nonblocking)
// to an echo server this test runs on the host (10.0.2.2 in the guest). wisp.runfor does not apply (the program runs until
// killed): afterAll kills QEMU.
import net from "node:net";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGuest } from "../../scripts/run/guest.ts";
import { deviceArgs } from "../../scripts/run/devices.ts";
import { qemuArgs } from "../../scripts/run/qemu.ts";
import { type RunningQemu, startQemu } from "../../scripts/run/qemuProcess.ts";
import { buildNetProgram } from "./programs.ts";
import { echo, echoConcurrent, freeTcpPort, freeUdpPort, sha256, udpEchoAll } from "./netClients.ts";

const KERNEL = "build/kernel.elf";

function checkLines(output: string): { ok: string[]; failed: string[] } {
  const lines = output.split("\n");
  return { ok: lines.filter((l) => l.startsWith("ok - ")), failed: lines.filter((l) => l.startsWith("not ok - ")) };
}

describe("socket system calls inside the guest (tests/programs/net/sockets.c)", () => {
  for (const smp of [1, 2]) {
    it(`passes every check with ${smp} CPU${smp > 1 ? "s" : ""}`, async () => {
      const binary = buildNetProgram("sockets");
      const result = await runGuest({
        kernel: KERNEL, machine: "microvm", accel: "tcg", smp, memory: "256M",
        cmdline: "-- WISP=1 /sockets", extraArgs: ["-initrd", binary], timeoutMs: 90_000,
      });
      const { ok, failed } = checkLines(result.output);
      expect(failed, result.output).toEqual([]);
      expect(ok.length).toBeGreaterThanOrEqual(70);
      expect(result.output).toContain("sockets: ");
      expect(result.status).toBe(0);
    }, 120_000);
  }
});

for (const channels of ["on", "off"]) describe(`C echo servers in the guest, clients on the host (hostfwd 127.0.0.1), net channels ${channels}`, () => {
  let guest: RunningQemu | null = null;
  let tcpPort = 0;
  let udpPort = 0;
  let nbPort = 0;

  beforeAll(async () => {
    if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make`);
    const binary = buildNetProgram("echo_server");
    tcpPort = await freeTcpPort();
    nbPort = await freeTcpPort();
    udpPort = await freeUdpPort();
    const args = qemuArgs({
      kernel: KERNEL,
      machine: "microvm",
      accelerator: "tcg",
      memory: "256M",
      smp: 2,
      cmdline: `wisp.netchannels=${channels} wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.2 -- /echo_server 7000 7001 7002`,
      extraArgs: [
        "-initrd", binary,
        ...deviceArgs("microvm", {
          network: "user",
          rng: true,
          hostForwards: [
            { protocol: "tcp", hostPort: tcpPort, guestPort: 7000 },
            { protocol: "udp", hostPort: udpPort, guestPort: 7001 },
            { protocol: "tcp", hostPort: nbPort, guestPort: 7002 },
          ],
        }),
      ],
    });
    guest = startQemu(args);
    await guest.waitFor("echo_server: ready", 60_000);
  }, 90_000);

  afterAll(() => {
    if (process.env.SHOW_GUEST) console.log(guest?.output());
    guest?.kill();
  });

  it("echoes 16 MiB through the blocking server (sha256 both ways)", async () => {
    const data = randomBytes(16 << 20);
    const { back, ms } = await echo(tcpPort, data, 120_000);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    console.log(`C echo server: 16 MiB each way in ${ms.toFixed(0)} ms, ${(data.length / 1e6 / (ms / 1000)).toFixed(2)} MB/s`);
  }, 150_000);

  it("serves 20 concurrent clients (256 KiB each)", async () => {
    const inputs = Array.from({ length: 20 }, () => randomBytes(256 << 10));
    const results = await echoConcurrent(tcpPort, inputs);
    results.forEach((back, i) => expect(sha256(back), `client ${i}`).toBe(sha256(inputs[i])));
  }, 150_000);

  it("echoes datagrams through the UDP server", async () => {
    const payloads = Array.from({ length: 20 }, (_, i) => randomBytes(1 + i * 70));
    expect(await udpEchoAll(udpPort, payloads)).toBe(payloads.length);
  }, 30_000);

  it("echoes through the nonblocking server: 4 MiB, then 5 clients at once", async () => {
    const data = randomBytes(4 << 20);
    const { back } = await echo(nbPort, data, 120_000);
    expect(sha256(back)).toBe(sha256(data));
    const inputs = Array.from({ length: 5 }, () => randomBytes(128 << 10));
    const results = await echoConcurrent(nbPort, inputs);
    results.forEach((back, i) => expect(sha256(back), `client ${i}`).toBe(sha256(inputs[i])));
  }, 150_000);
});

for (const channels of ["on", "off"]) describe(`an outgoing nonblocking connection from the guest, net channels ${channels}`, () => {
  it("connects to the host's echo server and checks 4 MiB echoed back", async () => {
    const binary = buildNetProgram("echo_client");
    const server = net.createServer((socket) => socket.pipe(socket));
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
    try {
      const result = await runGuest({
        kernel: KERNEL, machine: "microvm", accel: "tcg", smp: 2, memory: "256M",
        cmdline: `wisp.netchannels=${channels} wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.2 -- /echo_client 10.0.2.2 ${port} 4194304`,
        devices: { network: "user", rng: true },
        extraArgs: ["-initrd", binary], timeoutMs: 120_000,
      });
      expect(result.output).toMatch(/echo_client: ok 4194304 /);
      expect(result.status).toBe(0);
    } finally {
      server.close();
    }
  }, 150_000);
});
