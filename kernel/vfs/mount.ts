// The VFS's global state: the mount table (ramfs at /, devtmpfs at /dev,
// proc at /proc, sysfs at /sys: all ramfs instances, the last two filled
// with generated entries), the working directory, the umask, and the one
// lock every path operation runs under. One process means no per-process
// namespaces: these are the process's.
import { Inode, inodeGet, inodePut, RamFs, ramfsCreate } from "../../fs/ramfs/inode";
import { Mutex, mutexInit, mutexLock, mutexUnlock } from "../sync/mutex";
import { Clock } from "../time/clock";
import { currentThread } from "../sched/scheduler";

export const MOUNTS_MAX: u32 = 8;

// Device numbers (st_dev) of the file systems, small as Linux's anonymous ones.
export const DEV_ROOT: u32 = 1;
export const DEV_DEVTMPFS: u32 = 5;
export const DEV_PROC: u32 = 20;
export const DEV_SYSFS: u32 = 21;

@unmanaged
export class Mount {
  fs: usize;
  /** The directory this mount covers (0 for the root mount). */
  mountpoint: usize;
  /** "rootfs", "devtmpfs" ... (a string literal). */
  type: usize;
  /** Where it is mounted, for /proc/mounts (a string literal). */
  where: usize;
}

const mountsData = memory.data(<i32>(MOUNTS_MAX * 16), 8);
const lockData = memory.data(offsetof<Mutex>(), 8);

export class Vfs {
  static mounts: u32 = 0;
  static root: usize = 0;
  static cwd: usize = 0;
  static umask: u32 = 0o022;
  static ready: bool = false;
}

export function mountAt(index: u32): Mount {
  return changetype<Mount>(mountsData + <usize>index * 16);
}

export function vfsLockInit(): void {
  mutexInit(changetype<Mutex>(lockData));
}

let lockDepth: u32 = 0;

/** Takes the VFS lock; the holder may take it again (a File released while
 * it is held releases its inode under it). */
export function vfsLock(): void {
  let mutex = changetype<Mutex>(lockData);
  if (mutex.owner == changetype<usize>(currentThread())) {
    lockDepth++;
    return;
  }
  mutexLock(mutex);
  lockDepth = 1;
}

export function vfsUnlock(): void {
  if (--lockDepth == 0) mutexUnlock(changetype<Mutex>(lockData));
}

/** The time stamps of changes: wall-clock nanoseconds. */
export function vfsNow(): u64 {
  return Clock.realtimeNanos();
}

/** A new ramfs mounted on `mountpoint` (null: the root). */
export function mountNew(dev: u32, mountpoint: Inode | null, type: string, where: string, readOnly: bool): RamFs | null {
  if (Vfs.mounts >= MOUNTS_MAX) return null;
  let fs = ramfsCreate(dev, vfsNow());
  if (fs === null) return null;
  fs.readOnly = readOnly ? 1 : 0;
  let mount = mountAt(Vfs.mounts++);
  mount.fs = changetype<usize>(fs);
  mount.type = changetype<usize>(type);
  mount.where = changetype<usize>(where);
  if (mountpoint === null) {
    mount.mountpoint = 0;
    Vfs.root = fs.root;
    Vfs.cwd = changetype<usize>(inodeGet(changetype<Inode>(fs.root)));
  } else {
    mount.mountpoint = changetype<usize>(inodeGet(mountpoint));
    mountpoint.mount = changetype<usize>(mount);
  }
  return fs;
}

/** What a walk reaching `inode` sees: the root of the file system mounted on it, if any. */
export function mountCross(inode: Inode): Inode {
  let i = inode;
  while (i.mount != 0) i = changetype<Inode>(changetype<RamFs>(changetype<Mount>(i.mount).fs).root);
  return i;
}

/** The mount whose file system's root is `root`, or null. */
export function mountOfRoot(root: Inode): Mount | null {
  for (let i: u32 = 0; i < Vfs.mounts; i++) {
    let mount = mountAt(i);
    if (changetype<RamFs>(mount.fs).root == changetype<usize>(root)) return mount;
  }
  return null;
}

/** ".." of directory `dir`: its parent, across mounts; the root's is itself. */
export function parentOf(dir: Inode): Inode {
  let d = dir;
  while (d.parent == changetype<usize>(d)) {
    if (changetype<usize>(d) == Vfs.root) return d;
    let mount = mountOfRoot(d);
    if (mount === null || mount.mountpoint == 0) return d;
    d = changetype<Inode>(mount.mountpoint);
  }
  return changetype<Inode>(d.parent);
}

export function setCwd(dir: Inode): void {
  inodeGet(dir);
  inodePut(changetype<Inode>(Vfs.cwd));
  Vfs.cwd = changetype<usize>(dir);
}

export function isReadOnly(inode: Inode): bool {
  return changetype<RamFs>(inode.fs).readOnly != 0;
}
