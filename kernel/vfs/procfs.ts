// The text of /proc and /sys files, made when they are opened: like Linux's
// seq_file show functions, each writes the whole file into a Text.
import { cpuid } from "../../arch/x86_64/cpu";
import { App } from "../app";
import { StringList } from "../elf/stack";
import { freePageCount, PAGE_SIZE, totalPageCount } from "../mm/physical";
import { applicationSpace } from "../mm/vm";
import { PROT_EXEC, PROT_READ, PROT_WRITE, spaceLock, spaceUnlock, VMA_HEAP, VMA_SHARED, vmaAt } from "../mm/vma";
import { Cpus } from "../sched/percpu";
import { Clock, NANOS_PER_SECOND } from "../time/clock";
import { Tsc } from "../time/tsc";
import { fdOpenCount } from "./fdtable";
import { mountAt, Vfs } from "./mount";
import {
  GEN_CMDLINE, GEN_COMM, GEN_CPU_RANGE, GEN_CPUINFO, GEN_ENVIRON, GEN_LOADAVG, GEN_MAPS, GEN_MEMINFO, GEN_MOUNTS,
  GEN_STAT, GEN_STATUS, GEN_UPTIME, GEN_VERSION,
} from "./kinds";
import { RamFs } from "../../fs/ramfs/inode";
import { Text, textBytes, textChar, textDec, textHex, textPadTo, textStr } from "./text";

export function procGenerate(text: Text, kind: u32, arg: u32): void {
  switch (kind) {
    case GEN_CPUINFO: cpuinfo(text); break;
    case GEN_MEMINFO: meminfo(text); break;
    case GEN_STAT: stat(text); break;
    case GEN_UPTIME: uptime(text); break;
    case GEN_MOUNTS: mounts(text); break;
    case GEN_MAPS: maps(text); break;
    case GEN_STATUS: status(text); break;
    case GEN_CMDLINE: strings(text, App.args); break;
    case GEN_ENVIRON: strings(text, App.env); break;
    case GEN_CPU_RANGE: cpuRange(text); break;
    case GEN_VERSION: textStr(text, "Linux version 6.1.0-wisp (wisp) #1 SMP Wisp\n"); break;
    case GEN_LOADAVG: textStr(text, "0.00 0.00 0.00 1/1 1\n"); break;
    case GEN_COMM: comm(text); textChar(text, 0x0a); break;
  }
}

function strings(text: Text, list: usize): void {
  if (list == 0) return;
  let l = changetype<StringList>(list);
  for (let i: u32 = 0; i < l.count; i++) {
    textBytes(text, l.pointer(i), l.length(i));
    textChar(text, 0);
  }
}

/** The command name: argv[0]'s last component, at most 15 bytes (TASK_COMM_LEN - 1). */
function comm(text: Text): void {
  let start: u32 = 0;
  for (let i: u32 = 0; i < App.pathLength; i++) if (load<u8>(App.path + i) == 0x2f) start = i + 1;
  let length = App.pathLength - start;
  if (length > 15) length = 15;
  textBytes(text, App.path + start, length);
}

function fixed(text: Text, value: u64, scale: u64, decimals: u32): void {
  textDec(text, value / scale);
  textChar(text, 0x2e);
  let fraction = value % scale;
  let unit = scale;
  for (let i: u32 = 0; i < decimals; i++) {
    unit /= 10;
    textChar(text, 0x30 + <u32>(unit > 0 ? (fraction / unit) % 10 : 0));
  }
}

const regs = memory.data(16, 4);

function cpuidTo(leaf: u32, subleaf: u32): void {
  cpuid(leaf, subleaf, regs);
}

// CPUID leaf 1 EDX and ECX feature names in bit order ("" for bits Linux does not show).
const EDX_FLAGS: StaticArray<string> = [
  "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge", "mca", "cmov",
  "pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe",
];
const ECX_FLAGS: StaticArray<string> = [
  "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3", "cid", "sdbg", "fma",
  "cx16", "xtpr", "pdcm", "", "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer",
  "aes", "xsave", "", "avx", "f16c", "rdrand", "hypervisor",
];

function flagList(text: Text, value: u32, names: StaticArray<string>): void {
  for (let bit = 0; bit < 32; bit++) {
    if ((value & (1 << bit)) == 0 || names[bit].length == 0) continue;
    textChar(text, 0x20);
    textStr(text, names[bit]);
  }
}

function cpuinfo(text: Text): void {
  cpuidTo(0, 0);
  let vendor = memory.data(12);
  store<u32>(vendor, load<u32>(regs, 4));
  store<u32>(vendor, load<u32>(regs, 12), 4);
  store<u32>(vendor, load<u32>(regs, 8), 8);
  cpuidTo(1, 0);
  let signature = load<u32>(regs);
  let ecx = load<u32>(regs, 8);
  let edx = load<u32>(regs, 12);
  let family = (signature >> 8) & 0xf;
  let model = (signature >> 4) & 0xf;
  if (family == 0xf) family += (signature >> 20) & 0xff;
  if (family >= 6) model += ((signature >> 16) & 0xf) << 4;
  let brand = memory.data(48);
  cpuidTo(0x80000000, 0);
  let hasBrand = load<u32>(regs) >= 0x80000004;
  if (hasBrand) {
    for (let i: u32 = 0; i < 3; i++) {
      cpuidTo(0x80000002 + i, 0);
      memory.copy(brand + i * 16, regs, 16);
    }
  }
  let brandLength: u32 = 0;
  while (hasBrand && brandLength < 48 && load<u8>(brand + brandLength) != 0) brandLength++;
  let brandStart: u32 = 0;
  while (brandStart < brandLength && load<u8>(brand + brandStart) == 0x20) brandStart++;
  for (let cpu: u32 = 0; cpu < Cpus.online; cpu++) {
    textStr(text, "processor\t: "); textDec(text, cpu);
    textStr(text, "\nvendor_id\t: "); textBytes(text, vendor, 12);
    textStr(text, "\ncpu family\t: "); textDec(text, family);
    textStr(text, "\nmodel\t\t: "); textDec(text, model);
    textStr(text, "\nmodel name\t: ");
    if (brandLength > brandStart) textBytes(text, brand + brandStart, brandLength - brandStart);
    else textStr(text, "unknown");
    textStr(text, "\nstepping\t: "); textDec(text, signature & 0xf);
    textStr(text, "\ncpu MHz\t\t: "); fixed(text, Tsc.hz / 1000, 1000, 3);
    textStr(text, "\nphysical id\t: 0\nsiblings\t: "); textDec(text, Cpus.online);
    textStr(text, "\ncore id\t\t: "); textDec(text, cpu);
    textStr(text, "\ncpu cores\t: "); textDec(text, Cpus.online);
    textStr(text, "\napicid\t\t: "); textDec(text, cpu);
    textStr(text, "\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\nflags\t\t:");
    flagList(text, edx, EDX_FLAGS);
    textStr(text, " syscall nx lm");
    flagList(text, ecx, ECX_FLAGS);
    textStr(text, "\nbogomips\t: "); fixed(text, Tsc.hz / 5000, 100, 2);
    textStr(text, "\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 40 bits physical, 48 bits virtual\n\n");
  }
}

function kbLine(text: Text, name: string, kb: u64): void {
  textStr(text, name);
  textChar(text, 0x3a);
  // Linux's layout: the number right-aligned to column 24.
  textDec(text, kb, 23 - <u32>name.length, false);
  textStr(text, " kB\n");
}

function meminfo(text: Text): void {
  let total = <u64>totalPageCount() * (<u64>PAGE_SIZE / 1024);
  let free = <u64>freePageCount() * (<u64>PAGE_SIZE / 1024);
  let shmem = fsPagesKb();
  kbLine(text, "MemTotal", total);
  kbLine(text, "MemFree", free);
  kbLine(text, "MemAvailable", free);
  kbLine(text, "Buffers", 0);
  kbLine(text, "Cached", shmem);
  kbLine(text, "SwapCached", 0);
  kbLine(text, "Active", 0);
  kbLine(text, "Inactive", 0);
  kbLine(text, "SwapTotal", 0);
  kbLine(text, "SwapFree", 0);
  kbLine(text, "Shmem", shmem);
}

/** ramfs data: page cache and shared memory on Linux's tmpfs. */
function fsPagesKb(): u64 {
  let pages: u64 = 0;
  for (let i: u32 = 0; i < Vfs.mounts; i++) pages += changetype<RamFs>(mountAt(i).fs).pages;
  return pages * (<u64>PAGE_SIZE / 1024);
}

function stat(text: Text): void {
  // Clock ticks (USER_HZ 100): the process's time as user time, the rest idle.
  let uptimeTicks = Clock.monotonicNanos() / (NANOS_PER_SECOND / 100);
  textStr(text, "cpu  0 0 0 ");
  textDec(text, uptimeTicks * <u64>Cpus.online);
  textStr(text, " 0 0 0 0 0 0\n");
  for (let cpu: u32 = 0; cpu < Cpus.online; cpu++) {
    textStr(text, "cpu"); textDec(text, cpu);
    textStr(text, " 0 0 0 "); textDec(text, uptimeTicks); textStr(text, " 0 0 0 0 0 0\n");
  }
  textStr(text, "intr 0\nctxt 0\nbtime ");
  textDec(text, (Clock.realtimeNanos() - Clock.monotonicNanos()) / NANOS_PER_SECOND);
  textStr(text, "\nprocesses 1\nprocs_running 1\nprocs_blocked 0\nsoftirq 0\n");
}

function uptime(text: Text): void {
  let centis = Clock.monotonicNanos() / (NANOS_PER_SECOND / 100);
  fixed(text, centis, 100, 2);
  textChar(text, 0x20);
  fixed(text, centis * <u64>Cpus.online, 100, 2);
  textChar(text, 0x0a);
}

function mounts(text: Text): void {
  for (let i: u32 = 0; i < Vfs.mounts; i++) {
    let mount = mountAt(i);
    let type = changetype<string>(mount.type);
    textStr(text, type);
    textChar(text, 0x20);
    textStr(text, changetype<string>(mount.where));
    textChar(text, 0x20);
    textStr(text, type);
    textStr(text, changetype<RamFs>(mount.fs).readOnly != 0 ? " ro" : " rw");
    textStr(text, " 0 0\n");
  }
}

function cpuRange(text: Text): void {
  textChar(text, 0x30);
  if (Cpus.online > 1) {
    textChar(text, 0x2d);
    textDec(text, Cpus.online - 1);
  }
  textChar(text, 0x0a);
}

// Areas copied out under the address space lock (the list may change after).
const MAPS_MAX: u32 = 512;
const mapsCopy = memory.data(<i32>(MAPS_MAX * 24), 8);

function maps(text: Text): void {
  let space = applicationSpace();
  let flags = spaceLock(space);
  let count = space.count < MAPS_MAX ? space.count : MAPS_MAX;
  for (let i: u32 = 0; i < count; i++) {
    let vma = vmaAt(space, <i32>i);
    let at = mapsCopy + <usize>i * 24;
    store<u64>(at, vma.start);
    store<u64>(at, vma.end, 8);
    store<u32>(at, vma.prot, 16);
    store<u32>(at, vma.flags, 20);
  }
  spaceUnlock(space, flags);
  for (let i: u32 = 0; i < count; i++) {
    let at = mapsCopy + <usize>i * 24;
    let start = load<u64>(at);
    let end = load<u64>(at, 8);
    let prot = load<u32>(at, 16);
    let vmaFlags = load<u32>(at, 20);
    let inImage = start >= App.imageStart && end <= App.imageEnd;
    textHex(text, start, 8); textChar(text, 0x2d); textHex(text, end, 8); textChar(text, 0x20);
    textChar(text, (prot & PROT_READ) != 0 ? 0x72 : 0x2d);
    textChar(text, (prot & PROT_WRITE) != 0 ? 0x77 : 0x2d);
    textChar(text, (prot & PROT_EXEC) != 0 ? 0x78 : 0x2d);
    textChar(text, (vmaFlags & VMA_SHARED) != 0 ? 0x73 : 0x70);
    textChar(text, 0x20);
    textHex(text, inImage ? start - App.imageStart : 0, 8);
    textStr(text, inImage ? " 00:01 " : " 00:00 ");
    textDec(text, 0);
    textChar(text, 0x20);
    if (inImage) {
      textPadTo(text, 73);
      textBytes(text, exeName(), exeNameLength());
    } else if (App.stackPointer >= start && App.stackPointer < end) {
      textPadTo(text, 73);
      textStr(text, "[stack]");
    } else if ((vmaFlags & VMA_HEAP) != 0) {
      textPadTo(text, 73);
      textStr(text, "[heap]");
    }
    textChar(text, 0x0a);
  }
}

function exeName(): usize {
  return App.exePath;
}

function exeNameLength(): u32 {
  return App.exePathLength;
}

function status(text: Text): void {
  textStr(text, "Name:\t"); comm(text);
  textStr(text, "\nUmask:\t0"); textChar(text, 0x30 + ((Vfs.umask >> 6) & 7));
  textChar(text, 0x30 + ((Vfs.umask >> 3) & 7)); textChar(text, 0x30 + (Vfs.umask & 7));
  textStr(text, "\nState:\tR (running)\nTgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n");
  textStr(text, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t");
  let open = fdOpenCount();
  let size: u32 = 64;
  while (size < open) size <<= 1;
  textDec(text, size);
  textStr(text, "\nGroups:\t\n");
  let space = applicationSpace();
  let flags = spaceLock(space);
  let total: u64 = 0;
  let stack: u64 = 0;
  for (let i: i32 = 0; i < <i32>space.count; i++) {
    let vma = vmaAt(space, i);
    total += vma.end - vma.start;
    if (App.stackPointer >= vma.start && App.stackPointer < vma.end) stack = vma.end - vma.start;
  }
  let heap = space.brk - space.brkStart;
  spaceUnlock(space, flags);
  // Resident: Wisp maps on demand; the memory in use by everything is the upper bound reported.
  let resident = <u64>(totalPageCount() - freePageCount()) * (<u64>PAGE_SIZE / 1024);
  kbLine(text, "VmPeak", total / 1024);
  kbLine(text, "VmSize", total / 1024);
  kbLine(text, "VmHWM", resident);
  kbLine(text, "VmRSS", resident);
  kbLine(text, "VmData", heap / 1024);
  kbLine(text, "VmStk", stack / 1024);
  textStr(text, "Threads:\t"); textDec(text, App.live);
  textStr(text, "\nSigQ:\t0/0\nCpus_allowed_list:\t0");
  if (Cpus.online > 1) {
    textChar(text, 0x2d);
    textDec(text, Cpus.online - 1);
  }
  textStr(text, "\nvoluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
}
