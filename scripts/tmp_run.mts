import { runProgram } from "../tests/abi/programs.ts";
const bin = process.argv[2];
const r = await runProgram({ name: "t", initrd: bin, program: "/t", timeoutMs: 30000, options: process.argv[3] ?? "" });
console.log(r.output.slice(-3000), r.status);
