// Giving a freshly created File (pipe end, eventfd, epoll, timerfd) its
// descriptor: the lowest free one under RLIMIT_NOFILE.
import { fdInstall } from "../kernel/vfs/fdtable";
import { File, filePut } from "../kernel/vfs/file";
import { descriptorLimit } from "./resource";
import { ENOMEM } from "./errno";

/** The new descriptor for `file` (taking over its reference), or -errno (the File is released). */
export function installNewFile(file: File | null, cloexec: bool): i64 {
  if (file === null) return -ENOMEM;
  let fd = fdInstall(file, cloexec, 0, descriptorLimit());
  if (fd < 0) filePut(file);
  return fd;
}
