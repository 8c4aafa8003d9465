// Kernel backtraces: walk the RBP chain (the kernel is built with frame
// pointers) and name each return address from the symbol table the build
// links into the image (.ksymtab: u64 count, then count entries of u64
// address, u32 name offset, u32 reserved, sorted by address, then the
// NUL-terminated names; AS functions carry their AssemblyScript names).
import { kernelSymbolTable, kernelTextEnd, kernelTextStart } from "../arch/x86_64/cpu";
import { virtToPhys } from "../arch/x86_64/layout";
import { Log } from "./log";

const MAX_FRAMES: u32 = 48;
const SYMBOL_ENTRY_BYTES: usize = 16;
const SYMBOL_NAME_MAX: u32 = 200;

function isKernelText(address: u64): bool {
  return address >= kernelTextStart() && address < kernelTextEnd();
}

/** Index of the symbol containing `address`, or -1. */
function findSymbol(table: usize, count: u32, address: u64): i32 {
  let low: i32 = 0;
  let high: i32 = <i32>count - 1;
  let best: i32 = -1;
  while (low <= high) {
    let mid = (low + high) >>> 1;
    let start = load<u64>(table + 8 + <usize>mid * SYMBOL_ENTRY_BYTES);
    if (start <= address) {
      best = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return best;
}

/** Prints "name+0xoffset" for a code address, or "?" when unknown. */
export function printSymbol(address: u64): void {
  let table = kernelSymbolTable();
  if (table == 0 || !isKernelText(address)) {
    Log.str("?");
    return;
  }
  let count = <u32>load<u64>(table);
  let index = findSymbol(table, count, address);
  if (index < 0) {
    Log.str("?");
    return;
  }
  let entry = table + 8 + <usize>index * SYMBOL_ENTRY_BYTES;
  let names = table + 8 + <usize>count * SYMBOL_ENTRY_BYTES;
  let name = names + <usize>load<u32>(entry, 8);
  let length: u32 = 0;
  while (length < SYMBOL_NAME_MAX && load<u8>(name + length) != 0) length++;
  Log.bytes(name, length);
  Log.str("+");
  Log.hexWidth(address - load<u64>(entry), 1);
}

function printFrame(index: u32, address: u64): void {
  Log.str("  #");
  Log.dec(index);
  Log.str(" ");
  Log.hex(address);
  Log.str(" ");
  // A return address points after the call; name the call itself.
  printSymbol(index == 0 ? address : address - 1);
  Log.newline();
}

/** Prints `rip` (when not 0) and the return addresses on the RBP chain. */
export function printBacktrace(rip: u64, rbp: u64): void {
  Log.line("backtrace:");
  let index: u32 = 0;
  if (rip != 0) printFrame(index++, rip);
  let frame = rbp;
  while (index < MAX_FRAMES && frame != 0 && (frame & 7) == 0) {
    let phys = virtToPhys(frame);
    if (phys == 0) break;
    let returnAddress = load<u64>(phys, 8);
    if (!isKernelText(returnAddress)) break;
    printFrame(index++, returnAddress);
    let next = load<u64>(phys);
    // Frames live higher up the stack as we unwind; anything else is garbage.
    if (next <= frame) break;
    frame = next;
  }
}
