/**
 * What a dynamically linked program needs in the image, found the way ldd
 * (glibc's ld.so) finds it: the PT_INTERP interpreter, then every DT_NEEDED
 * library, breadth first, searched in DT_RPATH (when there is no
 * DT_RUNPATH), DT_RUNPATH, the directories of /etc/ld.so.conf (and its
 * includes) and the default directories. A name already loaded (by file
 * name or DT_SONAME) is not searched again. Symlinks on the way are kept as
 * symlinks under the names the loader looks up, with their targets.
 *
 * Guest paths are the host paths: the image mirrors where the files are on
 * the host, so the guest's loader finds them in the same directories.
 * `root` (tests) prefixes every host access.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { posix } from "node:path";
import { readDynamicInfo } from "./elfDynamic.js";
import { ImageError } from "./errors.js";
import type { RootTree } from "./rootTree.js";

/** Where glibc's loader looks when nothing else names a directory (x86-64, multiarch). */
export const DEFAULT_LIBRARY_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];
/** Directories the guest's loader searches without help (no ld.so.cache in
 * the image): libraries found elsewhere need LD_LIBRARY_PATH. */
export const GUEST_LOADER_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"];

export interface ResolveOptions {
  /** Prefix of every host path (default ""). */
  root?: string;
  /** The loader configuration (default /etc/ld.so.conf under root). */
  ldSoConf?: string;
}

export interface ResolvedLibrary {
  /** The DT_NEEDED name. */
  name: string;
  /** Path where the loader finds it (maybe a symlink). */
  path: string;
}

export interface Resolution {
  program: string;
  interpreter: string | null;
  libraries: ResolvedLibrary[];
  /** Libraries glibc loads at run time without a DT_NEEDED (libgcc_s.so.1), when the host has them. */
  runtimeLibraries: ResolvedLibrary[];
  /** Every path to put in the image: files, and symlinks with their targets. */
  files: { path: string; symlinkTarget: string | null }[];
  /** Directories outside GUEST_LOADER_DIRS that libraries were found in. */
  extraLibraryDirs: string[];
}

/** The directories /etc/ld.so.conf lists, includes (with a * pattern) followed. */
export function ldSoConfDirs(file: string, root = "", depth = 0): string[] {
  if (depth > 8 || !existsSync(root + file)) return [];
  const dirs: string[] = [];
  for (const raw of readFileSync(root + file, "utf8").split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line.length === 0 || line.startsWith("hwcap ")) continue;
    if (line.startsWith("include ")) {
      for (const pattern of line.slice(8).trim().split(/\s+/)) {
        const absolute = pattern.startsWith("/") ? pattern : posix.join(posix.dirname(file), pattern);
        for (const included of expandPattern(absolute, root)) dirs.push(...ldSoConfDirs(included, root, depth + 1));
      }
      continue;
    }
    for (const dir of line.split(/[:,\s]+/)) if (dir.startsWith("/")) dirs.push(posix.normalize(dir));
  }
  return [...new Set(dirs)];
}

/** Files matching a path whose last component may hold `*` (sorted, as glob). */
function expandPattern(pattern: string, root: string): string[] {
  const dir = posix.dirname(pattern);
  const base = posix.basename(pattern);
  if (!base.includes("*")) return existsSync(root + pattern) ? [pattern] : [];
  const regex = new RegExp("^" + base.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
  let names: string[];
  try {
    names = readdirSync(root + dir);
  } catch {
    return [];
  }
  return names.filter((name) => regex.test(name)).sort().map((name) => posix.join(dir, name));
}

/** Is there a regular file at `path` (symlinks followed)? */
function isFile(root: string, path: string): boolean {
  try {
    return statSync(root + path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

/** $ORIGIN (the object's directory) and $PLATFORM in a search path. */
function expandTokens(dir: string, origin: string): string {
  return dir.replace(/\$(\{ORIGIN\}|ORIGIN)/g, origin).replace(/\$(\{PLATFORM\}|PLATFORM)/g, "x86_64").replace(/\$(\{LIB\}|LIB)/g, "lib/x86_64-linux-gnu");
}

/**
 * Resolves `program` (an absolute host path). Throws ImageError naming the
 * library that cannot be found, or a file that is not a usable ELF object.
 */
export function resolveDependencies(program: string, options: ResolveOptions = {}): Resolution {
  const root = options.root ?? "";
  const configDirs = ldSoConfDirs(options.ldSoConf ?? "/etc/ld.so.conf", root);
  const files = new Map<string, string | null>();
  const extraDirs = new Set<string>();

  /** Adds `path` and, through its symlinks, the file it ends at; returns that file's path. */
  const addChain = (path: string): string => {
    let current = posix.normalize(path);
    for (let hops = 0; hops < 40; hops++) {
      const stat = lstatSync(root + current, { throwIfNoEntry: false });
      if (stat === undefined) throw new ImageError(`${current} does not exist`);
      if (!stat.isSymbolicLink()) {
        if (!stat.isFile()) throw new ImageError(`${current} is not a regular file`);
        files.set(current, null);
        return current;
      }
      const target = readlinkSync(root + current);
      files.set(current, target);
      current = target.startsWith("/") ? posix.normalize(target) : posix.join(posix.dirname(current), target);
    }
    throw new ImageError(`${path}: too many levels of symbolic links`);
  };

  const programInfo = readDynamicInfo(readFileSync(root + program), program);
  const programFile = addChain(program);
  let interpreter: string | null = null;
  const loaded = new Set<string>();
  if (programInfo.interpreter !== null) {
    interpreter = programInfo.interpreter;
    const file = addChain(interpreter);
    const info = readDynamicInfo(readFileSync(root + file), file);
    loaded.add(posix.basename(interpreter));
    if (info.soname !== null) loaded.add(info.soname);
  }

  const libraries: ResolvedLibrary[] = [];
  const runtimeLibraries: ResolvedLibrary[] = [];
  const queue: { path: string; file: string; runpath: string[]; rpath: string[]; needed: string[]; runtime?: boolean }[] = [];
  queue.push({ path: program, file: programFile, ...programInfo });
  const programRpath = programInfo.runpath.length === 0 ? programInfo.rpath.map((d) => expandTokens(d, posix.dirname(program))) : [];
  // glibc dlopens libgcc_s.so.1 at run time (pthread_exit and cancellation
  // unwind through it), so ldd never lists it: a program that uses libc
  // gets it too when the host has it.
  const runtimeLoaded = ["libgcc_s.so.1"];
  let runtimeAdded = false;
  while (queue.length > 0 || !runtimeAdded) {
    if (queue.length === 0) {
      runtimeAdded = true;
      const wanted = runtimeLoaded.filter(
        (name) => loaded.has("libc.so.6") && !loaded.has(name) && [...configDirs, ...DEFAULT_LIBRARY_DIRS].some((dir) => isFile(root, posix.join(dir, name))),
      );
      if (wanted.length > 0) queue.push({ path: program, file: programFile, runpath: [], rpath: [], needed: wanted, runtime: true });
      continue;
    }
    const object = queue.shift()!;
    const origin = posix.dirname(object.path);
    const rpath = object.runpath.length === 0 ? [...object.rpath.map((d) => expandTokens(d, origin)), ...programRpath] : [];
    const runpath = object.runpath.map((d) => expandTokens(d, origin));
    for (const name of object.needed) {
      if (loaded.has(name)) continue;
      let found: string | null = null;
      if (name.includes("/")) {
        found = name.startsWith("/") ? name : posix.join(origin, name);
        if (!isFile(root, found)) found = null;
      } else {
        for (const dir of [...rpath, ...runpath, ...configDirs, ...DEFAULT_LIBRARY_DIRS]) {
          const candidate = posix.join(dir, name);
          if (isFile(root, candidate)) {
            found = candidate;
            break;
          }
        }
      }
      if (found === null) throw new ImageError(`${object.path} needs ${name}, which is in none of the library directories`);
      loaded.add(name);
      (object.runtime === true ? runtimeLibraries : libraries).push({ name, path: found });
      const dir = posix.dirname(found);
      if (!GUEST_LOADER_DIRS.includes(dir)) extraDirs.add(dir);
      const file = addChain(found);
      const info = readDynamicInfo(readFileSync(root + file), file);
      if (info.soname !== null) loaded.add(info.soname);
      queue.push({ path: found, file, ...info });
    }
  }
  return {
    program,
    interpreter,
    libraries,
    runtimeLibraries,
    files: [...files].map(([path, symlinkTarget]) => ({ path, symlinkTarget })),
    extraLibraryDirs: [...extraDirs],
  };
}

/** Puts a resolution's files into `tree` (guest path = host path). */
export function addResolution(tree: RootTree, resolution: Resolution, root = ""): void {
  for (const { path, symlinkTarget } of resolution.files) {
    if (symlinkTarget !== null) tree.set(path, { kind: "symlink", target: symlinkTarget });
    else tree.addFile(path, root + path);
  }
}
