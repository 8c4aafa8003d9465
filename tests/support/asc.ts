// Compiling AssemblyScript test entries in memory, and what every Node test of
// kernel code needs from the result: decoding AS strings and the abort error.
import asc from "assemblyscript/asc";

/** Thrown by the env.abort mocks: an AS abort (assert, bounds, explicit abort). */
export class AbortError extends Error {}

/** AssemblyScript string at `pointer` (UTF-16LE, byte length at pointer - 4). */
export function readString(memory: WebAssembly.Memory, pointer: number): string {
  if (pointer === 0) return "(null)";
  const length = new DataView(memory.buffer).getUint32(pointer - 4, true);
  return Buffer.from(memory.buffer, pointer, length).toString("utf16le");
}

export interface CompileOptions {
  /** Initial memory in 64 KiB pages (the tests' "physical memory"). */
  initialPages?: number;
  /** Replaces asc's file reading (to substitute a module, or record what was read). */
  readFile?: (filename: string, baseDir: string) => string | null;
}

/** Compiles `entry` with the stub runtime at -O3; returns the wasm binary. */
export async function compileAssemblyScript(entry: string, options: CompileOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const args = [entry, "-O3", "--runtime", "stub", "--outFile", "out.wasm"];
  if (options.initialPages !== undefined) args.push("--initialMemory", String(options.initialPages));
  let binary: Uint8Array<ArrayBuffer> | undefined;
  const stderr: string[] = [];
  const { error } = await asc.main(args, {
    ...(options.readFile ? { readFile: options.readFile } : {}),
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name.endsWith(".wasm") && typeof contents !== "string") binary = new Uint8Array(contents);
    },
    stderr: { write: (s: string | Uint8Array) => { stderr.push(String(s)); return true; } } as never,
  });
  if (error || !binary) throw new Error(`asc failed for ${entry}: ${error?.message}\n${stderr.join("")}`);
  return binary;
}
