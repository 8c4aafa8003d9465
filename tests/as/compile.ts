// Compiles an AssemblyScript test entry (tests/as/entries) to wasm with the
// same compiler as the kernel, and instantiates it in Node.
import { AbortError, compileAssemblyScript, readString } from "../support/asc.ts";

export async function compileEntry(entry: string): Promise<WebAssembly.Instance> {
  const module = await WebAssembly.compile(await compileAssemblyScript(entry));
  let memory: WebAssembly.Memory | undefined;
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(message: number, file: number, line: number, column: number) {
        throw new AbortError(`AS abort: ${readString(memory!, message)} at ${readString(memory!, file)}:${line}:${column}`);
      },
    },
  });
  memory = instance.exports.memory as WebAssembly.Memory;
  return instance;
}
