// Reads function names from a wasm module's "name" custom section, which asc
// emits with --debug and wasm2c 1.0.32 turns into C names (w2c_ + the name with
// every character outside [A-Za-z0-9_] replaced by '_'). The build maps those
// C names back to AS names for the kernel's symbol table.

/** Reads an unsigned LEB128 number at `at.pos`, advancing it. */
export function readVarUint(bytes: Uint8Array, at: { pos: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (at.pos >= bytes.length) throw new Error("wasm: truncated LEB128");
    const byte = bytes[at.pos++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
    if (shift > 35) throw new Error("wasm: LEB128 too long");
  }
}

function readName(bytes: Uint8Array, at: { pos: number }): string {
  const length = readVarUint(bytes, at);
  const text = new TextDecoder().decode(bytes.subarray(at.pos, at.pos + length));
  at.pos += length;
  return text;
}

/** Throws unless `wasm` starts with the wasm magic and version. */
export function checkWasmMagic(wasm: Uint8Array): void {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
    throw new Error("wasm: not a wasm module (bad magic)");
  }
}

/** Function index (imports included) to name. Empty when there is no name section. */
export function readFunctionNames(wasm: Uint8Array): Map<number, string> {
  const names = new Map<number, string>();
  checkWasmMagic(wasm);
  const at = { pos: 8 };
  while (at.pos < wasm.length) {
    const id = wasm[at.pos++];
    const size = readVarUint(wasm, at);
    const end = at.pos + size;
    if (id === 0) {
      const sectionName = readName(wasm, at);
      if (sectionName === "name") {
        while (at.pos < end) {
          const subsection = wasm[at.pos++];
          const subsectionSize = readVarUint(wasm, at);
          const subsectionEnd = at.pos + subsectionSize;
          if (subsection === 1) {
            const count = readVarUint(wasm, at);
            for (let i = 0; i < count; i++) {
              const index = readVarUint(wasm, at);
              names.set(index, readName(wasm, at));
            }
          }
          at.pos = subsectionEnd;
        }
      }
    }
    at.pos = end;
  }
  return names;
}

/** The C name wasm2c 1.0.32 gives function `name`: "kernel/log/Log.str" -> "w2c_kernel_log_Log_str". */
export function wasm2cFunctionName(name: string): string {
  return "w2c_" + name.replace(/[^A-Za-z0-9_]/g, "_");
}
