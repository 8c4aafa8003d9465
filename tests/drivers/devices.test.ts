// The runner's device arguments (scripts/run/devices.ts).
import { describe, expect, it } from "vitest";
import {
  dataDiskArgs, deviceArgs, hostForwardOption, rngArgs, tapNetArgs, userNetArgs, virtioMmioModernArgs,
} from "../../scripts/run/devices.ts";

describe("device arguments", () => {
  it("uses virtio-mmio devices on microvm and PCI devices elsewhere", () => {
    expect(dataDiskArgs("microvm", "/tmp/d.img")).toEqual([
      "-drive", "file=/tmp/d.img,format=raw,if=none,id=data0,cache=unsafe", "-device", "virtio-blk-device,drive=data0",
    ]);
    expect(dataDiskArgs("q35", "/tmp/d.img", true)[1]).toContain("read-only=on");
    expect(dataDiskArgs("pc", "/tmp/d.img")[3]).toBe("virtio-blk-pci,drive=data0");
    expect(rngArgs("q35")).toEqual(["-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-pci,rng=rng0"]);
    expect(virtioMmioModernArgs("microvm")).toEqual(["-global", "virtio-mmio.force-legacy=false"]);
    expect(virtioMmioModernArgs("q35")).toEqual([]);
  });

  it("builds user networking with loopback host forwards, and tap networking", () => {
    expect(userNetArgs("microvm", [{ protocol: "tcp", hostPort: 8080, guestPort: 80 }])).toEqual([
      "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80", "-device", "virtio-net-device,netdev=net0",
    ]);
    expect(hostForwardOption({ protocol: "udp", hostPort: 5353, guestPort: 53, hostAddress: "127.0.0.2" }))
      .toBe("hostfwd=udp:127.0.0.2:5353-:53");
    expect(() => hostForwardOption({ protocol: "tcp", hostPort: 0, guestPort: 80 })).toThrow(/port/);
    expect(tapNetArgs("q35", "tap0", "52:54:00:00:00:01")).toEqual([
      "-netdev", "tap,id=net0,ifname=tap0,script=no,downscript=no", "-device", "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01",
    ]);
    expect(() => tapNetArgs("q35", "tap0;rm")).toThrow(/tap interface/);
    expect(() => userNetArgs("q35", [], "zz")).toThrow(/MAC/);
  });

  it("combines everything once, with the virtio-mmio global first", () => {
    const args = deviceArgs("microvm", { dataDisk: "/d.img", network: "user", rng: true });
    expect(args.slice(0, 2)).toEqual(["-global", "virtio-mmio.force-legacy=false"]);
    expect(args.filter((a) => a.startsWith("virtio-")).sort()).toEqual(
      ["virtio-blk-device,drive=data0", "virtio-mmio.force-legacy=false", "virtio-net-device,netdev=net0", "virtio-rng-device,rng=rng0"]);
    expect(deviceArgs("q35", {})).toEqual([]);
    expect(() => deviceArgs("q35", { network: "tap" })).toThrow(/tap interface/);
  });
});
