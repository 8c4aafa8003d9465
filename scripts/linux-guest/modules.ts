// Kernel modules from an extracted linux-image package, with their
// dependencies. The package ships no modules.dep (depmod writes it when the
// package is installed), so dependencies come from each module's own
// `.modinfo` ELF section: its "depends=a,b" entry names the modules it needs.
// Built-in drivers (modules.builtin) need nothing and are skipped.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, relative } from "node:path";

export interface KernelModule {
  /** Canonical name: '-' folded to '_', as the kernel does. */
  name: string;
  /** Absolute path of the .ko file. */
  path: string;
  /** Path relative to /lib/modules/<version>/, e.g. kernel/drivers/net/virtio_net.ko */
  relativePath: string;
  depends: string[];
}

export const canonicalModuleName = (name: string): string => name.replace(/\.ko(\.(xz|gz|zst))?$/, "").replace(/-/g, "_");

/** The NUL-separated key=value strings of an ELF64 object's .modinfo section. */
export function readModinfo(elf: Buffer): Map<string, string[]> {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new Error("not an ELF file");
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error("not a little-endian ELF64 file");
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  if (shoff === 0 || shnum === 0 || shoff + shnum * shentsize > elf.length) throw new Error("bad ELF section header table");
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: elf.readUInt32LE(at),
      offset: Number(elf.readBigUInt64LE(at + 0x18)),
      size: Number(elf.readBigUInt64LE(at + 0x20)),
    };
  };
  const names = section(shstrndx);
  const nameOf = (offset: number): string => {
    const start = names.offset + offset;
    const end = elf.indexOf(0, start);
    return elf.toString("latin1", start, end < 0 ? start : end);
  };
  const info = new Map<string, string[]>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (nameOf(s.name) !== ".modinfo") continue;
    if (s.offset + s.size > elf.length) throw new Error(".modinfo runs past the end of the file");
    for (const entry of elf.toString("latin1", s.offset, s.offset + s.size).split("\0")) {
      const eq = entry.indexOf("=");
      if (eq <= 0) continue;
      const key = entry.slice(0, eq);
      info.set(key, [...(info.get(key) ?? []), entry.slice(eq + 1)]);
    }
    return info;
  }
  throw new Error("no .modinfo section (not a kernel module?)");
}

/** Every .ko under root/lib/modules/<version>/, by canonical name. */
export function indexModules(moduleDir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ko(\.(xz|gz|zst))?$/.test(entry.name)) index.set(canonicalModuleName(entry.name), path);
    }
  };
  walk(moduleDir);
  return index;
}

/** Names listed in modules.builtin (drivers compiled into the kernel). */
export function builtinModules(moduleDir: string): Set<string> {
  const file = join(moduleDir, "modules.builtin");
  if (!existsSync(file)) return new Set();
  return new Set(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => canonicalModuleName(line.slice(line.lastIndexOf("/") + 1))),
  );
}

/**
 * The modules to load for `wanted`, dependencies first (the order insmod
 * needs). Names that are built into the kernel are dropped; an unknown name
 * or a compressed module (busybox insmod loads plain .ko only) is an error.
 */
export function resolveModules(moduleDir: string, wanted: string[]): KernelModule[] {
  const index = indexModules(moduleDir);
  const builtin = builtinModules(moduleDir);
  const ordered: KernelModule[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (raw: string, chain: string[]): void => {
    const name = canonicalModuleName(raw);
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`module dependency cycle: ${[...chain, name].join(" -> ")}`);
    const path = index.get(name);
    if (path === undefined) {
      if (builtin.has(name)) return;
      throw new Error(`kernel module '${name}' not found in ${moduleDir}${chain.length ? ` (needed by ${chain.join(" -> ")})` : ""}`);
    }
    if (!path.endsWith(".ko")) throw new Error(`${path}: compressed modules are not supported`);
    state.set(name, "visiting");
    const depends = (readModinfo(readFileSync(path)).get("depends") ?? [])
      .flatMap((list) => list.split(","))
      .filter((dep) => dep.length > 0)
      .map(canonicalModuleName);
    for (const dep of depends) visit(dep, [...chain, name]);
    state.set(name, "done");
    ordered.push({ name, path, relativePath: relative(moduleDir, path), depends });
  };
  for (const name of wanted) visit(name, []);
  return ordered;
}
