// The process and its threads: exit, clone (threads only: there is one
// process, without fork), the thread-management calls glibc makes at start
// (arch_prctl, set_tid_address, set_robust_list, rseq), identities and uname.
import { FRAME_RAX, FRAME_RSP } from "../arch/x86_64/syscall";
import {
  APP_PID, appExit, appSetFsBase, appThreadCreate, appThreadDiscard, appThreadExit, appThreadStart,
  currentApp, currentFrame,
} from "../kernel/app";
import { currentThread } from "../kernel/sched/scheduler";
import { Vfs } from "../kernel/vfs/mount";
import { copyIn, copyOut, putU32, putU64, scratchBuffer } from "./uaccess";
import { E2BIG, EFAULT, EINVAL, ENOSYS, EPERM } from "./errno";
import { NOTE_ARCH_SET_GS, NOTE_CLONE_PROCESS, NOTE_PRCTL, noteOnce } from "./log";

export function sysExit(status: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  appThreadExit(<u32>status & 0xff);
  return 0; // not reached
}

export function sysExitGroup(status: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  appExit(<u32>status & 0xff);
  return 0; // not reached
}

// ---------------------------------------------------------------------------
// clone

const CSIGNAL: u64 = 0xff;
const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_PTRACE: u64 = 0x2000;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_PARENT: u64 = 0x8000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_NEWNS: u64 = 0x20000;
const CLONE_SYSVSEM: u64 = 0x40000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_DETACHED: u64 = 0x400000;
const CLONE_UNTRACED: u64 = 0x800000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;
const CLONE_NEWCGROUP: u64 = 0x2000000;
const CLONE_NEWUTS: u64 = 0x4000000;
const CLONE_NEWIPC: u64 = 0x8000000;
const CLONE_NEWUSER: u64 = 0x10000000;
const CLONE_NEWPID: u64 = 0x20000000;
const CLONE_NEWNET: u64 = 0x40000000;
const CLONE_IO: u64 = 0x80000000;
const CLONE_NAMESPACES: u64 = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
  CLONE_NEWPID | CLONE_NEWNET;
/** Flags a thread may be created with here (the rest are refused). */
const CLONE_THREAD_FLAGS: u64 = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
  CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED |
  CLONE_UNTRACED | CLONE_IO | CLONE_PTRACE | CSIGNAL;
/** Addresses below this are the application's (Linux TASK_SIZE_MAX). */
const TASK_SIZE_MAX: u64 = 0x7ffffffff000;

/**
 * Creates a thread sharing everything (CLONE_VM | CLONE_THREAD ...): it
 * starts with the caller's registers, FPU state included, returning 0 from
 * this system call on `stack` (the caller's if 0) with FS base `tls` under
 * CLONE_SETTLS. Returns the new thread's id or -errno.
 */
function cloneThread(flags: u64, stack: u64, parentTid: u64, childTid: u64, tls: u64): i64 {
  // Linux's consistency rules (kernel/fork.c copy_process).
  if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS)) return -EINVAL;
  if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS)) return -EINVAL;
  if ((flags & CLONE_THREAD) != 0 && (flags & CLONE_SIGHAND) == 0) return -EINVAL;
  if ((flags & CLONE_SIGHAND) != 0 && (flags & CLONE_VM) == 0) return -EINVAL;
  if ((flags & CLONE_THREAD) != 0 && (flags & (CLONE_NEWUSER | CLONE_NEWPID)) != 0) return -EINVAL;
  if ((flags & CLONE_PIDFD) != 0 && (flags & CLONE_THREAD) != 0) return -EINVAL;
  if ((flags & CLONE_THREAD) == 0 || (flags & CLONE_VFORK) != 0 || (flags & ~CLONE_THREAD_FLAGS) != 0) {
    noteOnce(NOTE_CLONE_PROCESS, "clone: only threads (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND) are supported, no new processes");
    return -ENOSYS;
  }
  if ((flags & CLONE_SETTLS) != 0 && tls >= TASK_SIZE_MAX) return -EPERM;
  let parent = currentApp();
  let fsBase = (flags & CLONE_SETTLS) != 0 ? tls : currentThread().fsBase;
  let child = appThreadCreate(currentFrame(), fsBase, true);
  if (child === null) return -11; // EAGAIN, as Linux when it cannot make a task
  // The child returns 0 from clone, on its own stack if it has one.
  store<i64>(child.scratch + FRAME_RAX, 0);
  if (stack != 0) store<u64>(child.scratch + FRAME_RSP, stack);
  // Linux: the signal mask is inherited, an alternate signal stack is not
  // (CLONE_VM without CLONE_VFORK clears it).
  child.signalMask = parent.signalMask;
  child.altStackFlags = 2; // SS_DISABLE
  if ((flags & CLONE_PARENT_SETTID) != 0 && putU32(parentTid, child.tid) < 0) {
    appThreadDiscard(child);
    return -EFAULT;
  }
  if ((flags & CLONE_CHILD_SETTID) != 0 && putU32(childTid, child.tid) < 0) {
    appThreadDiscard(child);
    return -EFAULT;
  }
  if ((flags & CLONE_CHILD_CLEARTID) != 0) child.clearChildTid = childTid;
  appThreadStart(child);
  return <i64>child.tid;
}

export function sysClone(flags: u64, stack: u64, parentTid: u64, childTid: u64, tls: u64, a5: u64): i64 {
  return cloneThread(flags, stack, parentTid, childTid, tls);
}

// struct clone_args (linux/sched.h): the sizes Linux accepts.
const CLONE_ARGS_SIZE_VER0: u64 = 64;
const CLONE_ARGS_SIZE_VER2: u64 = 88;

export function sysClone3(args: u64, size: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (size < CLONE_ARGS_SIZE_VER0) return -EINVAL;
  if (size > 4096) return -E2BIG;
  let buffer = scratchBuffer();
  memory.fill(buffer, 0, <usize>CLONE_ARGS_SIZE_VER2);
  let known = size < CLONE_ARGS_SIZE_VER2 ? size : CLONE_ARGS_SIZE_VER2;
  if (copyIn(buffer, args, <usize>known) < 0) return -EFAULT;
  // Fields this kernel does not know must be zero (copy_struct_from_user).
  if (size > CLONE_ARGS_SIZE_VER2) {
    let extra = buffer + <usize>CLONE_ARGS_SIZE_VER2;
    let count = size - CLONE_ARGS_SIZE_VER2;
    if (count > 4096 - <u64>CLONE_ARGS_SIZE_VER2) return -E2BIG;
    if (copyIn(extra, args + CLONE_ARGS_SIZE_VER2, <usize>count) < 0) return -EFAULT;
    for (let i: u64 = 0; i < count; i++) if (load<u8>(extra + <usize>i) != 0) return -E2BIG;
  }
  let flags = load<u64>(buffer);
  let childTid = load<u64>(buffer, 16);
  let parentTid = load<u64>(buffer, 24);
  let exitSignal = load<u64>(buffer, 32);
  let stack = load<u64>(buffer, 40);
  let stackSize = load<u64>(buffer, 48);
  let tls = load<u64>(buffer, 56);
  let setTidSize = load<u64>(buffer, 72);
  let cgroup = load<u64>(buffer, 80);
  // kernel/fork.c clone3_args_valid.
  if ((flags & CSIGNAL) != 0 || exitSignal > 64) return -EINVAL;
  if ((flags & (CLONE_THREAD | CLONE_PARENT)) != 0 && exitSignal != 0) return -EINVAL;
  if ((stack == 0) != (stackSize == 0)) return -EINVAL;
  if (setTidSize != 0 || cgroup != 0) return -EINVAL;
  return cloneThread(flags, stack != 0 ? stack + stackSize : 0, parentTid, childTid, tls);
}

export function sysSetTidAddress(address: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let app = currentApp();
  app.clearChildTid = address;
  return <i64>app.tid;
}

/** struct robust_list_head: three words. */
const ROBUST_LIST_HEAD_BYTES: u64 = 24;

/** Recorded only: robust futexes of a thread that dies holding them are not
 * yet marked FUTEX_OWNER_DIED. */
export function sysSetRobustList(head: u64, length: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (length != ROBUST_LIST_HEAD_BYTES) return -EINVAL;
  let app = currentApp();
  app.robustList = head;
  app.robustLength = length;
  return 0;
}

export function sysGetRobustList(tid: u64, headPointer: u64, lengthPointer: u64, a3: u64, a4: u64, a5: u64): i64 {
  let app = currentApp();
  if (<u32>tid != 0 && <u32>tid != app.tid) return -EPERM;
  if (putU64(headPointer, app.robustList) < 0) return -EFAULT;
  if (putU64(lengthPointer, app.robustLength) < 0) return -EFAULT;
  return 0;
}

/** Restartable sequences are not supported: glibc registers one per thread
 * and carries on without when the kernel says -ENOSYS. */
export function sysRseq(area: u64, length: u64, flags: u64, signature: u64, a4: u64, a5: u64): i64 {
  return -ENOSYS;
}

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;
const ARCH_GET_CPUID: u64 = 0x1011;
const ARCH_SET_CPUID: u64 = 0x1012;

export function sysArchPrctl(code: u64, address: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  switch (<u32>code) {
    case <u32>ARCH_SET_FS:
      if (address >= TASK_SIZE_MAX) return -EPERM;
      appSetFsBase(address);
      return 0;
    case <u32>ARCH_GET_FS:
      return putU64(address, currentThread().fsBase) < 0 ? -EFAULT : 0;
    case <u32>ARCH_GET_GS:
      // GS belongs to the kernel (per-CPU data): applications see 0.
      return putU64(address, 0) < 0 ? -EFAULT : 0;
    case <u32>ARCH_SET_GS:
      noteOnce(NOTE_ARCH_SET_GS, "arch_prctl(ARCH_SET_GS): GS is the kernel's, refused");
      return -EINVAL;
    case <u32>ARCH_GET_CPUID:
      return 1; // CPUID is allowed
    case <u32>ARCH_SET_CPUID:
      return address != 0 ? 0 : -ENOSYS; // CPUID faulting is not available
  }
  return -EINVAL;
}

// ---------------------------------------------------------------------------
// Identities: the application is process 1, run by root.

export function sysGetpid(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return <i64>APP_PID;
}

export function sysGettid(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return <i64>currentApp().tid;
}

/** Process 1 has no parent. */
export function sysGetppid(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return 0;
}

/** getuid, geteuid, getgid, getegid, getpgrp...: root. */
export function sysGetZero(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return 0;
}

/** getpgid, getsid: the process is its own group and session leader. */
export function sysGetpgid(pid: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<u32>pid != 0 && <u32>pid != APP_PID) return -3; // ESRCH
  return <i64>APP_PID;
}

/** No supplementary groups. */
export function sysGetgroups(size: u64, list: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if (<i32>size < 0) return -EINVAL;
  return 0;
}

/** umask: the VFS applies it when files and directories are created. */
export function sysUmask(mask: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let old = Vfs.umask;
  Vfs.umask = <u32>mask & 0o777;
  return <i64>old;
}

// struct utsname: six fields of 65 bytes.
const UTS_FIELD: usize = 65;
const UTS_FIELDS: StaticArray<string> = ["Linux", "wisp", "6.1.0-wisp", "#1 SMP Wisp", "x86_64", "(none)"];

export function sysUname(buffer: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let uts = scratchBuffer();
  memory.fill(uts, 0, UTS_FIELD * 6);
  for (let f = 0; f < UTS_FIELDS.length; f++) {
    let text = UTS_FIELDS[f];
    for (let i = 0; i < text.length; i++) store<u8>(uts + <usize>f * UTS_FIELD + <usize>i, <u8>text.charCodeAt(i));
  }
  return copyOut(buffer, uts, UTS_FIELD * 6) < 0 ? -EFAULT : 0;
}

const PR_SET_NAME: u64 = 15;
const PR_GET_NAME: u64 = 16;

/** prctl: the thread name; other options are not implemented. */
export function sysPrctl(option: u64, argument: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  let app = currentApp();
  let buffer = scratchBuffer();
  if (option == PR_SET_NAME) {
    // Up to 15 bytes and a NUL; a string that ends sooner stops there.
    memory.fill(buffer, 0, 16);
    for (let i: u64 = 0; i < 15; i++) {
      if (copyIn(buffer + <usize>i, argument + i, 1) < 0) return -EFAULT;
      if (load<u8>(buffer + <usize>i) == 0) break;
    }
    app.name0 = load<u64>(buffer);
    app.name1 = load<u64>(buffer, 8);
    return 0;
  }
  if (option == PR_GET_NAME) {
    store<u64>(buffer, app.name0);
    store<u64>(buffer, app.name1, 8);
    return copyOut(argument, buffer, 16) < 0 ? -EFAULT : 0;
  }
  noteOnce(NOTE_PRCTL, "prctl: only PR_SET_NAME and PR_GET_NAME are implemented");
  return -EINVAL;
}
