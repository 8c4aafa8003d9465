// Debian's busybox-static, unmodified, runs its applets on Wisp and prints
// what the same binary prints on the host for the same files. The root file
// system is a cpio archive (tests/busybox/rootfs.ts) passed as the initrd:
// the kernel unpacks it into ramfs and runs the program named after `--`.
// One boot per command (no pipes or second processes): every check is a
// single applet invocation whose output and exit status are compared.
//
// What legitimately differs is normalized, the same way on both sides:
// - the host tree lives under build/busybox/host: that prefix is mapped onto
//   "/" in the arguments and removed from the output;
// - `ls -l`: owner and group columns (the host may run as another user), the
//   date column, directory sizes (file-system specific) and the "total"
//   block count are replaced by "-";
// - `find` and `grep -r` print in directory order, which differs between
//   file systems: their lines are sorted;
// - carriage returns the console adds before line feeds are dropped.
// Everything else (file sizes, link counts, modes, contents, tar listings,
// checksums, exit statuses) must be identical.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runGuest } from "../../scripts/run/guest.ts";
import { BUSYBOX, buildRootfs, HOST_ROOT } from "./rootfs.ts";

const KERNEL = "build/kernel.elf";

interface Check {
  /** The program's path in the tree ("/bin/busybox" or an applet's symlink) and its arguments (no spaces: the kernel command line has no quoting). */
  argv: string[];
  /** Sort the output lines (directory-order output). */
  sorted?: boolean;
  /** Normalize `ls -l` lines. */
  longListing?: boolean;
}

const CHECKS: Check[] = [
  { argv: ["/bin/echo", "hello", "from", "busybox"] },
  { argv: ["/bin/busybox", "echo", "-e", "tab\\there"] },
  { argv: ["/bin/busybox", "cat", "/data/hello.txt", "/data/words.txt"] },
  { argv: ["/bin/cat", "-n", "/data/link"] },
  { argv: ["/bin/busybox", "ls", "--color=never", "-l", "/data"], longListing: true },
  { argv: ["/bin/busybox", "ls", "--color=never", "-laR", "/data/tree"], longListing: true },
  { argv: ["/bin/ls", "--color=never", "-1", "/data/tree/sub"] },
  { argv: ["/bin/busybox", "wc", "/data/lorem.txt", "/data/words.txt", "/data/numbers.txt"] },
  { argv: ["/bin/wc", "-l", "/data/lorem.txt"] },
  { argv: ["/bin/busybox", "sha256sum", "/data/hello.txt", "/data/archive.tar", "/bin/busybox"] },
  { argv: ["/bin/busybox", "seq", "1", "20"] },
  { argv: ["/bin/seq", "10", "-3", "-5"] },
  { argv: ["/bin/busybox", "sort", "/data/words.txt"] },
  { argv: ["/bin/busybox", "sort", "-n", "/data/numbers.txt"] },
  { argv: ["/bin/sort", "-u", "-r", "/data/words.txt"] },
  { argv: ["/bin/busybox", "find", "/data", "-name", "*.txt"], sorted: true },
  { argv: ["/bin/find", "/data/tree", "-type", "d"], sorted: true },
  { argv: ["/bin/busybox", "grep", "-n", "apple", "/data/words.txt"] },
  { argv: ["/bin/busybox", "grep", "-rn", "needle", "/data/tree"], sorted: true },
  { argv: ["/bin/grep", "-c", "fig", "/data/words.txt"] },
  // No match: exit status 1 on both.
  { argv: ["/bin/grep", "kiwi", "/data/words.txt"] },
  { argv: ["/bin/busybox", "tar", "-tvf", "/data/archive.tar"] },
  // Extraction writes the files into ramfs; -v names each one as it is written.
  { argv: ["/bin/busybox", "tar", "-xvf", "/data/archive.tar", "-C", "/tmp"] },
  { argv: ["/bin/tar", "-xOf", "/data/archive.tar", "tree/sub/deeper/d.txt"] },
  { argv: ["/bin/busybox", "head", "-n", "3", "/data/lorem.txt"] },
  { argv: ["/bin/tail", "-n", "2", "/data/lorem.txt"] },
  { argv: ["/bin/busybox", "uniq", "-c", "/data/numbers.txt"] },
  // Shell builtins only (no fork): variables, arithmetic, a loop, cd, a redirection, exit 3.
  { argv: ["/bin/sh", "/data/script.sh"] },
];

/** The host path for a path in the tree. */
function onHost(arg: string): string {
  return /^\/(data|tmp|bin|etc)(\/|$)/.test(arg) ? join(HOST_ROOT, arg) : arg;
}

const LONG_LINE = /^([-dlcbps][-rwxsStT]{9})\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\w{3}\s+\d+\s+[\d:]+)\s(.*)$/;

export function normalize(output: string, check: Check): string {
  let lines = output.replace(/\r\n/g, "\n").split(HOST_ROOT).join("").split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (check.longListing === true) {
    lines = lines.map((line) => {
      if (/^total \d+$/.test(line)) return "total -";
      const m = LONG_LINE.exec(line);
      if (m === null) return line;
      const size = m[1].startsWith("d") ? "-" : m[5];
      return `${m[1]} ${m[2]} - - ${size} - ${m[7]}`;
    });
  }
  if (check.sorted === true) lines.sort();
  return lines.join("\n");
}

interface Run { output: string; status: number | null }

function runOnHost(check: Check): Promise<Run> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = check.argv;
    const child = spawn(onHost(program), args.map(onHost), {
      // The tree's root, as "/" is Wisp's working directory (the shell script uses relative paths).
      cwd: HOST_ROOT,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", TERM: "linux", HOME: "/", TZ: "UTC" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    child.on("error", reject);
    child.on("close", (code) => resolve({ output, status: code }));
  });
}

const EXITED = "wisp: application exited with status ";

/** The application's part of a Wisp console log: after the boot lines, before the exit line, without kernel lines. */
export function applicationOutput(console: string): string {
  const text = console.replace(/\r\n/g, "\n");
  const start = text.indexOf("wisp: booted in ");
  const end = text.indexOf(EXITED);
  const body = text.slice(start < 0 ? 0 : start, end < 0 ? text.length : end);
  return body.split("\n").filter((line) => !/^(wisp|drivers): /.test(line)).join("\n");
}

async function runOnWisp(check: Check, archive: string): Promise<Run & { console: string }> {
  const result = await runGuest({
    kernel: KERNEL,
    machine: "microvm",
    accel: "tcg",
    smp: 1,
    memory: "256M",
    cmdline: ["--", ...check.argv].join(" "),
    extraArgs: ["-initrd", archive],
    timeoutMs: 60_000,
  });
  return { output: applicationOutput(result.output), status: result.status, console: result.output };
}

let archive = "";

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make`);
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: npm run setup installs busybox-static`);
  archive = buildRootfs();
});

describe("busybox-static applets on Wisp print what they print on the host", () => {
  it.each(CHECKS.map((check) => [check.argv.join(" "), check] as const))("%s", async (_name, check) => {
    const host = await runOnHost(check);
    const hostText = normalize(host.output, check);
    // The host run itself must have done something, or the comparison proves nothing.
    expect(hostText.length > 0 || host.status !== 0, `host: ${host.output}`).toBe(true);
    const wisp = await runOnWisp(check, archive);
    expect(wisp.console, "Wisp console").not.toContain("wisp: panic");
    expect(normalize(wisp.output, check), wisp.console).toBe(hostText);
    expect(wisp.status, wisp.console).toBe(host.status);
  }, 90_000);
});
