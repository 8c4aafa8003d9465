/**
 * The image manifest: which host files go where in the guest's root file
 * system. One mapping per line, `guest/path: host/path`; blank lines and
 * lines starting with `#` are ignored. Guest paths are absolute; host paths
 * are relative to the manifest's directory unless absolute. A host
 * directory is copied recursively (symlinks inside it stay symlinks); a host
 * symlink named directly is followed.
 *
 *   # the program and its configuration
 *   /usr/bin/memcached: /usr/bin/memcached
 *   /etc/memcached.conf: config/memcached.conf
 *   /srv/www: site/
 */
import { isAbsolute, join, resolve } from "node:path";
import { ImageError } from "./errors.js";

export interface ManifestLine {
  /** Absolute, normalized guest path ("/" for the root). */
  guest: string;
  /** Absolute host path. */
  host: string;
  /** 1-based line number in the manifest. */
  line: number;
}

/** A manifest problem, reported as FILE:LINE: message. */
export class ManifestError extends ImageError {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "ManifestError";
  }
}

/** "/usr//bin/./x/" -> "/usr/bin/x"; null when it is not absolute or has "..". */
export function normalizeGuestPath(path: string): string | null {
  if (!path.startsWith("/")) return null;
  const parts = path.split("/").filter((part) => part.length > 0 && part !== ".");
  if (parts.includes("..")) return null;
  return "/" + parts.join("/");
}

/**
 * Parses manifest text. `file` names it in errors; relative host paths are
 * resolved against `baseDir`. Throws ManifestError at the first bad line.
 */
export function parseManifest(text: string, file: string, baseDir: string): ManifestLine[] {
  const lines: ManifestLine[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed.length === 0 || trimmed.startsWith("#")) return;
    // The separator is the first colon followed by white space or the end.
    const match = /^(.*?):(?:\s+(.*))?$/.exec(trimmed);
    if (match === null) throw new ManifestError(file, line, `expected "guest/path: host/path", got "${trimmed}"`);
    const guestText = match[1].trim();
    const hostText = (match[2] ?? "").trim();
    if (guestText.length === 0) throw new ManifestError(file, line, "missing guest path before ':'");
    if (hostText.length === 0) throw new ManifestError(file, line, `missing host path after "${guestText}:"`);
    const guest = normalizeGuestPath(guestText);
    if (guest === null) throw new ManifestError(file, line, `guest path "${guestText}" must be absolute and without ".."`);
    const previous = seen.get(guest);
    if (previous !== undefined) throw new ManifestError(file, line, `guest path ${guest} already given on line ${previous}`);
    seen.set(guest, line);
    lines.push({ guest, host: isAbsolute(hostText) ? resolve(hostText) : resolve(join(baseDir, hostText)), line });
  });
  return lines;
}
