import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BOOT_HEADER_LOAD_ADDR, CMDLINE_OFFSET, HEADER_FIELDS } from "../../scripts/image/bootHeader.js";
import { LOW_MEMORY } from "../../scripts/image/lowMemory.js";
import { REPO } from "./helpers.js";

/** The `.set NAME, expr` constants of mbr.S, with expr = number or NAME + number. */
function mbrConstants(): Map<string, number> {
  const src = readFileSync(join(REPO, "arch/x86_64/mbr.S"), "utf8");
  const out = new Map<string, number>();
  for (const m of src.matchAll(/^\s*\.set\s+(\w+),\s*([^/\n]+?)\s*(?:\/\*.*)?$/gm)) {
    const [, name, expr] = m;
    const parts = expr.split("+").map((p) => p.trim());
    let value = 0;
    for (const p of parts) value += /^\d|^0x/i.test(p) ? Number(p) : (out.get(p) ?? NaN);
    out.set(name, value);
  }
  return out;
}

describe("mbr.S and the TypeScript side agree", () => {
  const c = mbrConstants();
  it("on the low-memory map", () => {
    expect(c.get("START_INFO")).toBe(LOW_MEMORY.startInfo);
    expect(c.get("E820_MAP")).toBe(LOW_MEMORY.e820Map);
    expect(c.get("E820_MAX")).toBe(LOW_MEMORY.e820MaxEntries);
    expect(c.get("STACK_TOP")).toBe(LOW_MEMORY.stackTop);
    expect(c.get("HEADER")).toBe(LOW_MEMORY.bootHeader);
    expect(c.get("HEADER")).toBe(BOOT_HEADER_LOAD_ADDR);
    expect(c.get("BOUNCE")).toBe(LOW_MEMORY.bounce);
    expect((c.get("CHUNK") ?? 0) * 512).toBe(LOW_MEMORY.bounceBytes);
    // The e820 table fits between start_info and the MBR.
    expect(LOW_MEMORY.e820Map + LOW_MEMORY.e820MaxEntries * 24).toBeLessThanOrEqual(LOW_MEMORY.mbr);
    expect(LOW_MEMORY.startInfo + 56).toBeLessThanOrEqual(LOW_MEMORY.e820Map);
  });

  it("on the boot header fields", () => {
    const base = LOW_MEMORY.bootHeader;
    expect(c.get("HDR_MAGIC_LO")).toBe(base + HEADER_FIELDS.magic);
    expect(c.get("HDR_VERSION")).toBe(base + HEADER_FIELDS.version);
    expect(c.get("HDR_KLBA")).toBe(base + HEADER_FIELDS.kernelLba);
    expect(c.get("HDR_KSECT")).toBe(base + HEADER_FIELDS.kernelSectors);
    expect(c.get("HDR_LOAD")).toBe(base + HEADER_FIELDS.loadAddr);
    expect(c.get("HDR_ENTRY")).toBe(base + HEADER_FIELDS.entryAddr);
    expect(c.get("HDR_CMDLINE")).toBe(base + CMDLINE_OFFSET);
  });
});
