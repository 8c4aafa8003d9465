// The file system tree at boot: ramfs at /, devtmpfs at /dev, proc at
// /proc and sysfs at /sys (read-only), /tmp (1777); then the root archive
// (kernel/vfs/rootArchive.ts: boot module 0 as a cpio "newc" archive, or
// the archive on the boot disk) or, for a module 0 that is not one, the
// program itself at the path the command line names; then the
// /etc files a C library reads, unless the archive brought its own.
import { BootInfo, E820_USABLE } from "../bootinfo";
import { physicalAddFree } from "../mm/physical";
import { Log } from "../log";
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from "../../fs/ramfs/inode";
import { cpioUnpack } from "./cpioUnpack";
import { rootArchiveRelease, rootArchiveReport } from "./rootArchive";
import { DEV_DEVTMPFS, DEV_PROC, DEV_ROOT, DEV_SYSFS, mountNew, Vfs, vfsLock, vfsLockInit, vfsNow, vfsUnlock } from "./mount";
import { Inode } from "../../fs/ramfs/inode";
import { dirLookup } from "../../fs/ramfs/dir";
import { makeDirectory, makeFile, makeNode, makeSymlink, pathExists } from "./populate";
import {
  DIR_FD, GEN_CMDLINE, GEN_COMM, GEN_CPU_RANGE, GEN_CPUINFO, GEN_ENVIRON, GEN_LOADAVG, GEN_MAPS, GEN_MEMINFO,
  GEN_MOUNTS, GEN_STAT, GEN_STATUS, GEN_UPTIME, GEN_VERSION, LINK_CWD, LINK_EXE,
} from "./kinds";
import { DEV_CONSOLE, DEV_FULL, DEV_NULL, DEV_RANDOM, DEV_TTY, DEV_URANDOM, DEV_ZERO } from "./vfs";

const asciiBuffer = memory.data(256);
const asciiTarget = memory.data(256);

/** A string literal's bytes (ASCII) in a static buffer. */
function ascii(s: string, to: usize = asciiBuffer): usize {
  for (let i = 0; i < s.length; i++) store<u8>(to + <usize>i, <u8>s.charCodeAt(i));
  return to;
}

function dir(path: string, mode: u32): void {
  makeDirectory(ascii(path), <u32>path.length, mode, vfsNow());
}

function link(path: string, target: string): void {
  makeSymlink(ascii(path), <u32>path.length, ascii(target, asciiTarget), <u32>target.length, vfsNow());
}

function device(path: string, mode: u32, rdev: u32): void {
  makeNode(ascii(path), <u32>path.length, S_IFCHR | mode, rdev, 0, 0);
}

function generated(path: string, kind: u32): void {
  makeNode(ascii(path), <u32>path.length, S_IFREG | 0o444, 0, kind, 0);
}

/** A text file unless the archive has one. */
function etcFile(path: string, text: string, mode: u32): void {
  if (pathExists(ascii(path), <u32>path.length)) return;
  let data = ascii(text, asciiTarget);
  makeFile(ascii(path), <u32>path.length, mode, data, <u64>text.length, vfsNow());
}

function mountOn(path: string, dev: u32, type: string, readOnly: bool): void {
  dir(path, 0o755);
  vfsLock();
  let point = dirLookup(changetype<Inode>(Vfs.root), ascii(path) + 1, <u32>path.length - 1);
  if (point !== null) mountNew(dev, point, type, path, readOnly);
  vfsUnlock();
}

function populateDev(): void {
  device("/dev/null", 0o666, DEV_NULL);
  device("/dev/zero", 0o666, DEV_ZERO);
  device("/dev/full", 0o666, DEV_FULL);
  device("/dev/random", 0o666, DEV_RANDOM);
  device("/dev/urandom", 0o666, DEV_URANDOM);
  device("/dev/tty", 0o666, DEV_TTY);
  device("/dev/console", 0o600, DEV_CONSOLE);
  link("/dev/stdin", "/proc/self/fd/0");
  link("/dev/stdout", "/proc/self/fd/1");
  link("/dev/stderr", "/proc/self/fd/2");
  link("/dev/fd", "/proc/self/fd");
  dir("/dev/shm", 0o1777);
  dir("/dev/pts", 0o755);
}

function populateProc(): void {
  link("/proc/self", "1");
  link("/proc/thread-self", "1");
  generated("/proc/cpuinfo", GEN_CPUINFO);
  generated("/proc/meminfo", GEN_MEMINFO);
  generated("/proc/stat", GEN_STAT);
  generated("/proc/uptime", GEN_UPTIME);
  generated("/proc/mounts", GEN_MOUNTS);
  generated("/proc/version", GEN_VERSION);
  generated("/proc/loadavg", GEN_LOADAVG);
  generated("/proc/1/maps", GEN_MAPS);
  generated("/proc/1/status", GEN_STATUS);
  generated("/proc/1/cmdline", GEN_CMDLINE);
  generated("/proc/1/environ", GEN_ENVIRON);
  generated("/proc/1/comm", GEN_COMM);
  generated("/proc/1/mounts", GEN_MOUNTS);
  makeNode(ascii("/proc/1/exe"), 11, S_IFLNK | 0o777, 0, LINK_EXE, 0);
  makeNode(ascii("/proc/1/cwd"), 11, S_IFLNK | 0o777, 0, LINK_CWD, 0);
  makeNode(ascii("/proc/1/fd"), 10, S_IFDIR | 0o500, 0, DIR_FD, 0);
}

function populateSys(): void {
  generated("/sys/devices/system/cpu/online", GEN_CPU_RANGE);
  generated("/sys/devices/system/cpu/possible", GEN_CPU_RANGE);
  generated("/sys/devices/system/cpu/present", GEN_CPU_RANGE);
}

function populateEtc(): void {
  dir("/etc", 0o755);
  etcFile("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0o644);
  etcFile("/etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644);
  etcFile("/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\twisp\n", 0o644);
  etcFile("/etc/resolv.conf", "nameserver 10.0.2.3\n", 0o644);
  etcFile("/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n", 0o644);
  etcFile("/etc/hostname", "wisp\n", 0o644);
  if (!pathExists(ascii("/etc/mtab"), 9)) link("/etc/mtab", "/proc/self/mounts");
  if (!pathExists(ascii("/root"), 5)) dir("/root", 0o700);
}

/**
 * Builds the tree. `program` [path, path + length) is argv[0]: where a
 * module 0 that is not an archive goes. False when memory ran out for the
 * file systems themselves.
 */
export function vfsBoot(program: usize, programLength: u32): bool {
  vfsLockInit();
  vfsLock();
  let root = mountNew(DEV_ROOT, null, "rootfs", "/", false);
  vfsUnlock();
  if (root === null) return false;
  mountOn("/dev", DEV_DEVTMPFS, "devtmpfs", false);
  mountOn("/proc", DEV_PROC, "proc", true);
  mountOn("/sys", DEV_SYSFS, "sysfs", true);
  dir("/tmp", 0o1777);
  populateDev();
  populateProc();
  populateSys();
  let archive = memory.data(16, 8);
  if (rootArchiveReport(archive) == 0) {
    cpioUnpack(load<usize>(archive), <u64>load<usize>(archive, sizeof<usize>()));
    rootArchiveRelease();
  } else if (BootInfo.modules > 0 && BootInfo.moduleSize(0) > 0 && programLength > 0) {
    let address = <usize>BootInfo.moduleAddress(0);
    let size = BootInfo.moduleSize(0);
    // The module is the program itself (no archive): at argv[0], mode
    // 0755; a bare name goes to /bin, where the PATH search finds it.
    let stored: i32;
    if (load<u8>(program) == 0x2f) {
      stored = makeFile(program, programLength, 0o755, address, size, vfsNow());
    } else {
      let path = memory.data(4200);
      memory.copy(path, ascii("/bin/"), 5);
      let length = programLength < 4096 ? programLength : 4096;
      memory.copy(path + 5, program, length);
      stored = makeFile(path, length + 5, 0o755, address, size, vfsNow());
    }
    if (stored < 0) Log.line("wisp: initrd: cannot store the program in the file system");
  }
  populateEtc();
  releaseModule(0);
  Vfs.ready = true;
  return true;
}

/** Below this no module is given back: the kernel image and the allocator's metadata live there. */
const RELEASE_FLOOR: u64 = 16 << 20;
const FOUR_GIB: u64 = 1 << 32;

/**
 * Gives boot module `index`'s pages to the page allocator once its bytes
 * are in ramfs (they were kept out at boot, kernel/main.ts): the usable RAM
 * they cover, unless another module shares them.
 */
function releaseModule(index: u32): void {
  if (index >= BootInfo.modules || BootInfo.moduleSize(index) == 0) return;
  let base = BootInfo.moduleAddress(index) & ~(<u64>4095);
  let limit = (BootInfo.moduleAddress(index) + BootInfo.moduleSize(index) + 4095) & ~(<u64>4095);
  if (base < RELEASE_FLOOR || limit > FOUR_GIB) return;
  for (let i: u32 = 0; i < BootInfo.modules; i++) {
    if (i == index || BootInfo.moduleSize(i) == 0) continue;
    let otherBase = BootInfo.moduleAddress(i) & ~(<u64>4095);
    let otherLimit = (BootInfo.moduleAddress(i) + BootInfo.moduleSize(i) + 4095) & ~(<u64>4095);
    if (otherBase < limit && base < otherLimit) return;
  }
  let released: u64 = 0;
  for (let i: u32 = 0; i < BootInfo.memmapEntries; i++) {
    if (BootInfo.entryType(i) != E820_USABLE) continue;
    let start = BootInfo.entryBase(i);
    let end = start + BootInfo.entrySize(i);
    if (start < base) start = base;
    if (end > limit) end = limit;
    if (start >= end) continue;
    physicalAddFree(start, end);
    released += end - start;
  }
  Log.str("wisp: initrd: ");
  Log.dec(released >> 10);
  Log.line(" KiB given back to the page allocator");
}
