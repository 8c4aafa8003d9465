// Self-test bookkeeping: one line per check, a summary line, and counts the
// caller turns into the VM's exit status.
import { Log } from "../log";

export class SelfTest {
  static passed: u32 = 0;
  static failed: u32 = 0;

  /** Records check `name` of `suite`; prints "selftest: suite: name: ok|FAIL". */
  static check(suite: string, name: string, ok: bool): bool {
    Log.str("selftest: ");
    Log.str(suite);
    Log.str(": ");
    Log.str(name);
    Log.line(ok ? ": ok" : ": FAIL");
    if (ok) SelfTest.passed++;
    else SelfTest.failed++;
    return ok;
  }

  /** Like check, with a measured value and its limit for the log. */
  static checkValue(suite: string, name: string, value: i64, expected: i64): bool {
    let ok = value == expected;
    if (!ok) {
      Log.str("selftest: ");
      Log.str(name);
      Log.str(": got ");
      Log.signed(value);
      Log.str(", expected ");
      Log.signed(expected);
      Log.newline();
    }
    return SelfTest.check(suite, name, ok);
  }

  /** "selftest: done, <n> checks ok, <m> failed". */
  static summary(): void {
    Log.str("selftest: done, ");
    Log.dec(SelfTest.passed);
    Log.str(" checks ok, ");
    Log.dec(SelfTest.failed);
    Log.line(" failed");
  }
}
