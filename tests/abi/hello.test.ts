// A static glibc hello world runs unmodified: arguments and environment
// arrive as on Linux, output reaches the console, and its exit status (3)
// becomes the VM's.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram, KERNEL, runProgram, type Linking } from "./programs.ts";

beforeAll(() => {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run make (npm test does)`);
  buildProgram("hello", "static");
  buildProgram("hello", "static-pie");
}, 120_000);

describe.each<Linking>(["static", "static-pie"])("hello world (gcc -%s)", (linking) => {
  it("prints its arguments and environment and exits with status 3", async () => {
    const result = await runProgram({ name: "hello", linking, args: ["a", "b c"], env: ["FOO=bar", "HOME=/root"] });
    expect(result.timedOut, result.output).toBe(false);
    const lines = result.output.split("\n");
    const start = lines.indexOf("hello, world");
    expect(start, result.output).toBeGreaterThan(0);
    // The command line has no quoting: "b c" is two words.
    expect(lines.slice(start, start + 6)).toEqual(["hello, world", "argc=4", "argv[0]=/hello", "argv[1]=a", "argv[2]=b", "argv[3]=c"]);
    // Defaults, with HOME replaced and FOO added.
    expect(lines.filter((line) => line.startsWith("env "))).toEqual([
      "env HOME=/root", "env PATH=/usr/local/bin:/usr/bin:/bin", "env TERM=linux", "env FOO=bar",
    ]);
    expect(result.output).toContain("wisp: application exited with status 3\n");
    expect(result.output).not.toContain("not implemented");
    expect(result.status).toBe(3);
  });
});

describe("hello world on q35", () => {
  it("finds the program in the PVH module list there too", async () => {
    const result = await runProgram({ name: "hello", machine: "q35", smp: 2 });
    expect(result.output).toContain("hello, world\nargc=1\nargv[0]=/hello\n");
    expect(result.status).toBe(3);
  });
});
