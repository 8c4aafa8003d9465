import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runHarness } from "../../scripts/bench/index.ts";
import { parseOptions, runsFor, UsageError, USAGE } from "../../scripts/bench/options.ts";
import { BENCHMARK_NAMES } from "../../scripts/bench/results.ts";
import { contextSwitchArgs } from "../../scripts/bench/contextSwitch.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe("option parser", () => {
  it("has defaults for a full run", () => {
    expect(parseOptions([])).toEqual({
      only: [...BENCHMARK_NAMES],
      runs: 5,
      runsGiven: false,
      smp: [1, 2],
      accel: "auto",
      net: "tap",
      memory: "128M",
      linuxKernel: "vmlinux",
      wispCmdline: "",
      quick: false,
      out: "build/bench",
      build: true,
      help: false,
    });
  });

  it("reads every option", () => {
    const o = parseOptions(["--only", "cswitch,boot", "--runs", "3", "--smp", "2,1,2", "--accel", "tcg", "--net", "user", "--memory", "256M", "--linux-kernel=vmlinuz", "--out", "/tmp/x", "--no-build"]);
    expect(o).toMatchObject({ only: ["boot", "cswitch"], runs: 3, runsGiven: true, smp: [1, 2], accel: "tcg", net: "user", memory: "256M", linuxKernel: "vmlinuz", out: "/tmp/x", build: false });
  });

  it("expands net and all", () => {
    expect(parseOptions(["--only", "net"]).only).toEqual(["tcp_stream", "tcp_echo", "tcp_rr", "boot_to_tcp_reply"]);
    expect(parseOptions(["--wisp-cmdline", "wisp.netchannels=on"]).wispCmdline).toBe("wisp.netchannels=on");
    expect(parseOptions(["--only", "size,all"]).only).toEqual([...BENCHMARK_NAMES]);
  });

  it("--quick: 3 boot and cswitch runs and 1 of everything else, unless --runs says otherwise", () => {
    const quick = parseOptions(["--quick"]);
    expect(quick.quick).toBe(true);
    expect(runsFor(quick, "boot")).toBe(3);
    expect(runsFor(quick, "cswitch")).toBe(3);
    expect(runsFor(quick, "tcp_rr")).toBe(1);
    const given = parseOptions(["--quick", "--runs", "3"]);
    expect(runsFor(given, "boot")).toBe(3);
    expect(runsFor(given, "cswitch")).toBe(3);
    expect(runsFor(parseOptions([]), "boot")).toBe(5);
  });

  it.each([
    [["--frobnicate"], /Unknown option '--frobnicate'/],
    [["--runs"], /^Option '--runs <value>' argument missing$/],
    [["--runs", "-1"], /^--runs needs a value \(write --runs=VALUE for one that starts with '-'\)$/],
    [["--runs", "0"], /--runs wants a number from 1 to 1000, not 0/],
    [["--runs", "2.5"], /--runs wants a whole number, not '2.5'/],
    [["--runs", "five"], /--runs wants a whole number/],
    [["--smp", "1,,2"], /--smp wants a comma-separated list/],
    [["--smp", "0"], /--smp wants a number from 1 to 64/],
    [["--only", "boot,nope"], /--only wants size or boot or .* not 'nope'/],
    [["--accel", "xen"], /--accel wants auto or kvm or tcg, not 'xen'/],
    [["--net", "bridge"], /--net wants tap or user/],
    [["--memory", "128"], /--memory wants a size such as 128M/],
    [["--linux-kernel", "bzImage"], /--linux-kernel wants vmlinux or vmlinuz/],
    [["--out", ""], /--out wants a directory/],
    [["stray"], /Unexpected argument 'stray'/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it("maps bench:cswitch's old options onto the harness", () => {
    expect(contextSwitchArgs(["--runs", "3", "--kernel", "vmlinuz"])).toEqual(["--only", "cswitch", "--smp", "1,2", "--out", "build/bench/cswitch", "--runs", "3", "--linux-kernel", "vmlinuz"]);
    expect(contextSwitchArgs(["--kernel=vmlinux", "--out", "x"])).toEqual(["--only", "cswitch", "--smp", "1,2", "--linux-kernel=vmlinux", "--out", "x"]);
  });
});

describe("harness entry", () => {
  it("returns 2 with one clear line for a bad flag, and prints nothing else", async () => {
    const c = capture();
    expect(await runHarness(["--runs=-1"], c.io)).toBe(2);
    expect(c.err).toEqual(["bench: --runs wants a whole number, not '-1' (see --help)"]);
    expect(c.out).toEqual([]);
  });

  it("prints the usage for --help", async () => {
    const c = capture();
    expect(await runHarness(["--help"], c.io)).toBe(0);
    expect(c.out).toEqual([USAGE]);
  });

  it("exits with status 2 from the command line", () => {
    const r = spawnSync("npx", ["tsx", "scripts/bench/index.ts", "--smp", "x"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("bench: --smp wants a whole number, not 'x' (see --help)");
    expect(r.stdout).toBe("");
  }, 60_000);
});
