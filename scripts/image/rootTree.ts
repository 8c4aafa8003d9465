/**
 * The guest's root file system as the image builder collects it (from a
 * manifest, from --app's dependency resolution) before it becomes a cpio
 * "newc" archive (the format Linux's initramfs uses; the kernel's VFS unpacks
 * it into ramfs). Entries are keyed by guest path; file contents are read
 * from the host when the archive is written.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { CpioWriter } from "../linux-guest/cpio.ts";
import { ImageError } from "./errors.js";

export type TreeEntry =
  | { kind: "dir"; mode: number }
  | { kind: "file"; mode: number; host: string }
  | { kind: "symlink"; target: string };

export class RootTree {
  readonly entries = new Map<string, TreeEntry>();

  /** Adds (or replaces) the entry at absolute guest path `guest`. */
  set(guest: string, entry: TreeEntry): void {
    const existing = this.entries.get(guest);
    if (existing?.kind === "dir" && entry.kind === "dir") return;
    this.entries.set(guest, entry);
  }

  /** A host file (its permission bits kept), following a symlink. */
  addFile(guest: string, host: string): void {
    const stat = statSync(host);
    if (!stat.isFile()) throw new ImageError(`${host} is not a regular file`);
    this.set(guest, { kind: "file", mode: stat.mode & 0o7777, host });
  }

  /** A host file or directory: directories recursively, symlinks within them kept as symlinks. */
  addHostPath(guest: string, host: string): void {
    const stat = statSync(host);
    if (stat.isFile()) return this.addFile(guest, host);
    if (!stat.isDirectory()) throw new ImageError(`${host} is neither a file nor a directory`);
    if (guest !== "/") this.set(guest, { kind: "dir", mode: stat.mode & 0o7777 });
    for (const name of readdirSync(host).sort()) {
      const hostChild = join(host, name);
      const guestChild = guest === "/" ? `/${name}` : `${guest}/${name}`;
      const child = lstatSync(hostChild);
      if (child.isSymbolicLink()) this.set(guestChild, { kind: "symlink", target: readlinkSync(hostChild) });
      else if (child.isDirectory()) this.addHostPath(guestChild, hostChild);
      else if (child.isFile()) this.set(guestChild, { kind: "file", mode: child.mode & 0o7777, host: hostChild });
      // Sockets, FIFOs and devices have no place in an image.
    }
  }

  /** The archive's bytes: parents before children, the same input giving the same bytes. */
  toCpio(): Buffer {
    const writer = new CpioWriter();
    for (const guest of [...this.entries.keys()].sort()) {
      const entry = this.entries.get(guest)!;
      const path = guest.slice(1);
      if (path.length === 0) continue;
      if (entry.kind === "dir") writer.dir(path, entry.mode);
      else if (entry.kind === "symlink") writer.symlink(path, entry.target);
      else writer.file(path, readFileSync(entry.host), entry.mode);
    }
    return writer.toBuffer();
  }
}
