// The build's own tools and invariants: wasm name section reading, the kernel
// symbol table, and the memory layout written down in three places.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { constantMemoryBase } from "../../scripts/build/postprocessKernelC.ts";
import { parseNm, symbolTableAssembly } from "../../scripts/build/symbolTable.ts";
import { readFunctionNames, wasm2cFunctionName } from "../../scripts/build/wasmNames.ts";

function constantFromHeader(name: string): bigint {
  const match = new RegExp(`#define ${name}\\s+(0x[0-9a-fA-F]+|\\d+)`).exec(readFileSync("arch/x86_64/layout.h", "utf8"));
  if (!match) throw new Error(`${name} not in layout.h`);
  return BigInt(match[1]);
}

function constantFromAs(name: string): bigint {
  const match = new RegExp(`export const ${name}: \\w+ = (0x[0-9a-fA-F]+|\\d+);`).exec(readFileSync("arch/x86_64/layout.ts", "utf8"));
  if (!match) throw new Error(`${name} not in layout.ts`);
  return BigInt(match[1]);
}

describe("memory layout", () => {
  it("agrees between layout.h, layout.ts, the linker script and the Makefile", () => {
    for (const name of ["DIRECT_MAP_BASE", "KERNEL_VIRT_BASE", "KERNEL_PHYS_BASE", "AS_DATA_BASE"]) {
      expect(constantFromAs(name), name).toBe(constantFromHeader(name));
    }
    const ld = readFileSync("loader/kernel.ld", "utf8");
    expect(BigInt(/KERNEL_VIRT_BASE = (0x[0-9a-f]+);/.exec(ld)![1])).toBe(constantFromHeader("KERNEL_VIRT_BASE"));
    expect(BigInt(/KERNEL_PHYS_BASE = (0x[0-9a-f]+);/.exec(ld)![1])).toBe(constantFromHeader("KERNEL_PHYS_BASE"));
    const makefile = readFileSync("Makefile", "utf8");
    expect(BigInt(/AS_DATA_BASE := (\d+)/.exec(makefile)![1])).toBe(constantFromHeader("AS_DATA_BASE"));
  });
});

describe("wasm names", () => {
  it("reads the name section of the built kernel and maps wasm2c's C names", () => {
    const names = readFunctionNames(readFileSync("build/kernel.wasm"));
    expect([...names.values()]).toContain("kernel/main/kmain");
    expect(wasm2cFunctionName("~lib/string/String#charCodeAt")).toBe("w2c__lib_string_String_charCodeAt");
    // Every AS function in the C wasm2c wrote is one the table names.
    const c = readFileSync("build/kernel.c", "utf8");
    expect(c).toContain(wasm2cFunctionName("kernel/main/kmain"));
  });
  it("rejects what is not wasm", () => {
    expect(() => readFunctionNames(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a wasm module/);
  });
  it("makes the memory base a constant or refuses unknown output", () => {
    expect(constantMemoryBase("x &mem->data[addr] y")).toContain("WISP_LINEAR_MEMORY_BASE");
    expect(() => constantMemoryBase("nothing here")).toThrow(/wasm2c 1.0.32/);
  });
});

describe("kernel symbol table", () => {
  it("keeps code symbols, sorted, with AS names and gcc clone suffixes dropped", () => {
    const nm = [
      "ffffffff80200010 T wisp_start64",
      "ffffffff80200000 t w2c_kernel_log_Log_str",
      "ffffffff80200020 t helper.constprop.0",
      "ffffffff80300000 B some_data",
      "ffffffff80200030 r a_constant",
    ].join("\n");
    const symbols = parseNm(nm, { w2c_kernel_log_Log_str: "kernel/log/Log.str" });
    expect(symbols.map((s) => s.name)).toEqual(["kernel/log/Log.str", "wisp_start64", "helper"]);
    const asm = symbolTableAssembly(symbols);
    expect(asm).toContain(".quad 3");
    expect(asm).toContain('.asciz "kernel/log/Log.str"');
    expect(asm).toMatch(/\.quad 0xffffffff80200010\n\t\.long 19\n/);
  });
});

describe("data segment merging", () => {
  it("merges segments with zero-filled gaps, later segments winning", async () => {
    const { mergeSegments } = await import("../../scripts/build/mergeDataSegments.ts");
    const merged = mergeSegments([
      { offset: 100, bytes: Uint8Array.from([1, 2, 3]) },
      { offset: 106, bytes: Uint8Array.from([9]) },
      { offset: 101, bytes: Uint8Array.from([7]) },
    ]);
    expect(merged?.offset).toBe(100);
    expect(Array.from(merged!.bytes)).toEqual([1, 7, 3, 0, 0, 0, 9]);
    expect(mergeSegments([])).toBeNull();
  });

  it("keeps the built kernel's initial memory byte for byte", async () => {
    const { mergeDataSegmentsOfModule } = await import("../../scripts/build/mergeDataSegments.ts");
    const original = new Uint8Array(readFileSync("build/kernel.wasm"));
    const merged = new Uint8Array(mergeDataSegmentsOfModule(original));
    // Instantiated with inert imports, both must start with identical memory.
    const memoryOf = async (bytes: Uint8Array<ArrayBuffer>) => {
      const module = await WebAssembly.compile(bytes);
      const imports: WebAssembly.Imports = {};
      for (const d of WebAssembly.Module.imports(module)) {
        imports[d.module] ??= {};
        (imports[d.module] as Record<string, unknown>)[d.name] = () => 0;
      }
      const instance = await WebAssembly.instantiate(module, imports);
      return new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
    };
    const before = await memoryOf(original);
    const after = await memoryOf(merged);
    expect(after.length).toBe(before.length);
    expect(Buffer.compare(Buffer.from(after), Buffer.from(before))).toBe(0);
    expect(merged.length).toBeLessThan(original.length + 300_000);
  });
});
