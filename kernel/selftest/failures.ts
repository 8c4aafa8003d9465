// Deliberate failures, selected with wisp.test=<name> on the command line, so
// tests can check that every failure path reports and exits as it should.
import { triggerDoubleFault } from "../../arch/x86_64/cpu";
import { Log } from "../log";
import { Options } from "../options";
import { panic } from "../panic";

// A non-constant null so the optimizer cannot fold the faulting loads away.
let nullPointer: usize = 0;
let zero: u32 = 0;

@inline function pageFault(): u32 {
  // Physical page 0 is unmapped in the direct map: an AS null dereference faults.
  return load<u32>(nullPointer);
}

/** Runs the deliberate failure named on the command line, if any. */
export function runSelfTestFailure(): void {
  if (!Options.has("wisp.test")) return;
  // Suites that run after boot (kernel/main.ts), not failures.
  if (Options.equals("wisp.test", "core") || Options.equals("wisp.test", "vm") || Options.equals("wisp.test", "guardpage")) return;
  if (Options.equals("wisp.test", "blk") || Options.equals("wisp.test", "net") || Options.equals("wisp.test", "rng") ||
    Options.equals("wisp.test", "devices")) return;
  Log.str("selftest: triggering ");
  Options.logValue("wisp.test");
  Log.newline();
  if (Options.equals("wisp.test", "fault")) {
    Log.dec(pageFault());
  } else if (Options.equals("wisp.test", "divide")) {
    Log.dec(100 / zero);
  } else if (Options.equals("wisp.test", "abort")) {
    assert(zero == 1, "selftest assertion");
  } else if (Options.equals("wisp.test", "panic")) {
    panic("selftest panic");
  } else if (Options.equals("wisp.test", "doublefault")) {
    triggerDoubleFault();
  } else {
    Log.line("selftest: unknown test (known: core vm guardpage blk net rng devices fault divide abort panic doublefault)");
  }
}
