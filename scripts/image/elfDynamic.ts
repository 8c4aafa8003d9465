/**
 * What the dynamic loader needs to know about an ELF64 x86-64 file:
 * PT_INTERP (the program's interpreter) and, from PT_DYNAMIC, DT_NEEDED,
 * DT_RPATH, DT_RUNPATH and DT_SONAME. Strings are found through DT_STRTAB,
 * a virtual address mapped back to a file offset through the PT_LOAD
 * segments, as the loader sees them.
 */
import { ImageError } from "./errors.js";

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const EM_X86_64 = 62;

export interface DynamicInfo {
  /** ELF type: 2 (ET_EXEC) or 3 (ET_DYN). */
  type: number;
  interpreter: string | null;
  needed: string[];
  rpath: string[];
  runpath: string[];
  soname: string | null;
}

interface Segment {
  offset: number;
  vaddr: number;
  filesz: number;
}

/** Parses `file`; `name` is used in error messages. Throws ImageError. */
export function readDynamicInfo(file: Uint8Array, name: string): DynamicInfo {
  const fail = (why: string): never => {
    throw new ImageError(`${name}: ${why}`);
  };
  if (file.length < 64 || file[0] !== 0x7f || file[1] !== 0x45 || file[2] !== 0x4c || file[3] !== 0x46) fail("not an ELF file");
  if (file[4] !== 2 || file[5] !== 1) fail("not a 64-bit little-endian ELF file");
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const type = dv.getUint16(16, true);
  if (dv.getUint16(18, true) !== EM_X86_64) fail("not an x86-64 ELF file");
  if (type !== 2 && type !== 3) fail(`ELF type ${type} is neither an executable nor a shared object`);
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== 56 || phoff + phnum * 56 > file.length) fail("bad program headers");
  const loads: Segment[] = [];
  let interpreter: string | null = null;
  let dynamic: Segment | null = null;
  const cString = (offset: number, limit: number): string => {
    let end = offset;
    while (end < limit && file[end] !== 0) end++;
    if (end >= limit) fail(`unterminated string at offset ${offset}`);
    return Buffer.from(file.subarray(offset, end)).toString("utf8");
  };
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * 56;
    const kind = dv.getUint32(at, true);
    const segment = {
      offset: Number(dv.getBigUint64(at + 8, true)),
      vaddr: Number(dv.getBigUint64(at + 16, true)),
      filesz: Number(dv.getBigUint64(at + 32, true)),
    };
    if (segment.offset + segment.filesz > file.length) fail(`program header ${i} lies outside the file`);
    if (kind === PT_LOAD) loads.push(segment);
    if (kind === PT_DYNAMIC) dynamic = segment;
    if (kind === PT_INTERP) interpreter = cString(segment.offset, segment.offset + segment.filesz);
  }
  const info: DynamicInfo = { type, interpreter, needed: [], rpath: [], runpath: [], soname: null };
  if (dynamic === null) return info;
  const fileOffset = (vaddr: number): number => {
    for (const s of loads) if (vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) return s.offset + (vaddr - s.vaddr);
    return fail(`address 0x${vaddr.toString(16)} is in no PT_LOAD segment`);
  };
  const entries: [number, number][] = [];
  let strtab = -1;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
    const tag = Number(dv.getBigInt64(at, true));
    const value = Number(dv.getBigUint64(at + 8, true));
    if (tag === DT_NULL) break;
    if (tag === DT_STRTAB) strtab = fileOffset(value);
    entries.push([tag, value]);
  }
  if (strtab < 0) {
    if (entries.some(([tag]) => tag === DT_NEEDED)) fail("DT_NEEDED without DT_STRTAB");
    return info;
  }
  const string = (offset: number): string => cString(strtab + offset, file.length);
  const paths = (text: string): string[] => text.split(":").filter((p) => p.length > 0);
  for (const [tag, value] of entries) {
    if (tag === DT_NEEDED) info.needed.push(string(value));
    else if (tag === DT_RPATH) info.rpath.push(...paths(string(value)));
    else if (tag === DT_RUNPATH) info.runpath.push(...paths(string(value)));
    else if (tag === DT_SONAME) info.soname = string(value);
  }
  return info;
}
