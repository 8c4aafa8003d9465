/**
 * The image's root file system: a manifest's files (--manifest) and an
 * application with its interpreter and libraries (--app), packed into one
 * cpio "newc" archive, plus the command-line tail that runs the application.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { addResolution, resolveDependencies, type Resolution } from "./dependencies.js";
import { ImageError, UsageError } from "./errors.js";
import { ManifestError, parseManifest } from "./manifest.js";
import { RootTree } from "./rootTree.js";

export interface RootArchiveOptions {
  manifest?: string;
  /** The application (host path) and its arguments. */
  app?: { path: string; args: string[] };
}

export interface RootArchive {
  archive: Buffer;
  tree: RootTree;
  resolution: Resolution | null;
  /** `-- [LD_LIBRARY_PATH=...] /app args` for the kernel command line, or "". */
  commandTail: string;
}

export function buildRootArchive(options: RootArchiveOptions): RootArchive {
  const tree = new RootTree();
  if (options.manifest !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.manifest, "utf8");
    } catch {
      throw new ImageError(`manifest ${options.manifest} cannot be read`);
    }
    const lines = parseManifest(text, options.manifest, dirname(resolve(options.manifest)));
    for (const line of lines) {
      if (statSync(line.host, { throwIfNoEntry: false }) === undefined) {
        throw new ManifestError(options.manifest, line.line, `host path ${line.host} does not exist`);
      }
      try {
        tree.addHostPath(line.guest, line.host);
      } catch (e) {
        throw new ManifestError(options.manifest, line.line, e instanceof Error ? e.message : String(e));
      }
    }
  }
  let resolution: Resolution | null = null;
  let commandTail = "";
  if (options.app !== undefined) {
    const path = resolve(options.app.path);
    if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) throw new ImageError(`--app ${options.app.path} is not a file`);
    resolution = resolveDependencies(path);
    addResolution(tree, resolution);
    for (const word of [path, ...options.app.args]) {
      if (word.length === 0 || /\s/.test(word)) throw new UsageError(`the kernel command line splits at white space: cannot pass "${word}"`);
    }
    const env = resolution.extraLibraryDirs.length > 0 ? [`LD_LIBRARY_PATH=${resolution.extraLibraryDirs.join(":")}`] : [];
    commandTail = ["--", ...env, path, ...options.app.args].join(" ");
  }
  return { archive: tree.toCpio(), tree, resolution, commandTail };
}
