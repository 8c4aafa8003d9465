// The kernel's number formatting (kernel/format.ts) and command-line parsing
// (kernel/cmdline.ts), compiled to wasm and run in Node.
import { beforeAll, describe, expect, it } from "vitest";
import { compileEntry } from "./compile.ts";

interface TextExports {
  memory: WebAssembly.Memory;
  scratch(): number;
  formatUnsigned(value: bigint, base: number, minDigits: number, out: number): number;
  formatDecimal(value: bigint, out: number): number;
  formatSigned(value: bigint, out: number): number;
  formatHex(value: bigint, digits: number, out: number): number;
  formatMilli(thousandths: bigint, fractionDigits: number, out: number): number;
  cmdlineFind(line: number, length: number, key: number, keyLength: number): bigint;
  cmdlineApplication(line: number, length: number): number;
  cmdlineLength(line: number, max: number): number;
  parseDecimal(line: number, offset: number, count: number): bigint;
}

let as: TextExports;
beforeAll(async () => {
  as = (await compileEntry("tests/as/entries/textEntry.ts")).exports as unknown as TextExports;
}, 60_000);

function read(offset: number, length: number): string {
  return Buffer.from(as.memory.buffer, offset, length).toString("latin1");
}

function write(offset: number, text: string): number {
  const bytes = Buffer.from(text, "latin1");
  new Uint8Array(as.memory.buffer, offset, bytes.length).set(bytes);
  return bytes.length;
}

describe("kernel/format", () => {
  const fmt = (f: (out: number) => number) => read(as.scratch(), f(as.scratch()));

  it("formats unsigned decimals across the u64 range", () => {
    for (const v of [0n, 7n, 10n, 99n, 1000n, 123456789n, 2n ** 32n, 2n ** 64n - 1n]) {
      expect(fmt((o) => as.formatDecimal(v, o))).toBe(v.toString());
    }
  });

  it("formats signed values including the most negative", () => {
    for (const v of [0n, -1n, 42n, -42n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      expect(fmt((o) => as.formatSigned(v, o))).toBe(v.toString());
    }
  });

  it("formats hex with fixed width and 0x", () => {
    expect(fmt((o) => as.formatHex(0xdeadbeefn, 16, o))).toBe("0x00000000deadbeef");
    expect(fmt((o) => as.formatHex(0n, 1, o))).toBe("0x0");
    expect(fmt((o) => as.formatHex(0xffffffff80200000n, 16, o))).toBe("0xffffffff80200000");
    // Width grows to fit the value; out-of-range widths are clamped.
    expect(fmt((o) => as.formatHex(0x12345n, 2, o))).toBe("0x12345");
    expect(fmt((o) => as.formatHex(1n, 40, o))).toBe("0x0000000000000001");
  });

  it("pads and handles other bases", () => {
    expect(fmt((o) => as.formatUnsigned(5n, 10, 3, o))).toBe("005");
    expect(fmt((o) => as.formatUnsigned(5n, 2, 1, o))).toBe("101");
    expect(fmt((o) => as.formatUnsigned(255n, 16, 1, o))).toBe("ff");
    // A nonsense base falls back to decimal instead of dividing by zero.
    expect(fmt((o) => as.formatUnsigned(12n, 0, 1, o))).toBe("12");
  });

  it("formats milliseconds from microseconds like the boot line", () => {
    expect(fmt((o) => as.formatMilli(840n, 2, o))).toBe("0.84");
    expect(fmt((o) => as.formatMilli(1234n, 2, o))).toBe("1.23");
    expect(fmt((o) => as.formatMilli(1005n, 2, o))).toBe("1.00");
    expect(fmt((o) => as.formatMilli(12345678n, 3, o))).toBe("12345.678");
    expect(fmt((o) => as.formatMilli(999n, 0, o))).toBe("0");
  });
});

describe("kernel/cmdline", () => {
  const lineAt = () => as.scratch();
  const keyAt = () => as.scratch() + 4096;

  function find(line: string, key: string): string | null {
    const length = write(lineAt(), line);
    const keyLength = write(keyAt(), key);
    const found = as.cmdlineFind(lineAt(), length, keyAt(), keyLength);
    if (found < 0n) return null;
    return read(lineAt() + Number(found >> 32n), Number(found & 0xffffffffn));
  }

  it("finds key=value options and bare flags", () => {
    expect(find("console=ttyS0 wisp.test=fault quiet", "wisp.test")).toBe("fault");
    expect(find("console=ttyS0 wisp.test=fault quiet", "quiet")).toBe("");
    expect(find("console=ttyS0 wisp.test=fault quiet", "console")).toBe("ttyS0");
    expect(find("a=1", "b")).toBeNull();
  });

  it("matches whole keys only and lets the last occurrence win", () => {
    expect(find("wisp.testing=1", "wisp.test")).toBeNull();
    expect(find("x=1 x=2", "x")).toBe("2");
    expect(find("x=", "x")).toBe("");
    expect(find("k=a=b", "k")).toBe("a=b");
  });

  it("tolerates odd spacing and empty input", () => {
    expect(find("   \t a=1   b=2  ", "b")).toBe("2");
    expect(find("", "a")).toBeNull();
    expect(find("a", "")).toBeNull();
  });

  it("stops kernel options at a lone -- and finds the application", () => {
    expect(find("a=1 -- /bin/app b=2", "b")).toBeNull();
    const line = "wisp.test=x -- /bin/app arg1 arg2";
    const length = write(lineAt(), line);
    const app = as.cmdlineApplication(lineAt(), length);
    expect(line.slice(app)).toBe("/bin/app arg1 arg2");
    const noApp = write(lineAt(), "a=1 --");
    expect(as.cmdlineApplication(lineAt(), noApp)).toBe(-1);
    const dashes = write(lineAt(), "a=1 --x");
    expect(as.cmdlineApplication(lineAt(), dashes)).toBe(-1);
  });

  it("measures NUL-terminated lines with a bound", () => {
    write(lineAt(), "abc\0def");
    expect(as.cmdlineLength(lineAt(), 100)).toBe(3);
    expect(as.cmdlineLength(lineAt(), 2)).toBe(2);
  });

  it("parses decimals and rejects non-numbers", () => {
    write(lineAt(), "mem=512x 77");
    expect(as.parseDecimal(lineAt(), 4, 3)).toBe(512n);
    expect(as.parseDecimal(lineAt(), 4, 4)).toBe(-1n);
    expect(as.parseDecimal(lineAt(), 9, 2)).toBe(77n);
    expect(as.parseDecimal(lineAt(), 0, 0)).toBe(-1n);
  });

  it("never reads past the given length (fuzz)", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % 256;
    const alphabet = "ab= -\t";
    for (let i = 0; i < 2000; i++) {
      const length = rand() % 40;
      let line = "";
      for (let j = 0; j < length; j++) line += alphabet[rand() % alphabet.length];
      write(lineAt(), line + "=zz");
      const found = as.cmdlineFind(lineAt(), line.length, keyAt(), write(keyAt(), "a"));
      if (found >= 0n) {
        const offset = Number(found >> 32n);
        const len = Number(found & 0xffffffffn);
        expect(offset + len).toBeLessThanOrEqual(line.length);
      }
      expect(as.cmdlineApplication(lineAt(), line.length)).toBeLessThan(Math.max(line.length, 1));
    }
  });
});
