// Post-processes wasm2c's kernel.c and records which AS function each C
// function is, for the kernel symbol table:
// - The linear memory base becomes a compile-time constant (the direct map):
//   otherwise gcc must reload instance->memory.data after every store.
// - asc's shadow-stack pointer becomes per-thread (see loader/kernel_prelude.h).
// - names.json maps wasm2c's C function names to AS names
//   ("w2c_kernel_log_Log_str" -> "kernel/log/Log.str").
// Usage: tsx scripts/build/postprocessKernelC.ts kernel.wasm kernel.c out.c names.json
import { readFileSync, writeFileSync } from "node:fs";
import { readFunctionNames, wasm2cFunctionName } from "./wasmNames.ts";

const SHADOW_STACK_POINTER = "instance->w2c__lib_memory___stack_pointer";
const PER_THREAD_SHADOW_STACK_POINTER = "WISP_SHADOW_SP";

/** Points asc's shadow-stack pointer at the per-thread copy (loader/kernel_prelude.h). */
export function perThreadShadowStack(source: string): string {
  return source.split(SHADOW_STACK_POINTER).join(PER_THREAD_SHADOW_STACK_POINTER);
}

const LOAD_STORE_BASE = "&mem->data[addr]";
const CONSTANT_BASE = "&((u8*)WISP_LINEAR_MEMORY_BASE)[addr]";

export function constantMemoryBase(source: string): string {
  const parts = source.split(LOAD_STORE_BASE);
  if (parts.length === 1) throw new Error("kernel.c: no load/store macros found; is this wasm2c 1.0.32 output?");
  return parts.join(CONSTANT_BASE);
}

export function cNameTable(names: Map<number, string>): Record<string, string> {
  const table: Record<string, string> = {};
  for (const name of names.values()) table[wasm2cFunctionName(name)] = name;
  return table;
}

function main(argv: string[]): void {
  if (argv.length !== 4) {
    console.error("usage: postprocessKernelC.ts kernel.wasm kernel.c out.c names.json");
    process.exit(2);
  }
  const [wasmPath, cPath, outPath, namesPath] = argv;
  const names = readFunctionNames(readFileSync(wasmPath));
  if (names.size === 0) throw new Error(`${wasmPath}: no name section (build with asc --debug)`);
  writeFileSync(outPath, perThreadShadowStack(constantMemoryBase(readFileSync(cPath, "utf8"))));
  writeFileSync(namesPath, JSON.stringify(cNameTable(names), null, 1));
}

if (process.argv[1]?.endsWith("postprocessKernelC.ts")) main(process.argv.slice(2));
