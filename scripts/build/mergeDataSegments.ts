// Merges a wasm module's active data segments into one (gaps zero-filled).
// asc emits a segment per static string or object, several hundred in the
// kernel; wasm2c turns each into its own copy in straight-line start-up code,
// which costs milliseconds of translation under an emulator at every boot.
// One segment becomes one memcpy.
// Usage: tsx scripts/build/mergeDataSegments.ts in.wasm out.wasm
import { readFileSync, writeFileSync } from "node:fs";
import { checkWasmMagic, readVarUint } from "./wasmNames.ts";

const SECTION_DATA = 11;
const SECTION_DATA_COUNT = 12;
const OP_I32_CONST = 0x41;
const OP_END = 0x0b;

interface Cursor {
  pos: number;
}

const readU32 = readVarUint;

function readI32(bytes: Uint8Array, at: Cursor): number {
  let result = 0;
  let shift = 0;
  let byte = 0;
  do {
    byte = bytes[at.pos++];
    result |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  if (shift < 32 && byte & 0x40) result |= -1 << shift;
  return result;
}

function u32Leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function i32Leb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

export interface DataSegment {
  offset: number;
  bytes: Uint8Array;
}

/** Parses a data section's active segments with constant offsets; throws on anything else. */
export function parseDataSection(body: Uint8Array): DataSegment[] {
  const at = { pos: 0 };
  const count = readU32(body, at);
  const segments: DataSegment[] = [];
  for (let i = 0; i < count; i++) {
    const flags = readU32(body, at);
    if (flags !== 0) throw new Error(`wasm: data segment ${i} is not active in memory 0 (flags ${flags})`);
    if (body[at.pos++] !== OP_I32_CONST) throw new Error(`wasm: data segment ${i} has a non-constant offset`);
    const offset = readI32(body, at) >>> 0;
    if (body[at.pos++] !== OP_END) throw new Error(`wasm: data segment ${i} offset expression is not a single constant`);
    const length = readU32(body, at);
    segments.push({ offset, bytes: body.subarray(at.pos, at.pos + length) });
    at.pos += length;
  }
  return segments;
}

/** One segment covering every byte the given segments set, zeros between them. */
export function mergeSegments(segments: DataSegment[]): DataSegment | null {
  if (segments.length === 0) return null;
  const start = Math.min(...segments.map((s) => s.offset));
  const end = Math.max(...segments.map((s) => s.offset + s.bytes.length));
  const bytes = new Uint8Array(end - start);
  // Later segments win where they overlap, as instantiation applies them in order.
  for (const s of segments) bytes.set(s.bytes, s.offset - start);
  return { offset: start, bytes };
}

function encodeDataSection(segment: DataSegment | null): number[] {
  if (segment === null) return u32Leb(0);
  return [...u32Leb(1), 0, OP_I32_CONST, ...i32Leb(segment.offset | 0), OP_END, ...u32Leb(segment.bytes.length), ...segment.bytes];
}

/** The module with its data segments merged (and its data count section updated). */
export function mergeDataSegmentsOfModule(wasm: Uint8Array): Uint8Array {
  checkWasmMagic(wasm);
  const sections: Array<{ id: number; body: Uint8Array }> = [];
  const at = { pos: 8 };
  while (at.pos < wasm.length) {
    const id = wasm[at.pos++];
    const size = readU32(wasm, at);
    sections.push({ id, body: wasm.subarray(at.pos, at.pos + size) });
    at.pos += size;
  }
  const data = sections.find((s) => s.id === SECTION_DATA);
  const merged = data === undefined ? null : mergeSegments(parseDataSection(data.body));
  const chunks: Uint8Array[] = [wasm.subarray(0, 8)];
  for (const section of sections) {
    let body = section.body;
    if (section.id === SECTION_DATA) body = Uint8Array.from(encodeDataSection(merged));
    else if (section.id === SECTION_DATA_COUNT) body = Uint8Array.from(u32Leb(merged === null ? 0 : 1));
    chunks.push(Uint8Array.from([section.id, ...u32Leb(body.length)]), body);
  }
  return Buffer.concat(chunks);
}

if (process.argv[1]?.endsWith("mergeDataSegments.ts")) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error("usage: mergeDataSegments.ts in.wasm out.wasm");
    process.exit(2);
  }
  writeFileSync(output, mergeDataSegmentsOfModule(readFileSync(input)));
}
