/** Builds small synthetic ELF64 files for the ELF reader tests. */
import { PT_LOAD, PT_NOTE, XEN_ELFNOTE_PHYS32_ENTRY } from "../../scripts/image/elf.js";

export interface SegmentSpec {
  type?: number;
  paddr: number;
  vaddr?: bigint;
  data: Uint8Array;
  memsz?: number;
  align?: number;
  /** Override p_offset (for malformed files). */
  offset?: number;
}

export interface ElfSpec {
  segments: SegmentSpec[];
  machine?: number;
  elfClass?: number;
  dataEncoding?: number;
  type?: number;
}

export const KVIRT = 0xffffffff80000000n;

export function makeElf(spec: ElfSpec): Uint8Array {
  const phoff = 64;
  let cursor = phoff + spec.segments.length * 56;
  const offsets = spec.segments.map((s) => {
    cursor = Math.ceil(cursor / 16) * 16;
    const at = cursor;
    cursor += s.data.length;
    return at;
  });
  const file = new Uint8Array(cursor);
  const dv = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, spec.elfClass ?? 2, spec.dataEncoding ?? 1, 1], 0);
  dv.setUint16(16, spec.type ?? 2, true);
  dv.setUint16(18, spec.machine ?? 62, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, KVIRT + 0x100000n, true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, spec.segments.length, true);
  spec.segments.forEach((s, i) => {
    const o = phoff + i * 56;
    dv.setUint32(o, s.type ?? PT_LOAD, true);
    dv.setUint32(o + 4, 5, true);
    dv.setBigUint64(o + 8, BigInt(s.offset ?? offsets[i]), true);
    dv.setBigUint64(o + 16, s.vaddr ?? KVIRT + BigInt(s.paddr), true);
    dv.setBigUint64(o + 24, BigInt(s.paddr), true);
    dv.setBigUint64(o + 32, BigInt(s.data.length), true);
    dv.setBigUint64(o + 40, BigInt(s.memsz ?? s.data.length), true);
    dv.setBigUint64(o + 48, BigInt(s.align ?? 0x1000), true);
    file.set(s.data, offsets[i]);
  });
  return file;
}

/** One ELF note with the given alignment (4 or 8). */
export function note(name: string, type: number, desc: Uint8Array, align = 4): Uint8Array {
  const nameBytes = new TextEncoder().encode(name + "\0");
  const pad = (n: number): number => Math.ceil(n / align) * align;
  const out = new Uint8Array(12 + pad(nameBytes.length) + pad(desc.length));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, nameBytes.length, true);
  dv.setUint32(4, desc.length, true);
  dv.setUint32(8, type, true);
  out.set(nameBytes, 12);
  out.set(desc, 12 + pad(nameBytes.length));
  return out;
}

export function pvhNote(entry: number, descBytes: 4 | 8 = 8, align = 4): Uint8Array {
  const desc = new Uint8Array(descBytes);
  const dv = new DataView(desc.buffer);
  if (descBytes === 4) dv.setUint32(0, entry, true);
  else dv.setBigUint64(0, BigInt(entry), true);
  return note("Xen", XEN_ELFNOTE_PHYS32_ENTRY, desc, align);
}

export function noteSegment(notes: Uint8Array[], align = 4): SegmentSpec {
  const total = notes.reduce((n, b) => n + b.length, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const b of notes) {
    data.set(b, at);
    at += b.length;
  }
  return { type: PT_NOTE, paddr: 0, vaddr: 0n, data, align };
}

export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A minimal valid kernel: one PT_LOAD at 1 MiB with a PVH note pointing at it. */
export function simpleKernel(size = 4096, entry = 0x100000): Uint8Array {
  return makeElf({ segments: [{ paddr: 0x100000, data: pattern(size, 7) }, noteSegment([pvhNote(entry)])] });
}
