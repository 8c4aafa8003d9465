// `npm run boot`: boots Wisp in QEMU with the serial console on this terminal
// and exits with the guest's exit status.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { AcceleratorChoice } from "./run/accelerator.ts";
import { runGuest } from "./run/guest.ts";
import type { DeviceOptions, HostForward } from "./run/devices.ts";
import { MACHINES, type Machine } from "./run/qemu.ts";

const USAGE = `usage: npm run boot -- [options] [-- extra QEMU arguments]

Boots build/kernel.elf directly (PVH), or a disk image with --image.

  --kernel PATH     kernel ELF for direct boot (default build/kernel.elf)
  --image PATH      boot this disk image through the BIOS instead (e.g. build/wisp.qcow2)
  --machine M       microvm | q35 | pc (default: microvm for a kernel, q35 for an image)
  --accel A         auto | kvm | tcg (default auto: KVM only where it is real hardware)
  --memory SIZE     guest RAM, QEMU syntax (default 128M)
  --smp N           vCPUs (default 1)
  --cmdline STR     kernel command line (direct boot; images store their own,
                    change it with npm run cmdline)
  --initrd PATH     boot module 0 for direct boot: a root archive from
                    npm run image (build/wisp.cpio) or a static executable
  --timeout SEC     kill QEMU after SEC seconds (default: none)
  --disk PATH       attach a raw image as the data disk (virtio-blk)
  --net MODE        user (default: QEMU user networking, guest 10.0.2.15),
                    tap:IFNAME (an existing tap interface), or none
  --hostfwd SPEC    with user networking: tcp|udp:HOSTPORT:GUESTPORT on
                    127.0.0.1 (repeatable)
  --no-rng          no virtio-rng device (attached by default)
  --quiet           do not echo the console; print only the summary
  -h, --help        this text

Exit status: the guest's (0 when it powered off cleanly), 124 on timeout,
125 when QEMU itself failed.`;

function fail(message: string): never {
  console.error(`wisp boot: ${message}`);
  console.error("run with --help for usage");
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dashDash = argv.indexOf("--");
  const own = dashDash >= 0 ? argv.slice(0, dashDash) : argv;
  const extraArgs = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      options: {
        kernel: { type: "string" },
        image: { type: "string" },
        machine: { type: "string" },
        accel: { type: "string", default: "auto" },
        memory: { type: "string", default: "128M" },
        smp: { type: "string", default: "1" },
        cmdline: { type: "string" },
        initrd: { type: "string" },
        timeout: { type: "string" },
        quiet: { type: "boolean", default: false },
        disk: { type: "string" },
        net: { type: "string", default: "user" },
        hostfwd: { type: "string", multiple: true, default: [] },
        "no-rng": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (v.kernel !== undefined && v.image !== undefined) fail("give --kernel or --image, not both");
  const image = v.image;
  const kernel = image === undefined ? (v.kernel ?? "build/kernel.elf") : undefined;
  const file = image ?? kernel!;
  if (!existsSync(file)) {
    fail(`${file} does not exist${image === undefined ? " (run make, or npm run build)" : " (run npm run image)"}`);
  }
  if (v.machine !== undefined && !MACHINES.includes(v.machine as Machine)) {
    fail(`unknown machine '${v.machine}' (one of: ${MACHINES.join(", ")})`);
  }
  if (!["auto", "kvm", "tcg"].includes(v.accel)) fail(`unknown accelerator '${v.accel}' (auto, kvm or tcg)`);
  const smp = Number(v.smp);
  if (!Number.isInteger(smp) || smp < 1 || smp > 255) fail(`--smp wants a whole number from 1 to 255, not '${v.smp}'`);
  const timeout = v.timeout === undefined ? 0 : Number(v.timeout);
  if (!Number.isFinite(timeout) || timeout < 0) fail(`--timeout wants seconds, not '${v.timeout}'`);
  if (image !== undefined && v.cmdline !== undefined) {
    fail("--cmdline applies to direct boot; change an image's command line with npm run cmdline");
  }

  if (v.initrd !== undefined) {
    if (image !== undefined) fail("--initrd applies to direct boot; a disk image carries its root archive");
    if (!existsSync(v.initrd)) fail(`${v.initrd} does not exist`);
    extraArgs.unshift("-initrd", v.initrd);
  }
  const devices: DeviceOptions = { rng: !v["no-rng"], dataDisk: v.disk };
  if (v.disk !== undefined && !existsSync(v.disk)) fail(`${v.disk} does not exist`);
  if (v.net === "user") devices.network = "user";
  else if (v.net.startsWith("tap:")) {
    devices.network = "tap";
    devices.tapInterface = v.net.slice(4);
  } else if (v.net !== "none") fail(`--net wants user, tap:IFNAME or none, not '${v.net}'`);
  const forwards: HostForward[] = [];
  for (const spec of v.hostfwd) {
    const match = /^(tcp|udp):(\d+):(\d+)$/.exec(spec);
    if (!match) fail(`--hostfwd wants tcp|udp:HOSTPORT:GUESTPORT, not '${spec}'`);
    forwards.push({ protocol: match[1] as "tcp" | "udp", hostPort: Number(match[2]), guestPort: Number(match[3]) });
  }
  if (forwards.length > 0 && devices.network !== "user") fail("--hostfwd needs --net user");
  devices.hostForwards = forwards;

  const result = await runGuest({
    kernel,
    image,
    imageFormat: image?.endsWith(".qcow2") === false ? "raw" : "qcow2",
    machine: v.machine as Machine | undefined,
    accel: v.accel as AcceleratorChoice,
    memory: v.memory,
    smp,
    cmdline: v.cmdline,
    devices,
    extraArgs,
    timeoutMs: timeout * 1000,
    echo: !v.quiet,
  });
  const summary = [
    `accelerator ${result.accelerator.accelerator} (${result.accelerator.reason})`,
    result.guestBootMs !== null ? `guest booted in ${result.guestBootMs} ms` : "no boot line",
    `QEMU ran ${result.wallMs.toFixed(0)} ms`,
  ];
  if (result.timedOut) {
    console.error(`\nwisp boot: timed out after ${timeout} s; ${summary.join(", ")}`);
    process.exit(124);
  }
  if (result.status === null) {
    console.error(`\nwisp boot: QEMU failed (exit code ${result.qemuExitCode}); ${summary.join(", ")}`);
    if (v.quiet && result.stderr) console.error(result.stderr.trim());
    process.exit(125);
  }
  console.error(`\nwisp boot: guest exit status ${result.status}; ${summary.join(", ")}`);
  process.exit(result.status);
}

main().catch((error: Error) => {
  console.error(`wisp boot: ${error.message}`);
  process.exit(125);
});
