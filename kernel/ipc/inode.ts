// What fstat shows for the event and IPC files, which live on no file
// system: pipes on Linux's pipefs (S_IFIFO), eventfd, epoll and timerfd on
// its anonymous inode (mode 0600 with no type bits, one shared inode).
import { atomicAdd32 } from "../../arch/x86_64/atomic";
import { Clock, NANOS_PER_SECOND } from "../time/clock";

/** Device numbers of the two pseudo file systems (anonymous ones, as on Linux). */
export const PIPEFS_DEV: u64 = 0x0d;
export const ANON_INODE_DEV: u64 = 0x0e;
/** The anonymous inode's number (one for all, as on Linux). */
export const ANON_INODE_INO: u64 = 1;

const nextPipeInode = memory.data(4, 4);

/** A fresh inode number for a new pipe. */
export function pipeInodeNumber(): u64 {
  return <u64>atomicAdd32(nextPipeInode, 1) + 1000;
}

/** Fills struct stat (zeroed by fileStat) at AS pointer `st`. */
export function ipcStat(st: usize, dev: u64, ino: u64, mode: u32, blockSize: u64): void {
  let now = Clock.realtimeNanos();
  store<u64>(st, dev); // st_dev
  store<u64>(st, ino, 8); // st_ino
  store<u64>(st, 1, 16); // st_nlink
  store<u32>(st, mode, 24); // st_mode; st_uid, st_gid: root
  store<u64>(st, blockSize, 56); // st_blksize
  for (let i: usize = 0; i < 3; i++) {
    store<u64>(st + 72 + i * 16, now / NANOS_PER_SECOND); // atime, mtime, ctime
    store<u64>(st + 80 + i * 16, now % NANOS_PER_SECOND);
  }
}
