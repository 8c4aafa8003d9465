import { describe, expect, it } from "vitest";
import { GUEST_ADDRESS, IPERF_PORT, NET_READY_LINE, netBenchScript, parseLdd, RR_PORT } from "../../scripts/linux-guest/netGuest.ts";
import { createUserNet, freeLoopbackPort } from "../../scripts/bench/benchNet.ts";
import { parseIperf3, parseTcpEcho, parseTcpRr, wispNetCmdline } from "../../scripts/bench/suites/network.ts";
import { echoBenchScript } from "../../scripts/linux-guest/echoGuest.ts";

describe("network benchmark parsers", () => {
  it("reads tcp_rr's transactions per second", () => {
    expect(parseTcpRr("tcp_rr: 14752 transactions in 3.001 s, 4915.9 per s, 203.42 us each\n")).toBe(4915.9);
    expect(parseTcpRr("tcp_rr: the server closed the connection\n")).toBeNull();
  });

  it("reads iperf3 -J's receiver rate in Mbit/s", () => {
    const json = JSON.stringify({ end: { sum_sent: { bits_per_second: 2.1e9 }, sum_received: { bits_per_second: 2022571234 } } });
    expect(parseIperf3(json)).toBe(2022.57);
    expect(parseIperf3(JSON.stringify({ error: "unable to connect to server" }))).toBeNull();
    expect(parseIperf3("iperf3: error")).toBeNull();
  });

  it("reads ldd's libraries and the interpreter", () => {
    const out = [
      "\tlinux-vdso.so.1 (0x00007ffd5b5f1000)",
      "\tlibiperf.so.0 => /x/pkg/libiperf0/usr/lib/x86_64-linux-gnu/libiperf.so.0 (0x00007f0e1c3a0000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e1c1bf000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f0e1c41c000)",
    ].join("\n");
    expect(parseLdd(out)).toEqual([
      { name: "libiperf.so.0", path: "/x/pkg/libiperf0/usr/lib/x86_64-linux-gnu/libiperf.so.0" },
      { name: "libc.so.6", path: "/lib/x86_64-linux-gnu/libc.so.6" },
      { name: "/lib64/ld-linux-x86-64.so.2", path: "/lib64/ld-linux-x86-64.so.2" },
    ]);
    expect(() => parseLdd("\tlibsctp.so.1 => not found\n")).toThrow(/libsctp.so.1 not found/);
  });

  it("has a guest script that configures eth0 and starts both servers", () => {
    const script = netBenchScript();
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain(`ip addr add ${GUEST_ADDRESS}/24 dev eth0`);
    expect(script).toContain(`iperf3 --server --daemon --port ${IPERF_PORT}`);
    expect(script).toContain(`echo "${NET_READY_LINE}"`);
    expect(script.trimEnd().endsWith(`exec tcp_rr server ${RR_PORT}`)).toBe(true);
  });

  it("reads tcp_echo's rate", () => {
    expect(parseTcpEcho("tcp_echo: 8388608 bytes each way in 0.612 s, 13.71 MB/s per direction\n")).toBe(13.71);
    expect(parseTcpEcho("tcp_echo: timeout after 5 bytes sent, 0 received\n")).toBeNull();
  });

  it("starts the Linux guest's echo server before it says it is ready", () => {
    const script = echoBenchScript();
    expect(script).toContain(`tcp_echo server 7 >/dev/null &\necho "${NET_READY_LINE}"`);
    expect(script.trimEnd().endsWith(`exec tcp_rr server ${RR_PORT}`)).toBe(true);
  });

  it("gives Wisp the guest's address, the echo service and the extra words", () => {
    const net = { gateway: "10.0.2.1" };
    expect(wispNetCmdline(net, "", 60)).toBe("wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.1 wisp.echo=7 wisp.runfor=60");
    expect(wispNetCmdline(net, "wisp.netchannels=on", 60)).toBe("wisp.ip=10.0.2.15/24 wisp.gw=10.0.2.1 wisp.echo=7 wisp.runfor=60 wisp.netchannels=on");
  });
});

describe("user networking", () => {
  it("forwards two distinct free loopback ports to the guest's servers", async () => {
    const net = await createUserNet();
    expect(net.host).toBe("127.0.0.1");
    expect(net.iperfPort).not.toBe(net.rrPort);
    const netdev = net.qemuArgs[net.qemuArgs.indexOf("-netdev") + 1];
    expect(netdev).toBe(`user,id=net0,hostfwd=tcp:127.0.0.1:${net.iperfPort}-:${IPERF_PORT},hostfwd=tcp:127.0.0.1:${net.rrPort}-:${RR_PORT},hostfwd=tcp:127.0.0.1:${net.echoPort}-:7`);
    // The same NIC a Wisp guest gets from scripts/run/devices.ts: modern virtio-mmio, fixed MAC.
    expect(net.qemuArgs).toContain("virtio-mmio.force-legacy=false");
    expect(net.qemuArgs).toContain("virtio-net-device,netdev=net0,mac=52:54:00:12:34:56");
    expect(net.wrap("tcp_rr", ["first"])).toEqual(["tcp_rr", ["first"]]);
    expect(await freeLoopbackPort()).toBeGreaterThan(0);
  });
});
