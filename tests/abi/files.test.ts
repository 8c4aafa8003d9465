// The file system through the Linux ABI: the C checks of files, directories
// and special files (static and static-PIE), and the root archive: a cpio
// archive as the initrd holding a program found through PATH and its data,
// a program that is not there (127), and a corrupt archive (a log line, the
// boot goes on with what was unpacked).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { archiveBytes, renameEntry, saveArchive, writeArchive } from "./archive.ts";
import { buildProgram, checkLines, KERNEL, OUTPUT_DIR, runProgram, type Linking } from "./programs.ts";

const PROGRAMS = ["files", "dirs", "specials"];
const LINKINGS: Linking[] = ["static", "static-pie"];

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  for (const name of PROGRAMS) for (const linking of LINKINGS) buildProgram(name, linking);
  buildProgram("cat", "static");
}, 300_000);

describe.each(LINKINGS)("file system checks (gcc -%s)", (linking) => {
  it.each(PROGRAMS)("%s: every check passes", async (name) => {
    const result = await runProgram({ name, linking, args: ["arg1"] });
    expect(result.timedOut, result.output).toBe(false);
    const { ok, failed } = checkLines(result.output);
    expect(failed).toEqual([]);
    expect(ok.length).toBeGreaterThan(40);
    expect(result.output).toMatch(new RegExp(`^${name}: ${ok.length} checks, 0 failed$`, "m"));
    expect(result.output).not.toContain("not implemented");
    expect(result.status).toBe(0);
  });
});

describe("on two CPUs", () => {
  it.each(["files", "dirs"])("%s: every check passes", async (name) => {
    const result = await runProgram({ name, smp: 2 });
    expect(result.timedOut, result.output).toBe(false);
    expect(checkLines(result.output).failed).toEqual([]);
    expect(result.output).toMatch(new RegExp(`^${name}: \\d+ checks, 0 failed$`, "m"));
    expect(result.status).toBe(0);
  });
});

describe("root archive", () => {
  const cat = () => readFileSync(buildProgram("cat", "static"));

  it("unpacks a cpio archive and runs a program found through PATH that reads its files", async () => {
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = 0x41 + (i % 26);
    const archive = writeArchive("archive-cat", [
      { path: "usr/bin/cat", data: cat(), mode: 0o755 },
      { path: "data/hello.txt", data: "hello from the archive\n" },
      { path: "data/big.txt", data: big },
      { path: "etc/hostname", data: "archived-host\n" },
    ], { "data/link.txt": "hello.txt" });
    const result = await runProgram({
      name: "cat", initrd: archive, program: "cat", args: ["/data/link.txt", "/etc/hostname", "/data/big.txt"],
    });
    expect(result.timedOut).toBe(false);
    // Four files, a link and the four parent directories the writer adds.
    const log = result.output.split("\n").filter((line) => line.startsWith("wisp: "));
    expect(log).toContain("wisp: initrd: 9 entries unpacked");
    expect(result.output.includes("hello from the archive\narchived-host\n")).toBe(true);
    // The whole 100 000-byte file came through in order.
    const start = result.output.indexOf("ABCDEFGHIJ");
    expect(result.output.slice(start, start + big.length) === big.toString()).toBe(true);
    expect(result.status).toBe(0);
  });

  it("says a program that is not in the archive is not found, with status 127", async () => {
    const archive = writeArchive("archive-empty", [{ path: "data/x", data: "x" }]);
    const result = await runProgram({ name: "cat", initrd: archive, program: "nothere" });
    expect(result.output).toContain("wisp: cannot run nothere: not found");
    expect(result.status).toBe(127);
  });

  it("refuses a program without x bits with status 126", async () => {
    const archive = writeArchive("archive-noexec", [{ path: "bin/cat", data: cat(), mode: 0o644 }]);
    const result = await runProgram({ name: "cat", initrd: archive, program: "/bin/cat" });
    expect(result.output).toContain("wisp: cannot run /bin/cat: permission denied");
    expect(result.status).toBe(126);
  });

  it("survives hostile names and entry types, making what it can", async () => {
    const long = "n".repeat(300);
    const bytes = archiveBytes([
      { path: "bin/cat", data: cat(), mode: 0o755 },
      { path: "qqqqqqqqqqq", data: "escaped\n" },
      { path: "data/wwwwwwwwww", data: "escaped too\n" },
      { path: `data/${long}`, data: "long\n" },
      { path: "data/ok.txt", data: "still fine\n" },
    ], { "data/loop": "loop", "data/far": "/".repeat(10) + "data/ok.txt" }, 0, (writer) => {
      writer.charDevice("dev/ttyS9", 4, 73);
      writer.dir("proc/injected");
    });
    renameEntry(bytes, "qqqqqqqqqqq", "../outside1");
    renameEntry(bytes, "data/wwwwwwwwww", "data/../../../x");
    const archive = saveArchive("archive-hostile", bytes);
    const result = await runProgram({ name: "cat", initrd: archive, program: "/bin/cat", args: ["/data/ok.txt", "/data/far", "/data/loop"] });
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toContain("wisp: initrd: cannot make /../outside1");
    expect(result.output).toContain("wisp: initrd: cannot make /data/../../../x");
    expect(result.output).toContain(`wisp: initrd: cannot make /data/${long}`);
    expect(result.output).toMatch(/wisp: initrd: \d+ entries unpacked, 1 device nodes or FIFOs skipped/);
    expect(result.output).toContain("still fine\nstill fine\n");
    expect(result.output).toContain("/data/loop: Too many levels of symbolic links");
    expect(result.output).not.toContain("panic");
    expect(result.status).toBe(1);
  });

  it("keeps what came before a corrupt entry, logs it and boots on", async () => {
    const archive = writeArchive("archive-corrupt", [
      { path: "bin/cat", data: cat(), mode: 0o755 },
      { path: "data/before.txt", data: "before the damage\n" },
      { path: "data/after.txt", data: "after the damage\n" },
    ]);
    // Break the magic of the entry for data/after.txt.
    const bytes = readFileSync(archive);
    const at = bytes.indexOf("data/after.txt") - 110;
    expect(bytes.toString("ascii", at, at + 6)).toBe("070701");
    bytes.write("07x701", at, "ascii");
    const corrupt = join(OUTPUT_DIR, "archive-corrupt-broken.cpio");
    writeFileSync(corrupt, bytes);
    const result = await runProgram({ name: "cat", initrd: corrupt, program: "/bin/cat", args: ["/data/before.txt", "/data/after.txt"] });
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toContain(`wisp: initrd: corrupt cpio archive at offset ${at} (bad magic); kept the 4 entries before it`);
    expect(result.output).toContain("before the damage\n");
    expect(result.output).toContain("/data/after.txt: No such file or directory");
    expect(result.output).not.toContain("panic");
    expect(result.status).toBe(1);
  });
});
