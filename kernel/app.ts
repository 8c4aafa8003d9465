// The application: one Linux process, the only one a Wisp VM runs. Its
// threads are kernel threads that run application code at ring 0 in the
// lower half: each has an FPU save area, an FS base (its TLS pointer) and a
// kernel entry stack that system calls (arch/x86_64/syscall.S) and
// interrupts from application code (arch/x86_64/isr.S) run on.
//
// The program comes from the boot command line, `-- [NAME=value ...] /path
// [args]`, and its bytes from the file system: boot module 0 (QEMU's
// -initrd) is either a cpio archive unpacked into ramfs or the program
// itself, stored at its path (kernel/vfs/boot.ts). A name without a slash
// is searched in PATH, as execvp does. Its exit status is the VM's.
import { accessClear } from "../arch/x86_64/access";
import { interruptsRestore, interruptsSave } from "../arch/x86_64/atomic";
import { cpuid, rdtsc } from "../arch/x86_64/cpu";
import { idtUseEntryStack } from "../arch/x86_64/idt";
import { physToDirectMap, virtToPhys } from "../arch/x86_64/layout";
import {
  appResume, FRAME_BYTES, FRAME_RFLAGS, FRAME_RIP, FRAME_RSP, fpuSaveTo, RFLAGS_INITIAL, setFsBase, syscallCpuInit,
} from "../arch/x86_64/syscall";
import { BootInfo } from "./bootinfo";
import { cmdlineApplication } from "./cmdline";
import { buildInitialStack, StringList, STRINGS_MAX } from "./elf/stack";
import { elfErrorReason, ElfImage, elfLoad } from "./elf/elf";
import { Log } from "./log";
import { heapAlloc, heapFree, TAG_LIBC } from "./mm/heap";
import { allocContiguous, freeContiguous, PAGE_SIZE } from "./mm/physical";
import { applicationSpace } from "./mm/vm";
import { powerOff, powerOffClaim } from "./power";
import { Cpus, thisCpu } from "./sched/percpu";
import { currentThread, threadExit, threadJoin, threadSpawn, threadStartOn } from "./sched/scheduler";
import { FpuState, STACK_PAGES, Thread, threadCreate, threadEnableFpu, threadFree } from "./sched/thread";
import { spinLock, spinUnlock } from "./sync/spinlock";
import { consoleFileOpen } from "./vfs/consoleFile";
import { vfsBoot } from "./vfs/boot";
import { vfsReadWholeFile } from "./vfs/vfs";
import { EACCES, ENOENT, ENOTDIR } from "./errno";
import { fdInstall } from "./vfs/fdtable";
import { fileGet } from "./vfs/file";
import { FUTEX_BITSET_MATCH_ANY, futexWake } from "./sync/futex";

// loader/threads.c reads these two Thread fields at fixed offsets.
if (offsetof<Thread>("fsBase") != 112 || offsetof<Thread>("entryStack") != 120) {
  ERROR("Thread.fsBase and Thread.entryStack moved: update loader/threads.c THREAD_FS_BASE and THREAD_ENTRY_STACK");
}

/** The process id (and the first thread's id): the application is the VM's first and only process. */
export const APP_PID: u32 = 1;
/** Pages of a thread's scratch area (libc/uaccess.ts lays it out). */
export const APP_SCRATCH_PAGES: usize = 2;
/** Exit status when the program cannot be started (as a shell's "cannot execute"). */
export const EXIT_CANNOT_RUN: u32 = 126;

/** The process-side record of an application thread. */
@unmanaged
export class AppThread {
  thread: usize;
  /** Next in the process's thread list. */
  next: usize;
  tid: u32;
  /** Signals blocked (rt_sigprocmask), bit n - 1 for signal n. */
  signalMask: u64;
  /** set_tid_address / CLONE_CHILD_CLEARTID: zeroed and woken when the thread ends. */
  clearChildTid: u64;
  /** set_robust_list: recorded, not yet walked at exit. */
  robustList: u64;
  robustLength: u64;
  /** sigaltstack. */
  altStackBase: u64;
  altStackSize: u64;
  altStackFlags: u32;
  /** prctl(PR_SET_NAME): 16 bytes. */
  name0: u64;
  name1: u64;
  /** APP_SCRATCH_PAGES for system calls' buffers; until the thread first
   * runs, its initial register frame. */
  scratch: usize;
}

export class App {
  static threads: usize = 0;
  static live: u32 = 0;
  static nextTid: u32 = APP_PID;
  /** TSC ticks run by threads that have ended (for CLOCK_PROCESS_CPUTIME_ID). */
  static endedTicks: u64 = 0;
  /** The program's name (argv[0]) in the command line. */
  static path: usize = 0;
  static pathLength: u32 = 0;
  /** The program's absolute path as found (argv[0], or searched in PATH): /proc/self/exe. */
  static exePath: usize = 0;
  static exePathLength: u32 = 0;
  /** The argument and environment lists (StringList), for /proc/self/cmdline and environ. */
  static args: usize = 0;
  static env: usize = 0;
  /** The program's image [imageStart, imageEnd) and the initial stack pointer, for /proc/self/maps. */
  static imageStart: u64 = 0;
  static imageEnd: u64 = 0;
  static stackPointer: u64 = 0;
}

const listLock = memory.data(4, 4);

/** The calling application thread's record (only valid in system calls). */
export function currentApp(): AppThread {
  return changetype<AppThread>(currentThread().app);
}

/** The system call frame of the calling thread (an AS pointer; arch/x86_64/syscall.ts FRAME_*). */
export function currentFrame(): usize {
  return virtToPhys(currentThread().entryStack) - FRAME_BYTES;
}

// ---------------------------------------------------------------------------
// Threads

function appThreadEntry(arg: usize): void {
  let app = changetype<AppThread>(arg);
  appResume(app.scratch, currentThread().entryStack);
}

/**
 * A new application thread, not yet started: its registers are the frame at
 * `frame` (FRAME_BYTES), its FS base `fsBase`, its FPU state a copy of the
 * caller's (`inheritFpu`) or the initial one. Null when out of memory.
 */
export function appThreadCreate(frame: usize, fsBase: u64, inheritFpu: bool): AppThread | null {
  let record = heapAlloc(offsetof<AppThread>(), TAG_LIBC);
  if (record == 0) return null;
  let app = changetype<AppThread>(record);
  let scratch = allocContiguous(APP_SCRATCH_PAGES);
  let thread = scratch != 0 ? threadCreate("app", appThreadEntry, record) : null;
  if (thread === null || !threadEnableFpu(thread)) {
    if (thread !== null) threadFree(thread);
    if (scratch != 0) freeContiguous(scratch, APP_SCRATCH_PAGES);
    heapFree(record);
    return null;
  }
  if (inheritFpu) fpuSaveTo(<usize>thread.fpuArea);
  memory.copy(scratch, frame, FRAME_BYTES);
  app.scratch = scratch;
  app.thread = changetype<usize>(thread);
  thread.fsBase = fsBase;
  thread.entryStack = physToDirectMap(thread.stackBase + STACK_PAGES * PAGE_SIZE);
  thread.app = record;
  thread.detached = 1;
  let flags = spinLock(listLock);
  app.tid = App.nextTid++;
  app.next = App.threads;
  App.threads = record;
  App.live++;
  spinUnlock(listLock, flags);
  return app;
}

/** Makes a thread from appThreadCreate runnable. */
export function appThreadStart(app: AppThread): void {
  threadStartOn(changetype<Thread>(app.thread), thisCpu().index);
}

/** Undoes appThreadCreate for a thread that never ran. */
export function appThreadDiscard(app: AppThread): void {
  let flags = spinLock(listLock);
  unlinkLocked(app);
  spinUnlock(listLock, flags);
  threadFree(changetype<Thread>(app.thread));
  freeContiguous(app.scratch, APP_SCRATCH_PAGES);
  heapFree(changetype<usize>(app));
}

function unlinkLocked(app: AppThread): void {
  let previous: usize = 0;
  let t = App.threads;
  while (t != 0 && t != changetype<usize>(app)) {
    previous = t;
    t = changetype<AppThread>(t).next;
  }
  if (t == 0) return;
  if (previous == 0) App.threads = app.next;
  else changetype<AppThread>(previous).next = app.next;
  App.live--;
}

/** Sets the calling thread's FS base (arch_prctl ARCH_SET_FS). */
export function appSetFsBase(value: u64): void {
  let flags = interruptsSave();
  currentThread().fsBase = value;
  setFsBase(value);
  interruptsRestore(flags);
}

/** TSC ticks thread `thread` has run, the current run included. */
function threadTicks(thread: Thread): u64 {
  let ticks = thread.runtime;
  if (changetype<usize>(thread) == changetype<usize>(currentThread())) ticks += rdtsc() - thread.runStart;
  return ticks;
}

/** CPU time of thread `tid` (0: the caller) in TSC ticks, or -1 if there is none. */
export function appThreadTicks(tid: u32): i64 {
  if (tid == 0) return <i64>threadTicks(currentThread());
  let result: i64 = -1;
  let flags = spinLock(listLock);
  for (let t = App.threads; t != 0; t = changetype<AppThread>(t).next) {
    let app = changetype<AppThread>(t);
    if (app.tid == tid) {
      result = <i64>threadTicks(changetype<Thread>(app.thread));
      break;
    }
  }
  spinUnlock(listLock, flags);
  return result;
}

/** CPU time of the whole process in TSC ticks. */
export function appProcessTicks(): u64 {
  let flags = spinLock(listLock);
  let total = App.endedTicks;
  for (let t = App.threads; t != 0; t = changetype<AppThread>(t).next) {
    total += threadTicks(changetype<Thread>(changetype<AppThread>(t).thread));
  }
  spinUnlock(listLock, flags);
  return total;
}

/** Is there a live thread with this id? */
export function appThreadExists(tid: u32): bool {
  let found = false;
  let flags = spinLock(listLock);
  for (let t = App.threads; t != 0; t = changetype<AppThread>(t).next) {
    if (changetype<AppThread>(t).tid == tid) found = true;
  }
  spinUnlock(listLock, flags);
  return found;
}

/**
 * Ends the calling thread (exit): clears and wakes its clear_child_tid word,
 * and when it was the last thread, ends the process with `status`.
 */
export function appThreadExit(status: u32): void {
  let app = currentApp();
  let self = currentThread();
  if (app.clearChildTid != 0) {
    // As Linux's mm_release: a bad address is ignored.
    if (accessClear(app.clearChildTid, 4) == 0) futexWake(app.clearChildTid, 1, FUTEX_BITSET_MATCH_ANY);
  }
  let flags = spinLock(listLock);
  unlinkLocked(app);
  let last = App.live == 0;
  App.endedTicks += threadTicks(self);
  spinUnlock(listLock, flags);
  self.app = 0;
  freeContiguous(app.scratch, APP_SCRATCH_PAGES);
  heapFree(changetype<usize>(app));
  if (last) appExit(status);
  threadExit();
}

/** Ends the process (exit_group, or the last thread's exit): the VM ends with `status`. */
export function appExit(status: u32): void {
  powerOffClaim();
  Log.str("wisp: application exited with status ");
  Log.dec(status & 0xff);
  Log.newline();
  powerOff(status & 0xff);
}

/** Ends the process as a fatal signal would (default action "terminate"). */
export function appKilled(signal: u32, name: string): void {
  powerOffClaim();
  Log.str("wisp: application killed by signal ");
  Log.dec(signal);
  Log.str(" (");
  Log.str(name);
  Log.line(")");
  powerOff(signal);
}

// ---------------------------------------------------------------------------
// Starting the program

/** Did the command line name an application (`-- /path ...`)? */
export function applicationRequested(): bool {
  return cmdlineApplication(BootInfo.cmdline, BootInfo.cmdlineLength) >= 0;
}

function cannotRun(reason: string, status: u32 = EXIT_CANNOT_RUN): void {
  Log.str("wisp: cannot run ");
  if (App.pathLength != 0) Log.bytes(App.path, App.pathLength);
  else Log.str("the application");
  Log.str(": ");
  Log.line(reason);
  powerOff(status);
}

// The environment: defaults, replaced or extended by NAME=value words before
// the program's path on the command line.
const DEFAULT_ENVIRONMENT: StaticArray<string> = ["HOME=/", "PATH=/usr/local/bin:/usr/bin:/bin", "TERM=linux"];
const ENV_BYTES: usize = 256;
const envBytes = memory.data(<i32>ENV_BYTES);

const argList = memory.data(<i32>(8 + STRINGS_MAX * 8), 4);
const envList = memory.data(<i32>(8 + STRINGS_MAX * 8), 4);

function isSpace(c: u8): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

/** Index in `list` of the NAME=... string with the same NAME as [text, text + length), or -1. */
function findVariable(list: StringList, text: usize, length: u32): i32 {
  let nameLength: u32 = 0;
  while (nameLength < length && load<u8>(text + nameLength) != 0x3d) nameLength++;
  for (let i: u32 = 0; i < list.count; i++) {
    let other = list.pointer(i);
    if (list.length(i) <= nameLength || load<u8>(other + nameLength) != 0x3d) continue;
    if (memory.compare(other, text, nameLength) == 0) return <i32>i;
  }
  return -1;
}

/** Parses `-- [NAME=value ...] /path [args]` into the argument and environment lists. */
function parseCommandLine(args: StringList, env: StringList): bool {
  let offset = <u32>cmdlineApplication(BootInfo.cmdline, BootInfo.cmdlineLength);
  let line = BootInfo.cmdline;
  let end = BootInfo.cmdlineLength;
  // The defaults, as bytes.
  let used: usize = 0;
  for (let i = 0; i < DEFAULT_ENVIRONMENT.length; i++) {
    let text = DEFAULT_ENVIRONMENT[i];
    let start = envBytes + used;
    for (let j = 0; j < text.length; j++) store<u8>(start + <usize>j, <u8>text.charCodeAt(j));
    used += <usize>text.length;
    env.add(start, <u32>text.length);
  }
  let inEnvironment = true;
  let i = offset;
  while (i < end) {
    while (i < end && isSpace(load<u8>(line + i))) i++;
    if (i >= end) break;
    let start = i;
    let hasEquals = false;
    while (i < end && !isSpace(load<u8>(line + i))) {
      if (load<u8>(line + i) == 0x3d) hasEquals = true;
      i++;
    }
    let word = line + start;
    let length = i - start;
    if (inEnvironment && hasEquals && load<u8>(word) != 0x2f) {
      let existing = findVariable(env, word, length);
      if (existing >= 0) env.set(<u32>existing, word, length);
      else if (!env.add(word, length)) return false;
      continue;
    }
    inEnvironment = false;
    if (!args.add(word, length)) return false;
  }
  return args.count > 0;
}

function cpuInitEntry(arg: usize): void {
  syscallCpuInit();
}

/** Enables system calls on every CPU and moves interrupt entry off application stacks. */
function prepareCpus(): void {
  idtUseEntryStack();
  // A pinned helper on every CPU, ours too: which CPU is ours can change
  // under preemption between asking and acting.
  for (let cpu: u32 = 0; cpu < Cpus.online; cpu++) {
    let helper = threadSpawn("syscall-init", cpuInitEntry, 0, cpu, false);
    if (helper === null) {
      cannotRun("out of memory");
      return;
    }
    threadJoin(helper);
  }
}

/**
 * Loads the program named on the command line from boot module 0, builds
 * its stack and starts its first thread; the calling (boot) thread ends.
 * The VM ends when the application does. Never returns.
 */
export function runApplication(): void {
  let args = changetype<StringList>(argList);
  let env = changetype<StringList>(envList);
  args.count = 0;
  env.count = 0;
  if (!parseCommandLine(args, env)) {
    cannotRun("bad command line (expected -- [NAME=value ...] /path [args], at most 128 words of each kind)");
    return;
  }
  App.path = args.pointer(0);
  App.pathLength = args.length(0);
  App.args = changetype<usize>(args);
  App.env = changetype<usize>(env);
  if (!vfsBoot(App.path, App.pathLength)) {
    cannotRun("out of memory for the file system");
    return;
  }
  let file = memory.data(16, 8);
  let found = findProgram(env, file);
  if (found == -ENOENT || found == -ENOTDIR) {
    cannotRun(BootInfo.modules == 0 ? "not found (boot with -initrd FILE)" : "not found", EXIT_NOT_FOUND);
    return;
  }
  if (found < 0) {
    cannotRun(found == -EACCES ? "permission denied" : "cannot read it");
    return;
  }
  let space = applicationSpace();
  let image = changetype<ElfImage>(memory.data(offsetof<ElfImage>(), 8));
  let bytes = <usize>load<u64>(file);
  let size = load<u64>(file, 8);
  let loaded = elfLoad(space, bytes, size, image);
  if (loaded == 0) App.imageStart = imageStart(bytes, image.bias);
  heapFree(bytes);
  if (loaded < 0) {
    cannotRun(elfErrorReason(loaded));
    return;
  }
  App.imageEnd = image.brk;
  let registers = cpuidEdx();
  let sp = buildInitialStack(space, image, args, env, registers, FpuState.areaBytes + 1024);
  if (sp < 0) {
    cannotRun("out of memory for the stack");
    return;
  }
  App.stackPointer = <u64>sp;
  if (!openStandardDescriptors()) {
    cannotRun("out of memory");
    return;
  }
  prepareCpus();
  let frame = heapAlloc(FRAME_BYTES, TAG_LIBC);
  if (frame == 0) {
    cannotRun("out of memory");
    return;
  }
  // The interpreter's entry for a dynamic program (elf/elf.ts), else the program's.
  store<u64>(frame + FRAME_RIP, image.start);
  store<u64>(frame + FRAME_RSP, <u64>sp);
  store<u64>(frame + FRAME_RFLAGS, RFLAGS_INITIAL);
  let main = appThreadCreate(frame, 0, false);
  heapFree(frame);
  if (main === null) {
    cannotRun("out of memory");
    return;
  }
  appThreadStart(main);
  threadExit();
}

/** The lowest address of the program's PT_LOAD segments (the file is valid ELF: elfLoad accepted it). */
function imageStart(file: usize, bias: u64): u64 {
  let phoff = <usize>load<u64>(file, 32);
  let phnum = <usize>load<u16>(file, 56);
  let low: u64 = U64.MAX_VALUE;
  for (let i: usize = 0; i < phnum; i++) {
    let ph = file + phoff + i * 56;
    if (load<u32>(ph) != 1 || load<u64>(ph, 40) == 0) continue;
    let start = load<u64>(ph, 16) & ~<u64>4095;
    if (start < low) low = start;
  }
  return low + bias;
}

const EXIT_NOT_FOUND: u32 = 127;
const candidate = memory.data(4096);

/**
 * Reads the program argv[0] names into a heap block (file[0] address, file[1]
 * size) and records its absolute path: 0 or -errno. A name without a slash
 * is tried in each PATH directory as execvp does: -EACCES if some candidate
 * was found but could not be run, else -ENOENT.
 */
function findProgram(env: StringList, file: usize): i32 {
  let name = App.path;
  let length = App.pathLength;
  let hasSlash = false;
  for (let i: u32 = 0; i < length; i++) if (load<u8>(name + i) == 0x2f) hasSlash = true;
  if (hasSlash) {
    let result = vfsReadWholeFile(name, length, file);
    if (result == 0) setExePath(name, length);
    return result;
  }
  let path: usize = 0;
  let pathLength: u32 = 0;
  for (let i: u32 = 0; i < env.count; i++) {
    if (env.length(i) >= 5 && load<u32>(env.pointer(i)) == 0x48544150 && load<u8>(env.pointer(i), 4) == 0x3d) { // "PATH="
      path = env.pointer(i) + 5;
      pathLength = env.length(i) - 5;
    }
  }
  let sawDenied = false;
  let start: u32 = 0;
  while (start <= pathLength) {
    let end = start;
    while (end < pathLength && load<u8>(path + end) != 0x3a) end++;
    let dirLength = end - start;
    // An empty PATH entry is the working directory.
    if (dirLength == 0) {
      store<u8>(candidate, 0x2e);
      dirLength = 1;
    } else {
      memory.copy(candidate, path + start, dirLength);
    }
    if (dirLength + 1 + length < 4096) {
      store<u8>(candidate + dirLength, 0x2f);
      memory.copy(candidate + dirLength + 1, name, length);
      let total = dirLength + 1 + length;
      let result = vfsReadWholeFile(candidate, total, file);
      if (result == 0) {
        setExePath(candidate, total);
        return 0;
      }
      if (result == -EACCES) sawDenied = true;
    }
    start = end + 1;
  }
  return sawDenied ? -EACCES : -ENOENT;
}

/** /proc/self/exe: the absolute path of the program (relative ones are from "/" at boot). */
function setExePath(path: usize, length: u32): void {
  let copy = heapAlloc(<usize>length + 1, TAG_LIBC);
  if (copy == 0) return;
  let at: u32 = 0;
  if (load<u8>(path) != 0x2f) {
    store<u8>(copy, 0x2f);
    at = 1;
    // "./x" from the root is "/x".
    while (length >= 2 && load<u8>(path) == 0x2e && load<u8>(path, 1) == 0x2f) {
      path += 2;
      length -= 2;
    }
  }
  memory.copy(copy + at, path, length);
  App.exePath = copy;
  App.exePathLength = length + at;
}

/** Descriptors 0, 1 and 2: one open file on the console, as a login shell's. */
function openStandardDescriptors(): bool {
  let console = consoleFileOpen(0);
  if (console === null) return false;
  for (let fd: u32 = 0; fd < 3; fd++) {
    if (fd > 0) fileGet(console);
    if (fdInstall(console, false, fd, fd + 1) < 0) return false;
  }
  return true;
}

const cpuidOut = memory.data(16, 4);

/** CPUID leaf 1 EDX: Linux's AT_HWCAP on x86. */
function cpuidEdx(): u32 {
  cpuid(1, 0, cpuidOut);
  return load<u32>(cpuidOut, 12);
}
