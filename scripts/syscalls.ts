// Lists the system calls Wisp implements, by family (the libc/ file that has
// the handler), from the table itself: `npm run syscalls` prints a markdown
// table and the count; `--names` prints just the names, one per line.
import { readFileSync } from "node:fs";

const TABLE_PATH = "libc/table.ts";

interface Implemented {
  nr: number;
  name: string;
  handler: string;
}

function implemented(table: string): Implemented[] {
  const result: Implemented[] = [];
  const line = /^\s*\/\*\s*(\d+) \*\/ changetype<usize>\("(\w+)"\), changetype<usize>\(<SyscallHandler>(\w+)\),$/gm;
  for (const m of table.matchAll(line)) result.push({ nr: Number(m[1]), name: m[2], handler: m[3] });
  return result;
}

/** Handler name -> the libc module it is imported from. */
function handlerModules(table: string): Map<string, string> {
  const modules = new Map<string, string>();
  for (const m of table.matchAll(/import\s*\{([^}]*)\}\s*from\s*"\.\/([\w/]+)";/g)) {
    for (const name of m[1].split(",").map((s) => s.trim()).filter((s) => s.length > 0)) modules.set(name, `${m[2]}.ts`);
  }
  return modules;
}

function main(): void {
  const table = readFileSync(TABLE_PATH, "utf8");
  const calls = implemented(table);
  if (process.argv.includes("--names")) {
    for (const call of calls) console.log(call.name);
    return;
  }
  const modules = handlerModules(table);
  const byModule = new Map<string, string[]>();
  for (const call of calls) {
    const module = modules.get(call.handler) ?? "(unknown)";
    byModule.set(module, [...(byModule.get(module) ?? []), call.name]);
  }
  console.log("| libc file | calls |");
  console.log("|---|---|");
  for (const [module, names] of [...byModule].sort((a, b) => a[0].localeCompare(b[0]))) {
    console.log(`| ${module} | ${names.join(", ")} |`);
  }
  console.log(`\n${calls.length} system call numbers implemented (of ${table.match(/changetype<usize>\("\w+"\)/g)?.length ?? 0} x86-64 names).`);
}

main();
