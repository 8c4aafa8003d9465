// eventfd and eventfd2: a counter as a descriptor (kernel/ipc/eventfd.ts).
import { O_CLOEXEC } from "../kernel/vfs/file";
import { EFD_NONBLOCK, EFD_SEMAPHORE, eventfdOpen } from "../kernel/ipc/eventfd";
import { installNewFile } from "./newfd";
import { EINVAL } from "./errno";

export function sysEventfd2(initial: u64, flags: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  if ((flags & ~<u64>(EFD_SEMAPHORE | EFD_NONBLOCK | O_CLOEXEC)) != 0) return -EINVAL;
  return installNewFile(eventfdOpen(<u32>initial, <u32>flags), (flags & O_CLOEXEC) != 0);
}

/** The old call: no flags. */
export function sysEventfd(initial: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i64 {
  return installNewFile(eventfdOpen(<u32>initial, 0), false);
}
