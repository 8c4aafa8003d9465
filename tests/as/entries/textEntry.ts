// Test entry: the kernel's pure text modules compiled on their own for Node.
export {
  formatUnsigned, formatDecimal, formatSigned, formatHex, formatMilli,
} from "../../../kernel/format";
export { cmdlineFind, cmdlineApplication, cmdlineLength, parseDecimal } from "../../../kernel/cmdline";

const scratchBytes = memory.data(8192, 16);

/** Where tests may write input and read output. */
export function scratch(): usize {
  return scratchBytes;
}
