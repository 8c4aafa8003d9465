// The system call table (libc/table.ts) is data: one line per number with
// the name Linux gives it. Checked against the kernel headers of this
// machine (linux-libc-dev) where they are installed, and for its own shape.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const TABLE = readFileSync("libc/table.ts", "utf8");
const HEADER = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";

interface Entry {
  nr: number;
  name: string | null;
  handler: string | null;
}

function entries(): Entry[] {
  const result: Entry[] = [];
  for (const line of TABLE.split("\n")) {
    const m = /^\s*\/\*\s*(\d+) \*\/ (?:changetype<usize>\("(\w+)"\)|0), (?:changetype<usize>\(<SyscallHandler>(\w+)\)|0),$/.exec(line);
    if (m) result.push({ nr: Number(m[1]), name: m[2] ?? null, handler: m[3] ?? null });
  }
  return result;
}

describe("libc/table.ts", () => {
  it("has one line per number, in order, from 0", () => {
    const table = entries();
    expect(table.length).toBeGreaterThan(450);
    table.forEach((entry, i) => expect(entry.nr).toBe(i));
    // Every line of the array is an entry (nothing the pattern missed).
    const body = TABLE.slice(TABLE.indexOf("SYSCALLS: StaticArray<usize> = ["), TABLE.lastIndexOf("];"));
    expect(body.split("\n").filter((line) => line.trim().startsWith("/*")).length).toBe(table.length);
  });

  it("names only numbers x86-64 defines (335-423 are unused)", () => {
    for (const entry of entries()) {
      if (entry.nr >= 335 && entry.nr <= 423) expect(entry.name).toBeNull();
      else expect(entry.name, `number ${entry.nr}`).not.toBeNull();
    }
  });

  it.skipIf(!existsSync(HEADER))("agrees with the kernel headers' numbering", () => {
    const byNumber = new Map<number, string>();
    for (const m of readFileSync(HEADER, "utf8").matchAll(/#define __NR_(\w+) (\d+)/g)) byNumber.set(Number(m[2]), m[1]);
    let compared = 0;
    for (const entry of entries()) {
      const name = byNumber.get(entry.nr);
      if (name === undefined) continue; // newer than these headers
      expect(entry.name, `number ${entry.nr}`).toBe(name);
      compared++;
    }
    expect(compared).toBeGreaterThan(350);
  });

  it("implements the calls a static glibc program needs to start and stop", () => {
    const implemented = new Set(entries().filter((e) => e.handler !== null).map((e) => e.name));
    for (const name of [
      "arch_prctl", "brk", "clock_gettime", "exit", "exit_group", "newfstatat", "getrandom", "ioctl", "mprotect",
      "prlimit64", "readlink", "set_robust_list", "set_tid_address", "write", "rseq", "clone3", "futex", "mmap",
    ]) {
      expect(implemented.has(name), name).toBe(true);
    }
  });
});
