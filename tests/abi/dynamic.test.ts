// Dynamic executables: C check programs built by the host's gcc without
// -static, put in a root archive with their ELF interpreter and shared
// libraries exactly as the image builder's --app finds them
// (scripts/image/dependencies.ts), booted with the archive as the initrd.
// glibc's own ld-linux-x86-64.so.2 maps the libraries (file mmap), relocates
// and runs the program; every check must hold and the program exit 0.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { addResolution, resolveDependencies } from "../../scripts/image/dependencies.ts";
import { RootTree } from "../../scripts/image/rootTree.ts";
import { saveArchive } from "./archive.ts";
import { buildProgram, checkLines, KERNEL, runProgram } from "./programs.ts";

const PROGRAMS = ["memory", "clock", "pthread", "files", "events", "vdso"];
const archives = new Map<string, string>();

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  for (const name of [...PROGRAMS, "hello"]) {
    const binary = buildProgram(name, "dynamic");
    const resolution = resolveDependencies(binary);
    expect(resolution.interpreter).toBe("/lib64/ld-linux-x86-64.so.2");
    const tree = new RootTree();
    addResolution(tree, resolution);
    tree.addFile(`/bin/${name}`, binary);
    archives.set(name, saveArchive(`${name}-dynamic`, tree.toCpio()));
  }
}, 300_000);

describe("dynamic executables through the real ld-linux-x86-64.so.2", () => {
  it("hello: prints its arguments and exits with its status", async () => {
    const result = await runProgram({ name: "hello", initrd: archives.get("hello")!, program: "/bin/hello", args: ["a b"] });
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toMatch(/wisp: initrd: \d+ entries unpacked/);
    expect(result.output).toContain("hello, world\nargc=3\nargv[0]=/bin/hello\nargv[1]=a\nargv[2]=b\n");
    expect(result.status).toBe(3);
  });

  it.each(PROGRAMS)("%s: every check passes", async (name) => {
    const result = await runProgram({ name, initrd: archives.get(name)!, program: `/bin/${name}`, smp: 2 });
    expect(result.timedOut, result.output).toBe(false);
    const { ok, failed } = checkLines(result.output);
    expect(failed).toEqual([]);
    expect(ok.length).toBeGreaterThan(5);
    expect(result.output).toContain("wisp: application exited with status 0\n");
    expect(result.status).toBe(0);
  });
});
