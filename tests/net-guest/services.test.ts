// The kernel's built-in services (kernel/net/services.ts) from the host,
// through QEMU user networking with host forwards on 127.0.0.1: curl the
// HTTP responder, 1 MiB through the TCP echo (sha256 both ways), 50
// sequential connections, a UDP echo datagram. One guest for all of them;
// wisp.runfor bounds its life and afterAll kills it.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceArgs } from "../../scripts/run/devices.ts";
import { qemuArgs } from "../../scripts/run/qemu.ts";
import { type RunningQemu, startQemu } from "../../scripts/run/qemuProcess.ts";
import { echo, freeTcpPort, freeUdpPort, sha256, udpEchoAll } from "./netClients.ts";

const KERNEL = "build/kernel.elf";
const GUEST_SECONDS = 90;

let guest: RunningQemu | null = null;
const output = (): string => guest?.output() ?? "";
let httpPort = 0;
let echoPort = 0;
let udpPort = 0;

/** Status line and body of GET / through a plain socket. */
function httpGet(port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error("timeout")));
    socket.on("connect", () => socket.write("GET / HTTP/1.1\r\nHost: wisp\r\n\r\n"));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

function haveCurl(): boolean {
  try {
    execFileSync("sh", ["-c", "command -v curl"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  httpPort = await freeTcpPort();
  echoPort = await freeTcpPort();
  udpPort = await freeUdpPort();
  const args = qemuArgs({
    kernel: KERNEL,
    machine: "microvm",
    accelerator: "tcg",
    memory: "256M",
    smp: 1,
    cmdline: `wisp.echo=7 wisp.udpecho=7 wisp.http=80 wisp.runfor=${GUEST_SECONDS}`,
    extraArgs: deviceArgs("microvm", {
      network: "user",
      rng: true,
      hostForwards: [
        { protocol: "tcp", hostPort: httpPort, guestPort: 80 },
        { protocol: "tcp", hostPort: echoPort, guestPort: 7 },
        { protocol: "udp", hostPort: udpPort, guestPort: 7 },
      ],
    }),
  });
  guest = startQemu(args);
  // Up when the guest says so and HTTP answers (DHCP may take a moment).
  await guest.waitFor("net: running", 30_000);
  await guest.waitFor(/net: (DHCP bound|no DHCP answer)/, 30_000);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const reply = await httpGet(httpPort, 1000).catch(() => "");
    if (reply.startsWith("HTTP/1.1 200")) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the guest's HTTP service did not answer:\n${output()}`);
}, 60_000);

afterAll(() => {
  guest?.kill();
});

describe("built-in services over user networking (hostfwd 127.0.0.1)", () => {
  it("logs its configuration", () => {
    expect(output()).toMatch(/net: stack up, 1 interface/);
    expect(output()).toMatch(/net: (DHCP bound 10\.0\.2\.15|10\.0\.2\.15 mask)/);
    expect(output()).toContain("net: tcp-echo on port 7");
    expect(output()).toContain("net: udp-echo on port 7");
    expect(output()).toContain("net: http on port 80");
  });

  it("answers HTTP GET with 200 and a fixed body (curl)", () => {
    const url = `http://127.0.0.1:${httpPort}/`;
    if (haveCurl()) {
      const text = execFileSync("curl", ["-sS", "-m", "10", "-i", url], { encoding: "latin1" });
      const [head, body] = text.split("\r\n\r\n");
      expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(head).toMatch(/\r\nContent-Length: 16\r\n/);
      expect(head).toMatch(/\r\nConnection: close/);
      expect(body).toBe("Hello from Wisp\n");
      const code = execFileSync("curl", ["-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", url], { encoding: "latin1" });
      expect(code).toBe("200");
    }
  });

  it("refuses other methods with 405", async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(httpPort, "127.0.0.1");
      const chunks: Buffer[] = [];
      socket.on("connect", () => socket.write("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
      socket.on("data", (c) => chunks.push(c));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 405/);
  });

  it("echoes 1 MiB intact over TCP (sha256 both ways)", async () => {
    const data = randomBytes(1 << 20);
    const { back, ms } = await echo(echoPort, data);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    console.log(`tcp echo: 1 MiB each way in ${ms.toFixed(0)} ms, ${(data.length / 1e6 / (ms / 1000)).toFixed(2)} MB/s per direction (user networking, TCG)`);
  });

  it("serves 50 sequential connections", async () => {
    for (let i = 0; i < 50; i++) {
      const data = Buffer.from(`connection ${i}\n`);
      const { back } = await echo(echoPort, data, 5000);
      expect(back.toString()).toBe(data.toString());
    }
    for (let i = 0; i < 5; i++) expect(await httpGet(httpPort)).toMatch(/^HTTP\/1\.1 200[^]*\r\n\r\nHello from Wisp\n$/);
  });

  it("echoes a UDP datagram", async () => {
    expect(await udpEchoAll(udpPort, [randomBytes(1200)], 5000)).toBe(1);
  });
});
