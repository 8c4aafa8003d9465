// The file tree the busybox applet tests run on, built twice from one
// description: as a newc cpio archive (build/busybox/rootfs.cpio) that Wisp
// unpacks into its ramfs root at boot, and as a directory on the host
// (build/busybox/host/) for the same applets to run on natively. Every file
// and directory gets the same permission bits and the same mtime in both.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lutimesSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CpioWriter } from "../../scripts/linux-guest/cpio.ts";

export const BUSYBOX = "/bin/busybox";
export const OUTPUT_DIR = "build/busybox";
export const ARCHIVE = join(OUTPUT_DIR, "rootfs.cpio");
export const HOST_ROOT = resolve(OUTPUT_DIR, "host");
/** The mtime of everything in the tree: 2024-03-01 12:00:00 UTC. */
export const MTIME = 1709294400;

/** Applets reachable through a symlink /bin/<applet> -> busybox, as a Debian busybox install has them. */
export const APPLET_LINKS = ["sh", "echo", "cat", "ls", "wc", "sha256sum", "seq", "sort", "find", "grep", "tar", "head", "tail", "uniq"];

const WORDS = ["pear", "apple", "fig", "banana", "cherry", "apple", "date", "fig", "elderberry"];

/** Regular files under the root, path -> contents (the tar archive is added from the files under /data/tree). */
function dataFiles(): Map<string, string> {
  const files = new Map<string, string>();
  files.set("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  files.set("etc/group", "root:x:0:\n");
  files.set("data/hello.txt", "hello, world\nfrom the Wisp busybox test\n");
  files.set("data/words.txt", WORDS.join("\n") + "\n");
  files.set("data/numbers.txt", [42, 7, 1000, -3, 7, 19, 0, 256].join("\n") + "\n");
  files.set("data/lorem.txt", Array.from({ length: 40 }, (_, i) => `line ${i + 1}: lorem ipsum dolor sit amet ${"x".repeat(i % 7)}`).join("\n") + "\n");
  // Builtins only: no process is started. Relative paths: the host runs it with its tree's root as the working directory.
  files.set("data/script.sh", [
    "x=6", "y=7", 'echo "product $((x * y))"', 'for w in one two three; do echo "word $w"; done',
    "cd data/tree && pwd", "read first < ../hello.txt", 'echo "first line: $first"', "exit 3", "",
  ].join("\n"));
  files.set("data/tree/a.txt", "alpha\n");
  files.set("data/tree/b.txt", "beta\nbeta again\n");
  files.set("data/tree/sub/c.txt", "gamma: the needle is here\n");
  files.set("data/tree/sub/deeper/d.txt", "delta\nanother needle\n");
  return files;
}

const DIRECTORIES = ["bin", "etc", "tmp", "data", "data/tree", "data/tree/sub", "data/tree/sub/deeper"];

/**
 * Builds both trees (again when busybox or this description changed: the
 * outputs are rebuilt every time, it takes milliseconds) and returns the
 * archive's path.
 */
export function buildRootfs(): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: install busybox-static (npm run setup)`);
  const files = dataFiles();
  rmSync(HOST_ROOT, { recursive: true, force: true });
  for (const dir of DIRECTORIES) mkdirSync(join(HOST_ROOT, dir), { recursive: true });
  for (const [path, text] of files) {
    writeFileSync(join(HOST_ROOT, path), text);
    chmodSync(join(HOST_ROOT, path), 0o644);
  }
  symlinkSync("hello.txt", join(HOST_ROOT, "data/link"));
  symlinkSync(BUSYBOX, join(HOST_ROOT, "bin/busybox"));
  for (const applet of APPLET_LINKS) symlinkSync(BUSYBOX, join(HOST_ROOT, "bin", applet));
  // The archive is made on the host with fixed owners and times, so its bytes
  // (and what `tar tv` prints) do not depend on who builds it.
  for (const path of files.keys()) utimesSync(join(HOST_ROOT, path), MTIME, MTIME);
  for (const dir of DIRECTORIES) chmodSync(join(HOST_ROOT, dir), dir === "tmp" ? 0o1777 : 0o755);
  execFileSync("tar", [
    "--sort=name", `--mtime=@${MTIME}`, "--owner=0", "--group=0", "--numeric-owner", "--format=ustar",
    "-C", join(HOST_ROOT, "data"), "-cf", join(HOST_ROOT, "data/archive.tar"), "tree",
  ]);
  chmodSync(join(HOST_ROOT, "data/archive.tar"), 0o644);
  utimesSync(join(HOST_ROOT, "data/archive.tar"), MTIME, MTIME);
  lutimesSync(join(HOST_ROOT, "data/link"), MTIME, MTIME);
  for (const dir of [...DIRECTORIES].reverse()) utimesSync(join(HOST_ROOT, dir), MTIME, MTIME);

  const cpio = new CpioWriter(MTIME);
  for (const dir of DIRECTORIES) cpio.dir(dir, dir === "tmp" ? 0o1777 : 0o755);
  cpio.file("bin/busybox", readFileSync(BUSYBOX), 0o755);
  for (const applet of APPLET_LINKS) cpio.symlink(`bin/${applet}`, "busybox");
  for (const [path, text] of files) cpio.file(path, text, 0o644);
  cpio.file("data/archive.tar", readFileSync(join(HOST_ROOT, "data/archive.tar")), 0o644);
  cpio.symlink("data/link", "hello.txt");
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeFileSync(ARCHIVE, cpio.toBuffer());
  return ARCHIVE;
}
