// Builds the Linux baseline guest from Debian packages, without installing a
// kernel on the host:
//
//   build/linux-guest/debs/           the downloaded .debs (kept as a cache)
//   build/linux-guest/pkg/<package>/  each package extracted with dpkg-deb -x
//   build/linux-guest/vmlinuz         the Debian kernel (bzImage)
//   build/linux-guest/vmlinux         the same kernel decompressed: an ELF with a
//                                     PVH note, booted like Wisp's kernel.elf
//   build/linux-guest/host-tsc-khz    prints the host's TSC rate (host_tsc_khz.c)
//   build/linux-guest/initramfs.cpio.gz  busybox, /init, the benchmark programs
//   build/programs/<name>             tests/programs/<name>.c, gcc -static
//
// Every step is skipped when its output is newer than its inputs.
//
//   npx tsx scripts/linux-guest/build.ts [--modules virtio_net,...] [--force]
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import {
  closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { BENCHMARKS } from "./benchmarks.ts";
import { CpioWriter } from "./cpio.ts";
import { resolveModules, type KernelModule } from "./modules.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, "../..");

/** The meta-package whose dependency names the versioned kernel package. */
export const KERNEL_META_PACKAGE = "linux-image-amd64";
export const BUSYBOX_PACKAGE = "busybox-static";

export interface GuestPaths {
  root: string;
  debs: string;
  pkg: string;
  vmlinuz: string;
  vmlinux: string;
  initramfs: string;
  hostTscKhz: string;
  programs: string;
}

export function guestPaths(repoRoot = REPO_ROOT): GuestPaths {
  const root = join(repoRoot, "build/linux-guest");
  return {
    root,
    debs: join(root, "debs"),
    pkg: join(root, "pkg"),
    vmlinuz: join(root, "vmlinuz"),
    vmlinux: join(root, "vmlinux"),
    initramfs: join(root, "initramfs.cpio.gz"),
    hostTscKhz: join(root, "host-tsc-khz"),
    programs: join(repoRoot, "build/programs"),
  };
}

export interface BuildOptions {
  /** Kernel modules to put in the initramfs and load at boot (with their dependencies). */
  modules?: string[];
  /** Rebuild every step even if its output looks current. */
  force?: boolean;
  log?: (line: string) => void;
  repoRoot?: string;
}

export interface BuildResult {
  vmlinuz: string;
  vmlinux: string;
  initramfs: string;
  kernelPackage: string;
  kernelVersion: string;
  programs: string[];
  modules: KernelModule[];
}

class BuildError extends Error {}

// ---------------------------------------------------------------------------
// Small helpers

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  if (result.error) throw new BuildError(`cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const stderr = typeof result.stderr === "string" ? result.stderr.trim() : "";
    throw new BuildError(`${command} ${args.join(" ")} failed (exit ${result.status})${stderr ? `:\n${stderr}` : ""}`);
  }
  return typeof result.stdout === "string" ? result.stdout : "";
}

function commandExists(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;

function mtimeMs(path: string): number {
  return statSync(path).mtimeMs;
}

/** True when `output` exists and is at least as new as every input. */
export function upToDate(output: string, inputs: string[]): boolean {
  if (!existsSync(output)) return false;
  const out = mtimeMs(output);
  return inputs.every((input) => mtimeMs(input) <= out);
}

// ---------------------------------------------------------------------------
// Step 1: host tools

interface Tool {
  /** A command, or an absolute path of a file that must exist. */
  check: string;
  pkg: string;
}

const TOOLS: Tool[] = [
  { check: "apt-get", pkg: "apt" },
  { check: "apt-cache", pkg: "apt" },
  { check: "dpkg-deb", pkg: "dpkg" },
  { check: "gcc", pkg: "gcc" },
  // Decompresses the bzImage payload into vmlinux.
  { check: "xz", pkg: "xz-utils" },
  // glibc's static libraries (libc.a, libpthread.a) for gcc -static.
  { check: "/usr/lib/x86_64-linux-gnu/libc.a", pkg: "libc6-dev" },
];

function ensureTools(log: (line: string) => void): void {
  const missing = TOOLS.filter((tool) => (tool.check.startsWith("/") ? !existsSync(tool.check) : !commandExists(tool.check)));
  if (missing.length === 0) {
    log("host tools: apt-get, dpkg-deb, gcc, libc6-dev, xz present");
    return;
  }
  const packages = [...new Set(missing.map((tool) => tool.pkg))];
  if (missing.some((tool) => tool.check === "apt-get")) {
    throw new BuildError("apt-get is missing: this build needs a Debian (or derived) host");
  }
  if (!isRoot()) {
    throw new BuildError(`missing Debian packages: ${packages.join(" ")}; install them as root: apt-get install ${packages.join(" ")}`);
  }
  log(`host tools: installing ${packages.join(" ")} with apt-get`);
  aptUpdateOnce(log);
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdio: ["ignore", "ignore", "pipe"],
  });
}

let aptUpdated = false;
function aptUpdateOnce(log: (line: string) => void): void {
  if (aptUpdated) return;
  if (!isRoot()) throw new BuildError("apt's package lists are empty or stale and refreshing them needs root: run apt-get update");
  log("apt-get update");
  run("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "pipe"] });
  aptUpdated = true;
}

// ---------------------------------------------------------------------------
// Step 2: packages

interface Candidate {
  name: string;
  version: string | null;
}

/** Candidate versions from `apt-cache policy a b ...` (null: apt has none). */
export function parsePolicy(output: string): Map<string, string | null> {
  const versions = new Map<string, string | null>();
  let current: string | null = null;
  for (const line of output.split("\n")) {
    const header = /^(\S+):$/.exec(line);
    if (header) {
      current = header[1];
      versions.set(current, null);
      continue;
    }
    const candidate = /^\s+Candidate:\s+(\S+)$/.exec(line);
    if (candidate && current !== null && candidate[1] !== "(none)") versions.set(current, candidate[1]);
  }
  return versions;
}

/** linux-image-amd64 -> linux-image-6.1.0-NN-amd64, from apt-cache depends. */
export function parseKernelDependency(dependsOutput: string): string | null {
  const match = /^\s*Depends:\s*(linux-image-\d+\.\d+\.\d+-\S+)\s*$/m.exec(dependsOutput);
  return match ? match[1] : null;
}

const APT_LISTS = "/var/lib/apt/lists";

interface Resolution {
  kernel: Candidate;
  busybox: Candidate;
}

/**
 * The kernel package and both candidate versions. apt-cache takes about a
 * second a call here, so the answer is kept in debs/resolved.json and asked
 * again only when apt's lists changed (apt-get update) since.
 */
function resolvePackages(paths: GuestPaths, force: boolean, log: (line: string) => void): Resolution {
  const cacheFile = join(paths.debs, "resolved.json");
  if (!force && existsSync(APT_LISTS) && upToDate(cacheFile, [APT_LISTS])) {
    try {
      const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as Resolution;
      if (cached.kernel?.version && cached.busybox?.version) return cached;
    } catch {
      // Unreadable: ask apt again.
    }
  }
  const depends = (): string | null => {
    const result = spawnSync("apt-cache", ["depends", KERNEL_META_PACKAGE], { encoding: "utf8" });
    return result.status === 0 ? parseKernelDependency(result.stdout) : null;
  };
  let name = depends();
  if (name === null && isRoot()) {
    aptUpdateOnce(log);
    name = depends();
  }
  if (name === null) {
    // Offline, or no package lists: fall back to what was downloaded before.
    const cached = existsSync(paths.debs)
      ? readdirSync(paths.debs).filter((file) => /^linux-image-\d+\.\d+\.\d+-[^_]+_.*\.deb$/.test(file)).sort()
      : [];
    if (cached.length === 0) {
      throw new BuildError(`apt-cache cannot resolve ${KERNEL_META_PACKAGE} and no kernel .deb is cached: run apt-get update (as root)`);
    }
    const file = cached[cached.length - 1];
    log(`apt-cache cannot resolve ${KERNEL_META_PACKAGE}; using the cached ${file}`);
    return { kernel: { name: file.slice(0, file.indexOf("_")), version: null }, busybox: { name: BUSYBOX_PACKAGE, version: null } };
  }
  const policy = spawnSync("apt-cache", ["policy", name, BUSYBOX_PACKAGE], { encoding: "utf8" });
  const versions = policy.status === 0 ? parsePolicy(policy.stdout) : new Map<string, string | null>();
  const resolution: Resolution = {
    kernel: { name, version: versions.get(name) ?? null },
    busybox: { name: BUSYBOX_PACKAGE, version: versions.get(BUSYBOX_PACKAGE) ?? null },
  };
  if (resolution.kernel.version !== null && resolution.busybox.version !== null) {
    mkdirSync(paths.debs, { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(resolution));
  }
  return resolution;
}

function debVersion(deb: string): string {
  return run("dpkg-deb", ["-f", deb, "Version"]).trim();
}

/** The .deb of `candidate` in the cache, downloading it when missing or of another version. */
function fetchDeb(candidate: Candidate, paths: GuestPaths, log: (line: string) => void): string {
  mkdirSync(paths.debs, { recursive: true });
  const cached = readdirSync(paths.debs)
    .filter((file) => file.startsWith(`${candidate.name}_`) && file.endsWith(".deb"))
    .map((file) => join(paths.debs, file));
  const match = cached.find((deb) => candidate.version === null || debVersion(deb) === candidate.version);
  if (match !== undefined) {
    log(`${candidate.name} ${candidate.version ?? debVersion(match)}: cached ${basename(match)}`);
    return match;
  }
  if (candidate.version === null) throw new BuildError(`apt does not know ${candidate.name} and it is not cached: run apt-get update`);
  log(`${candidate.name} ${candidate.version}: downloading with apt-get download`);
  const started = Date.now();
  // As root, apt drops to the _apt user to download, which cannot write here.
  const sandbox = isRoot() ? ["-o", "APT::Sandbox::User=root"] : [];
  run("apt-get", ["download", "-q", ...sandbox, `${candidate.name}=${candidate.version}`], {
    cwd: paths.debs,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const downloaded = readdirSync(paths.debs)
    .filter((file) => file.startsWith(`${candidate.name}_`) && file.endsWith(".deb"))
    .map((file) => join(paths.debs, file))
    .find((deb) => debVersion(deb) === candidate.version);
  if (downloaded === undefined) throw new BuildError(`apt-get download ${candidate.name} left no .deb of version ${candidate.version}`);
  log(`  ${basename(downloaded)}, ${(statSync(downloaded).size / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return downloaded;
}

/** dpkg-deb -x into pkg/<package>/, unless a stamp newer than the .deb says it is done. */
function extractDeb(deb: string, pkgName: string, paths: GuestPaths, force: boolean, log: (line: string) => void): string {
  const dir = join(paths.pkg, pkgName);
  const stamp = join(dir, ".extracted");
  if (!force && upToDate(stamp, [deb]) && readFileSync(stamp, "utf8") === basename(deb)) {
    log(`${pkgName}: already extracted in ${relativeToRepo(dir)}`);
    return dir;
  }
  log(`${pkgName}: extracting ${basename(deb)} with dpkg-deb -x`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run("dpkg-deb", ["-x", deb, dir]);
  writeFileSync(stamp, basename(deb));
  return dir;
}

// ---------------------------------------------------------------------------
// Step 3: the kernel

function findKernel(pkgDir: string): { image: string; version: string } {
  const boot = join(pkgDir, "boot");
  const images = existsSync(boot) ? readdirSync(boot).filter((file) => file.startsWith("vmlinuz-")) : [];
  if (images.length !== 1) throw new BuildError(`expected one vmlinuz-* in ${boot}, found ${images.length}`);
  return { image: join(boot, images[0]), version: images[0].slice("vmlinuz-".length) };
}

function installKernel(image: string, paths: GuestPaths, force: boolean, log: (line: string) => void): void {
  if (!force && upToDate(paths.vmlinuz, [image])) {
    log(`vmlinuz: up to date`);
  } else {
    copyFileSync(image, paths.vmlinuz);
    log(`vmlinuz: ${basename(image)}, ${(statSync(paths.vmlinuz).size / 1e6).toFixed(1)} MB`);
  }
  if (!force && upToDate(paths.vmlinux, [paths.vmlinuz])) {
    log(`vmlinux: up to date`);
  } else {
    const started = Date.now();
    const format = extractVmlinux(paths.vmlinuz, paths.vmlinux);
    log(`vmlinux: ${format} payload decompressed, ${(statSync(paths.vmlinux).size / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

export interface BzImagePayload {
  /** Compression, from the payload's magic bytes. */
  format: "gzip" | "xz" | "zstd" | "lz4" | "lzma" | "bzip2" | "lzo" | "unknown";
  offset: number;
  length: number;
}

/**
 * Where a bzImage keeps its compressed vmlinux (boot protocol 2.08+):
 * payload_offset (0x248) counts from the protected-mode code, which starts
 * after the (setup_sects + 1) sectors of real-mode setup.
 */
export function bzImagePayload(image: Buffer): BzImagePayload {
  if (image.length < 0x250 || image.toString("latin1", 0x202, 0x206) !== "HdrS") throw new Error("not a bzImage (no HdrS header)");
  const version = image.readUInt16LE(0x206);
  if (version < 0x208) throw new Error(`boot protocol ${version.toString(16)} has no payload fields (needs 2.08+)`);
  const setupSects = image[0x1f1] === 0 ? 4 : image[0x1f1];
  const offset = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (offset + length > image.length) throw new Error("bzImage payload runs past the end of the file");
  const magic = image.subarray(offset, offset + 6);
  const starts = (...bytes: number[]) => bytes.every((b, i) => magic[i] === b);
  const format: BzImagePayload["format"] = starts(0x1f, 0x8b)
    ? "gzip"
    : starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)
      ? "xz"
      : starts(0x28, 0xb5, 0x2f, 0xfd)
        ? "zstd"
        : starts(0x02, 0x21, 0x4c, 0x18)
          ? "lz4"
          : starts(0x5d, 0x00)
            ? "lzma"
            : starts(0x42, 0x5a, 0x68)
              ? "bzip2"
              : starts(0x89, 0x4c, 0x5a)
                ? "lzo"
                : "unknown";
  return { format, offset, length };
}

/** Decompresses a bzImage's payload to an ELF vmlinux (what the kernel's scripts/extract-vmlinux does). */
export function extractVmlinux(bzImage: string, out: string): string {
  const image = readFileSync(bzImage);
  const payload = bzImagePayload(image);
  const data = image.subarray(payload.offset, payload.offset + payload.length);
  const tmp = `${out}.tmp`;
  if (payload.format === "gzip") {
    writeFileSync(tmp, gunzipSync(data));
  } else if (payload.format === "xz" || payload.format === "zstd") {
    const compressed = `${tmp}.${payload.format}`;
    writeFileSync(compressed, data);
    const fd = openSync(tmp, "w");
    try {
      // The payload ends with the 4-byte decompressed size: one stream, ignore what follows.
      const [command, args] = payload.format === "xz" ? ["xz", ["-dc", "--single-stream", compressed]] : ["zstd", ["-dcq", compressed]];
      const result = spawnSync(command, args, { stdio: ["ignore", fd, "pipe"], encoding: "utf8" });
      if (result.error || result.status !== 0) {
        throw new BuildError(`${command} could not decompress the payload of ${bzImage}: ${result.error?.message ?? result.stderr}`);
      }
    } finally {
      closeSync(fd);
      rmSync(compressed, { force: true });
    }
  } else {
    throw new BuildError(`${bzImage}: ${payload.format} payloads are not supported (gzip, xz and zstd are)`);
  }
  const head = Buffer.alloc(4);
  const fd = openSync(tmp, "r");
  readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  if (!head.equals(ELF_MAGIC)) throw new BuildError(`the payload of ${bzImage} did not decompress to an ELF file`);
  renameSync(tmp, out);
  return payload.format;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

// ---------------------------------------------------------------------------
// Step 4: static programs from tests/programs

export const PROGRAM_CFLAGS = ["-static", "-O2", "-pthread", "-Wall", "-Wextra", "-Werror"];

export function buildPrograms(repoRoot: string, outDir: string, force: boolean, log: (line: string) => void): string[] {
  const srcDir = join(repoRoot, "tests/programs");
  mkdirSync(outDir, { recursive: true });
  const built: string[] = [];
  for (const file of readdirSync(srcDir).filter((name) => name.endsWith(".c")).sort()) {
    const source = join(srcDir, file);
    const out = join(outDir, file.slice(0, -2));
    if (!force && upToDate(out, [source])) {
      log(`${relativeToRepo(out)}: up to date`);
    } else {
      const tmp = `${out}.tmp`;
      run("gcc", [...PROGRAM_CFLAGS, "-o", tmp, source]);
      renameSync(tmp, out);
      log(`${relativeToRepo(out)}: gcc ${PROGRAM_CFLAGS.join(" ")}`);
    }
    built.push(out);
  }
  return built;
}

/** A program for the host (not the guest): gcc -O2, dynamically linked. */
function buildHostTool(source: string, out: string, force: boolean, log: (line: string) => void): void {
  if (!force && upToDate(out, [source])) {
    log(`${relativeToRepo(out)}: up to date`);
    return;
  }
  run("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", `${out}.tmp`, source]);
  renameSync(`${out}.tmp`, out);
  log(`${relativeToRepo(out)}: gcc -O2 (host tool)`);
}

// ---------------------------------------------------------------------------
// Step 5: the initramfs

export interface InitramfsInputs {
  busybox: string;
  init: string;
  programs: string[];
  modules: KernelModule[];
}

/** The applet paths busybox installs itself under, e.g. "usr/bin/[" and "sbin/ifconfig". */
export function busyboxApplets(busybox: string): string[] {
  return run(busybox, ["--list-full"])
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

export function initramfsArchive(inputs: InitramfsInputs): CpioWriter {
  const cpio = new CpioWriter();
  for (const dir of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "lib/modules", "bench"]) cpio.dir(dir);
  cpio.dir("dev").dir("proc", 0o555).dir("sys", 0o555).dir("tmp", 0o1777).dir("run");
  // The kernel opens /dev/console for init before anything is mounted.
  cpio.charDevice("dev/console", 5, 1, 0o600).charDevice("dev/null", 1, 3, 0o666);
  cpio.file("bin/busybox", readFileSync(inputs.busybox), 0o755);
  for (const applet of busyboxApplets(inputs.busybox)) {
    if (applet === "bin/busybox" || applet === "init" || applet === "linuxrc" || cpio.has(applet)) continue;
    cpio.symlink(applet, "/bin/busybox");
  }
  cpio.file("init", readFileSync(inputs.init), 0o755);
  cpio.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  cpio.file("etc/group", "root:x:0:\n");
  for (const program of inputs.programs) cpio.file(`bin/${basename(program)}`, readFileSync(program), 0o755);
  const programNames = new Set(inputs.programs.map((p) => basename(p)));
  for (const bench of Object.values(BENCHMARKS)) {
    if (programNames.has(bench.program)) cpio.symlink(`bench/${bench.name}`, `/bin/${bench.program}`);
  }
  if (inputs.modules.length > 0) {
    for (const module of inputs.modules) cpio.file(`lib/modules/${module.relativePath}`, readFileSync(module.path), 0o644);
    cpio.file("lib/modules/load.list", inputs.modules.map((m) => m.relativePath).join("\n") + "\n");
  }
  return cpio;
}

function buildInitramfs(inputs: InitramfsInputs, paths: GuestPaths, force: boolean, log: (line: string) => void): void {
  const manifestPath = `${paths.initramfs}.manifest.json`;
  const manifest = JSON.stringify({
    busybox: inputs.busybox,
    programs: inputs.programs,
    modules: inputs.modules.map((m) => m.relativePath),
    benchmarks: Object.values(BENCHMARKS).map((b) => [b.name, b.program]),
  });
  const sources = [
    inputs.busybox, inputs.init, ...inputs.programs, ...inputs.modules.map((m) => m.path),
    join(HERE, "build.ts"), join(HERE, "cpio.ts"), join(HERE, "benchmarks.ts"),
  ];
  if (!force && upToDate(paths.initramfs, sources) && existsSync(manifestPath) && readFileSync(manifestPath, "utf8") === manifest) {
    log(`initramfs: up to date`);
    return;
  }
  const cpio = initramfsArchive(inputs);
  const raw = cpio.toBuffer();
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(`${paths.initramfs}.tmp`, gz);
  renameSync(`${paths.initramfs}.tmp`, paths.initramfs);
  writeFileSync(manifestPath, manifest);
  const mods = inputs.modules.length ? `, modules ${inputs.modules.map((m) => m.name).join(" ")}` : "";
  log(`initramfs: ${cpio.size} entries, ${(raw.length / 1e6).toFixed(2)} MB, ${(gz.length / 1e6).toFixed(2)} MB gzipped${mods}`);
}

// ---------------------------------------------------------------------------

function relativeToRepo(path: string): string {
  return path.startsWith(REPO_ROOT + "/") ? path.slice(REPO_ROOT.length + 1) : path;
}

export function buildLinuxGuest(options: BuildOptions = {}): BuildResult {
  const paths = guestPaths(options.repoRoot);
  const force = options.force ?? false;
  const log = options.log ?? ((line: string) => console.log(line));
  const steps = 6;
  let n = 0;
  const step = (title: string): ((line: string) => void) => {
    n++;
    const prefix = `linux-guest [${n}/${steps}] ${title}: `;
    return (line: string) => log(prefix + line);
  };
  mkdirSync(paths.root, { recursive: true });

  ensureTools(step("tools"));

  const pkgLog = step("packages");
  const resolved = resolvePackages(paths, force, pkgLog);
  const kernelPkg = resolved.kernel;
  const kernelDeb = fetchDeb(kernelPkg, paths, pkgLog);
  const busyboxDeb = fetchDeb(resolved.busybox, paths, pkgLog);

  const extractLog = step("extract");
  const kernelDir = extractDeb(kernelDeb, kernelPkg.name, paths, force, extractLog);
  const busyboxDir = extractDeb(busyboxDeb, BUSYBOX_PACKAGE, paths, force, extractLog);

  const kernel = findKernel(kernelDir);
  installKernel(kernel.image, paths, force, step("kernel"));

  const programLog = step("programs");
  const programs = buildPrograms(options.repoRoot ?? REPO_ROOT, paths.programs, force, programLog);
  buildHostTool(join(HERE, "host_tsc_khz.c"), paths.hostTscKhz, force, programLog);

  const moduleDir = join(kernelDir, "lib/modules", kernel.version);
  const modules = resolveModules(moduleDir, options.modules ?? []);
  const busybox = join(busyboxDir, "bin/busybox");
  if (!existsSync(busybox)) throw new BuildError(`${busybox} is missing from ${basename(busyboxDeb)}`);
  buildInitramfs({ busybox, init: join(HERE, "init.sh"), programs, modules }, paths, force, step("initramfs"));

  return {
    vmlinuz: paths.vmlinuz,
    vmlinux: paths.vmlinux,
    initramfs: paths.initramfs,
    kernelPackage: kernelPkg.name,
    kernelVersion: kernel.version,
    programs,
    modules,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      modules: { type: "string", default: "" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log("usage: npx tsx scripts/linux-guest/build.ts [--modules name,name] [--force]");
    return;
  }
  const started = Date.now();
  const modules = values.modules.split(",").map((m) => m.trim()).filter((m) => m.length > 0);
  const result = buildLinuxGuest({ modules, force: values.force });
  console.log(
    `linux-guest: ${relativeToRepo(result.vmlinuz)}, ${relativeToRepo(result.vmlinux)} (${result.kernelVersion}) and ${relativeToRepo(result.initramfs)} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (error) {
    console.error(`linux-guest: ${(error as Error).message}`);
    process.exit(1);
  }
}
