// Generates the kernel symbol table (.ksymtab) from a linked kernel's symbols,
// as assembly for the second link. Format (read by kernel/backtrace.ts):
// u64 count; count x {u64 address, u32 name offset, u32 reserved}, sorted by
// address; then NUL-terminated names. AS functions get their AS names.
// Usage: tsx scripts/build/symbolTable.ts kernel.pass1.elf names.json out.S
//        tsx scripts/build/symbolTable.ts --empty out.S
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

export interface KernelSymbol {
  address: bigint;
  name: string;
}

/** Parses `nm -n --defined-only` output, keeping code symbols (t/T/W). */
export function parseNm(output: string, asNames: Record<string, string>): KernelSymbol[] {
  const symbols: KernelSymbol[] = [];
  for (const line of output.split("\n")) {
    const match = /^([0-9a-f]+) ([tTwW]) (\S+)$/.exec(line.trim());
    if (!match) continue;
    const [, hex, , raw] = match;
    // gcc's local clones (foo.constprop.0, foo.isra.0) keep their base name.
    const base = raw.replace(/\.(constprop|isra|part|cold|lto_priv)\.\d+.*$/, "");
    symbols.push({ address: BigInt(`0x${hex}`), name: asNames[base] ?? base });
  }
  symbols.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return symbols;
}

export function symbolTableAssembly(symbols: KernelSymbol[]): string {
  const lines = ['\t.section .ksymtab, "a"', "\t.p2align 3", `\t.quad ${symbols.length}`];
  let offset = 0;
  const names: string[] = [];
  for (const s of symbols) {
    lines.push(`\t.quad 0x${s.address.toString(16)}`, `\t.long ${offset}`, "\t.long 0");
    names.push(s.name);
    offset += Buffer.byteLength(s.name) + 1;
  }
  for (const name of names) lines.push(`\t.asciz ${JSON.stringify(name)}`);
  return lines.join("\n") + "\n";
}

function main(argv: string[]): void {
  if (argv[0] === "--empty" && argv.length === 2) {
    writeFileSync(argv[1], symbolTableAssembly([]));
    return;
  }
  if (argv.length !== 3) {
    console.error("usage: symbolTable.ts kernel.elf names.json out.S | --empty out.S");
    process.exit(2);
  }
  const [elf, namesPath, out] = argv;
  const nm = execFileSync("nm", ["-n", "--defined-only", elf], { encoding: "utf8", maxBuffer: 64 << 20 });
  const asNames = JSON.parse(readFileSync(namesPath, "utf8")) as Record<string, string>;
  writeFileSync(out, symbolTableAssembly(parseNm(nm, asNames)));
}

if (process.argv[1]?.endsWith("symbolTable.ts")) main(process.argv.slice(2));
