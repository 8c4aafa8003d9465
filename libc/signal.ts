// Signals, phase 1: the bookkeeping is real (rt_sigaction keeps each
// signal's action, rt_sigprocmask each thread's mask, sigaltstack each
// thread's alternate stack, all with Linux's checks and errno), but nothing
// is delivered to handlers yet. A signal sent to the process (kill, tgkill,
// tkill, as raise() and abort() do) takes its default action when it has
// one that ends the process; ignored signals are dropped; a signal with a
// handler, or blocked, is dropped with a note.
import {
  APP_PID, appKilled, appThreadExists, currentApp,
} from "../kernel/app";
import { spinLock, spinUnlock } from "../kernel/sync/spinlock";
import { copyIn, copyOut, scratchWords } from "./uaccess";
import { EFAULT, EINVAL, ENOMEM, ESRCH } from "./errno";
import { NOTE_SIGNAL_BLOCKED, NOTE_SIGNAL_HANDLER, NOTE_SIGNAL_STOP, noteOnce } from "./log";

const SIGNALS: u32 = 64;
const SIGKILL: u32 = 9;
const SIGSTOP: u32 = 19;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
/** struct sigaction as the x86-64 kernel takes it: handler, flags, restorer, mask. */
const SIGACTION_BYTES: usize = 32;
const SIGSET_BYTES: u64 = 8;

const actions = memory.data(<i32>(SIGNALS * <u32>SIGACTION_BYTES), 8);
const actionsLock = memory.data(4, 4);

const SIGNAL_NAMES: StaticArray<string> = [
  "0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
  "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
  "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
  "SIGSYS",
];

@inline function bit(signal: u32): u64 {
  return <u64>1 << <u64>(signal - 1);
}

/** Signals whose default action ignores them. */
function ignoredByDefault(signal: u32): bool {
  return signal == 17 || signal == 18 || signal == 23 || signal == 28; // CHLD CONT URG WINCH
}

/** Signals whose default action stops the process. */
function stopsByDefault(signal: u32): bool {
  return signal == SIGSTOP || signal == 20 || signal == 21 || signal == 22; // TSTP TTIN TTOU
}

export function sysRtSigaction(signal: u64, action: u64, old: u64, setSize: u64, a4: u64, a5: u64): i64 {
  if (setSize != SIGSET_BYTES) return -EINVAL;
  let sig = <u32>signal;
  if (sig < 1 || sig > SIGNALS || <u64>sig != signal) return -EINVAL;
  if (action != 0 && (sig == SIGKILL || sig == SIGSTOP)) return -EINVAL;
  let words = scratchWords();
  if (action != 0 && copyIn(words, action, SIGACTION_BYTES) < 0) return -EFAULT;
  let slot = actions + <usize>(sig - 1) * SIGACTION_BYTES;
  let previous = words + SIGACTION_BYTES;
  let flags = spinLock(actionsLock);
  memory.copy(previous, slot, SIGACTION_BYTES);
  if (action != 0) {
    memory.copy(slot, words, SIGACTION_BYTES);
    // SIGKILL and SIGSTOP can never be blocked by a handler's mask.
    store<u64>(slot, load<u64>(slot, 24) & ~(bit(SIGKILL) | bit(SIGSTOP)), 24);
  }
  spinUnlock(actionsLock, flags);
  if (old != 0 && copyOut(old, previous, SIGACTION_BYTES) < 0) return -EFAULT;
  return 0;
}

const SIG_BLOCK: u64 = 0;
const SIG_UNBLOCK: u64 = 1;
const SIG_SETMASK: u64 = 2;

export function sysRtSigprocmask(how: u64, set: u64, old: u64, setSize: u64, a4: u64, a5: u64): i64 {
  if (setSize != SIGSET_BYTES) return -EINVAL;
  let app = currentApp();
  let words = scratchWords();
  let current = app.signalMask;
  if (set != 0) {
    if (copyIn(words, set, 8) < 0) return -EFAULT;
    let change = load<u64>(words) & ~(bit(SIGKILL) | bit(SIGSTOP));
    if (how == SIG_BLOCK) app.signalMask = current | change;
    else if (how == SIG_UNBLOCK) app.signalMask = current & ~change;
    else if (how == SIG_SETMASK) app.signalMask = change;
    else return -EINVAL;
  }
  if (old != 0) {
    store<u64>(words, current);
    if (copyOut(old, words, 8) < 0) return -EFAULT;
  }
  return 0;
}

/** Nothing is ever pending: signals are not queued yet. */
export function sysRtSigpending(set: u64, setSize: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (setSize > SIGSET_BYTES) return -EINVAL;
  let words = scratchWords();
  store<u64>(words, 0);
  return copyOut(set, words, <usize>setSize) < 0 ? -EFAULT : 0;
}

const SS_ONSTACK: u32 = 1;
const SS_DISABLE: u32 = 2;
const SS_AUTODISARM: u32 = 0x80000000;
const MINSIGSTKSZ: u64 = 2048;

/** stack_t: ss_sp, ss_flags (int, padded), ss_size. */
export function sysSigaltstack(stack: u64, old: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let app = currentApp();
  let words = scratchWords();
  if (old != 0) {
    store<u64>(words, app.altStackBase);
    store<u64>(words, <u64>(app.altStackSize == 0 ? SS_DISABLE : app.altStackFlags), 8);
    store<u64>(words, app.altStackSize, 16);
  }
  if (stack != 0) {
    let input = words + 24;
    if (copyIn(input, stack, 24) < 0) return -EFAULT;
    let base = load<u64>(input);
    let flags = load<u32>(input, 8);
    let size = load<u64>(input, 16);
    let mode = flags & ~SS_AUTODISARM;
    if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK) return -EINVAL;
    if (mode == SS_DISABLE) {
      app.altStackBase = 0;
      app.altStackSize = 0;
      app.altStackFlags = SS_DISABLE;
    } else {
      if (size < MINSIGSTKSZ) return -ENOMEM;
      app.altStackBase = base;
      app.altStackSize = size;
      app.altStackFlags = flags & SS_AUTODISARM;
    }
  }
  if (old != 0 && copyOut(old, words, 24) < 0) return -EFAULT;
  return 0;
}

/** What happens to `signal` sent to the process (the target already checked). */
function deliver(signal: u32): i64 {
  if (signal == 0) return 0;
  let slot = actions + <usize>(signal - 1) * SIGACTION_BYTES;
  let flags = spinLock(actionsLock);
  let handler = load<u64>(slot);
  spinUnlock(actionsLock, flags);
  if (handler == SIG_IGN && signal != SIGKILL && signal != SIGSTOP) return 0;
  if (handler != SIG_DFL && signal != SIGKILL && signal != SIGSTOP) {
    noteOnce(NOTE_SIGNAL_HANDLER, "signal handlers are not run yet: a signal with a handler was dropped");
    return 0;
  }
  if (ignoredByDefault(signal)) return 0;
  if (stopsByDefault(signal)) {
    noteOnce(NOTE_SIGNAL_STOP, "stop signals do not stop the application: dropped");
    return 0;
  }
  if ((currentApp().signalMask & bit(signal)) != 0 && signal != SIGKILL) {
    noteOnce(NOTE_SIGNAL_BLOCKED, "a blocked signal was dropped (signals are not queued yet)");
    return 0;
  }
  appKilled(signal, signal < <u32>SIGNAL_NAMES.length ? SIGNAL_NAMES[<i32>signal] : "real-time");
  return 0; // not reached
}

function checkSignal(signal: u64): bool {
  return signal <= <u64>SIGNALS;
}

export function sysKill(pid: u64, signal: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (!checkSignal(signal)) return -EINVAL;
  let target = <i32>pid;
  // The process itself, its group (0, -1 as "every process we may signal"), by number.
  if (target != <i32>APP_PID && target != 0 && target != -1 && target != -<i32>APP_PID) return -ESRCH;
  return deliver(<u32>signal);
}

export function sysTgkill(group: u64, tid: u64, signal: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<i32>group <= 0 || <i32>tid <= 0 || !checkSignal(signal)) return -EINVAL;
  if (<u32>group != APP_PID || !appThreadExists(<u32>tid)) return -ESRCH;
  return deliver(<u32>signal);
}

export function sysTkill(tid: u64, signal: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<i32>tid <= 0 || !checkSignal(signal)) return -EINVAL;
  if (!appThreadExists(<u32>tid)) return -ESRCH;
  return deliver(<u32>signal);
}
