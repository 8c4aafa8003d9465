// The image builder's root file system: the manifest parser, the --app
// dependency resolver (checked against the host's ldd and against small
// libraries built here with gcc), the cpio archive it writes, and where the
// archive lands in the disk image (boot header fields, sectors, CRC-32).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCpio, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../../scripts/linux-guest/cpio.ts";
import { decodeBootHeader } from "../../scripts/image/bootHeader.js";
import { crc32 } from "../../scripts/image/crc32.js";
import { ldSoConfDirs, resolveDependencies } from "../../scripts/image/dependencies.js";
import { readDynamicInfo } from "../../scripts/image/elfDynamic.js";
import { runImageCli } from "../../scripts/image/imageCli.js";
import { parseManifest } from "../../scripts/image/manifest.js";
import { buildRootArchive } from "../../scripts/image/rootArchive.js";
import { simpleKernel } from "./elfBuilder.js";
import { buildMbr, captureIo, makeTempDir } from "./helpers.js";

const tmp = makeTempDir("rootfs");
const p = (...parts: string[]): string => join(tmp.dir, ...parts);
afterAll(tmp.remove);

describe("manifest", () => {
  it("parses mappings, skips comments and blank lines, resolves host paths against the manifest's directory", () => {
    const text = "# a comment\n\n/etc/motd: motd.txt\n  /usr//bin/./app:   /opt/app/bin/app  \n/srv: site/\n/: rootfs\n";
    expect(parseManifest(text, "wisp.manifest", "/base")).toEqual([
      { guest: "/etc/motd", host: "/base/motd.txt", line: 3 },
      { guest: "/usr/bin/app", host: "/opt/app/bin/app", line: 4 },
      { guest: "/srv", host: "/base/site", line: 5 },
      { guest: "/", host: "/base/rootfs", line: 6 },
    ]);
  });

  it.each([
    ["a line without a colon", "/etc/x: a\njust words\n", /^m:2: expected "guest\/path: host\/path", got "just words"$/],
    ["a missing host path", "/etc/x:\n", /^m:1: missing host path after "\/etc\/x:"$/],
    ["a missing guest path", ": /etc/hosts\n", /^m:1: missing guest path/],
    ["a relative guest path", "\n\netc/x: a\n", /^m:3: guest path "etc\/x" must be absolute/],
    ["a guest path with ..", "/etc/../x: a\n", /^m:1: guest path "\/etc\/..\/x" must be absolute and without "\.\."/],
    ["a guest path given twice", "/a: x\n/b: y\n/a/: z\n", /^m:3: guest path \/a already given on line 1$/],
  ])("reports %s with its line number", (_what, text, message) => {
    expect(() => parseManifest(text, "m", "/base")).toThrow(message);
  });

  it("copies files and directories recursively (symlinks inside stay symlinks) into a newc archive", () => {
    mkdirSync(p("site", "css"), { recursive: true });
    writeFileSync(p("site", "index.html"), "<h1>hi</h1>\n");
    writeFileSync(p("site", "css", "a.css"), "body{}\n", { mode: 0o600 });
    symlinkSync("index.html", p("site", "home.html"));
    writeFileSync(p("motd.txt"), "hello\n", { mode: 0o755 });
    writeFileSync(p("wisp.manifest"), "# test\n/etc/motd: motd.txt\n/srv/www: site\n");
    const { archive, commandTail } = buildRootArchive({ manifest: p("wisp.manifest") });
    expect(commandTail).toBe("");
    const records = new Map(readCpio(archive).map((r) => [r.name, r]));
    expect([...records.keys()].sort()).toEqual(
      ["etc", "etc/motd", "srv", "srv/www", "srv/www/css", "srv/www/css/a.css", "srv/www/home.html", "srv/www/index.html"],
    );
    expect(records.get("etc/motd")!.mode).toBe(S_IFREG | 0o755);
    expect(records.get("etc/motd")!.data.toString()).toBe("hello\n");
    expect(records.get("srv/www/css/a.css")!.mode).toBe(S_IFREG | 0o600);
    expect(records.get("srv/www/home.html")!.mode & S_IFMT).toBe(S_IFLNK);
    expect(records.get("srv/www/home.html")!.data.toString()).toBe("index.html");
    expect(records.get("srv/www/css")!.mode & S_IFMT).toBe(S_IFDIR);
    // The archive starts with the newc magic the kernel looks for, and the system's cpio reads it.
    expect(archive.subarray(0, 6).toString()).toBe("070701");
    const listed = execFileSync("cpio", ["-it", "--quiet"], { input: archive, encoding: "utf8" }).trim().split("\n");
    expect(listed.sort()).toEqual([...records.keys()].sort());
  });

  it("names the manifest line of a missing host file", () => {
    writeFileSync(p("bad.manifest"), "/etc/motd: motd.txt\n# next one is missing\n/etc/nothing: no-such-file\n");
    expect(() => buildRootArchive({ manifest: p("bad.manifest") })).toThrow(/bad\.manifest:3: host path .*no-such-file does not exist/);
  });
});

describe("dependency resolver", () => {
  it("finds what ldd finds for the host's /bin/ls, with the interpreter's symlink", () => {
    const r = resolveDependencies("/bin/ls");
    const ldd = execFileSync("ldd", ["/bin/ls"], { encoding: "utf8" });
    const expected = [...ldd.matchAll(/^\s*(\S+) => (\S+) \(/gm)].map((m) => ({ name: m[1], path: m[2] }));
    expect(r.libraries).toEqual(expected);
    // glibc dlopens libgcc_s.so.1 for pthread_exit: in the image, though ldd does not list it.
    if (existsSync("/lib/x86_64-linux-gnu/libgcc_s.so.1")) {
      expect(r.runtimeLibraries).toEqual([{ name: "libgcc_s.so.1", path: "/lib/x86_64-linux-gnu/libgcc_s.so.1" }]);
    }
    expect(r.interpreter).toBe("/lib64/ld-linux-x86-64.so.2");
    const paths = new Map(r.files.map((f) => [f.path, f.symlinkTarget]));
    expect(paths.has("/bin/ls")).toBe(true);
    expect(paths.has("/lib64/ld-linux-x86-64.so.2")).toBe(true);
    expect(paths.has("/lib/x86_64-linux-gnu/libc.so.6")).toBe(true);
    // The interpreter is a symlink on Debian: its target is in the image too, as a file.
    const target = paths.get("/lib64/ld-linux-x86-64.so.2");
    if (target !== null && target !== undefined) expect(paths.get(target.startsWith("/") ? target : `/lib64/${target}`)).toBeNull();
    // libc's DT_NEEDED ld-linux-x86-64.so.2 is the interpreter, already loaded.
    expect(r.libraries.map((l) => l.name)).not.toContain("ld-linux-x86-64.so.2");
  });

  it("follows DT_RUNPATH with $ORIGIN, library symlinks, and reports a missing library", () => {
    mkdirSync(p("app", "bin"), { recursive: true });
    mkdirSync(p("app", "lib"), { recursive: true });
    writeFileSync(p("b.c"), "int b(void) { return 2; }\n");
    writeFileSync(p("a.c"), "int b(void); int a(void) { return b() + 1; }\n");
    writeFileSync(p("main.c"), "int a(void); int main(void) { return a(); }\n");
    const gcc = (...args: string[]): void => void execFileSync("gcc", args, { cwd: tmp.dir, stdio: "pipe" });
    gcc("-shared", "-fPIC", "-Wl,-soname,libb.so.1", "-o", "app/lib/libb.so.1.0", "b.c");
    symlinkSync("libb.so.1.0", p("app", "lib", "libb.so.1"));
    gcc("-shared", "-fPIC", "-Wl,-soname,liba.so", "-Wl,--enable-new-dtags,-rpath,$ORIGIN", "-o", "app/lib/liba.so", "a.c", "app/lib/libb.so.1.0");
    gcc("-o", "app/bin/main", "main.c", "app/lib/liba.so", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib");
    expect(readDynamicInfo(readFileSync(p("app", "bin", "main")), "main").runpath).toEqual(["$ORIGIN/../lib"]);
    const r = resolveDependencies(p("app", "bin", "main"));
    const names = r.libraries.map((l) => [l.name, l.path]);
    expect(names).toContainEqual(["liba.so", join(tmp.dir, "app/bin/../lib/liba.so").replace("/bin/..", "")]);
    expect(names).toContainEqual(["libb.so.1", p("app", "lib", "libb.so.1")]);
    const files = new Map(r.files.map((f) => [f.path, f.symlinkTarget]));
    expect(files.get(p("app", "lib", "libb.so.1"))).toBe("libb.so.1.0");
    expect(files.get(p("app", "lib", "libb.so.1.0"))).toBeNull();
    expect(r.extraLibraryDirs).toEqual([p("app", "lib")]);
    const built = buildRootArchive({ app: { path: p("app", "bin", "main"), args: ["x"] } });
    expect(built.commandTail).toBe(`-- LD_LIBRARY_PATH=${p("app", "lib")} ${p("app", "bin", "main")} x`);

    execFileSync("rm", [p("app", "lib", "libb.so.1.0")]);
    expect(() => resolveDependencies(p("app", "bin", "main"))).toThrow(/liba\.so needs libb\.so\.1, which is in none of the library directories/);
  });

  it("reads /etc/ld.so.conf with its include patterns", () => {
    mkdirSync(p("root", "etc", "ld.so.conf.d"), { recursive: true });
    writeFileSync(p("root", "etc", "ld.so.conf"), "# conf\ninclude /etc/ld.so.conf.d/*.conf\n/opt/first\n");
    writeFileSync(p("root", "etc", "ld.so.conf.d", "b.conf"), "/opt/b # trailing comment\n");
    writeFileSync(p("root", "etc", "ld.so.conf.d", "a.conf"), "/opt/a\n\n/opt/a2\n");
    writeFileSync(p("root", "etc", "ld.so.conf.d", "ignored.txt"), "/opt/never\n");
    expect(ldSoConfDirs("/etc/ld.so.conf", p("root"))).toEqual(["/opt/a", "/opt/a2", "/opt/b", "/opt/first"]);
  });
});

describe("the archive in the image", () => {
  let mbr = "";
  let kernel = "";
  beforeAll(() => {
    mbr = buildMbr(tmp.dir);
    kernel = p("kernel.elf");
    writeFileSync(kernel, simpleKernel(100_000, 0x100040));
  });

  it("stores --app's archive after the kernel, records it in the boot header and sets the command line", () => {
    const io = captureIo();
    const status = runImageCli(["--kernel", kernel, "--mbr", mbr, "--out", p("app.raw"), "--format", "raw", "--cmdline", "wisp.strace", "--app", "/bin/ls", "-l", "/"], io);
    expect(io.errLines).toEqual([]);
    expect(status).toBe(0);
    expect(io.outLines[0]).toMatch(/root archive [\d.]+ MiB \(\d+ entries, 3 libraries\) also in .*app\.cpio$/);
    const disk = readFileSync(p("app.raw"));
    const header = decodeBootHeader(disk.subarray(512, 1024));
    expect(header.cmdline).toBe("wisp.strace -- /bin/ls -l /");
    const archive = readFileSync(p("app.cpio"));
    expect(header.archiveLba).toBe(2048 + 2048); // the next 1 MiB line after a 100 kB kernel
    expect(header.archiveBytes).toBe(archive.length);
    expect(header.archiveCrc32).toBe(crc32(archive));
    expect(Buffer.compare(disk.subarray(header.archiveLba! * 512, header.archiveLba! * 512 + archive.length), archive)).toBe(0);
    const names = readCpio(archive).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["bin/ls", "lib64/ld-linux-x86-64.so.2", "lib/x86_64-linux-gnu/libc.so.6"]));
  });

  it("refuses --app with a command line that already runs a program, and an image without an archive has none", () => {
    const io = captureIo();
    expect(runImageCli(["--kernel", kernel, "--mbr", mbr, "--out", p("x.raw"), "--cmdline", "-- /bin/true", "--app", "/bin/ls"], io)).toBe(2);
    expect(io.errLines[0]).toMatch(/--app sets it/);
    expect(runImageCli(["--kernel", kernel, "--mbr", mbr, "--out", p("plain.raw"), "--format", "raw"], captureIo())).toBe(0);
    const header = decodeBootHeader(readFileSync(p("plain.raw")).subarray(512, 1024));
    expect([header.archiveLba, header.archiveBytes, header.archiveCrc32]).toEqual([0, 0, 0]);
  });
});
