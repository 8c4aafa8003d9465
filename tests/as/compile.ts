// Compiles an AssemblyScript test entry (tests/as/entries) to wasm with the
// same compiler as the kernel, and instantiates it in Node.
import asc from "assemblyscript/asc";
import { mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

export async function compileEntry(entry: string): Promise<WebAssembly.Instance> {
  const outDir = "build/test-wasm";
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, basename(entry).replace(/\.ts$/, ".wasm"));
  const stderr: string[] = [];
  const { error } = await asc.main([entry, "-O3", "--runtime", "stub", "-o", out], {
    stderr: { write: (s: string | Uint8Array) => { stderr.push(String(s)); return true; } } as never,
  });
  if (error) throw new Error(`asc failed for ${entry}: ${error.message}\n${stderr.join("")}`);
  const module = await WebAssembly.compile(readFileSync(out));
  return WebAssembly.instantiate(module, {
    env: {
      abort(_message: number, _file: number, line: number, column: number) {
        throw new Error(`AS abort at ${line}:${column}`);
      },
    },
  });
}
