// The Linux guest for the network benchmarks: the base initramfs (build.ts)
// followed by a second archive with what networking needs, which the kernel
// unpacks over the first (concatenated initramfs archives):
//
//   lib/modules/...      virtio_mmio and virtio_net with their dependencies
//                        (/init loads them from load.list before the benchmark)
//   usr/bin/iperf3       Debian's iperf3 with its shared libraries and ld.so
//   bin/tcp_rr           tcp_rr.c, static: request/response server
//   bench/net            the benchmark: brings eth0 up, starts iperf3 -s and
//                        the tcp_rr server
//
// Output: build/linux-guest/initramfs-net.cpio.gz, and for the host side
// build/linux-guest/tcp_rr (the same static program, as the client) and the
// extracted iperf3 (run with LD_LIBRARY_PATH = its package libraries).
//
//   npx tsx scripts/linux-guest/netGuest.ts     (the bench harness calls buildNetGuest)
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { buildLinuxGuest, guestPaths, upToDate, type BuildResult } from "./build.ts";
import { CpioWriter } from "./cpio.ts";
import { resolveModules } from "./modules.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Debian packages of the iperf3 binary and the libraries not on a base system. */
export const NET_PACKAGES = ["iperf3", "libiperf0", "libsctp1"];
export const NET_MODULES = ["virtio_mmio", "virtio_net"];

/** The guest's side of the benchmark network (the tap's host end is .1). */
export const GUEST_ADDRESS = "10.0.2.15";
export const GUEST_PREFIX = 24;
export const GUEST_MAC = "52:54:00:12:34:56";
export const IPERF_PORT = 5201;
export const RR_PORT = 7000;

/** Lines bench/net prints. */
export const NET_READY_LINE = "net: servers started";

export interface NetGuest {
  initramfs: string;
  /** Static tcp_rr, for the host's client. */
  tcpRr: string;
  /** The extracted iperf3 binary and the LD_LIBRARY_PATH it needs on the host. */
  iperf3: string;
  iperf3LibraryPath: string;
  libraries: string[];
  modules: string[];
}

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  if (r.error) throw new Error(`cannot run ${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${r.status}): ${String(r.stderr ?? "").trim()}`);
  return typeof r.stdout === "string" ? r.stdout : "";
}

const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;

/** The cached .deb of `name`, downloaded with apt-get download when there is none. */
function fetchDeb(name: string, debs: string, log: (line: string) => void): string {
  mkdirSync(debs, { recursive: true });
  const cached = (): string | undefined => readdirSync(debs).filter((f) => f.startsWith(`${name}_`) && f.endsWith(".deb")).sort().pop();
  let deb = cached();
  if (deb === undefined) {
    const sandbox = isRoot() ? ["-o", "APT::Sandbox::User=root"] : [];
    const download = () => spawnSync("apt-get", ["download", "-q", ...sandbox, name], { cwd: debs, encoding: "utf8" });
    let r = download();
    if (r.status !== 0 && isRoot()) {
      log("apt-get update");
      run("apt-get", ["update", "-qq"]);
      r = download();
    }
    if (r.status !== 0) throw new Error(`apt-get download ${name} failed: ${String(r.stderr).trim()}`);
    deb = cached();
    if (deb === undefined) throw new Error(`apt-get download ${name} left no .deb in ${debs}`);
    log(`${deb}: downloaded`);
  }
  return join(debs, deb);
}

function extractDeb(deb: string, dir: string): string {
  const stamp = join(dir, ".extracted");
  if (upToDate(stamp, [deb]) && readFileSync(stamp, "utf8") === basename(deb)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run("dpkg-deb", ["-x", deb, dir]);
  writeFileSync(stamp, basename(deb));
  return dir;
}

export interface SharedLibrary {
  /** The name the binary asks for (or the interpreter's path). */
  name: string;
  /** Where ldd found it. */
  path: string;
}

/** Parses `ldd` output: "libx.so.1 => /path (0x...)" and the interpreter's "/lib64/ld-linux-x86-64.so.2 (0x...)". */
export function parseLdd(output: string): SharedLibrary[] {
  const libs: SharedLibrary[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith("linux-vdso")) continue;
    const arrow = /^(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      if (arrow[2] === "not found") throw new Error(`ldd: ${arrow[1]} not found`);
      libs.push({ name: arrow[1], path: arrow[2] });
      continue;
    }
    const direct = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (direct) libs.push({ name: direct[1], path: direct[1] });
  }
  return libs;
}

/** The benchmark script /init runs for wisp.bench=net. */
export function netBenchScript(): string {
  return `#!/bin/sh
# wisp.bench=net: the Linux side of the network benchmarks (scripts/linux-guest/netGuest.ts).
ip link set lo up
if ! ip link set eth0 up 2>/dev/null; then
  echo "net: no eth0"
  exit 1
fi
ip addr add ${GUEST_ADDRESS}/${GUEST_PREFIX} dev eth0
ip route add default via 10.0.2.2 dev eth0 2>/dev/null
iperf3 --server --daemon --port ${IPERF_PORT} || exit 1
echo "${NET_READY_LINE}"
exec tcp_rr server ${RR_PORT}
`;
}

export function buildNetGuest(options: { log?: (line: string) => void; base?: BuildResult } = {}): NetGuest {
  const log = options.log ?? ((line: string) => console.log(`net-guest: ${line}`));
  const base = options.base ?? buildLinuxGuest({ log: () => {} });
  const paths = guestPaths();
  const pkgDirs = NET_PACKAGES.map((name) => extractDeb(fetchDeb(name, paths.debs, log), join(paths.pkg, name)));
  const [iperfDir] = pkgDirs;
  const iperf3 = join(iperfDir, "usr/bin/iperf3");
  if (!existsSync(iperf3)) throw new Error(`${iperf3} is missing from the iperf3 package`);
  const libraryPath = pkgDirs.slice(1).map((dir) => join(dir, "usr/lib/x86_64-linux-gnu")).join(":");

  // tcp_rr: static, for the guest and the host alike.
  const tcpRr = join(paths.root, "tcp_rr");
  const source = join(HERE, "tcp_rr.c");
  if (!upToDate(tcpRr, [source, join(HERE, "netTool.h")])) {
    run("gcc", ["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", `${tcpRr}.tmp`, source]);
    renameSync(`${tcpRr}.tmp`, tcpRr);
    log("tcp_rr: gcc -static -O2");
  }

  const libraries = parseLdd(run("ldd", [iperf3], { env: { ...process.env, LD_LIBRARY_PATH: libraryPath } }));
  const moduleDir = join(paths.pkg, base.kernelPackage, "lib/modules", base.kernelVersion);
  const modules = resolveModules(moduleDir, NET_MODULES);

  const out = join(paths.root, "initramfs-net.cpio.gz");
  const inputs = [paths.initramfs, tcpRr, iperf3, ...libraries.map((l) => realpathSync(l.path)), ...modules.map((m) => m.path), fileURLToPath(import.meta.url)];
  if (!upToDate(out, inputs)) {
    const cpio = new CpioWriter();
    cpio.file("bin/tcp_rr", readFileSync(tcpRr), 0o755);
    cpio.file("usr/bin/iperf3", readFileSync(iperf3), 0o755);
    for (const lib of libraries) {
      // The interpreter at the path PT_INTERP names; libraries where ld.so looks by default.
      const target = lib.name.startsWith("/") ? lib.name.slice(1) : `lib/x86_64-linux-gnu/${lib.name}`;
      cpio.file(target, readFileSync(realpathSync(lib.path)), 0o755);
    }
    for (const m of modules) cpio.file(`lib/modules/${m.relativePath}`, readFileSync(m.path), 0o644);
    cpio.file("lib/modules/load.list", modules.map((m) => m.relativePath).join("\n") + "\n");
    cpio.file("bench/net", netBenchScript(), 0o755);
    const first = readFileSync(paths.initramfs);
    // Each archive of a concatenated initramfs starts 4-byte aligned.
    const padding = Buffer.alloc((4 - (first.length % 4)) % 4);
    const overlay = gzipSync(cpio.toBuffer(), { level: 9 });
    writeFileSync(`${out}.tmp`, Buffer.concat([first, padding, overlay]));
    renameSync(`${out}.tmp`, out);
    log(`${basename(out)}: base ${(first.length / 1e6).toFixed(2)} MB + network overlay ${(overlay.length / 1e6).toFixed(2)} MB (${modules.map((m) => m.name).join(" ")}; iperf3 with ${libraries.length} libraries; tcp_rr)`);
  }
  return {
    initramfs: out,
    tcpRr,
    iperf3,
    iperf3LibraryPath: libraryPath,
    libraries: libraries.map((l) => l.name),
    modules: modules.map((m) => m.name),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const started = Date.now();
    const net = buildNetGuest();
    console.log(`net-guest: ${net.initramfs} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${statSync(net.initramfs).size} bytes)`);
  } catch (error) {
    console.error(`net-guest: ${(error as Error).message}`);
    process.exit(1);
  }
}
